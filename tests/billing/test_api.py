"""The billing API through HTTP with an API key: the acceptance cases (billing.md) visible through the API,
every action, list filters, files, and bad input that is a 400 per field with nothing written.

Requests are made outside any tenant context (the key activates its tenant, as in production); the
database is read afterwards inside ``tenant_context``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import services
from billing.document import kid_mod10
from billing.models import BillingRun, Invoice, InvoiceFile, InvoiceLine, Payment, TimeEntry
from catalog import services as catalog_services
from tenants.audit import Actor
from tenants.models import ApiKeyScope, AuditEvent
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, error_of, make_key
from tests.billing.test_services import piscator_contract, spekter_contract
from tests.contracts.conftest import plan_for
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
d = dt.date
ACTOR = Actor.system("test")


# ---------------------------------------------------------------- fixtures and helpers


TODAY = d(2026, 3, 25)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """'Today' for the defaults and the overdue flag and filter."""
    monkeypatch.setattr("billing.api.business_today", lambda: TODAY)


@pytest.fixture
def vendor(tenant_a):
    """Tenant A with the Spekter acceptance contract (received 2026-03-15, DPA 2026-03-20), and keys."""
    with tenant_context(tenant_a):
        contract = spekter_contract(plan_for("spekter"))
        customer = contract.customer
    _key, raw = make_key(tenant_a)
    _ro, ro_raw = make_key(tenant_a, ApiKeyScope.READ, name="read")
    return {
        "tenant": tenant_a,
        "contract": contract,
        "customer": customer,
        "api": client_for(raw),
        "ro": client_for(ro_raw),
    }


def post(v, path: str, body: dict | None = None, client: str = "api", **headers):
    return v[client].post(f"{API}{path}", body or {}, format="json", headers=headers or None)


def get(v, path: str, client: str = "api", **params):
    return v[client].get(f"{API}{path}", params)


def run_spekter(v) -> dict:
    """The billing run on 2026-03-20 through the API; the invoice it issued (detail)."""
    response = post(v, "/billing-runs", {"as_of": "2026-03-20"})
    assert response.status_code == 202, response.json()
    invoices = get(v, "/invoices", status="issued").json()["results"]
    assert len(invoices) == 1
    return get(v, f"/invoices/{invoices[0]['id']}").json()


def counts(tenant) -> dict:
    """Everything a refused request must leave as it was."""
    with tenant_context(tenant):
        return {
            model.__name__: model.objects.count()
            for model in (Invoice, InvoiceLine, Payment, TimeEntry, InvoiceFile, BillingRun, AuditEvent)
        }


def invoice_row(tenant, pk) -> dict:
    with tenant_context(tenant):
        return Invoice.objects.filter(pk=pk).values().get()


# ---------------------------------------------------------------- the billing run: preview, run, the Spekter invoice


def test_preview_shows_the_spekter_invoice_and_writes_nothing(vendor):
    before = counts(vendor["tenant"])
    response = post(vendor, "/billing-runs/preview", {"as_of": "2026-03-20"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["as_of"], body["contracts"], body["invoices"]) == ("2026-03-20", 1, 1)
    assert (body["net"], body["vat"], body["total"]) == ("26292.00", "6573.00", "32865.00")
    assert body["problems"] == []
    (proposal,) = body["proposals"]
    assert (proposal["contract"], proposal["contract_reference"], proposal["customer_name"]) == (
        vendor["contract"].pk,
        vendor["contract"].reference,
        "Stavanger kommune",
    )
    assert (proposal["period_start"], proposal["period_end"], proposal["issue_date"]) == (
        "2026-03-15",
        "2027-03-14",
        "2026-03-20",
    )
    assert (proposal["net"], proposal["vat"], proposal["total"]) == ("26292.00", "6573.00", "32865.00")
    assert [line["net"] for line in proposal["lines"]] == ["2892.00", "4875.00", "18525.00"]
    assert all(line["explanation"]["nb"] and line["explanation"]["en"] for line in proposal["lines"])
    assert "87" in proposal["lines"][0]["explanation"]["en"]
    assert counts(vendor["tenant"]) == before
    # Before the DPA date nothing is due.
    early = post(vendor, "/billing-runs/preview", {"as_of": "2026-03-19"}).json()
    assert (early["invoices"], early["proposals"], early["total"]) == (0, [], "0.00")


def test_the_run_issues_the_spekter_invoice_as_the_acceptance_case_says(vendor):
    response = post(vendor, "/billing-runs", {"as_of": "2026-03-20"})
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["as_of"], body["state"]) == ("2026-03-20", "SUCCESS")
    assert body["task_id"]
    assert body["result"] == {"alpha": {"contracts": 1, "invoices": 1}}
    assert [(r["as_of"], r["status"], r["invoices_issued"]) for r in body["runs"]] == [("2026-03-20", "done", 1)]
    invoice = get(vendor, f"/invoices/{get(vendor, '/invoices').json()['results'][0]['id']}").json()
    assert (invoice["kind"], invoice["status"], invoice["number"], invoice["series"]) == (
        "invoice",
        "issued",
        1,
        "invoice",
    )
    assert (invoice["period_start"], invoice["period_end"]) == ("2026-03-15", "2027-03-14")
    assert (invoice["issue_date"], invoice["due_date"]) == ("2026-03-20", "2026-04-19")
    assert (invoice["net"], invoice["vat"], invoice["total"]) == ("26292.00", "6573.00", "32865.00")
    assert (invoice["paid_amount"], invoice["credited_amount"], invoice["outstanding"]) == ("0.00", "0.00", "32865.00")
    assert (invoice["kid"], invoice["currency"], invoice["overdue"]) == (kid_mod10("00000001"), "NOK", False)
    assert (invoice["customer_name"], invoice["contract_reference"]) == (
        "Stavanger kommune",
        vendor["contract"].reference,
    )
    assert [line["net"] for line in invoice["lines"]] == ["2892.00", "4875.00", "18525.00"]
    assert [(line["vat_category"], line["vat_rate"], line["position"]) for line in invoice["lines"]] == [
        ("S", "25.00", 1),
        ("S", "25.00", 2),
        ("S", "25.00", 3),
    ]
    assert all(line["explanation"]["nb"] and line["explanation"]["en"] for line in invoice["lines"])
    assert (invoice["payments"], invoice["credit_notes"], invoice["deliveries"]) == ([], [], [])
    docs = invoice["documents"]
    assert docs["pdf_nb"].endswith(f"/api/v1/invoices/{invoice['id']}/pdf?lang=nb")
    assert docs["pdf_en"].endswith(f"/api/v1/invoices/{invoice['id']}/pdf?lang=en")
    assert docs["ehf"].endswith(f"/api/v1/invoices/{invoice['id']}/ehf")
    runs = get(vendor, "/billing-runs").json()["results"]
    assert [(r["as_of"], r["status"], r["contracts_seen"], r["invoices_issued"]) for r in runs] == [
        ("2026-03-20", "done", 1, 1)
    ]
    # A rerun of the date issues nothing twice.
    again = post(vendor, "/billing-runs", {"as_of": "2026-03-20"}).json()
    assert again["result"] == {"alpha": {"contracts": 1, "invoices": 0}}
    assert get(vendor, "/invoices").json()["count"] == 1


def test_piscator_hours_are_billed_by_the_run(tenant_a):
    """3 hours consulting and 2 hours' travel at 1 800/h, travel at 50 %: 5 400 + 1 800 = 7 200.00 net."""
    with tenant_context(tenant_a):
        contract = piscator_contract(plan_for("piscator"))  # starts 2026-02-16, quarterly in advance
        service = catalog_services.hourly_service_save(
            actor=ACTOR,
            data={"code": "konsulent", "name_nb": "Konsulent", "name_en": "Consulting", "hourly_rate": "1800.00"},
        )
    _key, raw = make_key(tenant_a)
    v = {"api": client_for(raw)}
    assert post(v, "/billing-runs", {"as_of": "2026-02-16"}).status_code == 202  # the first quarter
    response = post(
        v,
        "/time-entries",
        {
            "contract": contract.pk,
            "service": service.pk,
            "worked_on": "2026-03-02",
            "description": "Oppsett av mannskapslister",
            "hours": "3",
            "travel_hours": "2",
        },
    )
    assert response.status_code == 201, response.json()
    entry = response.json()
    assert (entry["hours"], entry["travel_hours"], entry["expenses"], entry["billed"]) == (
        "3.00",
        "2.00",
        "0.00",
        False,
    )
    preview = post(v, "/billing-runs/preview", {"as_of": "2026-05-16"}).json()
    hour_lines = [line for p in preview["proposals"] for line in p["lines"] if line["unit_code"] == "HUR"]
    assert [line["net"] for line in hour_lines] == ["5400.00", "1800.00"]
    assert post(v, "/billing-runs", {"as_of": "2026-05-16"}).status_code == 202
    lines = get(v, "/invoice-lines", page_size=100).json()["results"]
    hours = [line for line in lines if line["unit_code"] == "HUR"]
    assert [(line["quantity"], line["unit_price"], line["net"]) for line in hours] == [
        ("3.0000", "1800.00", "5400.00"),
        ("2.0000", "900.00", "1800.00"),
    ]
    assert sum(Decimal(line["net"]) for line in hours) == Decimal("7200.00")
    assert "50" in hours[1]["explanation"]["en"]
    billed = get(v, f"/time-entries/{entry['id']}").json()
    assert billed["billed"] is True and billed["invoice"] == hours[0]["invoice"]
    assert get(v, "/time-entries", billed="false").json()["count"] == 0
    assert get(v, "/time-entries", billed="true").json()["count"] == 1
    # A billed entry is not deleted.
    refused = v["api"].delete(f"{API}/time-entries/{entry['id']}")
    assert refused.status_code == 400 and "invoice" in error_of(refused)["fields"]


