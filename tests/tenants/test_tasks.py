"""The nightly Brønnøysund re-check (tenants.tasks), run eagerly over two tenants against the fake."""

import copy

import pytest

from tenants import services
from tenants.audit import Actor
from tenants.models import AuditEvent, Customer, Verification
from tenants.tasks import customers_reverify_all
from tenants.tenancy import tenant_context
from tests.factories import CustomerFactory

STAVANGER_KOMMUNE = "944387234"
FJORDBYGG = "994142607"
NOT_REGISTERED = "937620195"
AS_OF = "2026-11-24"


@pytest.fixture
def registry(brreg_fake):
    """The fake's recordings, editable in a test and restored afterwards (the fake lives for the session)."""
    saved = copy.deepcopy(brreg_fake.state.brreg)
    yield brreg_fake.state.brreg
    brreg_fake.state.brreg = saved


@pytest.fixture
def customers(registry, tenant_a, tenant_b):
    """Tenant A: Fjordbygg (verified while active). Tenant B: Stavanger kommune (verified), one unknown number."""
    actor = Actor.system("test")
    with tenant_context(tenant_a):
        fjordbygg = services.customer_create(
            actor=actor, data={"name": "Fjordbygg Rådgivning AS", "org_number": FJORDBYGG}
        )
    with tenant_context(tenant_b):
        stavanger = services.customer_create(
            actor=actor, data={"name": "Stavanger kommune", "kind": "kommune", "org_number": STAVANGER_KOMMUNE}
        )
        unknown = CustomerFactory(name="Ukjent AS", org_number=NOT_REGISTERED)
    return {"fjordbygg": fjordbygg, "stavanger": stavanger, "unknown": unknown}


def _verify_events(tenant) -> list[AuditEvent]:
    with tenant_context(tenant):
        return list(AuditEvent.objects.filter(action="customer.verify").order_by("id"))


def _reload(tenant, customer) -> Customer:
    with tenant_context(tenant):
        return Customer.objects.get(pk=customer.pk)


def test_reverify_records_a_bankruptcy_and_is_idempotent(registry, customers, tenant_a, tenant_b):
    # given Fjordbygg went bankrupt after it became a customer
    assert customers["fjordbygg"].registry["bankrupt"] is False
    doc = registry["enheter"][FJORDBYGG]
    doc.update({"konkurs": True, "konkursdato": "2026-11-20"})

    # when the nightly job runs for every tenant
    result = customers_reverify_all.apply(args=[AS_OF]).get()

    # then each tenant was checked in its own context
    assert result == {"alpha": {"verified": 1}, "beta": {"verified": 1, "not_found": 1}}
    # and the bankruptcy is on the customer, recorded by the job
    fjordbygg = _reload(tenant_a, customers["fjordbygg"])
    assert fjordbygg.verification == Verification.VERIFIED
    assert fjordbygg.registry["bankrupt"] is True
    assert fjordbygg.registry["bankrupt_on"] == "2026-11-20"
    assert fjordbygg.registry["is_active"] is False
    assert fjordbygg.registry["warnings"] == ["bankrupt"]
    [event] = _verify_events(tenant_a)
    assert event.actor_label == f"job customers_reverify {AS_OF}"
    assert event.object_id == str(fjordbygg.pk)
    assert event.changes["registry"][0]["bankrupt"] is False
    assert event.changes["registry"][1]["bankrupt"] is True
    # the unchanged kommune got no audit row; the unknown number is marked not found
    b_events = _verify_events(tenant_b)
    assert [e.object_id for e in b_events] == [str(customers["unknown"].pk)]
    assert b_events[0].changes["verification"] == ["not_verified", "not_found"]
    assert _reload(tenant_b, customers["unknown"]).verification == Verification.NOT_FOUND

    # when it runs again for the same day
    again = customers_reverify_all.apply(args=[AS_OF]).get()

    # then the counts are the same and no second audit row is written
    assert again == result
    assert len(_verify_events(tenant_a)) == 1
    assert len(_verify_events(tenant_b)) == 1


def test_reverify_during_an_outage_keeps_what_was_known(registry, customers, brreg_fake, tenant_a, tenant_b):
    # given the registry is down tonight
    before = _reload(tenant_b, customers["stavanger"])
    brreg_fake.set_down("brreg")

    # when the nightly job runs
    result = customers_reverify_all.apply(args=[AS_OF]).get()

    # then verified customers stay verified with their last answer and its time, and nothing is audited
    assert result == {"alpha": {"verified": 1}, "beta": {"verified": 1, "not_verified": 1}}
    after = _reload(tenant_b, customers["stavanger"])
    assert after.verification == Verification.VERIFIED
    assert after.registry == before.registry
    assert after.verified_at == before.verified_at
    assert _verify_events(tenant_a) == []
    # the never-checked customer stays not verified, with the reason
    unknown = _reload(tenant_b, customers["unknown"])
    assert unknown.verification == Verification.NOT_VERIFIED
    assert unknown.registry == {"error": "Brønnøysund answered HTTP 503"}


def test_inactive_and_foreign_customers_are_not_checked(registry, brreg_fake, tenant_a):
    with tenant_context(tenant_a):
        CustomerFactory(name="Gammel kunde AS", org_number=STAVANGER_KOMMUNE, is_active=False)
        services.customer_create(
            actor=Actor.system("test"),
            data={"name": "Göta Byggkonsult AB", "country": "SE", "vat_treatment": "reverse_charge"},
        )
    asked = len(brreg_fake.state.requests)
    assert customers_reverify_all.apply(args=[AS_OF]).get() == {"alpha": {}}
    assert len(brreg_fake.state.requests) == asked
