"""The contracts API: the acceptance cases (contracts.md) through HTTP, every action, list filters,
and bad input that is a 400 per field with nothing changed.

Requests are made outside any tenant context (the key activates its tenant, as in production);
the database is read afterwards inside ``tenant_context``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from contracts import jobs, lifecycle
from contracts.models import (
    Contract,
    ContractDocument,
    ContractEvent,
    DataProcessingAgreement,
    Message,
    PricedOn,
    Signature,
    TerminationNotice,
)
from pricing import services as pricing_services
from tenants.models import ApiKeyScope, AuditEvent, CustomerKind
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, error_of, make_key
from tests.contracts.conftest import ACTOR, SHA, plan_for, verified_company
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db
d = dt.date
PUPILS = (87, 240, 1100)


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def vendor(tenant_a):
    """Tenant A selling Spekter, DigiReq and Piscator: a kommune with three schools, and keys."""
    with tenant_context(tenant_a):
        plans = {name: plan_for(name) for name in ("spekter", "digireq", "piscator")}
        kommune = CustomerFactory(name="Stavanger kommune", kind=CustomerKind.KOMMUNE)
        schools = [CustomerFactory(name=f"Skole {n}", kind=CustomerKind.SCHOOL, parent=kommune) for n in (1, 2, 3)]
        company = CustomerFactory(name="Rederi AS")
    _key, raw = make_key(tenant_a)
    _ro, ro_raw = make_key(tenant_a, ApiKeyScope.READ, name="read")
    return {
        "tenant": tenant_a,
        "plans": plans,
        "kommune": kommune,
        "schools": schools,
        "company": company,
        "api": client_for(raw),
        "nb": client_for(raw, language="nb"),
        "ro": client_for(ro_raw),
    }


def schools_body(schools) -> list[dict]:
    return [{"name": s.name, "pupils": p, "customer": s.pk} for s, p in zip(schools, PUPILS, strict=True)]


def create_spekter(v, on="2026-03-01", **extra) -> dict:
    body = {
        "customer": v["kommune"].pk,
        "plan": "spekter-2020",
        "interval": "year",
        "preset": "spekter",
        "priced_on": {"schools": schools_body(v["schools"])},
        "on": on,
        **extra,
    }
    response = v["api"].post(f"{API}/contracts", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def post(v, path: str, body: dict | None = None, client: str = "api"):
    return v[client].post(f"{API}{path}", body or {}, format="json")


def sign(v, contract_id: int, received_on="2026-03-15", **extra):
    body = {"name": "Kari Nordmann", "title": "Rådmann", "received_on": received_on, "document_sha256": SHA}
    return post(v, f"/contracts/{contract_id}/sign", {**body, **extra})


def active_spekter(v) -> dict:
    """A Spekter contract received 2026-03-15 with the kommune's DPA on file: active."""
    assert (
        post(v, "/dpas", {"controller": v["kommune"].pk, "signed_on": "2026-01-10", "signer_name": "X"}).status_code
        == 201
    )
    contract = create_spekter(v)
    response = sign(v, contract["id"])
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "active"
    return response.json()


def counts(tenant) -> dict:
    """Everything a refused request must leave as it was."""
    with tenant_context(tenant):
        return {
            model.__name__: model.objects.count()
            for model in (
                Contract,
                ContractEvent,
                PricedOn,
                Signature,
                TerminationNotice,
                DataProcessingAgreement,
                Message,
                AuditEvent,
            )
        }


def contract_row(tenant, pk) -> dict:
    with tenant_context(tenant):
        return Contract.objects.filter(pk=pk).values().get()


def dates(body: dict, *names: str) -> tuple:
    return tuple(body["dates"][name] for name in names)


# ---------------------------------------------------------------- Spekter: create, sign, the DPA gate


def test_create_shows_terms_state_labels_allowed_events_and_what_it_is_priced_on(vendor):
    body = create_spekter(vendor)
    assert body["reference"] == "AVT-2026-0001"
    assert (body["customer"], body["customer_name"], body["plan"], body["interval"]) == (
        vendor["kommune"].pk,
        "Stavanger kommune",
        "spekter-2020",
        "year",
    )
    assert body["state"] == "draft"
    assert body["state_label"] == {"nb": "Utkast", "en": "Draft"}
    assert [e["event"] for e in body["allowed_events"]] == [
        "cancel",
        "send",
        "sign",
        "sign_awaiting_dpa",
        "sign_into_acceptance",
    ]
    assert body["allowed_events"][1]["label"] == {"nb": "send til signering", "en": "send for signature"}
    assert body["terms"] == {
        "initial_term_months": 12,
        "renewal_term_months": 12,
        "notice_months": 3,
        "notice_days": 0,
        "binding_months": None,
        "start_rule": "on_receipt",
        "start_offset_days": 0,
        "acceptance_days": None,
        "ordinary_on_business_day": True,
        "dpa_required": True,
        "agreed_start": None,
    }
    assert body["priced_on"]["effective_from"] == "2026-03-01"
    assert body["priced_on"]["request"] == {"schools": schools_body(vendor["schools"])}
    assert body["priced_on"]["price_effect"]["net"] == "26292.00"  # 2 892 + 4 875 + 18 525
    assert body["dpa"] == {"required": True, "controller": vendor["kommune"].pk, "on_file": False}
    assert [(s["code"], s["done_on"]) for s in body["onboarding"]] == [
        ("contract_signed", None),
        ("dpa_signed", None),
        ("feide_activated", None),
    ]
    assert [(e["event"], e["to_state"], e["on"]) for e in body["events"]] == [("create", "draft", "2026-03-01")]
    with tenant_context(vendor["tenant"]):
        event = AuditEvent.objects.get(action="contract.create")
        assert event.actor_kind == "api_key"