# ---------------------------------------------------------------- credit notes


def test_credit_in_full_numbered_in_sequence_and_the_invoice_unchanged(vendor):
    invoice = run_spekter(vendor)
    response = post(vendor, f"/invoices/{invoice['id']}/credit", {"reason": "Feil skole", "on": "2026-04-02"})
    assert response.status_code == 201, response.json()
    note = response.json()
    assert (
        note["kind"],
        note["status"],
        note["number"],
        note["credited_invoice"],
        note["credited_invoice_number"],
    ) == (
        "credit_note",
        "issued",
        2,
        invoice["id"],
        1,
    )
    assert (note["net"], note["vat"], note["total"], note["reason"], note["issue_date"]) == (
        "26292.00",
        "6573.00",
        "32865.00",
        "Feil skole",
        "2026-04-02",
    )
    assert [line["net"] for line in note["lines"]] == ["2892.00", "4875.00", "18525.00"]
    after = get(vendor, f"/invoices/{invoice['id']}").json()
    assert (after["status"], after["credited_amount"], after["outstanding"]) == ("credited", "32865.00", "0.00")
    unchanged = ("number", "net", "vat", "total", "kid", "issue_date", "due_date", "lines")
    assert {k: after[k] for k in unchanged} == {k: invoice[k] for k in unchanged}
    assert [(c["id"], c["number"], c["total"]) for c in after["credit_notes"]] == [(note["id"], 2, "32865.00")]
    # Listed both ways.
    assert [n["id"] for n in get(vendor, "/credit-notes").json()["results"]] == [note["id"]]
    assert [n["id"] for n in get(vendor, "/invoices", kind="credit_note").json()["results"]] == [note["id"]]
    assert [n["id"] for n in get(vendor, "/invoices", kind="invoice").json()["results"]] == [invoice["id"]]
    assert get(vendor, f"/credit-notes/{note['id']}").json()["number"] == 2
    assert get(vendor, f"/credit-notes/{invoice['id']}").status_code == 404  # an invoice is not a credit note


