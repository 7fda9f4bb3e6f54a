"""The indexation API through HTTP with an API key: index series and values (hand entry and removal), policies,
proposals (list, filters, approve, reject, approve all, an increase above the index), a contract's price
history and the run; bad input is a 400 per field with nothing written; a read-only key cannot write.

Requests are made outside any tenant context (the key activates its tenant, as in production); the database
is read afterwards inside ``tenant_context``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from indexation.models import IndexationProposal, PriceAdjustment
from pricing.models import IndexationPolicy, IndexSeries, IndexValue, IndexValueOverride
from tenants.models import AuditEvent
from tenants.tenancy import tenant_context
from tests.api_helpers import error_of
from tests.contracts.conftest import plan_for
from tests.indexation.api_fixtures import (
    counts,
    delete,
    digireq_vendor,
    get,
    identum_contract,
    patch,
    post,
    proposals,
)
from tests.indexation.conftest import policy

pytestmark = pytest.mark.django_db
d = dt.date
TODAY = d(2025, 11, 20)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """'Today' for the defaults (hand entry refuses months not yet ended on it)."""
    monkeypatch.setattr("indexation.api.business_today", lambda: TODAY)


@pytest.fixture
def vendor(kpi, tenant_a):
    """Tenant A selling DigiReq (staff approve, up to CPI) with one annual contract from 2024-02-01."""
    return digireq_vendor(tenant_a)


@pytest.fixture
def proposed(vendor):
    """The run on 15 December 2024 (November's index read): DigiReq's 1 January 2025 proposal."""
    response = post(vendor, "/indexation-runs", {"as_of": "2024-12-15"})
    assert response.status_code == 200, response.json()
    (p,) = proposals(vendor["tenant"])
    return {**vendor, "proposal": p}


# ---------------------------------------------------------------- index series and values


def test_series_list_with_the_latest_value_and_one_series(vendor):
    response = get(vendor, "/index-series")
    assert response.status_code == 200, response.json()
    series = {s["code"]: s for s in response.json()["results"]}
    assert set(series) == {"kpi-2015", "kpi-2025", "kpi-services-wages-2015", "kpi-services-wages-2025"}
    kpi = series["kpi-2015"]
    assert (kpi["index_code"], kpi["table"], kpi["base"], kpi["base_year"]) == ("kpi", "03013", "2015=100", 2015)
    assert kpi["latest"] == {"month": "2025-12", "value": "139.100"}
    assert kpi["closed_after"] == "2025-12"
    assert kpi["name"]["en"].startswith("Consumer price index") and kpi["short_name"] == {"nb": "KPI", "en": "CPI"}
    assert kpi["fetch_error"] == "" and "fetched_at" in kpi
    assert series["kpi-2025"]["closed_after"] is None and series["kpi-2025"]["published_from"] == "2026-02-10"
    assert series["kpi-services-wages-2025"]["latest"] is None  # nothing stored yet
    assert kpi["values_url"].endswith("/api/v1/index-series/kpi-2015/values")

    one = get(vendor, "/index-series/kpi-services-wages-2015")
    assert one.status_code == 200
    assert one.json()["latest"] == {"month": "2025-07", "value": "132.700"}
    assert error_of(get(vendor, "/index-series/no-such-series"))["status"] == 404


def test_series_values_between_two_months(vendor):
    response = get(vendor, "/index-series/kpi-2015/values", **{"from": "2024-01", "to": "2024-03"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["series"], body["base"], body["from"], body["to"]) == ("kpi-2015", "2015=100", "2024-01", "2024-03")
    assert [(v["month"], v["value"], v["hand_entered"], v["in_use"]) for v in body["values"]] == [
        ("2024-01", "132.000", False, True),
        ("2024-02", "132.300", False, True),
        ("2024-03", "132.600", False, True),
    ]
    assert body["values"][0]["source"].startswith("SSB table 03013") and body["values"][0]["id"] is None
    assert len(get(vendor, "/index-series/kpi-2015/values", **{"from": "2025M10"}).json()["values"]) == 3

    bad = error_of(get(vendor, "/index-series/kpi-2015/values", **{"from": "january"}))
    assert bad["status"] == 400 and "from" in bad["fields"]
    backwards = error_of(get(vendor, "/index-series/kpi-2015/values", **{"from": "2025-01", "to": "2024-01"}))
    assert backwards["status"] == 400 and "to" in backwards["fields"]
    assert error_of(get(vendor, "/index-series/nope/values"))["status"] == 404


def test_a_value_entered_by_hand_is_listed_replaced_and_removed(vendor):
    path = "/index-series/kpi-services-wages-2015/values"
    body = {"month": "2025-09", "value": "133.0", "note": "SSB press release 10 October 2025"}
    created = post(vendor, path, body)
    assert created.status_code == 201, created.json()
    row = created.json()
    assert (row["month"], row["value"], row["hand_entered"], row["in_use"]) == ("2025-09", "133.000", True, True)
    assert row["note"] == "SSB press release 10 October 2025" and row["entered_by"]

    listed = get(vendor, path, **{"from": "2025-07"}).json()["values"]
    assert [(v["month"], v["hand_entered"]) for v in listed] == [("2025-07", False), ("2025-09", True)]

    again = post(vendor, path, {**body, "value": "133.2"})
    assert again.status_code == 200 and again.json()["value"] == "133.200"  # replaced, not a second row
    with tenant_context(vendor["tenant"]):
        assert IndexValueOverride.objects.get().value == Decimal("133.200")
        assert AuditEvent.objects.filter(action="index_value_override.create").count() == 1
        assert AuditEvent.objects.filter(action="index_value_override.update").count() == 1

    # SSB publishes the month later: its value is used, the hand-entered one is kept but not in use.
    with tenant_context(vendor["tenant"]):
        IndexValue.objects.create(
            series=IndexSeries.objects.get(code="kpi-services-wages-2015"),
            month=d(2025, 9, 1),
            value=Decimal("133.1"),
            source="SSB table 11117",
            fetched_at=timezone.now(),
        )
    both = get(vendor, path, **{"from": "2025-09", "to": "2025-09"}).json()["values"]
    assert [(v["value"], v["hand_entered"], v["in_use"]) for v in both] == [
        ("133.100", False, True),
        ("133.200", True, False),
    ]

    gone = delete(vendor, f"{path}/2025-09")
    assert gone.status_code == 204
    with tenant_context(vendor["tenant"]):
        assert not IndexValueOverride.objects.exists()
        assert AuditEvent.objects.filter(action="index_value_override.delete").exists()
    assert error_of(delete(vendor, f"{path}/2025-09"))["status"] == 404
    assert error_of(delete(vendor, f"{path}/2025-07"))["status"] == 404  # SSB's value is not removable
    assert error_of(delete(vendor, f"{path}/someday"))["fields"].keys() == {"month"}


def test_a_value_entered_by_hand_lets_a_waiting_proposal_go_on(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("identum")
        policy("identum", plan)
        identum_contract(plan)
    v = digireq_vendor(tenant_a, code="x", contracts=0)
    post(v, "/indexation-runs", {"as_of": "2024-11-01"})
    post(v, "/indexation-runs", {"as_of": "2025-11-01"})
    waiting = get(v, "/indexation-proposals", status="waiting").json()["results"]
    assert len(waiting) == 1
    assert "September 2025" in waiting[0]["waiting_reason"]["en"] and waiting[0]["factor"] is None
    entered = post(
        v, "/index-series/kpi-services-wages-2015/values", {"month": "2025-09", "value": "133.0", "note": "Test"}
    )
    assert entered.status_code == 201, entered.json()
    report = post(v, "/indexation-runs", {"as_of": "2025-11-20"}).json()
    assert report["approved"] == 1 and report["notices"] == 1
    p = get(v, f"/indexation-proposals/{waiting[0]['id']}").json()
    assert (p["status"], p["new_month"], p["new_value"], p["waiting_reason"]) == (
        "approved",
        "2025-09",
        "133.000",
        None,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"month": "2025-08", "value": "0", "note": "n"}, "value"),
        ({"month": "2025-08", "value": "-3.5", "note": "n"}, "value"),
        ({"month": "2025-08", "value": "abc", "note": "n"}, "value"),
        ({"month": "2025-11", "value": "133", "note": "n"}, "month"),  # not ended on 2025-11-20
        ({"month": "2026-02", "value": "133", "note": "n"}, "month"),  # the future
        ({"month": "2025-07", "value": "133", "note": "n"}, "month"),  # SSB's value is stored
        ({"month": "2025-13", "value": "133", "note": "n"}, "month"),
        ({"month": "2025-08", "value": "133", "note": " "}, "note"),
        ({"month": "2025-08", "value": "133"}, "note"),
        ({"month": "2025-08", "value": "133", "note": "n", "series": "kpi-2025"}, "series"),
    ],
)
def test_bad_hand_entries_are_400_and_write_nothing(vendor, body, field):
    before = counts(vendor["tenant"])
    error = error_of(post(vendor, "/index-series/kpi-services-wages-2015/values", body))
    assert error["status"] == 400 and field in error["fields"], error
    assert error["fields"][field][0]
    assert counts(vendor["tenant"]) == before


def test_a_closed_series_and_an_unknown_one(vendor, monkeypatch):
    monkeypatch.setattr("indexation.api.business_today", lambda: d(2026, 3, 1))  # January 2026 has ended
    closed = error_of(post(vendor, "/index-series/kpi-2015/values", {"month": "2026-01", "value": "1", "note": "n"}))
    assert closed["status"] == 400 and "newer series" in closed["fields"]["month"][0]
    unknown = error_of(post(vendor, "/index-series/kpi-1999/values", {"month": "2025-08", "value": "1", "note": "n"}))
    assert unknown["status"] == 404


# ---------------------------------------------------------------- policies


def test_policy_created_from_a_preset_then_read_and_changed(kpi, tenant_a):
    v = digireq_vendor(tenant_a, contracts=0)
    with tenant_context(tenant_a):
        IndexationPolicy.objects.all().delete()
        plan_for("identum", code="i")
    created = post(v, "/indexation-policies", {"preset": "identum", "plan": "identum-eadm"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["code"], body["scope"], body["plan"], body["index_code"]) == (
        "kpi-arbeidskraft",
        "contract",
        "identum-eadm",
        "kpi-services-wages",
    )
    assert (body["timing"], body["measure_month"], body["measure_day"], body["notice_days"]) == ("january", 11, 1, 28)
    assert (body["minimum_notice_days"], body["approval"], body["is_active"]) == (28, "auto", True)
    assert body["proposals_url"].endswith(f"/api/v1/indexation-proposals?policy={body['id']}")
    assert get(v, f"/indexation-policies/{body['id']}").json() == body
    listed = get(v, "/indexation-policies", scope="contract").json()
    assert [p["code"] for p in listed["results"]] == ["kpi-arbeidskraft"]
    assert get(v, "/indexation-policies", scope="list").json()["count"] == 0

    changed = patch(v, f"/indexation-policies/{body['id']}", {"approval": "staff", "notice_days": 35})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["approval"], changed.json()["notice_days"]) == ("staff", 35)
    with tenant_context(tenant_a):
        by_key = AuditEvent.objects.filter(actor_api_key__isnull=False)
        assert by_key.filter(action="indexation.policy_create", object_id=str(body["id"])).count() == 1
        assert by_key.filter(action="indexation.policy_update", object_id=str(body["id"])).count() == 1


def test_policy_created_field_by_field(vendor):
    with tenant_context(vendor["tenant"]):
        plan_for("spekter", code="s")
    body = {
        "code": "kpi-liste",
        "name_nb": "Prislisten etter KPI",
        "name_en": "Price list by CPI",
        "scope": "list",
        "plan": "spekter-2020",
        "index_code": "kpi",
        "timing": "january",
        "reference": "twelve_months",
        "measure_month": 11,
        "measure_day": 15,
        "cap": "none",
        "whole_kroner": True,
        "falling": "keep",
        "approval": "staff",
    }
    created = post(vendor, "/indexation-policies", body)
    assert created.status_code == 201, created.json()
    assert created.json()["whole_kroner"] is True and created.json()["plan"] == "spekter-2020"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"preset": "identum", "plan": "identum-eadm", "notice_days": 14}, {"notice_days"}),  # below the minimum
        ({"preset": "identum", "plan": "identum-eadm", "index_code": "kpi-unknown"}, {"index_code"}),
        ({"preset": "spekter"}, {"plan"}),  # a list policy names its plan
        ({"preset": "identum", "plan": "no-such-plan"}, {"plan"}),
        ({"preset": "identum", "measure_day": None}, {"measure_day"}),
        ({"preset": "piscator", "above_cap_notice_months": 6}, {"above_cap_notice_months"}),  # not capped
        ({"preset": "digireq", "above_cap_notice_months": None, "notice_months": 7}, set()),  # allowed: no 400
        ({"preset": "unknown"}, {"preset"}),
        ({"preset": "identum", "timing": "weekly"}, {"timing"}),
        ({"preset": "identum", "notice_months": -1}, {"notice_months"}),
        ({"preset": "identum", "colour": "blue"}, {"colour"}),
        (
            {"code": "x"},
            {"name_nb", "name_en", "scope", "index_code", "timing", "reference", "cap", "falling", "approval"},
        ),  # fmt: skip
    ],
)
def test_bad_policies_are_400_per_field_and_write_nothing(vendor, body, fields):
    with tenant_context(vendor["tenant"]):
        plan_for("identum", code="i")
    before = counts(vendor["tenant"])
    response = post(vendor, "/indexation-policies", {"code": "new-policy", **body} if "code" not in body else body)
    if not fields:
        assert response.status_code == 201, response.json()
        return
    error = error_of(response)
    assert error["status"] == 400 and set(error["fields"]) == fields, error
    assert all(messages and messages[0] for messages in error["fields"].values())
    assert counts(vendor["tenant"]) == before


def test_the_minimum_notice_names_the_field_and_the_contract(kpi, tenant_a):
    v = digireq_vendor(tenant_a, contracts=0)
    with tenant_context(tenant_a):
        identum = policy("identum", plan_for("identum", code="i"))
    before = counts(tenant_a)
    error = error_of(patch(v, f"/indexation-policies/{identum.pk}", {"notice_days": 14}))
    assert error["status"] == 400 and set(error["fields"]) == {"notice_days"}
    assert "at least 4 weeks" in error["fields"]["notice_days"][0]
    error = error_of(patch(v, f"/indexation-policies/{identum.pk}", {"notice_days": 0, "notice_months": 0}))
    assert set(error["fields"]) == {"notice_days", "notice_months"}
    fixed = error_of(patch(v, f"/indexation-policies/{identum.pk}", {"code": "other", "minimum_notice_days": 0}))
    assert set(fixed["fields"]) == {"code", "minimum_notice_days"}
    assert error_of(patch(v, f"/indexation-policies/{identum.pk}", {"cap": "sometimes"}))["fields"].keys() == {"cap"}
    assert counts(tenant_a) == before
    with tenant_context(tenant_a):
        identum.refresh_from_db()
        assert (identum.code, identum.notice_days, identum.minimum_notice_days) == ("kpi-arbeidskraft", 28, 28)
    assert v["api"].put(f"/api/v1/indexation-policies/{identum.pk}", {}, format="json").status_code == 405


# ---------------------------------------------------------------- proposals


def test_the_run_proposes_and_the_proposal_shows_inputs_preview_and_explanation(proposed):
    p = proposed["proposal"]
    body = get(proposed, f"/indexation-proposals/{p.pk}").json()
    assert (body["status"], body["policy"], body["policy_code"], body["scope"]) == (
        "proposed",
        proposed["policy"].pk,
        "kpi-1-januar",
        "contract",
    )
    assert (body["contract"], body["contract_reference"], body["customer_name"]) == (
        proposed["contract"].pk,
        proposed["contract"].reference,
        "Kunde 0",
    )
    assert (body["effective_on"], body["series"], body["base"]) == ("2025-01-01", "kpi-2015", "2015=100")
    assert (body["reference_month"], body["new_month"]) == ("2023-11", "2024-11")
    assert (body["reference_value"], body["new_value"]) == ("131.800", "134.900")
    assert body["old_amount"] == "79560.00"  # 120 users × 65 × 12 × 0.85
    assert Decimal(body["new_amount"]) == p.new_amount and isinstance(body["new_amount"], str)
    assert Decimal(body["revenue_effect"]) == p.new_amount - p.old_amount
    assert body["factor"] == str(p.factor) and body["change_percent"] == str(p.change_percent)
    assert (
        body["explanation"]["nb"]
        and body["explanation"]["en"]
        and body["explanation"]["nb"] != body["explanation"]["en"]
    )
    assert body["waiting_reason"] is None and body["notice_by"] is None and body["may_terminate"] is False
    assert body["url"].endswith(f"/api/v1/indexation-proposals/{p.pk}")


def test_proposal_filters(kpi, tenant_a):
    v = digireq_vendor(tenant_a, contracts=2)
    post(v, "/indexation-runs", {"as_of": "2024-12-15"})
    first, second = v["contracts"]

    def ids(**params):
        response = get(v, "/indexation-proposals", **params)
        assert response.status_code == 200, response.json()
        return {p["contract"] for p in response.json()["results"]}

    assert ids() == {first.pk, second.pk}
    assert ids(status="proposed") == {first.pk, second.pk}
    assert ids(status="approved") == set()
    assert ids(contract=first.pk) == {first.pk}
    assert ids(customer=second.customer_id) == {second.pk}
    assert ids(policy=v["policy"].pk, effective_on="2025-01-01", scope="contract") == {first.pk, second.pk}
    assert ids(effective_on="2026-01-01") == set()
    assert ids(scope="list") == set()
    assert ids(effective_from="2025-01-01", effective_to="2025-01-01") == {first.pk, second.pk}
    for bad in ({"status": "maybe"}, {"effective_on": "someday"}, {"scope": "galaxy"}, {"contract": "x"}):
        error = error_of(get(v, "/indexation-proposals", **bad))
        assert error["status"] == 400 and set(error["fields"]) == set(bad), error


def test_approve_twice_makes_one_price_and_the_history_shows_it(proposed):
    p = proposed["proposal"]
    first = post(proposed, f"/indexation-proposals/{p.pk}/approve", {"on": "2025-01-02"})
    assert first.status_code == 200, first.json()
    assert (first.json()["status"], first.json()["decided_on"], first.json()["applied_on"]) == (
        "applied",
        "2025-01-02",
        "2025-01-02",
    )  # approved after its date: applied at once
    assert first.json()["decided_by"]
    second = post(proposed, f"/indexation-proposals/{p.pk}/approve", {"on": "2025-01-03"})
    assert second.status_code == 200 and second.json()["status"] == "applied"
    assert second.json()["decided_on"] == "2025-01-02"  # unchanged
    with tenant_context(proposed["tenant"]):
        assert PriceAdjustment.objects.count() == 1
        assert AuditEvent.objects.filter(action="indexation.approve", object_id=str(p.pk)).count() == 1

    history = get(proposed, f"/contracts/{proposed['contract'].pk}/price-history", on="2025-01-02")
    assert history.status_code == 200, history.json()
    body = history.json()
    assert (body["contract"], body["contract_reference"], body["on"]) == (
        proposed["contract"].pk,
        proposed["contract"].reference,
        "2025-01-02",
    )
    assert [(e["effective_from"], e["reason"], e["announced"]) for e in body["entries"]] == [
        ("2024-02-01", "start", False),
        ("2025-01-01", "indexation", False),
    ]
    start, indexed = body["entries"]
    assert start["yearly_price"] == "79560.00" and start["previous_yearly_price"] is None and start["change"] is None
    assert indexed["previous_yearly_price"] == "79560.00"
    assert Decimal(indexed["yearly_price"]) == p.new_amount
    assert Decimal(indexed["change"]) == p.new_amount - p.old_amount
    assert indexed["proposal"] == p.pk
    assert indexed["reason_label"] == {"nb": "Prisjustering etter indeks", "en": "Index adjustment"}
    assert indexed["explanation"]["nb"] and indexed["explanation"]["en"]


def test_approve_with_the_same_idempotency_key_replays_the_answer(proposed):
    p = proposed["proposal"]
    path = f"/indexation-proposals/{p.pk}/approve"
    first = post(proposed, path, {"on": "2024-12-20"}, **{"Idempotency-Key": "approve-31"})
    again = post(proposed, path, {"on": "2024-12-20"}, **{"Idempotency-Key": "approve-31"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["status"] == "approved"


def test_approved_before_its_date_is_announced_in_the_history_then_applied_by_the_run(proposed):
    p = proposed["proposal"]
    post(proposed, f"/indexation-proposals/{p.pk}/approve", {"on": "2024-12-20"})
    entries = get(proposed, f"/contracts/{proposed['contract'].pk}/price-history", on="2024-12-20").json()["entries"]
    assert [(e["reason"], e["announced"]) for e in entries] == [("start", False), ("indexation", True)]
    report = post(proposed, "/indexation-runs", {"as_of": "2025-01-01"}).json()
    assert report["applied"] == 1
    assert get(proposed, f"/indexation-proposals/{p.pk}").json()["status"] == "applied"


def test_reject_then_approve_is_refused(proposed):
    p = proposed["proposal"]
    before = counts(proposed["tenant"])
    missing = error_of(post(proposed, f"/indexation-proposals/{p.pk}/reject", {}))
    assert missing["status"] == 400 and set(missing["fields"]) == {"reason"}
    assert counts(proposed["tenant"]) == before
    rejected = post(proposed, f"/indexation-proposals/{p.pk}/reject", {"reason": "Not this year", "on": "2024-12-16"})
    assert rejected.status_code == 200, rejected.json()
    assert (rejected.json()["status"], rejected.json()["decided_on"]) == ("rejected", "2024-12-16")
    with tenant_context(proposed["tenant"]):
        event = AuditEvent.objects.get(action="indexation.reject", object_id=str(p.pk))
        assert event.changes["reason"] == [None, "Not this year"] and event.actor_api_key_id is not None
    before = counts(proposed["tenant"])
    refused = error_of(post(proposed, f"/indexation-proposals/{p.pk}/approve", {"on": "2024-12-17"}))
    assert refused["status"] == 400 and set(refused["fields"]) == {"status"}
    assert counts(proposed["tenant"]) == before
    assert post(proposed, "/indexation-runs", {"as_of": "2024-12-17"}).json()["proposed"] == 0


def test_an_applied_proposal_cannot_be_rejected(proposed):
    p = proposed["proposal"]
    post(proposed, f"/indexation-proposals/{p.pk}/approve", {"on": "2025-01-02"})
    error = error_of(post(proposed, f"/indexation-proposals/{p.pk}/reject", {"reason": "x"}))
    assert error["status"] == 400 and "status" in error["fields"]
    bad_date = error_of(post(proposed, f"/indexation-proposals/{p.pk}/approve", {"on": "02.01.2025"}))
    assert set(bad_date["fields"]) == {"on"}


def test_approve_all_of_a_policy_for_a_date(kpi, tenant_a):
    v = digireq_vendor(tenant_a, contracts=3)
    post(v, "/indexation-runs", {"as_of": "2024-12-15"})
    response = post(
        v,
        "/indexation-proposals/approve-all",
        {"policy": v["policy"].pk, "effective_on": "2025-01-01", "on": "2024-12-20"},
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "policy": v["policy"].pk,
        "effective_on": "2025-01-01",
        "approved": 3,
        "still_proposed": [],
    }
    assert {p.status for p in proposals(tenant_a)} == {"approved"}
    again = post(v, "/indexation-proposals/approve-all", {"policy": v["policy"].pk, "effective_on": "2025-01-01"})
    assert again.json()["approved"] == 0
    before = counts(tenant_a)
    for body, fields in (
        ({"effective_on": "2025-01-01"}, {"policy"}),
        ({"policy": 999999, "effective_on": "2025-01-01"}, {"policy"}),
        ({"policy": v["policy"].pk}, {"effective_on"}),
        ({"policy": v["policy"].pk, "effective_on": "2025-01-01", "extra": 1}, {"extra"}),
    ):
        error = error_of(post(v, "/indexation-proposals/approve-all", body))
        assert error["status"] == 400 and set(error["fields"]) == fields, error
    assert counts(tenant_a) == before


def test_an_increase_above_the_index_is_proposed_with_6_months_notice(vendor):
    contract = vendor["contract"]
    body = {"contract": contract.pk, "percent": "9", "effective_on": "2026-01-01", "on": "2025-06-20"}
    response = post(vendor, "/indexation-proposals", body)
    assert response.status_code == 201, response.json()
    p = response.json()
    assert (p["status"], p["contract"], p["effective_on"]) == ("proposed", contract.pk, "2026-01-01")
    assert (p["requested_factor"], p["factor"], p["above_cap"], p["may_terminate"]) == (
        "1.09000000",
        "1.09000000",
        True,
        True,
    )
    assert p["notice_by"] == "2025-07-01" and p["change_percent"] == "9.00"
    assert "9,00" in p["explanation"]["nb"] and "terminate" in p["explanation"]["en"]
    again = post(vendor, "/indexation-proposals", {**body, "percent": "8"})
    assert (
        again.status_code == 200 and again.json()["id"] == p["id"] and again.json()["requested_factor"] == "1.08000000"
    )
    approved = post(vendor, f"/indexation-proposals/{p['id']}/approve", {"on": "2025-06-21"})
    assert approved.json()["status"] == "approved" and approved.json()["notice_sent_on"] == "2025-06-21"
    history = get(vendor, f"/contracts/{contract.pk}/price-history", on="2025-06-21").json()["entries"]
    assert history[-1]["announced"] is True and history[-1]["proposal"] == p["id"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"on": "2025-07-02"}, "effective_on"),  # 6 months' notice: too late for 1 January 2026
        ({"percent": "0"}, "percent"),
        ({"percent": "-5"}, "percent"),
        ({"percent": "150"}, "percent"),
        ({"percent": "nine"}, "percent"),
        ({"effective_on": "2026-02-01"}, "effective_on"),  # DigiReq changes prices on 1 January only
        ({"effective_on": "2025-01-01"}, "effective_on"),  # announced before it takes effect
        ({"contract": 999999}, "contract"),
        ({"contract": None}, "contract"),
        ({"effective_on": None}, "effective_on"),
    ],
)
def test_bad_increases_are_400_and_write_nothing(vendor, changes, field):
    body = {"contract": vendor["contract"].pk, "percent": "9", "effective_on": "2026-01-01", "on": "2025-06-01"}
    before = counts(vendor["tenant"])
    error = error_of(post(vendor, "/indexation-proposals", {**body, **changes}))
    assert error["status"] == 400 and field in error["fields"], error
    assert counts(vendor["tenant"]) == before


def test_a_contract_without_a_policy_gets_no_increase(kpi, tenant_a):
    v = digireq_vendor(tenant_a)
    with tenant_context(tenant_a):
        IndexationPolicy.objects.update(is_active=False, plan=None)
    error = error_of(
        post(
            v,
            "/indexation-proposals",
            {"contract": v["contract"].pk, "percent": "5", "effective_on": "2026-01-01", "on": "2025-06-01"},
        )
    )
    assert set(error["fields"]) == {"contract"}


def test_proposal_not_found(vendor):
    assert error_of(get(vendor, "/indexation-proposals/999999"))["status"] == 404
    assert error_of(post(vendor, "/indexation-proposals/999999/approve", {}))["status"] == 404
    assert error_of(post(vendor, "/indexation-proposals/999999/reject", {"reason": "x"}))["status"] == 404


# ---------------------------------------------------------------- the run and the price history


def test_a_dry_run_reports_and_writes_nothing(vendor):
    before = counts(vendor["tenant"])
    response = post(vendor, "/indexation-runs", {"as_of": "2024-12-15", "dry_run": True})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["as_of"], body["dry_run"], body["proposed"], body["errors"]) == ("2024-12-15", True, 1, [])
    assert counts(vendor["tenant"]) == before
    real = post(vendor, "/indexation-runs", {"as_of": "2024-12-15"}).json()
    assert (real["dry_run"], real["proposed"]) == (False, 1)
    assert post(vendor, "/indexation-runs", {"as_of": "2024-12-15"}).json()["proposed"] == 0  # a rerun: nothing
    error = error_of(post(vendor, "/indexation-runs", {"as_of": "15.12.2024"}))
    assert set(error["fields"]) == {"as_of"}


def test_the_run_defaults_to_today(vendor):
    body = post(vendor, "/indexation-runs").json()
    assert body["as_of"] == TODAY.isoformat() and body["dry_run"] is False


def test_price_history_of_a_new_contract_and_bad_input(vendor):
    contract = vendor["contract"]
    body = get(vendor, f"/contracts/{contract.pk}/price-history/").json()  # with the trailing slash too
    assert body["on"] == TODAY.isoformat()
    assert [(e["reason"], e["yearly_price"]) for e in body["entries"]] == [("start", "79560.00")]
    assert error_of(get(vendor, f"/contracts/{contract.pk}/price-history", on="soon"))["fields"].keys() == {"on"}
    assert error_of(get(vendor, "/contracts/999999/price-history"))["status"] == 404
    assert error_of(get(vendor, "/contracts/abc/price-history"))["status"] == 404


# ---------------------------------------------------------------- keys


def test_a_read_only_key_reads_but_cannot_write(proposed):
    p = proposed["proposal"]
    before = counts(proposed["tenant"])
    for path in (
        "/index-series",
        "/index-series/kpi-2015",
        "/index-series/kpi-2015/values",
        "/indexation-policies",
        f"/indexation-policies/{proposed['policy'].pk}",
        "/indexation-proposals",
        f"/indexation-proposals/{p.pk}",
        f"/contracts/{proposed['contract'].pk}/price-history",
    ):
        assert get(proposed, path, client="ro").status_code == 200, path
    for path, body in (
        ("/index-series/kpi-services-wages-2015/values", {"month": "2025-09", "value": "133", "note": "n"}),
        ("/indexation-policies", {"preset": "piscator"}),
        (f"/indexation-proposals/{p.pk}/approve", {"on": "2024-12-20"}),
        (f"/indexation-proposals/{p.pk}/reject", {"reason": "x"}),
        ("/indexation-proposals/approve-all", {"policy": proposed["policy"].pk, "effective_on": "2025-01-01"}),
        (
            "/indexation-proposals",
            {"contract": proposed["contract"].pk, "percent": "9", "effective_on": "2026-01-01", "on": "2025-06-01"},
        ),
        ("/indexation-runs", {"as_of": "2025-01-01"}),
    ):
        error = error_of(post(proposed, path, body, client="ro"))
        assert error["status"] == 403 and error["code"] == "permission_denied", path
    assert (
        patch(proposed, f"/indexation-policies/{proposed['policy'].pk}", {"approval": "auto"}, "ro").status_code == 403
    )
    assert delete(proposed, "/index-series/kpi-2015/values/2025-01", "ro").status_code == 403
    assert counts(proposed["tenant"]) == before
    with tenant_context(proposed["tenant"]):
        assert IndexationProposal.objects.get().status == "proposed"


def test_without_a_key_nothing(vendor):
    from tests.api_helpers import API, client_for

    anonymous = client_for(None)
    for path in ("/index-series", "/indexation-policies", "/indexation-proposals"):
        assert error_of(anonymous.get(f"{API}{path}"))["status"] == 401
