"""Plan versions and quotes against the database (catalogue prices per 1 January)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from catalog import services as catalog_services
from pricing import services
from pricing.models import PlanVersion, Quote
from pricing.plans import seed_plan_document
from tenants.audit import Actor
from tenants.tenancy import tenant_context
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


@pytest.fixture
def sn(tenant_a):
    """Standard Norge-like tenant: a product, the plan from its document, a small catalogue."""
    with tenant_context(tenant_a):
        product = catalog_services.product_save(
            actor=ACTOR, data={"code": "abonnement", "name_nb": "Abonnement", "name_en": "Subscription"}
        )
        plan = services.plan_create(
            actor=ACTOR, product=product, code="standard-norge-abonnement", name_nb="Abonnement", name_en="Subscription"
        )
        services.plan_version_create(
            actor=ACTOR, plan=plan, valid_from=dt.date(2026, 1, 1), document=seed_plan_document("standard-norge")
        )
        for code, nb in (("1", "Norske"), ("2", "ISO")):
            catalog_services.category_save(actor=ACTOR, data={"code": code, "name_nb": nb, "name_en": nb})
        rows = "\n".join(f"NS {i},Standard {i},1,1200" for i in range(40))
        rows += "\n" + "\n".join(f"ISO {i},ISO {i},2,1500" for i in range(10))
        catalog_services.standards_import_csv(actor=ACTOR, text="code,title,category,price\n" + rows, year=2026)
        yield tenant_a, plan


def request(**extra):
    body = {
        "plan": "standard-norge-abonnement",
        "concurrent_users": 7,
        "addons": ["offline"],
        "standards": [{"code": f"NS {i}"} for i in range(40)] + [{"code": f"ISO {i}"} for i in range(10)],
    }
    body.update(extra)
    return body


def test_quote_from_catalogue_codes_matches_the_acceptance_case(sn):
    tenant, _plan = sn
    with tenant_context(tenant):
        result, version, _customer = services.quote_compute(request=request(start="2026-05-10"), on=dt.date(2026, 5, 1))
        assert [line.amount for line in result.lines] == [Decimal("43200.00"), Decimal("22950.00"), Decimal("6615.00")]
        assert result.first_period.totals.total == Decimal("68217.19")
        assert version.valid_from == dt.date(2026, 1, 1)


def test_a_catalogue_year_without_prices_is_a_clear_error(sn):
    tenant, _plan = sn
    with tenant_context(tenant), translation.override("en"), pytest.raises(ValidationError) as err:
        services.quote_compute(request=request(start="2027-01-01"), on=dt.date(2026, 12, 1))
    assert "no catalogue price for 1 January 2027" in str(err.value.message_dict["standards[0]"])


def test_unknown_plan_and_bad_document(sn):
    tenant, plan = sn
    with tenant_context(tenant):
        with pytest.raises(ValidationError) as err:
            services.quote_compute(request={"plan": "nope"}, on=dt.date(2026, 5, 1))
        assert "plan" in err.value.message_dict
        bad = seed_plan_document("digireq")
        bad["components"][0]["tiers"][1]["lower"] = 12
        with pytest.raises(ValidationError) as err:
            services.plan_version_create(
                actor=ACTOR, plan=plan, valid_from=dt.date(2027, 1, 1), document={**bad, "code": plan.code}
            )
        assert err.value.message_dict == {
            "components[0].tiers[1]": ["Hull før trinn 2: 11–11 har ingen pris; start det på 11."]
        }
        assert PlanVersion.objects.count() == 1


def test_export_then_import_gives_the_same_prices(sn, tenant_b):
    tenant, plan = sn
    with tenant_context(tenant):
        exported = services.plan_version_export(plan.versions.get())
        before = services.quote_compute(request=request(start="2026-05-10"), on=dt.date(2026, 5, 1))[0]
    with tenant_context(tenant_b):
        catalog_services.product_save(actor=ACTOR, data={"code": "abonnement", "name_nb": "A", "name_en": "A"})
        version = services.plan_version_import(actor=ACTOR, payload=exported)
        assert version.document == exported["document"]
        for code, nb in (("1", "Norske"), ("2", "ISO")):
            catalog_services.category_save(actor=ACTOR, data={"code": code, "name_nb": nb, "name_en": nb})
        body = request(start="2026-05-10")
        body["standards"] = [{"category": "1", "price": "1200"}] * 40 + [{"category": "2", "price": "1500"}] * 10
        after = services.quote_compute(request=body, on=dt.date(2026, 5, 1))[0]
    assert after.totals == before.totals


def test_quote_save_uses_the_customers_vat_and_sector(sn):
    tenant, _plan = sn
    with tenant_context(tenant):
        customer = CustomerFactory(kind="kommune")
        quote = services.quote_save(
            actor=ACTOR, request=request(customer=customer.pk, start="2026-05-10"), on=dt.date(2026, 5, 1)
        )
        assert (quote.net, quote.vat, quote.total) == (Decimal("72765.00"), Decimal("18191.25"), Decimal("90956.25"))
        assert quote.result["procurement"]["thresholds"][0]["reached"] is False
        assert Quote.objects.count() == 1
