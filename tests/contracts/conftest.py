import datetime as dt

import pytest
from django.utils import timezone

from catalog import services as catalog_services
from pricing import services as pricing_services
from pricing.plans import seed_plan_document
from tenants.audit import Actor
from tenants.models import CustomerKind, Verification
from tenants.tenancy import tenant_context
from tests.factories import CustomerFactory

ACTOR = Actor.system("test")
SHA = "a" * 64


def plan_for(name: str, code: str = "p"):
    product = catalog_services.product_save(
        actor=ACTOR, data={"code": f"{code}-{name}", "name_nb": name, "name_en": name}
    )
    doc = seed_plan_document(name)
    plan = pricing_services.plan_create(actor=ACTOR, product=product, code=doc["code"], name_nb=name, name_en=name)
    pricing_services.plan_version_create(actor=ACTOR, plan=plan, valid_from=dt.date(2020, 1, 1), document=doc)
    return plan


@pytest.fixture
def spekter(tenant_a):
    """Tenant A selling Spekter: a kommune with three schools (87, 240, 1100 pupils)."""
    with tenant_context(tenant_a):
        plan = plan_for("spekter")
        kommune = CustomerFactory(name="Stavanger kommune", kind=CustomerKind.KOMMUNE)
        schools = [CustomerFactory(name=f"Skole {n}", kind=CustomerKind.SCHOOL, parent=kommune) for n in (1, 2, 3)]
        yield {"tenant": tenant_a, "plan": plan, "kommune": kommune, "schools": schools}


def spekter_priced_on(schools):
    return {
        "schools": [
            {"name": s.name, "customer": s.pk, "pupils": p} for s, p in zip(schools, (87, 240, 1100), strict=True)
        ]
    }


def signed_at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


@pytest.fixture
def digireq(tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("digireq")
        yield {"tenant": tenant_a, "plan": plan}


def verified_company(name="Trial AS", **registry):
    return CustomerFactory(
        name=name, verification=Verification.VERIFIED, registry={"name": name.upper(), "bankrupt": False, **registry}
    )
