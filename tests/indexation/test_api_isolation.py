"""Tenant isolation in the indexation API: B's policies, proposals, hand-entered index values and contracts are
404 for A's key (never 403) and absent from A's lists; B's ids in A's bodies "do not exist" (400); nothing of
B's changes whatever A sends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from indexation.models import IndexationProposal
from pricing.index_services import index_value_enter
from pricing.models import IndexationPolicy, IndexSeries, IndexValueOverride
from tenants.audit import Actor
from tenants.tenancy import tenant_context
from tests.api_helpers import error_of
from tests.contracts.conftest import plan_for
from tests.indexation.api_fixtures import counts, delete, digireq_vendor, get, patch, post

pytestmark = pytest.mark.django_db
d = dt.date
STAFF = Actor.system("staff@b")


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr("indexation.api.business_today", lambda: d(2025, 11, 20))


@pytest.fixture
def both(kpi, tenant_a, tenant_b):
    """A and B each selling DigiReq with one contract, proposed for 1 January 2025; B has entered a value by
    hand for August 2025 of the wage sub-index."""
    a, b = digireq_vendor(tenant_a, code="a"), digireq_vendor(tenant_b, code="b")
    for v in (a, b):
        assert post(v, "/indexation-runs", {"as_of": "2024-12-15"}).json()["proposed"] == 1
        with tenant_context(v["tenant"]):
            v["proposal"] = IndexationProposal.objects.get()
    with tenant_context(tenant_b):
        b["override"] = index_value_enter(
            actor=STAFF,
            series=IndexSeries.objects.get(code="kpi-services-wages-2015"),
            month="2025-08",
            value=Decimal("132.9"),
            note="B's figure",
            today=d(2025, 11, 20),
        )
    return {"a": a, "b": b}


def test_another_tenants_objects_are_404_never_403(both):
    a, b = both["a"], both["b"]
    before = counts(b["tenant"])
    for path in (
        f"/indexation-policies/{b['policy'].pk}",
        f"/indexation-proposals/{b['proposal'].pk}",
        f"/contracts/{b['contract'].pk}/price-history",
    ):
        error = error_of(get(a, path))
        assert error["status"] == 404, path
    for path, body in (
        (f"/indexation-proposals/{b['proposal'].pk}/approve", {"on": "2024-12-20"}),
        (f"/indexation-proposals/{b['proposal'].pk}/reject", {"reason": "A says no"}),
    ):
        assert error_of(post(a, path, body))["status"] == 404, path
    assert error_of(patch(a, f"/indexation-policies/{b['policy'].pk}", {"approval": "auto"}))["status"] == 404
    # B's hand-entered value: A has none for the month, so there is nothing to remove.
    assert error_of(delete(a, "/index-series/kpi-services-wages-2015/values/2025-08"))["status"] == 404
    assert counts(b["tenant"]) == before
    with tenant_context(b["tenant"]):
        assert IndexationProposal.objects.get().status == "proposed"
        assert IndexationPolicy.objects.get().approval == "staff"
        assert IndexValueOverride.objects.get().note == "B's figure"


def test_another_tenants_rows_never_appear_in_lists(both):
    a, b = both["a"], both["b"]
    policies = get(a, "/indexation-policies").json()
    assert [p["id"] for p in policies["results"]] == [a["policy"].pk]
    listed = get(a, "/indexation-proposals").json()
    assert [p["id"] for p in listed["results"]] == [a["proposal"].pk]
    # Filtering by B's ids finds nothing (not an error).
    assert get(a, "/indexation-proposals", contract=b["contract"].pk).json()["count"] == 0
    assert get(a, "/indexation-proposals", policy=b["policy"].pk).json()["count"] == 0
    # The shared series show SSB's values to everyone, and hand-entered ones only to their tenant.
    values = get(a, "/index-series/kpi-services-wages-2015/values", **{"from": "2025-07"}).json()["values"]
    assert [(v["month"], v["hand_entered"]) for v in values] == [("2025-07", False)]
    theirs = get(b, "/index-series/kpi-services-wages-2015/values", **{"from": "2025-07"}).json()["values"]
    assert [(v["month"], v["hand_entered"]) for v in theirs] == [("2025-07", False), ("2025-08", True)]


def test_a_tenant_enters_its_own_value_for_a_month_another_has_entered(both):
    a, b = both["a"], both["b"]
    body = {"month": "2025-08", "value": "133.1", "note": "A's figure"}
    response = post(a, "/index-series/kpi-services-wages-2015/values", body)
    assert response.status_code == 201, response.json()  # new for A: B's value is not A's
    assert delete(a, "/index-series/kpi-services-wages-2015/values/2025-08").status_code == 204
    with tenant_context(b["tenant"]):
        assert IndexValueOverride.objects.get().value == Decimal("132.900")


def test_another_tenants_ids_in_a_body_do_not_exist(both):
    a, b = both["a"], both["b"]
    with tenant_context(b["tenant"]):
        plan_for("identum", code="only-b")  # a plan code only B has
    before_a, before_b = counts(a["tenant"]), counts(b["tenant"])
    cases = (
        ("/indexation-proposals/approve-all", {"policy": b["policy"].pk, "effective_on": "2025-01-01"}, "policy"),
        (
            "/indexation-proposals",
            {"contract": b["contract"].pk, "percent": "9", "effective_on": "2026-01-01", "on": "2025-06-01"},
            "contract",
        ),
    )
    for path, body, field in cases:
        error = error_of(post(a, path, body))
        assert error["status"] == 400 and "does not exist" in error["fields"][field][0], error
    error = error_of(post(a, "/indexation-policies", {"preset": "identum", "plan": "identum-eadm"}))
    assert error["status"] == 400 and "does not exist" in error["fields"]["plan"][0]
    assert counts(a["tenant"]) == before_a
    assert counts(b["tenant"]) == before_b


def test_a_policy_code_is_per_tenant(both):
    a = both["a"]
    with tenant_context(a["tenant"]):
        IndexationPolicy.objects.filter(pk=a["policy"].pk).update(code="old")
    # B has kpi-1-januar; A may have it too.
    response = post(a, "/indexation-policies", {"preset": "digireq", "plan": "digireq-2026"})
    assert response.status_code == 201, response.json()
    taken = error_of(post(a, "/indexation-policies", {"preset": "digireq", "plan": "digireq-2026"}))
    assert set(taken["fields"]) == {"code"}


def test_approving_all_of_ones_own_policy_leaves_the_other_tenant_alone(both):
    a, b = both["a"], both["b"]
    response = post(
        a,
        "/indexation-proposals/approve-all",
        {"policy": a["policy"].pk, "effective_on": "2025-01-01", "on": "2024-12-20"},
    )
    assert response.json()["approved"] == 1
    with tenant_context(b["tenant"]):
        assert IndexationProposal.objects.get().status == "proposed"
    report = post(a, "/indexation-runs", {"as_of": "2025-01-01"}).json()
    assert report["applied"] == 1
    with tenant_context(b["tenant"]):
        assert IndexationProposal.objects.get().status == "proposed"
