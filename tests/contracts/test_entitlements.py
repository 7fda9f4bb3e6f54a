"""Entitlements (issue 11, item 5): may a customer log in now, and if not, why not.

The selector (:func:`contracts.entitlements.entitlements_for`) for every state, several contracts,
a school covered by its kommune's contract, and its bounded number of queries; then the API
(``/api/v1/entitlements``): read-only keys, the ETag and 304, lookups by organisation number, bad
input, and tenant isolation (another tenant's customer is a 404 however it is asked for).
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Invoice, InvoiceStatus
from contracts import lifecycle
from contracts.entitlements import entitlements_for
from contracts.models import Contract, PricedOn
from tenants.models import ApiKeyScope, CustomerKind
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, error_of, make_key
from tests.contracts.conftest import plan_for
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
d = dt.date
TODAY = d(2026, 4, 20)
_refs = itertools.count(1)
_numbers = itertools.count(20000)


def make_contract(plan, customer, state, **fields) -> Contract:
    return Contract.objects.create(
        reference=f"T-{next(_refs):05d}",
        customer=customer,
        product=plan.product,
        plan=plan,
        state=state,
        renewal_term_months=fields.pop("renewal_term_months", 12),
        **fields,
    )


def make_invoice(contract, *, number=None, due, status=InvoiceStatus.SENT, total="1000.00", paid="0") -> Invoice:
    return Invoice.objects.create(
        customer=contract.customer,
        contract=contract,
        status=status,
        number=number or next(_numbers),
        series="invoice",
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        total=Decimal(total),
        net=Decimal(total),
        paid_amount=Decimal(paid),
        period_start=due - dt.timedelta(days=30 + (number or 0) % 7),
    )


@pytest.fixture
def world(tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("digireq")
        yield {"tenant": tenant_a, "plan": plan, "customer": CustomerFactory(name="Kunde AS")}


def answer(customer, today=TODAY) -> dict:
    return entitlements_for(customer, today=today).as_dict()


# ---------------------------------------------------------------- each state


def test_active(world):
    contract = make_contract(world["plan"], world["customer"], lifecycle.ACTIVE, term_end=d(2027, 1, 1))
    got = answer(world["customer"])
    assert (got["access"], got["status"], got["until"]) == (True, "active", None)  # it renews: nothing ends
    assert got["reason"] == {"nb": "Aktiv", "en": "Active"}
    assert got["on"] == "2026-04-20"
    assert got["contracts"] == [
        {
            "id": contract.pk,
            "reference": contract.reference,
            "product": world["plan"].product.code,
            "state": "active",
            "status": "active",
            "access": True,
            "until": None,
            "reason": {"nb": "Aktiv", "en": "Active"},
            "customer": world["customer"].pk,
            "inherited": False,
        }
    ]


def test_acceptance_is_active_and_a_term_that_does_not_renew_has_an_end(world):
    make_contract(
        world["plan"], world["customer"], lifecycle.ACCEPTANCE, term_end=d(2027, 1, 1), renewal_term_months=None
    )
    got = answer(world["customer"])
    assert (got["access"], got["status"], got["until"]) == (True, "active", "2027-01-01")
    assert got["reason"]["nb"] == "Aktiv til 2027-01-01"


def test_trial_with_its_end(world):
    make_contract(
        world["plan"],
        world["customer"],
        lifecycle.TRIAL,
        trial_started_on=d(2026, 12, 4),
        trial_ends_on=d(2026, 12, 18),
    )
    got = answer(world["customer"], today=d(2026, 12, 10))
    assert (got["access"], got["status"], got["until"]) == (True, "trial", "2026-12-18")
    assert got["reason"] == {"nb": "Prøveperiode til 2026-12-18", "en": "Trial until 2026-12-18"}


def test_a_trial_whose_end_has_come_gives_no_access_before_the_nightly_job_pauses_it(world):
    make_contract(world["plan"], world["customer"], lifecycle.TRIAL, trial_ends_on=d(2026, 12, 18))
    got = answer(world["customer"], today=d(2026, 12, 18))
    assert (got["access"], got["status"]) == (False, "paused")
    assert got["reason"]["en"] == "Paused: the trial ended 2026-12-18 without confirmation"


def test_notice_given(world):
    make_contract(world["plan"], world["customer"], lifecycle.NOTICE_GIVEN, ends_on=d(2027, 1, 1))
    got = answer(world["customer"])
    assert (got["access"], got["status"], got["until"]) == (True, "notice_given", "2027-01-01")
    assert got["reason"] == {"nb": "Oppsagt, tilgang til 2027-01-01", "en": "Notice given; access until 2027-01-01"}
    after = answer(world["customer"], today=d(2027, 1, 1))  # the end has come; the job ends it tonight
    assert (after["access"], after["status"]) == (False, "ended")


def test_paused_by_an_unpaid_invoice_names_the_oldest_past_due_invoice(world):
    contract = make_contract(
        world["plan"], world["customer"], lifecycle.PAUSED, paused_on=d(2026, 4, 15), deletion_due_on=d(2026, 7, 14)
    )
    make_invoice(contract, number=10001, due=d(2026, 1, 1), status=InvoiceStatus.PAID, paid="1000.00")  # paid
    make_invoice(contract, number=10050, due=d(2026, 4, 1))
    make_invoice(contract, number=10042, due=d(2026, 3, 1), status=InvoiceStatus.OVERDUE)
    make_invoice(contract, number=10060, due=d(2026, 4, 25))  # not due yet
    got = answer(world["customer"])
    assert (got["access"], got["status"], got["until"]) == (False, "paused", "2026-07-14")
    assert got["reason"] == {
        "nb": "Pauset: faktura 10042 ubetalt siden 2026-03-01; data slettes 2026-07-14",
        "en": "Paused: invoice 10042 unpaid since 2026-03-01; data deleted on 2026-07-14",
    }


def test_a_paused_trial_says_the_trial_ended(world):
    make_contract(
        world["plan"],
        world["customer"],
        lifecycle.PAUSED,
        trial_ends_on=d(2026, 4, 1),
        paused_on=d(2026, 4, 1),
        deletion_due_on=d(2026, 6, 30),
    )
    got = answer(world["customer"])
    assert got["reason"]["en"] == "Paused: the trial ended 2026-04-01 without confirmation; data deleted on 2026-06-30"


def test_suspended(world):
    contract = make_contract(world["plan"], world["customer"], lifecycle.SUSPENDED)
    got = answer(world["customer"])
    assert (got["access"], got["status"], got["until"]) == (False, "suspended", None)
    assert got["reason"] == {"nb": "Stengt (betalingsmislighold)", "en": "Suspended (payment default)"}
    make_invoice(contract, number=10077, due=d(2026, 2, 15), total="500.00", paid="200.00")
    got = answer(world["customer"])
    assert got["reason"] == {
        "nb": "Stengt: faktura 10077 ubetalt siden 2026-02-15",
        "en": "Suspended: invoice 10077 unpaid since 2026-02-15",
    }


def test_ended_and_deleted(world):
    make_contract(world["plan"], world["customer"], lifecycle.ENDED, ended_on=d(2026, 1, 1))
    got = answer(world["customer"])
    assert (got["access"], got["status"]) == (False, "ended")
    assert got["reason"] == {"nb": "Avsluttet 2026-01-01", "en": "Ended 2026-01-01"}
    other = CustomerFactory()
    make_contract(world["plan"], other, lifecycle.DELETED, deleted_on=d(2026, 3, 1))
    assert answer(other)["status"] == "ended"


def test_no_contract_and_drafts_or_offers_do_not_count(world):
    got = answer(world["customer"])
    assert got == {
        "customer": world["customer"].pk,
        "on": "2026-04-20",
        "access": False,
        "status": "none",
        "reason": {"nb": "Ingen avtale", "en": "No contract"},
        "until": None,
        "contracts": [],
    }
    for state in (lifecycle.DRAFT, lifecycle.SENT, lifecycle.CANCELLED):
        make_contract(world["plan"], world["customer"], state)
    assert answer(world["customer"])["status"] == "none"


def test_awaiting_the_dpa_is_pending(world):
    make_contract(world["plan"], world["customer"], lifecycle.AWAITING_DPA)
    got = answer(world["customer"])
    assert (got["access"], got["status"]) == (False, "pending")
    assert got["reason"]["en"] == "Signed, waiting for the DPA"


def test_several_contracts_access_if_any_gives_access(world):
    paused = make_contract(world["plan"], world["customer"], lifecycle.PAUSED, paused_on=d(2026, 4, 1))
    make_invoice(paused, due=d(2026, 2, 1))
    make_contract(world["plan"], world["customer"], lifecycle.ENDED)
    make_contract(world["plan"], world["customer"], lifecycle.TRIAL, trial_ends_on=d(2026, 5, 1))
    got = answer(world["customer"])
    assert (got["access"], got["status"], got["until"]) == (True, "trial", "2026-05-01")
    assert [c["status"] for c in got["contracts"]] == ["paused", "ended", "trial"]
    make_contract(world["plan"], world["customer"], lifecycle.ACTIVE)
    assert answer(world["customer"])["status"] == "active"  # active beats a trial


def test_without_access_the_paused_contract_explains_why(world):
    make_contract(world["plan"], world["customer"], lifecycle.ENDED)
    make_contract(world["plan"], world["customer"], lifecycle.PAUSED, paused_on=d(2026, 4, 1))
    assert answer(world["customer"])["status"] == "paused"


# ---------------------------------------------------------------- a school through its kommune


@pytest.fixture
def kommune(world):
    kommune = CustomerFactory(name="Stavanger kommune", kind=CustomerKind.KOMMUNE)
    schools = [CustomerFactory(name=f"Skole {n}", kind=CustomerKind.SCHOOL, parent=kommune) for n in (1, 2, 3)]
    contract = make_contract(world["plan"], kommune, lifecycle.ACTIVE)
    PricedOn.objects.create(
        contract=contract,
        effective_from=d(2026, 1, 1),
        request={"schools": [{"name": s.name, "customer": s.pk, "pupils": 100} for s in schools[:2]]},
    )
    return {"kommune": kommune, "schools": schools, "contract": contract}


def test_a_school_has_access_through_its_kommunes_contract_that_names_it(world, kommune):
    school = kommune["schools"][0]
    got = answer(school)
    assert (got["access"], got["status"]) == (True, "active")
    assert got["contracts"][0]["inherited"] is True
    assert got["contracts"][0]["customer"] == kommune["kommune"].pk
    assert answer(kommune["kommune"])["contracts"][0]["inherited"] is False


def test_a_school_the_kommunes_contract_does_not_name_has_no_access_until_an_amendment_adds_it(world, kommune):
    school = kommune["schools"][2]
    assert answer(school)["status"] == "none"
    PricedOn.objects.create(
        contract=kommune["contract"],
        effective_from=d(2026, 8, 1),
        request={"schools": [{"name": s.name, "customer": s.pk, "pupils": 100} for s in kommune["schools"]]},
    )
    assert answer(school)["status"] == "none"
    assert answer(school, today=d(2026, 8, 1))["access"] is True


def test_a_kommune_contract_for_the_whole_organisation_covers_its_schools(world, kommune):
    school = kommune["schools"][2]
    make_contract(world["plan"], kommune["kommune"], lifecycle.TRIAL, trial_ends_on=d(2026, 5, 1))  # no priced_on
    assert answer(school)["status"] == "trial"


def test_a_kommune_does_not_inherit_its_schools_contracts(world, kommune):
    make_contract(world["plan"], kommune["schools"][2], lifecycle.PAUSED, paused_on=d(2026, 4, 1))
    assert [c["status"] for c in answer(kommune["kommune"])["contracts"]] == ["active"]


def test_a_school_with_its_own_paused_contract_still_has_access_through_the_kommune(world, kommune):
    school = kommune["schools"][0]
    make_contract(world["plan"], school, lifecycle.PAUSED, paused_on=d(2026, 4, 1))
    got = answer(school)
    assert (got["access"], got["status"]) == (True, "active")
    assert sorted(c["inherited"] for c in got["contracts"]) == [False, True]


# ---------------------------------------------------------------- bounded queries


@pytest.mark.parametrize("n", [1, 8])
def test_a_fixed_number_of_queries(world, kommune, n, django_assert_max_num_queries):
    school = kommune["schools"][0]
    for i in range(n):
        paused = make_contract(world["plan"], school, lifecycle.PAUSED, paused_on=d(2026, 4, 1))
        suspended = make_contract(world["plan"], kommune["kommune"], lifecycle.SUSPENDED)
        PricedOn.objects.create(contract=suspended, effective_from=d(2026, 1, 1), request={"quantities": {"x": i}})
        for month in (1, 2, 3):
            make_invoice(paused, due=d(2026, month, 1))
            make_invoice(suspended, due=d(2026, month, 2))
    with django_assert_max_num_queries(3):
        got = answer(school)
    assert len(got["contracts"]) == 1 + 2 * n
    assert got["access"] is True


# ---------------------------------------------------------------- the API


@pytest.fixture
def api(world, monkeypatch):
    monkeypatch.setattr("contracts.entitlements_api.business_today", lambda: TODAY)
    _ro, ro_raw = make_key(world["tenant"], ApiKeyScope.READ, name="login gate")
    _rw, rw_raw = make_key(world["tenant"])
    return {**world, "ro": client_for(ro_raw), "rw": client_for(rw_raw)}


def _paused(world) -> Contract:
    with tenant_context(world["tenant"]):
        contract = make_contract(
            world["plan"], world["customer"], lifecycle.PAUSED, paused_on=d(2026, 4, 15), deletion_due_on=d(2026, 7, 14)
        )
        make_invoice(contract, number=10042, due=d(2026, 3, 1))
    return contract


def test_a_read_only_key_gets_the_answer_with_etag_and_cache_control(api):
    _paused(api)
    response = api["ro"].get(f"{API}/entitlements/{api['customer'].pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["access"], body["status"], body["until"]) == (False, "paused", "2026-07-14")
    assert body["reason"]["en"] == "Paused: invoice 10042 unpaid since 2026-03-01; data deleted on 2026-07-14"
    assert response["Cache-Control"] == "private, max-age=60"
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
    with tenant_context(api["tenant"]):
        assert body == entitlements_for(api["customer"], today=TODAY).as_dict()
    assert api["rw"].get(f"{API}/entitlements/{api['customer'].pk}/").json() == body  # trailing slash too


def test_if_none_match_gives_304_without_a_body_until_the_answer_changes(api):
    url = f"{API}/entitlements/{api['customer'].pk}"
    first = api["ro"].get(url)
    etag = first["ETag"]
    again = api["ro"].get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert again["Cache-Control"] == "private, max-age=60"
    assert api["ro"].get(url, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    assert api["ro"].get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    _paused(api)  # the answer changes: a new ETag
    changed = api["ro"].get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["status"] == "paused"


def test_by_org_number_with_spaces_or_by_customer_id(api):
    _paused(api)
    by_id = api["ro"].get(f"{API}/entitlements/{api['customer'].pk}")
    org = api["customer"].org_number
    spaced = f"{org[:3]} {org[3:6]} {org[6:]}"
    by_org = api["ro"].get(f"{API}/entitlements", {"org_number": spaced})
    by_query_id = api["ro"].get(f"{API}/entitlements/", {"customer": api["customer"].pk})
    assert by_org.status_code == by_query_id.status_code == 200
    assert by_org.json() == by_query_id.json() == by_id.json()
    assert by_org["ETag"] == by_id["ETag"]
    assert (
        api["ro"].get(f"{API}/entitlements", {"org_number": org}, HTTP_IF_NONE_MATCH=by_id["ETag"]).status_code == 304
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "org_number"),
        ({"org_number": "937620187", "customer": "1"}, "customer"),
        ({"org_number": "123"}, "org_number"),
        ({"customer": "abc"}, "customer"),
    ],
)
def test_bad_lookups_are_400_per_parameter(api, params, field):
    response = api["ro"].get(f"{API}/entitlements", params)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_unknown_customer_and_no_key(api):
    response = api["ro"].get(f"{API}/entitlements/999999")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert api["ro"].get(f"{API}/entitlements", {"org_number": "974760673"}).status_code == 404
    assert client_for(None).get(f"{API}/entitlements/{api['customer'].pk}").status_code == 401


def test_only_get(api):
    assert api["rw"].post(f"{API}/entitlements/{api['customer'].pk}", {}, format="json").status_code == 405


def test_the_api_uses_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    url = f"{API}/entitlements/{api['customer'].pk}"
    with CaptureQueriesContext(connection) as one:
        api["ro"].get(url)
    with tenant_context(api["tenant"]):
        for _ in range(6):
            contract = make_contract(api["plan"], api["customer"], lifecycle.SUSPENDED)
            make_invoice(contract, due=d(2026, 3, 1))
            make_invoice(contract, due=d(2026, 2, 1))
    with django_assert_max_num_queries(len(one.captured_queries) + 1):  # + the invoices of the suspended ones
        assert api["ro"].get(url).json()["status"] == "suspended"


# ---------------------------------------------------------------- tenant isolation


def test_another_tenants_customer_is_404_by_id_org_number_and_customer(api, tenant_b):
    with tenant_context(tenant_b):
        plan_b = plan_for("digireq")
        theirs = CustomerFactory(name="Bare hos B AS")
        make_contract(plan_b, theirs, lifecycle.ACTIVE)
    for response in (
        api["ro"].get(f"{API}/entitlements/{theirs.pk}"),
        api["ro"].get(f"{API}/entitlements", {"org_number": theirs.org_number}),
        api["ro"].get(f"{API}/entitlements", {"customer": theirs.pk}),
    ):
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_the_same_org_number_in_two_tenants_answers_each_with_its_own(api, tenant_b):
    org = api["customer"].org_number
    with tenant_context(tenant_b):
        plan_b = plan_for("digireq")
        twin = CustomerFactory(name="Kunde AS hos B", org_number=org)
        make_contract(plan_b, twin, lifecycle.ACTIVE)
    _b_key, b_raw = make_key(tenant_b, ApiKeyScope.READ)
    mine = api["ro"].get(f"{API}/entitlements", {"org_number": org}).json()
    theirs = client_for(b_raw).get(f"{API}/entitlements", {"org_number": org}).json()
    assert (mine["customer"], mine["status"]) == (api["customer"].pk, "none")
    assert (theirs["customer"], theirs["status"]) == (twin.pk, "active")