def test_spekter_received_2026_03_15_waits_for_the_dpa_then_runs_to_2027_03_15(vendor):
    contract = create_spekter(vendor)
    response = sign(vendor, contract["id"], signed_at="2026-03-14T10:00:00+01:00")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["has_access"]) == ("awaiting_dpa", False)
    assert body["signatures"][0]["name"] == "Kari Nordmann"
    assert body["signatures"][0]["received_on"] == "2026-03-15"

    response = post(
        vendor, "/dpas", {"controller": vendor["kommune"].pk, "signed_on": "2026-03-20", "signer_name": "Ola"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["contracts_started"] == [contract["id"]]
    assert response.json()["controller_name"] == "Stavanger kommune"

    body = vendor["api"].get(f"{API}/contracts/{contract['id']}").json()
    assert (body["state"], body["has_access"]) == ("active", True)
    assert dates(body, "received_on", "start_date", "term_end", "notice_deadline") == (
        "2026-03-15",
        "2026-03-15",
        "2027-03-15",
        "2026-12-14",
    )
    assert [(s["code"], s["done_on"]) for s in body["onboarding"]] == [
        ("contract_signed", "2026-03-15"),
        ("dpa_signed", "2026-03-20"),
        ("feide_activated", None),
    ]

    response = post(vendor, f"/contracts/{contract['id']}/onboarding/feide_activated", {"on": "2026-03-25"})
    assert response.status_code == 200, response.json()
    assert response.json()["onboarding"][2] == {
        "code": "feide_activated",
        "label": {"nb": "Aktivert i Feide", "en": "Activated in Feide"},
        "done_on": "2026-03-25",
    }


def test_without_notice_the_renewal_job_runs_it_to_2028_03_15(vendor):
    contract = active_spekter(vendor)
    with tenant_context(vendor["tenant"]):
        assert jobs.renew_due(d(2027, 3, 15)) == 1
    body = vendor["api"].get(f"{API}/contracts/{contract['id']}").json()
    assert dates(body, "term_index", "term_end", "notice_deadline") == (1, "2028-03-15", "2027-12-14")
    messages = vendor["api"].get(f"{API}/messages", {"contract": contract["id"], "kind": "renewed"}).json()
    assert [(m["kind"], m["on"], m["contract_reference"]) for m in messages["results"]] == [
        ("renewed", "2027-03-15", "AVT-2026-0001")
    ]


def test_send_renders_the_document_and_the_signature_records_its_sha256(vendor):
    contract = create_spekter(vendor)
    response = post(vendor, f"/contracts/{contract['id']}/send", {"on": "2026-03-02"})
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "sent"
    with tenant_context(vendor["tenant"]):
        document = ContractDocument.objects.get(contract_id=contract["id"])
    assert len(document.sha256) == 64

    wrong = sign(vendor, contract["id"], document_sha256="b" * 64)
    assert wrong.status_code == 400
    assert document.sha256 in error_of(wrong)["fields"]["document_sha256"][0]
    assert contract_row(vendor["tenant"], contract["id"])["state"] == "sent"

    without = post(vendor, f"/contracts/{contract['id']}/sign", {"name": "Kari", "received_on": "2026-03-15"})
    assert without.status_code == 200, without.json()
    assert without.json()["signatures"][0]["document_sha256"] == document.sha256


def test_signing_a_draft_without_a_document_needs_the_sha256(vendor):
    contract = create_spekter(vendor)
    before = counts(vendor["tenant"])
    response = post(vendor, f"/contracts/{contract['id']}/sign", {"name": "Kari", "received_on": "2026-03-15"})
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"document_sha256": ["The signed document's SHA-256 is missing."]}
    bad = post(vendor, f"/contracts/{contract['id']}/sign", {"name": "Kari", "document_sha256": "XYZ"})
    assert error_of(bad)["fields"] == {"document_sha256": ["Give the SHA-256 as 64 lower-case hexadecimal characters."]}
    assert counts(vendor["tenant"]) == before


# ---------------------------------------------------------------- notice


def test_late_notice_preview_says_it_ends_2028_03_15_before_anything_is_recorded(vendor):
    contract = active_spekter(vendor)
    before = counts(vendor["tenant"])
    response = vendor["api"].get(f"{API}/contracts/{contract['id']}/notice-preview", {"received_on": "2026-12-20"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert {k: body[k] for k in ("received_on", "ends_on", "last_day", "deadline", "late")} == {
        "received_on": "2026-12-20",
        "ends_on": "2028-03-15",
        "last_day": "2028-03-14",
        "deadline": "2026-12-14",
        "late": True,
    }
    assert body["explanation"]["en"].startswith("Too late: the last day for notice was 2026-12-14.")
    assert "15.03.2028" in body["explanation"]["nb"]
    assert counts(vendor["tenant"]) == before

    on_time = vendor["api"].get(f"{API}/contracts/{contract['id']}/notice-preview?received_on=2026-12-14").json()
    assert (on_time["late"], on_time["ends_on"]) == (False, "2027-03-15")


def test_a_late_notice_is_recorded_with_its_effect_and_confirmed_to_the_customer(vendor):
    contract = active_spekter(vendor)
    with tenant_context(vendor["tenant"]):
        ContactFactory(customer=vendor["kommune"], role="orderer", email="bestiller@kommune.example")
    response = post(
        vendor, f"/contracts/{contract['id']}/notice", {"given_by": "customer", "received_on": "2026-12-20"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["given_by"], body["received_on"], body["ends_on"], body["deadline"], body["late"]) == (
        "customer",
        "2026-12-20",
        "2028-03-15",
        "2026-12-14",
        True,
    )
    assert body["contract"]["state"] == "notice_given"
    assert body["contract"]["ends_on"] == "2028-03-15"
    detail = vendor["api"].get(f"{API}/contracts/{contract['id']}").json()
    assert [n["late"] for n in detail["notices"]] == [True]
    assert [m["kind"] for m in detail["messages"]] == ["notice_confirmed"]
    history = vendor["api"].get(f"{API}/messages", {"customer": vendor["kommune"].pk}).json()["results"]
    assert [(m["kind"], m["on"]) for m in history] == [("notice_confirmed", "2026-12-20")]
    assert "bestiller@kommune.example" in history[0]["recipients"]
    assert len(mail.outbox) == 0  # e-mail leaves when the transaction commits (the test's never does)


def test_notice_on_an_ended_contract_is_a_400_on_state_and_changes_nothing(vendor):
    contract = active_spekter(vendor)
    assert (
        post(
            vendor, f"/contracts/{contract['id']}/notice", {"given_by": "vendor", "received_on": "2026-06-01"}
        ).status_code
        == 201
    )
    with tenant_context(vendor["tenant"]):
        assert jobs.end_due(d(2027, 3, 15)) == 1
    before = counts(vendor["tenant"])
    row = contract_row(vendor["tenant"], contract["id"])
    response = post(
        vendor, f"/contracts/{contract['id']}/notice", {"given_by": "customer", "received_on": "2027-04-01"}
    )
    assert response.status_code == 400
    assert error_of(response)["fields"] == {
        "state": ["A contract that is 'ended' cannot give notice; nothing more can happen to it."]
    }
    preview = vendor["api"].get(f"{API}/contracts/{contract['id']}/notice-preview?received_on=2027-04-01")
    assert preview.status_code == 400 and "state" in error_of(preview)["fields"]
    assert counts(vendor["tenant"]) == before
    assert contract_row(vendor["tenant"], contract["id"]) == row


def test_lifecycle_errors_say_what_is_allowed_in_the_requests_language(vendor):
    contract = active_spekter(vendor)
    response = post(vendor, f"/contracts/{contract['id']}/reactivate", {"on": "2026-04-01"})
    assert error_of(response)["fields"]["state"] == [
        "A contract that is 'active, ordinary operation' cannot reactivate; it can: end, give notice, pause, "
        "renew, suspend."
    ]
    norsk = post(vendor, f"/contracts/{contract['id']}/reactivate", {"on": "2026-04-01"}, client="nb")
    assert error_of(norsk)["fields"]["state"][0].startswith(
        "En avtale som er «aktiv, ordinær drift» kan ikke reaktivere"
    )
    extend = post(vendor, f"/contracts/{contract['id']}/trial/extend")
    assert error_of(extend)["fields"]["state"][0].startswith(
        "A contract that is 'active, ordinary operation' cannot extend the trial"
    )


# ---------------------------------------------------------------- signing twice, the DPA by a school


def test_signing_twice_is_a_400_and_changes_nothing(vendor):
    contract = create_spekter(vendor)
    assert sign(vendor, contract["id"]).status_code == 200
    before, row = counts(vendor["tenant"]), contract_row(vendor["tenant"], contract["id"])
    response = sign(vendor, contract["id"], received_on="2026-04-01")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"state": ["This contract is already signed."]}
    assert counts(vendor["tenant"]) == before
    assert contract_row(vendor["tenant"], contract["id"]) == row


def test_a_dpa_signed_by_a_school_is_a_400_naming_its_owner(vendor):
    before = counts(vendor["tenant"])
    school = vendor["schools"][0]
    response = post(vendor, "/dpas", {"controller": school.pk, "signed_on": "2026-03-20", "signer_name": "Rektor"})
    assert response.status_code == 400
    assert error_of(response)["fields"] == {
        "controller": [
            "The data processing agreement is signed by the school owner (the controller), not by Skole 1: "
            "ask Stavanger kommune to sign it."
        ]
    }
    assert counts(vendor["tenant"]) == before


def test_dpas_are_listed_and_a_second_one_for_the_same_owner_is_refused(vendor):
    first = post(vendor, "/dpas", {"controller": vendor["kommune"].pk, "signed_on": "2026-01-10", "signer_name": "A"})
    assert first.status_code == 201
    second = post(vendor, "/dpas", {"controller": vendor["kommune"].pk, "signer_name": "B"})
    assert error_of(second)["fields"] == {
        "controller": ["Stavanger kommune already has a data processing agreement on file."]
    }
    listed = vendor["api"].get(f"{API}/dpas", {"controller": vendor["kommune"].pk}).json()
    assert [(r["id"], r["signed_on"], r["signer_name"]) for r in listed["results"]] == [
        (first.json()["id"], "2026-01-10", "A")
    ]
    assert vendor["api"].get(f"{API}/dpas/{first.json()['id']}").json()["controller"] == vendor["kommune"].pk


# ---------------------------------------------------------------- Piscator


def test_piscator_signed_2026_02_02_starts_2026_02_16_in_acceptance(vendor):
    body = {
        "customer": vendor["company"].pk,
        "plan": "piscator-standard",
        "interval": "quarter",
        "preset": "piscator",
        "on": "2026-02-01",
    }
    created = vendor["api"].post(f"{API}/contracts", body, format="json")
    assert created.status_code == 201, created.json()
    response = sign(vendor, created.json()["id"], received_on="2026-02-02", signed_at="2026-02-02T10:00:00+01:00")
    assert response.status_code == 200, response.json()
    contract = response.json()
    assert contract["state"] == "acceptance"
    assert contract["state_label"]["en"] == "Active, in the acceptance period"
    assert dates(
        contract, "signed_on", "start_date", "acceptance_ends_on", "ordinary_from", "term_end", "notice_deadline"
    ) == ("2026-02-02", "2026-02-16", "2026-03-02", "2026-03-02", "2027-02-16", "2026-08-15")


# ---------------------------------------------------------------- DigiReq trials


@pytest.fixture
def trial_customer(vendor):
    with tenant_context(vendor["tenant"]):
        return verified_company("DigiKunde AS")


def start_trial(v, customer, on="2026-01-05"):
    return post(v, "/trials", {"customer": customer.pk, "plan": "digireq-2026", "on": on})


def test_trial_converted_to_annual_is_bound_until_2027_01_19(vendor, trial_customer):
    response = start_trial(vendor, trial_customer)
    assert response.status_code == 201, response.json()
    trial = response.json()
    assert (trial["state"], trial["has_access"]) == ("trial", True)
    assert dates(trial, "trial_started_on", "trial_ends_on", "trial_extensions") == ("2026-01-05", "2026-01-19", 0)

    response = post(
        vendor,
        f"/contracts/{trial['id']}/trial/convert",
        {"interval": "year", "priced_on": {"quantities": {"active_users": 30}}, "on": "2026-01-19"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["interval"]) == ("active", "year")
    assert dates(body, "start_date", "term_end", "notice_deadline") == ("2026-01-19", "2027-01-19", "2026-12-19")
    assert (body["terms"]["binding_months"], body["terms"]["notice_days"]) == (12, 30)
    assert body["priced_on"]["request"] == {"quantities": {"active_users": 30}}
    assert body["priced_on"]["price_effect"]["net"] == "22950.00"


def test_trial_monthly_cancelled_2026_02_03_has_access_to_2026_02_18(vendor, trial_customer):
    trial = start_trial(vendor, trial_customer).json()
    converted = post(
        vendor,
        f"/contracts/{trial['id']}/trial/convert",
        {"interval": "month", "priced_on": {"quantities": {"active_users": 30}}, "on": "2026-01-19"},
    )
    assert converted.status_code == 200, converted.json()
    preview = vendor["api"].get(f"{API}/contracts/{trial['id']}/notice-preview?received_on=2026-02-03").json()
    assert (preview["late"], preview["last_day"]) == (False, "2026-02-18")


def test_three_extensions_reach_2026_02_09_and_a_fourth_is_refused(vendor, trial_customer):
    trial = start_trial(vendor, trial_customer).json()
    ends = []
    for day in ("2026-01-10", "2026-01-17", "2026-01-24"):
        response = post(vendor, f"/contracts/{trial['id']}/trial/extend", {"on": day})
        assert response.status_code == 200, response.json()
        ends.append(response.json()["dates"]["trial_ends_on"])
    assert ends == ["2026-01-26", "2026-02-02", "2026-02-09"]
    before, row = counts(vendor["tenant"]), contract_row(vendor["tenant"], trial["id"])
    response = post(vendor, f"/contracts/{trial['id']}/trial/extend", {"on": "2026-02-01"})
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"trial_extensions": ["A trial can be extended at most 3 times by 7 days."]}
    assert counts(vendor["tenant"]) == before
    assert contract_row(vendor["tenant"], trial["id"]) == row


def test_a_second_trial_for_the_organisation_is_a_400_on_org_number(vendor, trial_customer):
    assert start_trial(vendor, trial_customer).status_code == 201
    before = counts(vendor["tenant"])
    response = start_trial(vendor, trial_customer, on="2026-03-05")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {
        "org_number": ["DigiKunde AS has already had a trial; one trial per organisation."]
    }
    assert counts(vendor["tenant"]) == before


@pytest.mark.parametrize(
    ("flag", "says"),
    [
        ("bankrupt", "is bankrupt (konkurs) according to Brønnøysund"),
        ("under_liquidation", "is being wound up (under avvikling)"),
        ("deleted", "is deleted from Enhetsregisteret"),
    ],
)
def test_a_trial_for_a_bankrupt_dissolved_or_deleted_organisation_is_refused(vendor, flag, says):
    with tenant_context(vendor["tenant"]):
        customer = verified_company("Konkurs AS", **{flag: True})
    before = counts(vendor["tenant"])
    response = start_trial(vendor, customer)
    assert response.status_code == 400
    assert error_of(response)["fields"]["org_number"] == [f"Konkurs AS {says}; a trial cannot be started."]
    assert counts(vendor["tenant"]) == before


def test_a_paused_trial_is_reactivated_within_90_days(vendor, trial_customer):
    trial = start_trial(vendor, trial_customer).json()
    with tenant_context(vendor["tenant"]):
        assert jobs.run_all(d(2026, 1, 19))["trials_pause"] == 1
    paused = vendor["api"].get(f"{API}/contracts/{trial['id']}").json()
    assert (paused["state"], paused["dates"]["deletion_due_on"]) == ("paused", "2026-04-19")
    assert [m["kind"] for m in paused["messages"]] == ["trial_paused"]
    response = post(vendor, f"/contracts/{trial['id']}/reactivate", {"on": "2026-02-01"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["dates"]["start_date"], body["dates"]["paused_on"]) == ("active", "2026-02-01", None)


def test_reactivation_after_90_days_is_refused(vendor, trial_customer):
    trial = start_trial(vendor, trial_customer).json()
    with tenant_context(vendor["tenant"]):
        jobs.pause_due(d(2026, 1, 19))
    response = post(vendor, f"/contracts/{trial['id']}/reactivate", {"on": "2026-04-19"})
    assert error_of(response)["fields"] == {
        "state": ["The 90 days have passed; the data is deleted and cannot be reactivated."]
    }
    assert contract_row(vendor["tenant"], trial["id"])["state"] == "paused"


# ---------------------------------------------------------------- amendments


def test_amendment_prices_the_change_and_keeps_the_history(vendor):
    contract = active_spekter(vendor)
    schools = schools_body(vendor["schools"])
    schools[0]["pupils"] = 150  # 87 → 150: band 1–100 → 101–200
    response = post(
        vendor,
        f"/contracts/{contract['id']}/amendments",
        {"effective_from": "2026-08-01", "changes": {"schools": schools}, "reason": "Elevtall", "on": "2026-07-20"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["effective_from"], body["reason"]) == ("2026-08-01", "Elevtall")
    assert body["price_effect"]["delta_net"] == "423.00"  # 3 315 − 2 892
    assert (body["price_effect"]["before"]["net"], body["price_effect"]["after"]["net"]) == ("26292.00", "26715.00")

    history = vendor["api"].get(f"{API}/contracts/{contract['id']}/amendments").json()
    assert [(row["effective_from"], row["reason"]) for row in history] == [
        ("2026-03-01", "initial"),
        ("2026-08-01", "Elevtall"),
    ]
    assert history[1]["request"]["schools"][0]["pupils"] == 150


def test_amendment_dated_before_the_start_is_a_400_and_changes_nothing(vendor):
    contract = active_spekter(vendor)
    before = counts(vendor["tenant"])
    response = post(
        vendor,
        f"/contracts/{contract['id']}/amendments",
        {"effective_from": "2026-03-01", "changes": {"schools": []}, "reason": "x"},
    )
    assert response.status_code == 400
    assert error_of(response)["fields"] == {
        "effective_from": ["An amendment cannot take effect before the contract starts (2026-03-15)."]
    }
    assert counts(vendor["tenant"]) == before


def test_amendment_input_errors_name_the_path(vendor):
    contract = active_spekter(vendor)
    response = post(
        vendor,
        f"/contracts/{contract['id']}/amendments",
        {"effective_from": "1. mai", "changes": {"schools": [{"pupils": 0}], "plan": "x"}},
    )
    fields = error_of(response)["fields"]
    assert set(fields) == {"effective_from", "changes.schools[0].pupils", "changes.plan", "reason"}


# ---------------------------------------------------------------- from a saved quote


def test_a_contract_from_a_saved_quote_and_the_quote_cannot_be_used_twice(vendor):
    with tenant_context(vendor["tenant"]):
        quote = pricing_services.quote_save(
            actor=ACTOR,
            request={
                "plan": "digireq-2026",
                "interval": "year",
                "customer": vendor["company"].pk,
                "quantities": {"active_users": 30},
            },
            on=d(2026, 5, 1),
        )
    body = {"quote": quote.pk, "preset": "digireq-annual", "agreed_start": "2026-06-01", "on": "2026-05-02"}
    response = post(vendor, "/contracts/from-quote", body)
    assert response.status_code == 201, response.json()
    contract = response.json()
    assert (contract["quote"], contract["customer"], contract["plan"], contract["interval"]) == (
        quote.pk,
        vendor["company"].pk,
        "digireq-2026",
        "year",
    )
    assert contract["terms"]["agreed_start"] == "2026-06-01"
    assert contract["priced_on"]["request"]["quantities"] == {"active_users": 30}
    before = counts(vendor["tenant"])
    again = post(vendor, "/contracts/from-quote", body)
    assert error_of(again)["fields"] == {"quote": ["This quote has already become a contract or was withdrawn."]}
    assert counts(vendor["tenant"]) == before


# ---------------------------------------------------------------- bad input on create


def test_create_with_explicit_terms(vendor):
    body = {
        "customer": vendor["company"].pk,
        "plan": "digireq-2026",
        "interval": "month",
        "initial_term_months": 1,
        "renewal_term_months": 1,
        "notice_days": 0,
        "start_rule": "on_date",
        "agreed_start": "2026-01-31",
        "priced_on": {"quantities": {"active_users": 5}},
        "reference": "DR-1",
        "on": "2026-01-20",
    }
    response = vendor["api"].post(f"{API}/contracts", body, format="json")
    assert response.status_code == 201, response.json()
    contract = response.json()
    assert contract["reference"] == "DR-1"
    assert contract["terms"]["start_rule"] == "on_date"
    signed = sign(vendor, contract["id"], received_on="2026-01-25")
    assert signed.status_code == 200, signed.json()
    assert dates(signed.json(), "start_date", "term_end") == ("2026-01-31", "2026-02-28")  # month end clamped


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"preset": None}, {"preset": ["This field may not be null."]}),
        ({"preset": "nope"}, {"preset": ['"nope" is not a valid choice.']}),
        ({"plan": "no-such-plan"}, {"plan": ["Plan no-such-plan does not exist."]}),
        ({"customer": 999999}, {"customer": ["Customer 999999 does not exist."]}),
        ({"interval": "week"}, {"interval": ['"week" is not a valid choice.']}),
        ({"notice_months": -1}, {"notice_months": ["Ensure this value is greater than or equal to 0."]}),
        ({"colour": "blue"}, {"colour": ["Unknown field; it cannot be set here."]}),
        ({"start_rule": "on_date"}, {"agreed_start": ["Give the agreed start date."]}),
        ({"reference": "AVT-2026-0001"}, {"reference": ["This reference is already in use."]}),
    ],
)
def test_bad_input_on_create_is_a_400_per_field_with_nothing_saved(vendor, change, fields):
    create_spekter(vendor)  # AVT-2026-0001
    before = counts(vendor["tenant"])
    body = {
        "customer": vendor["kommune"].pk,
        "plan": "spekter-2020",
        "interval": "year",
        "preset": "spekter",
        "priced_on": {"schools": schools_body(vendor["schools"])},
        "on": "2026-03-01",
    }
    response = vendor["api"].post(f"{API}/contracts", {**body, **change}, format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"] == fields
    assert counts(vendor["tenant"]) == before


def test_create_without_any_terms_or_with_counts_the_engine_refuses(vendor):
    body = {"customer": vendor["kommune"].pk, "plan": "spekter-2020", "interval": "year"}
    response = vendor["api"].post(f"{API}/contracts", body, format="json")
    assert error_of(response)["fields"] == {"preset": ["Give the terms: a preset, or at least initial_term_months."]}
    shape = {**body, "preset": "spekter", "priced_on": {"schools": [{"name": "A", "pupils": 0}]}}
    assert set(error_of(vendor["api"].post(f"{API}/contracts", shape, format="json"))["fields"]) == {
        "priced_on.schools[0].pupils"
    }
    interval = {**body, "preset": "spekter", "interval": "month", "priced_on": {"schools": [{"pupils": 10}]}}
    fields = error_of(vendor["api"].post(f"{API}/contracts", interval, format="json"))["fields"]
    assert list(fields) == ["interval"]
    assert counts(vendor["tenant"])["Contract"] == 0


@pytest.mark.parametrize("body", [[], "text", {"on": "tomorrow"}, {"on": 5}])
def test_actions_refuse_malformed_bodies(vendor, body):
    contract = create_spekter(vendor)
    response = vendor["api"].post(f"{API}/contracts/{contract['id']}/send", body, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
    assert contract_row(vendor["tenant"], contract["id"])["state"] == "draft"


def test_notice_preview_refuses_a_bad_date(vendor):
    contract = active_spekter(vendor)
    response = vendor["api"].get(f"{API}/contracts/{contract['id']}/notice-preview?received_on=20.12.2026")
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["received_on"]


# ---------------------------------------------------------------- lists and filters


def test_contract_list_filters_and_search(vendor, trial_customer):
    active = active_spekter(vendor)  # term ends 2027-03-15, deadline 2026-12-14
    draft = create_spekter(vendor)
    noticed = create_spekter(vendor)
    assert sign(vendor, noticed["id"]).status_code == 200
    assert (
        post(
            vendor, f"/contracts/{noticed['id']}/notice", {"given_by": "vendor", "received_on": "2026-04-01"}
        ).status_code
        == 201
    )
    trial = start_trial(vendor, trial_customer).json()

    def ids(**params):
        response = vendor["api"].get(f"{API}/contracts", params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids() == {active["id"], draft["id"], noticed["id"], trial["id"]}
    assert ids(state="draft") == {draft["id"]}
    assert ids(customer=vendor["kommune"].pk) == {active["id"], draft["id"], noticed["id"]}
    assert ids(plan="digireq-2026") == {trial["id"]}
    assert ids(notice_deadline_before="2026-12-15") == {active["id"], noticed["id"]}
    assert ids(notice_deadline_before="2026-12-14") == set()
    assert ids(ends_before="2027-03-16") == {active["id"], noticed["id"]}  # noticed: ends_on 2027-03-15
    assert ids(ends_after="2027-03-15") == set()
    assert ids(search="DigiKunde") == {trial["id"]}
    assert ids(search=draft["reference"]) == {draft["id"]}
    bad = vendor["api"].get(f"{API}/contracts", {"state": "happy"})
    assert bad.status_code == 400 and list(error_of(bad)["fields"]) == ["state"]
    row = vendor["api"].get(f"{API}/contracts", {"state": "trial"}).json()["results"][0]
    assert set(row) >= {"id", "url", "reference", "state", "state_label", "term_end", "notice_deadline", "ends_on"}
    assert "events" not in row


def test_messages_list_filters_by_customer_contract_and_kind(vendor, trial_customer):
    spekter = active_spekter(vendor)
    trial = start_trial(vendor, trial_customer).json()
    with tenant_context(vendor["tenant"]):
        jobs.run_all(d(2026, 1, 19))  # pauses the trial: trial_paused
        jobs.notice_reminders(d(2026, 11, 14))  # 30 days before the Spekter deadline: notice_reminder
    everything = vendor["api"].get(f"{API}/messages").json()["results"]
    assert [(m["kind"], m["contract"]) for m in everything] == [
        ("notice_reminder", spekter["id"]),
        ("trial_paused", trial["id"]),
    ]
    only = vendor["api"].get(f"{API}/messages", {"kind": "trial_paused"}).json()["results"]
    assert [m["customer_name"] for m in only] == ["DigiKunde AS"]
    by_customer = vendor["api"].get(f"{API}/messages", {"customer": vendor["kommune"].pk}).json()["results"]
    assert [m["kind"] for m in by_customer] == ["notice_reminder"]
    one = vendor["api"].get(f"{API}/messages/{only[0]['id']}").json()
    assert one["body"] and one["subject"]


# ---------------------------------------------------------------- read-only keys


def test_a_read_key_reads_but_every_write_is_403(vendor, trial_customer):
    contract = active_spekter(vendor)
    trial = start_trial(vendor, trial_customer).json()
    before = counts(vendor["tenant"])
    ro = vendor["ro"]
    for path in (
        "/contracts",
        f"/contracts/{contract['id']}",
        f"/contracts/{contract['id']}/amendments",
        f"/contracts/{contract['id']}/notice-preview?received_on=2026-06-01",
        "/dpas",
        "/messages",
    ):
        assert ro.get(f"{API}{path}").status_code == 200, path
    writes = [
        (
            "/contracts",
            {"customer": vendor["kommune"].pk, "plan": "spekter-2020", "interval": "year", "preset": "spekter"},
        ),
        ("/contracts/from-quote", {"quote": 1, "preset": "spekter"}),
        (f"/contracts/{contract['id']}/send", {}),
        (f"/contracts/{contract['id']}/sign", {"name": "X", "document_sha256": SHA}),
        (f"/contracts/{contract['id']}/notice", {"given_by": "customer"}),
        (f"/contracts/{contract['id']}/amendments", {"effective_from": "2026-08-01", "changes": {}, "reason": "x"}),
        (f"/contracts/{contract['id']}/onboarding/feide_activated", {}),
        (f"/contracts/{trial['id']}/trial/extend", {}),
        (f"/contracts/{trial['id']}/trial/convert", {"interval": "year"}),
        (f"/contracts/{trial['id']}/reactivate", {}),
        ("/dpas", {"controller": vendor["kommune"].pk, "signer_name": "X"}),
        ("/trials", {"customer": vendor["company"].pk, "plan": "digireq-2026"}),
    ]
    for path, body in writes:
        response = ro.post(f"{API}{path}", body, format="json")
        assert response.status_code == 403, path
        assert error_of(response)["code"] == "permission_denied"
    for method in ("put", "patch", "delete"):
        assert getattr(ro, method)(f"{API}/contracts/{contract['id']}").status_code == 403
    assert counts(vendor["tenant"]) == before


def test_methods_the_api_does_not_offer_are_405(vendor):
    contract = create_spekter(vendor)
    for method in ("put", "patch", "delete"):
        response = getattr(vendor["api"], method)(f"{API}/contracts/{contract['id']}", {}, format="json")
        assert response.status_code == 405
        assert error_of(response)["code"] == "method_not_allowed"
    assert vendor["api"].get(f"{API}/contracts/{contract['id']}/send").status_code == 405
    assert vendor["api"].get(f"{API}/trials").status_code == 405


def test_unknown_contract_ids_are_404_in_the_error_format(vendor):
    for path in ("/contracts/999999", "/contracts/abc", "/contracts/999999/notice-preview", "/dpas/1", "/messages/x"):
        response = vendor["api"].get(f"{API}{path}")
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
    assert post(vendor, "/contracts/999999/send").status_code == 404


def test_the_services_are_the_writers_every_change_audited_with_the_key(vendor, trial_customer):
    contract = active_spekter(vendor)
    start_trial(vendor, trial_customer)
    with tenant_context(vendor["tenant"]):
        actions = set(AuditEvent.objects.filter(actor_kind="api_key").values_list("action", flat=True))
        assert {"contract.create", "contract.sign", "dpa.sign", "contract.trial_start"} <= actions
        labels = set(ContractEvent.objects.filter(contract_id=contract["id"]).values_list("actor_label", flat=True))
    assert len(labels) == 1 and "Integration" in labels.pop()


def test_service_states_match_the_api(vendor):
    """The API's allowed_events are the lifecycle's, for every state a contract can be in."""
    contract = create_spekter(vendor)
    for state in lifecycle.STATES:
        with tenant_context(vendor["tenant"]):
            Contract.objects.filter(pk=contract["id"]).update(state=state)
        body = vendor["api"].get(f"{API}/contracts/{contract['id']}").json()
        assert body["state"] == state
        assert [e["event"] for e in body["allowed_events"]] == lifecycle.allowed_events(state)
        assert body["state_label"] == dict(zip(("nb", "en"), lifecycle.STATES[state], strict=True))


# ---------------------------------------------------------------- never a 500


def test_dates_past_any_calendar_are_a_400(vendor):
    contract = active_spekter(vendor)
    before = counts(vendor["tenant"])
    far = post(vendor, f"/contracts/{contract['id']}/notice", {"given_by": "customer", "received_on": "9999-12-31"})
    assert error_of(far)["fields"] == {"received_on": ["Give a date from 1900-01-01 to 2999-12-31."]}
    preview = vendor["api"].get(f"{API}/contracts/{contract['id']}/notice-preview?received_on=0001-01-01")
    assert list(error_of(preview)["fields"]) == ["received_on"]
    created = vendor["api"].post(
        f"{API}/contracts",
        {
            "customer": vendor["kommune"].pk,
            "plan": "spekter-2020",
            "interval": "year",
            "preset": "spekter",
            "on": "9999-01-01",
        },
        format="json",
    )
    assert list(error_of(created)["fields"]) == ["on"]
    assert counts(vendor["tenant"]) == before


def test_signing_a_trial_is_a_400_on_state(vendor, trial_customer):
    trial = start_trial(vendor, trial_customer).json()
    before = counts(vendor["tenant"])
    response = sign(vendor, trial["id"])
    assert error_of(response)["fields"]["state"][0].startswith("A contract that is 'trial' cannot sign; it can:")
    assert counts(vendor["tenant"]) == before


ODD_BODIES = [
    None,
    [],
    "x",
    1,
    {"on": "0001-01-01"},
    {"name": "X" * 500, "title": None, "document_sha256": "a" * 64},
    {"given_by": "nobody"},
    {"effective_from": "2026-08-01", "changes": [], "reason": "x"},
    {
        "effective_from": "2026-08-01",
        "changes": {"schools": "x", "quantities": [], "standards": {}, "addons": "a", "addon_amounts": {"a": "NaN"}},
        "reason": "x",
    },
    {"effective_from": "2026-08-01", "changes": {"concurrent_users": 10**30}, "reason": "x"},
    {"interval": "year", "priced_on": []},
    {"interval": "month", "priced_on": {"quantities": {"active_users": "1e99999"}}},
]
ACTIONS = (
    "send",
    "sign",
    "notice",
    "amendments",
    "onboarding/feide_activated",
    "trial/extend",
    "trial/convert",
    "reactivate",
)


def test_no_action_answers_500_whatever_the_body_or_the_state(vendor, trial_customer):
    """Every action on a draft, an active contract and a trial, with odd bodies: 200, 201 or 400."""
    contracts = [
        create_spekter(vendor)["id"],
        active_spekter(vendor)["id"],
        start_trial(vendor, trial_customer).json()["id"],
    ]
    answers = set()
    for pk in contracts:
        for action in ACTIONS:
            for body in ODD_BODIES:
                response = vendor["api"].post(f"{API}/contracts/{pk}/{action}", body, format="json")
                assert response.status_code in (200, 201, 400), (pk, action, body, response.content)
                answers.add(response.status_code)
                if response.status_code == 400:
                    error_of(response)
    assert answers == {200, 400}  # e.g. send on the draft with an empty body; none of the odd bodies is accepted