def test_partial_credit_then_crediting_more_than_remains_is_refused(vendor):
    invoice = run_spekter(vendor)
    response = post(vendor, f"/invoices/{invoice['id']}/credit", {"reason": "Rabatt", "net_amount": "1000.00"})
    assert response.status_code == 201, response.json()
    assert (response.json()["net"], response.json()["vat"], response.json()["total"]) == (
        "1000.00",
        "250.00",
        "1250.00",
    )
    before = counts(vendor["tenant"])
    row = invoice_row(vendor["tenant"], invoice["id"])
    for body, field in (
        ({"reason": "For mye", "net_amount": "25300.00"}, "net_amount"),  # 31 625 incl. VAT > 31 615 left
        ({"reason": "x", "net_amount": "-5"}, "net_amount"),
        ({"reason": "x", "net_amount": "abc"}, "net_amount"),
        ({"reason": "x", "net_amount": "1.234"}, "net_amount"),
        ({"reason": "x", "net_amount": "0"}, "net_amount"),
        ({"reason": "x"}, "net_amount"),  # partly credited: give the amount
        ({"reason": " "}, "reason"),
        ({"net_amount": "10.00"}, "reason"),
        ({"reason": "x", "colour": "red"}, "colour"),
        ({"reason": "x", "on": "2026-13-01"}, "on"),
    ):
        refused = post(vendor, f"/invoices/{invoice['id']}/credit", body)
        assert refused.status_code == 400, (body, refused.json())
        assert field in error_of(refused)["fields"], (body, refused.json())
    assert (
        "31615.00"
        in error_of(post(vendor, f"/invoices/{invoice['id']}/credit", {"reason": "y", "net_amount": "25300"}))[
            "message"
        ]
    )
    assert counts(vendor["tenant"]) == before
    assert invoice_row(vendor["tenant"], invoice["id"]) == row


# ---------------------------------------------------------------- payments


def test_payments_move_the_status_and_are_listed(vendor):
    invoice = run_spekter(vendor)
    response = post(
        vendor,
        f"/invoices/{invoice['id']}/payments",
        {"amount": "10000.00", "paid_on": "2026-04-01", "reference": "B1"},
    )
    assert response.status_code == 201, response.json()
    payment = response.json()
    assert (
        payment["invoice"],
        payment["invoice_number"],
        payment["amount"],
        payment["paid_on"],
        payment["reference"],
    ) == (
        invoice["id"],
        1,
        "10000.00",
        "2026-04-01",
        "B1",
    )
    assert payment["recorded_by"].startswith("API key Integration")
    after = get(vendor, f"/invoices/{invoice['id']}").json()
    assert (after["status"], after["paid_amount"], after["outstanding"]) == ("partly_paid", "10000.00", "22865.00")
    assert [p["amount"] for p in after["payments"]] == ["10000.00"]
    assert (
        post(vendor, f"/invoices/{invoice['id']}/payments", {"amount": 22865, "paid_on": "2026-04-10"}).status_code
        == 201
    )
    assert get(vendor, f"/invoices/{invoice['id']}").json()["status"] == "paid"
    assert [p["amount"] for p in get(vendor, "/payments").json()["results"]] == ["22865.00", "10000.00"]
    assert [
        p["amount"] for p in get(vendor, "/payments", invoice=invoice["id"], paid_to="2026-04-05").json()["results"]
    ] == ["10000.00"]
    assert [p["amount"] for p in get(vendor, "/payments", paid_from="2026-04-05").json()["results"]] == ["22865.00"]
    assert get(vendor, f"/payments/{payment['id']}").json()["amount"] == "10000.00"


def test_bad_payments_are_400_and_write_nothing(vendor):
    invoice = run_spekter(vendor)
    before = counts(vendor["tenant"])
    for body, field in (
        ({"amount": "40000.00", "paid_on": "2026-04-01"}, "amount"),  # more than outstanding
        ({"amount": "0", "paid_on": "2026-04-01"}, "amount"),
        ({"amount": "ten", "paid_on": "2026-04-01"}, "amount"),
        ({"amount": "10.001", "paid_on": "2026-04-01"}, "amount"),
        ({"amount": "100.00", "paid_on": "yesterday"}, "paid_on"),
        ({"amount": "100.00"}, "paid_on"),
        ({"amount": "100.00", "paid_on": "2026-04-01", "currency": "EUR"}, "currency"),
        ({"amount": ["1"], "paid_on": "2026-04-01"}, "amount"),
    ):
        refused = post(vendor, f"/invoices/{invoice['id']}/payments", body)
        assert refused.status_code == 400, (body, refused.json())
        assert field in error_of(refused)["fields"], (body, refused.json())
    assert counts(vendor["tenant"]) == before


def test_paying_a_credited_invoice_is_refused_and_writes_nothing(vendor):
    invoice = run_spekter(vendor)
    note = post(vendor, f"/invoices/{invoice['id']}/credit", {"reason": "Feil"}).json()
    before = counts(vendor["tenant"])
    refused = post(vendor, f"/invoices/{invoice['id']}/payments", {"amount": "100.00", "paid_on": "2026-04-03"})
    assert refused.status_code == 400
    assert list(error_of(refused)["fields"]) == ["invoice"]
    on_note = post(vendor, f"/invoices/{note['id']}/payments", {"amount": "100.00", "paid_on": "2026-04-03"})
    assert on_note.status_code == 400 and "invoice" in error_of(on_note)["fields"]
    assert post(vendor, f"/invoices/{note['id']}/credit", {"reason": "x"}).status_code == 400  # a credit note
    assert counts(vendor["tenant"]) == before
    assert invoice_row(vendor["tenant"], invoice["id"])["paid_amount"] == Decimal("0")


# ---------------------------------------------------------------- manual drafts, issue, delete


def test_manual_draft_is_issued_with_the_next_number_and_a_draft_may_be_deleted(vendor):
    run_spekter(vendor)
    customer = vendor["customer"]
    body = {
        "customer": customer.pk,
        "contract": vendor["contract"].pk,
        "buyer_reference": "Ola Nordmann",
        "reason": "Kurs",
        "lines": [
            {"description": "Kurs i Spekter", "quantity": "2", "unit_price": "4500.00"},
            {"description": "Materiell", "unit_price": "199.99", "explanation": "Hefter", "explanation_en": "Booklets"},
        ],
    }
    response = post(vendor, "/invoices", body)
    assert response.status_code == 201, response.json()
    draft = response.json()
    assert (draft["status"], draft["number"], draft["kid"], draft["supplementary"], draft["buyer_reference"]) == (
        "draft",
        None,
        "",
        True,
        "Ola Nordmann",
    )
    assert [(line["quantity"], line["unit_price"], line["net"]) for line in draft["lines"]] == [
        ("2.0000", "4500.00", "9000.00"),
        ("1.0000", "199.99", "199.99"),
    ]
    assert draft["lines"][0]["explanation"] == {"nb": "2 × 4500.00 = 9000.00", "en": "2 × 4500.00 = 9000.00"}
    assert draft["lines"][1]["explanation"] == {"nb": "Hefter", "en": "Booklets"}
    assert get(vendor, "/invoices", status="draft").json()["count"] == 1
    issued = post(vendor, f"/invoices/{draft['id']}/issue", {"on": "2026-04-01"})
    assert issued.status_code == 200, issued.json()
    issued = issued.json()
    assert (issued["status"], issued["number"], issued["issue_date"], issued["due_date"]) == (
        "issued",
        2,
        "2026-04-01",
        "2026-05-01",
    )
    assert (issued["net"], issued["vat"], issued["total"]) == ("9199.99", "2300.00", "11499.99")
    again = post(vendor, f"/invoices/{draft['id']}/issue", {})
    assert again.status_code == 400 and "status" in error_of(again)["fields"]
    refused = vendor["api"].delete(f"{API}/invoices/{draft['id']}")
    assert refused.status_code == 400 and "status" in error_of(refused)["fields"]
    assert invoice_row(vendor["tenant"], draft["id"])["number"] == 2
    other = post(vendor, "/invoices", {"customer": customer.pk, "lines": [{"description": "X", "unit_price": "1"}]})
    assert vendor["api"].delete(f"{API}/invoices/{other.json()['id']}").status_code == 204
    with tenant_context(vendor["tenant"]):
        assert not Invoice.objects.filter(pk=other.json()["id"]).exists()


def test_issuing_an_invoice_without_lines_is_refused_and_takes_no_number(vendor):
    with tenant_context(vendor["tenant"]):
        draft = Invoice.objects.create(customer=vendor["customer"], supplementary=True)
    before = counts(vendor["tenant"])
    refused = post(vendor, f"/invoices/{draft.pk}/issue", {"on": "2026-03-20"})
    assert refused.status_code == 400
    assert list(error_of(refused)["fields"]) == ["lines"]
    assert counts(vendor["tenant"]) == before
    row = invoice_row(vendor["tenant"], draft.pk)
    assert (row["status"], row["number"]) == ("draft", None)
    # The number is not lost: the run's invoice is number 1.
    assert run_spekter(vendor)["number"] == 1


def test_bad_manual_drafts_are_400_per_field_and_write_nothing(vendor, tenant_b):
    customer = vendor["customer"]
    with tenant_context(tenant_b):
        foreign = CustomerFactory()
    line = {"description": "Kurs", "unit_price": "100.00"}
    before = counts(vendor["tenant"])
    for body, field in (
        ({"customer": customer.pk, "lines": []}, "lines"),
        ({"customer": customer.pk}, "lines"),
        ({"lines": [line]}, "customer"),
        ({"customer": foreign.pk, "lines": [line]}, "customer"),
        ({"customer": "first", "lines": [line]}, "customer"),
        ({"customer": customer.pk, "lines": [{"description": "Kurs", "unit_price": "abc"}]}, "lines[0].unit_price"),
        ({"customer": customer.pk, "lines": [{"description": "Kurs"}]}, "lines[0].unit_price"),
        ({"customer": customer.pk, "lines": [line, {"unit_price": "1"}]}, "lines[1].description"),
        ({"customer": customer.pk, "lines": [{**line, "quantity": "0"}]}, "lines[0].quantity"),
        ({"customer": customer.pk, "lines": [{**line, "vat": "0"}]}, "lines[0].vat"),
        ({"customer": customer.pk, "lines": [line], "number": 7}, "number"),
        ({"customer": customer.pk, "lines": "Kurs"}, "lines"),
        ({"customer": None, "lines": [line]}, "customer"),
    ):
        refused = post(vendor, "/invoices", body)
        assert refused.status_code == 400, (body, refused.json())
        assert field in error_of(refused)["fields"], (body, refused.json())
    with tenant_context(vendor["tenant"]):
        other = CustomerFactory()
    refused = post(vendor, "/invoices", {"customer": other.pk, "contract": vendor["contract"].pk, "lines": [line]})
    assert refused.status_code == 400 and "contract" in error_of(refused)["fields"]
    foreign_error = error_of(post(vendor, "/invoices", {"customer": foreign.pk, "lines": [line]}))
    assert foreign_error["fields"]["customer"] == [f"Customer {foreign.pk} does not exist."]
    assert counts(vendor["tenant"]) == before


# ---------------------------------------------------------------- files


def test_pdf_and_ehf_are_stored_once_with_their_sha256(vendor):
    invoice = run_spekter(vendor)
    response = get(vendor, f"/invoices/{invoice['id']}/pdf", lang="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="invoice-1.pdf"'
    assert response.content.startswith(b"%PDF")
    assert response["X-Content-SHA256"] == hashlib.sha256(response.content).hexdigest()
    with tenant_context(vendor["tenant"]):
        stored = InvoiceFile.objects.get(invoice_id=invoice["id"], format="pdf", language="en")
    assert stored.sha256 == response["X-Content-SHA256"]
    assert get(vendor, f"/invoices/{invoice['id']}/pdf", lang="en").content == response.content  # the same file
    nb = get(vendor, f"/invoices/{invoice['id']}/pdf")
    assert nb["Content-Disposition"] == 'attachment; filename="faktura-1.pdf"'
    ehf = vendor["api"].get(f"{API}/invoices/{invoice['id']}/ehf", HTTP_ACCEPT="application/xml")
    assert ehf.status_code == 200
    assert ehf["Content-Type"] == "application/xml"
    assert b"urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0" in ehf.content
    assert ehf["X-Content-SHA256"] == hashlib.sha256(ehf.content).hexdigest()
    with tenant_context(vendor["tenant"]):
        assert InvoiceFile.objects.filter(invoice_id=invoice["id"]).count() == 3  # PDF nb and en, EHF
    bad = get(vendor, f"/invoices/{invoice['id']}/pdf", lang="de")
    assert bad.status_code == 400 and "lang" in error_of(bad)["fields"]


def test_an_ehf_for_a_customer_without_org_number_is_400_with_the_reason(vendor):
    with tenant_context(vendor["tenant"]):
        customer = CustomerFactory(org_number="", name="Privat kunde")
        draft = services.invoice_manual_draft_create(
            actor=ACTOR, customer=customer, lines=[{"description": "Kurs", "unit_price": "100.00"}]
        )
        services.invoice_issue(actor=ACTOR, invoice=draft, on=d(2026, 3, 20))
    before = counts(vendor["tenant"])
    refused = get(vendor, f"/invoices/{draft.pk}/ehf")
    assert refused.status_code == 400
    error = error_of(refused)
    assert list(error["fields"]) == ["format"]
    assert "org" in error["fields"]["format"][0].lower()
    assert counts(vendor["tenant"]) == before
    assert get(vendor, f"/invoices/{draft.pk}/pdf").status_code == 200  # the PDF is fine


# ---------------------------------------------------------------- filters


def test_invoice_list_filters(vendor):
    invoice = run_spekter(vendor)
    customer = vendor["customer"]
    with tenant_context(vendor["tenant"]):
        other = CustomerFactory(name="Rederi AS")
        draft = services.invoice_manual_draft_create(
            actor=ACTOR, customer=other, lines=[{"description": "Kurs", "unit_price": "100.00"}]
        )
        late = services.invoice_manual_draft_create(
            actor=ACTOR, customer=other, lines=[{"description": "Kurs", "unit_price": "50.00"}]
        )
        services.invoice_issue(actor=ACTOR, invoice=late, on=d(2025, 1, 2))

    def ids(**params):
        response = get(vendor, "/invoices", **params)
        assert response.status_code == 200, response.json()
        return sorted(row["id"] for row in response.json()["results"])

    assert ids() == sorted([invoice["id"], draft.pk, late.pk])
    assert ids(status="issued") == sorted([invoice["id"], late.pk])
    assert ids(status="draft") == [draft.pk]
    assert ids(customer=customer.pk) == [invoice["id"]]
    assert ids(contract=vendor["contract"].pk) == [invoice["id"]]
    assert ids(number=1) == [invoice["id"]]
    assert ids(period_from="2027-01-01", period_to="2027-02-01") == [invoice["id"]]
    assert ids(period_from="2027-03-15") == []
    assert ids(issued_from="2026-03-20", issued_to="2026-03-20") == [invoice["id"]]
    assert ids(issued_to="2025-12-31") == [late.pk]
    assert ids(overdue="true") == [late.pk]  # due 2025-02-01, unpaid
    assert ids(overdue="false") == sorted([invoice["id"], draft.pk])
    assert get(vendor, "/invoices", overdue="true").json()["results"][0]["overdue"] is True
    for param, value in (("status", "lost"), ("kind", "bill"), ("issued_from", "soon"), ("customer", "x")):
        refused = get(vendor, "/invoices", **{param: value})
        assert refused.status_code == 400 and param in error_of(refused)["fields"], param
    assert [row["invoice"] for row in get(vendor, "/invoice-lines", invoice=invoice["id"]).json()["results"]] == [
        invoice["id"]
    ] * 3


# ---------------------------------------------------------------- time entries


@pytest.fixture
def hours_vendor(tenant_a):
    with tenant_context(tenant_a):
        contract = piscator_contract(plan_for("piscator"))
        service = catalog_services.hourly_service_save(
            actor=ACTOR,
            data={"code": "konsulent", "name_nb": "Konsulent", "name_en": "Consulting", "hourly_rate": "1800.00"},
        )
    _key, raw = make_key(tenant_a)
    _ro, ro_raw = make_key(tenant_a, ApiKeyScope.READ, name="read")
    return {
        "tenant": tenant_a,
        "contract": contract,
        "service": service,
        "api": client_for(raw),
        "ro": client_for(ro_raw),
    }


def entry_body(v, **extra) -> dict:
    return {
        "contract": v["contract"].pk,
        "service": v["service"].pk,
        "worked_on": "2026-03-02",
        "description": "Support",
        "hours": "1.5",
        **extra,
    }


def test_time_entries_are_created_listed_and_deleted_while_unbilled(hours_vendor):
    v = hours_vendor
    response = post(v, "/time-entries", entry_body(v, expenses="450.00", expenses_description="Reise, statens satser"))
    assert response.status_code == 201, response.json()
    entry = response.json()
    assert (entry["contract"], entry["contract_reference"], entry["service_code"], entry["worked_on"]) == (
        v["contract"].pk,
        v["contract"].reference,
        "konsulent",
        "2026-03-02",
    )
    assert (entry["hours"], entry["travel_hours"], entry["expenses"], entry["billed"], entry["invoice"]) == (
        "1.50",
        "0.00",
        "450.00",
        False,
        None,
    )
    assert [e["id"] for e in get(v, "/time-entries", contract=v["contract"].pk).json()["results"]] == [entry["id"]]
    assert [e["id"] for e in get(v, "/time-entries", billed="false").json()["results"]] == [entry["id"]]
    assert get(v, "/time-entries", contract=v["contract"].pk + 1000).json()["count"] == 0
    assert v["api"].delete(f"{API}/time-entries/{entry['id']}").status_code == 204
    with tenant_context(v["tenant"]):
        assert TimeEntry.objects.count() == 0
        assert AuditEvent.objects.filter(action="time_entry.delete").count() == 1


def test_bad_time_entries_are_400_per_field_and_write_nothing(hours_vendor, tenant_b):
    v = hours_vendor
    with tenant_context(tenant_b):
        foreign_service = catalog_services.hourly_service_save(
            actor=ACTOR, data={"code": "x", "name_nb": "X", "name_en": "X", "hourly_rate": "1000.00"}
        )
    before = counts(v["tenant"])
    for extra, field in (
        ({"hours": "many"}, "hours"),
        ({"hours": "-1"}, "hours"),
        ({"hours": "0"}, "hours"),  # nothing to bill
        ({"hours": "1001"}, "hours"),
        ({"worked_on": "02.03.2026"}, "worked_on"),
        ({"description": ""}, "description"),
        ({"expenses": "100.00"}, "expenses_description"),
        ({"service": foreign_service.pk}, "service"),
        ({"service": "konsulent"}, "service"),
        ({"contract": 999999}, "contract"),
        ({"rate": "2000"}, "rate"),
    ):
        refused = post(v, "/time-entries", entry_body(v, **extra))
        assert refused.status_code == 400, (extra, refused.json())
        assert field in error_of(refused)["fields"], (extra, refused.json())
    assert error_of(post(v, "/time-entries", entry_body(v, service=foreign_service.pk)))["fields"]["service"] == [
        f"Hourly service {foreign_service.pk} does not exist."
    ]
    assert counts(v["tenant"]) == before


# ---------------------------------------------------------------- delivery


def test_send_delivers_the_issued_invoice_and_shows_the_delivery(vendor):
    pytest.importorskip("billing.delivery")
    invoice = run_spekter(vendor)
    response = post(vendor, f"/invoices/{invoice['id']}/send")
    assert response.status_code == 201, response.json()
    delivery = response.json()
    assert (delivery["invoice"], delivery["channel"], delivery["attempts"]) == (invoice["id"], "email", 1)
    assert delivery["status"] == "sent" and delivery["last_error"] == ""
    after = get(vendor, f"/invoices/{invoice['id']}").json()
    assert after["status"] == "sent" and after["sent_at"]
    assert [(row["id"], row["status"]) for row in after["deliveries"]] == [(delivery["id"], "sent")]
    with tenant_context(vendor["tenant"]):
        draft = services.invoice_manual_draft_create(
            actor=ACTOR, customer=vendor["customer"], lines=[{"description": "Kurs", "unit_price": "1"}]
        )
    refused = post(vendor, f"/invoices/{draft.pk}/send")
    assert refused.status_code == 400


# ---------------------------------------------------------------- read-only keys


def test_a_read_only_key_reads_but_cannot_post_or_delete(vendor):
    invoice = run_spekter(vendor)
    before = counts(vendor["tenant"])
    for path, body in (
        ("/invoices", {"customer": vendor["customer"].pk, "lines": [{"description": "X", "unit_price": "1"}]}),
        (f"/invoices/{invoice['id']}/issue", {}),
        (f"/invoices/{invoice['id']}/credit", {"reason": "x"}),
        (f"/invoices/{invoice['id']}/payments", {"amount": "1.00", "paid_on": "2026-04-01"}),
        (f"/invoices/{invoice['id']}/send", {}),
        ("/time-entries", {}),
        ("/billing-runs", {"as_of": "2026-03-21"}),
        ("/billing-runs/preview", {"as_of": "2026-03-21"}),
    ):
        refused = post(vendor, path, body, client="ro")
        assert refused.status_code == 403, path
        assert error_of(refused)["code"] == "permission_denied"
    assert vendor["ro"].delete(f"{API}/invoices/{invoice['id']}").status_code == 403
    assert counts(vendor["tenant"]) == before
    for path in ("/invoices", f"/invoices/{invoice['id']}", "/credit-notes", "/invoice-lines", "/payments"):
        assert get(vendor, path, client="ro").status_code == 200, path
    assert get(vendor, "/time-entries", client="ro").status_code == 200
    assert get(vendor, "/billing-runs", client="ro").status_code == 200
    assert get(vendor, f"/invoices/{invoice['id']}/pdf", client="ro").status_code == 200


# ---------------------------------------------------------------- bounded queries


def _make_invoices(tenant, n: int, contract, service) -> None:
    """``n`` issued invoices, each with 2 lines, a payment, a partial credit note and a time entry."""
    with tenant_context(tenant):
        for i in range(n):
            draft = services.invoice_manual_draft_create(
                actor=ACTOR,
                customer=CustomerFactory(),
                lines=[{"description": "A", "unit_price": "100.00"}, {"description": "B", "unit_price": "50.00"}],
            )
            invoice = services.invoice_issue(actor=ACTOR, invoice=draft, on=d(2026, 3, 1))
            services.payment_register(actor=ACTOR, invoice=invoice, amount="10.00", paid_on=d(2026, 3, 2))
            services.credit_note_create(actor=ACTOR, invoice=invoice, on=d(2026, 3, 3), reason="R", net_amount="10")
            services.time_entry_create(
                actor=ACTOR, contract=contract, service=service, worked_on=d(2026, 3, 1), description="x", hours=i + 1
            )
        BillingRun.objects.create(as_of=d(2026, 3, n))


LIST_PATHS = ("/invoices", "/credit-notes", "/invoice-lines", "/payments", "/time-entries", "/billing-runs")


def test_list_endpoints_use_a_bounded_number_of_queries(hours_vendor):
    v = hours_vendor
    measured: dict[str, list[int]] = {}
    for size, new in ((2, 2), (8, 6)):
        _make_invoices(v["tenant"], new, v["contract"], v["service"])
        with tenant_context(v["tenant"]):
            first = Invoice.objects.filter(kind="invoice").order_by("pk").first().pk
        v["api"].get(f"{API}/tenant")  # the key's last use is recorded once in a while: not in the counts
        for path in (*LIST_PATHS, f"/invoices/{first}"):
            with CaptureQueriesContext(connection) as queries:
                response = v["api"].get(f"{API}{path}", {"page_size": 100} if path in LIST_PATHS else {})
            assert response.status_code == 200, (path, response.json())
            if path == "/invoices":
                assert response.json()["count"] == 2 * size  # the invoices and their credit notes
            measured.setdefault(path.replace(str(first), "{id}"), []).append(len(queries))
    for path, (small, large) in measured.items():
        assert small == large, (path, measured)
        assert large <= 12, (path, measured)
