"""The collections API through HTTP with an API key (issue 11, item 6 and the bank-file upload of item 1): the
overview and age buckets, the overdue list, a customer's ledger, reminders and their PDFs, holds, interest charges,
bank files (twice → booked once; malformed, empty, too large → refused, nothing booked), the unmatched queue,
payment-default cases and customers at risk, collection policies; read-only keys read but never write; bad input
is a 400 that says what to fix.

The receivables are those the jobs make (``tests.receivables.test_pages.build_book``) on ``ON``, 15.09.2025.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billing import services as billing_services
from billing.models import BankImport, IncomingPayment, Invoice, Payment
from fakes.bank import Credit, camt054
from receivables.interest_billing import interest_run
from receivables.models import CollectionPolicy, DefaultCase, DefaultStatus, InterestCharge, InvoiceHold, Reminder
from tenants.audit import Actor
from tenants.models import ApiKeyScope, AuditEvent
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, error_of, make_key
from tests.receivables.test_pages import ON, at, build_book

pytestmark = pytest.mark.django_db
d = dt.date
D = Decimal
ACTOR = Actor.system("test")
DATA = Path(__file__).resolve().parents[1] / "billing" / "data"


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """'Today' (Norway) for the API's defaults and its writes."""
    monkeypatch.setattr("receivables.api.business_today", lambda: ON)


@pytest.fixture
def book(tenant_a):
    with at(ON):
        book = build_book(tenant_a)
    _key, raw = make_key(tenant_a)
    _ro, ro_raw = make_key(tenant_a, ApiKeyScope.READ, name="read")
    return {**book, "api": client_for(raw), "ro": client_for(ro_raw), "nb": client_for(raw, language="nb")}


def get(book, path: str, client: str = "api", **params):
    return book[client].get(f"{API}{path}", params)


def post(book, path: str, body=None, client: str = "api", **headers):
    return book[client].post(f"{API}{path}", body or {}, format="json", headers=headers or None)


def fields_of(response) -> dict:
    assert response.status_code == 400, (response.status_code, response.content[:500])
    return error_of(response)["fields"]


def counts(tenant) -> dict:
    """Everything a refused request must leave as it was."""
    with tenant_context(tenant):
        return {
            model.__name__: model.objects.count()
            for model in (
                Invoice,
                Payment,
                BankImport,
                IncomingPayment,
                InvoiceHold,
                Reminder,
                DefaultCase,
                CollectionPolicy,
                AuditEvent,
            )
        }


# ---------------------------------------------------------------- overview and overdue


def test_the_overview_gives_totals_and_age_buckets_as_strings(book):
    response = get(book, "/collections/overview")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["on"] == "2025-09-15" and body["currency"] == "NOK"
    # 50 000 + 2 812,50 + (1 000 paid by the bank file) 2 000 + 3 000 + 4 000 overdue; 5 000 not due.
    assert (body["overdue"], body["not_due"], body["outstanding"]) == ("61812.50", "5000.00", "66812.50")
    buckets = {b["key"]: b for b in body["buckets"]}
    assert list(buckets) == ["0_30", "31_60", "61_90", "90_plus"]
    assert (buckets["31_60"]["count"], buckets["31_60"]["amount"]) == (2, "4812.50")  # Tasta 2 000, Fjord 2 812,50
    assert (buckets["61_90"]["count"], buckets["61_90"]["amount"]) == (2, "53000.00")  # Bømlo 50 000, Tasta 3 000
    assert (buckets["90_plus"]["first_day"], buckets["90_plus"]["last_day"]) == (91, None)
    assert buckets["0_30"]["label"] == {"nb": "1–30 dager", "en": "1–30 days"}
    assert body["overdue_count"] == 5 and body["on_hold_count"] == 1
    assert (body["unmatched_payments"], body["open_default_cases"]) == (1, 2)
    # another day: everything is one day older, nothing is due yet a year before
    early = get(book, "/collections/overview", on="2025-01-01").json()
    assert early["overdue"] == "0.00" and early["overdue_count"] == 0


@pytest.mark.parametrize("on", ["2025-13-01", "15.09.2025", "yesterday", "0000-01-01"])
def test_a_bad_date_is_a_400_on_the_parameter(book, on):
    for path in ("/collections/overview", "/collections/overdue", "/collections/at-risk"):
        assert set(fields_of(get(book, path, on=on))) == {"on"}, path
    assert set(fields_of(get(book, f"/customers/{book['tasta'].pk}/ledger", on=on))) == {"on"}


def test_the_overdue_list_has_days_open_amount_hold_and_last_reminder(book):
    response = get(book, "/collections/overdue")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 5
    rows = body["results"]
    assert [r["due_date"] for r in rows] == sorted(r["due_date"] for r in rows)  # oldest due first
    bomlo = next(r for r in rows if r["invoice"] == book["late"].pk)
    assert (bomlo["days_past_due"], bomlo["bucket"], bomlo["open_amount"], bomlo["total"]) == (
        62,
        "61_90",
        "50000.00",
        "50000.00",
    )
    assert bomlo["customer_name"] == "Bømlo Rederi AS" and bomlo["contract"] == book["bomlo_contract"].pk
    assert bomlo["last_reminder"]["kind"] == "warning" and bomlo["on_hold"] is False
    held = next(r for r in rows if r["invoice"] == book["tasta_invoices"]["61_90"].pk)
    assert held["on_hold"] is True and held["contract"] is None and held["contract_reference"] is None
    # filters
    assert [r["invoice"] for r in get(book, "/collections/overdue", bucket="90_plus").json()["results"]] == [
        book["tasta_invoices"]["90_plus"].pk
    ]
    assert {r["invoice"] for r in get(book, "/collections/overdue", bucket="31_60").json()["results"]} == {
        book["tasta_invoices"]["31_60"].pk,
        book["unpaid"].pk,
    }
    by_customer = get(book, "/collections/overdue", customer=book["fjord"].pk).json()["results"]
    assert [r["invoice"] for r in by_customer] == [book["unpaid"].pk]
    later = get(book, "/collections/overdue", on="2025-09-16", customer=book["fjord"].pk).json()["results"]
    assert later[0]["days_past_due"] == 58
    paged = get(book, "/collections/overdue", page_size=2).json()
    assert paged["count"] == 5 and len(paged["results"]) == 2 and paged["next"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bucket": "30_60"}, "bucket"),
        ({"customer": "abc"}, "customer"),
        ({"customer": "0"}, "customer"),
        ({"page_size": "0"}, "page_size"),
        ({"page": "x"}, "page"),
    ],
)
def test_bad_overdue_parameters_are_a_400(book, params, field):
    assert field in fields_of(get(book, "/collections/overdue", **params))


def test_customers_at_risk(book):
    response = get(book, "/collections/at-risk")
    assert response.status_code == 200, response.json()
    rows = {r["contract"]: r for r in response.json()["results"]}
    bomlo, fjord = rows[book["bomlo_contract"].pk], rows[book["fjord_contract"].pk]
    assert (bomlo["action"], bomlo["case_status"], bomlo["material_breach"]) == ("suspend", "awaiting", True)
    assert bomlo["invoice"] == book["late"].pk and bomlo["days_past_due"] == 62
    assert "waiting for staff" in bomlo["what"]["en"] and bomlo["what"]["nb"]
    assert (fjord["action"], fjord["case_status"]) == ("pause", "paused")
    assert fjord["deletion_due_on"]
    assert "Tasta" not in str(rows)  # the tenant's default rules only remind


# ---------------------------------------------------------------- the ledger


def test_a_customers_ledger_has_every_entry_in_both_languages_and_the_balance(book):
    tasta = book["tasta"]
    response = get(book, f"/customers/{tasta.pk}/ledger")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["customer"], body["customer_name"], body["on"]) == (tasta.pk, "Tasta skole", "2025-09-15")
    # five invoices (15 000.00) less the 1 000.00 paid by the bank file
    assert body["balance"] == "14000.00"
    assert body["outstanding"] == {
        "total": "14000.00",
        "overdue": "9000.00",
        "invoices": 4,
        "overdue_invoices": 3,
        "oldest_due": (ON - dt.timedelta(days=120)).isoformat(),
    }
    kinds = [e["kind"] for e in body["entries"]]
    assert kinds.count("invoice") == 5 and kinds.count("payment") == 1 and "hold" in kinds and "reminder" in kinds
    assert [e["date"] for e in body["entries"]] == sorted(e["date"] for e in body["entries"])
    assert body["entries"][-1]["balance"] == "14000.00"
    payment = next(e for e in body["entries"] if e["kind"] == "payment")
    assert (payment["debit"], payment["credit"]) == ("0.00", "1000.00")
    number = book["tasta_invoices"]["0_30"].number
    assert payment["text"] == {"nb": f"Innbetaling til faktura {number}", "en": f"Payment of invoice {number}"}
    reminder = next(e for e in body["entries"] if e["kind"] == "reminder")
    assert reminder["reminder"] and get(book, f"/reminders/{reminder['reminder']}").status_code == 200
    assert body["truncated"] is False
    short = get(book, f"/customers/{tasta.pk}/ledger", limit=2).json()
    assert len(short["entries"]) == 2 and short["truncated"] is True and short["balance"] == "14000.00"
    assert short["entries"] == body["entries"][-2:]


@pytest.mark.parametrize("limit", ["0", "5001", "many"])
def test_a_bad_ledger_limit_is_a_400(book, limit):
    assert set(fields_of(get(book, f"/customers/{book['tasta'].pk}/ledger", limit=limit))) == {"limit"}


@pytest.mark.parametrize("pk", ["abc", "0", "99999999", "1.5", "99999999999999999999999"])
def test_an_unknown_or_malformed_customer_id_is_a_404(book, pk):
    response = get(book, f"/customers/{pk}/ledger")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


# ---------------------------------------------------------------- reminders


def test_reminders_list_filters_detail_and_pdf(book):
    response = get(book, "/reminders")
    assert response.status_code == 200, response.json()
    rows = response.json()["results"]
    with tenant_context(book["tenant"]):
        assert len(rows) == Reminder.objects.count() > 0
        first = Reminder.objects.filter(invoice=book["late"]).order_by("sent_on", "step").first()
    assert [r["sent_on"] for r in rows] == sorted((r["sent_on"] for r in rows), reverse=True)
    late = get(book, "/reminders", invoice=book["late"].pk).json()["results"]
    assert {r["invoice"] for r in late} == {book["late"].pk} and len(late) >= 2
    assert {r["kind"] for r in late} >= {"reminder", "warning"}
    assert all(
        r["customer"] == book["bomlo"].pk for r in get(book, "/reminders", customer=book["bomlo"].pk).json()["results"]
    )
    july = get(book, "/reminders", sent_from="2025-07-29", sent_to="2025-07-29").json()["results"]
    assert july and all(r["sent_on"] == "2025-07-29" for r in july)
    assert get(book, "/reminders", sent_from="2026-01-01").json()["count"] == 0
    detail = get(book, f"/reminders/{first.pk}").json()
    assert (detail["id"], detail["step"], detail["kind"], detail["invoice_number"]) == (
        first.pk,
        1,
        "reminder",
        book["late"].number,
    )
    assert detail["kind_label"] == {"nb": "Betalingspåminnelse", "en": "Payment reminder"}
    assert detail["fee"] == str(first.fee) and set(detail["fee_explanation"]) == {"nb", "en"}
    assert detail["pdf"].endswith(f"/api/v1/reminders/{first.pk}/pdf")
    pdf = book["api"].get(f"{API}/reminders/{first.pk}/pdf", HTTP_ACCEPT="application/json")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf["X-Content-SHA256"] == hashlib.sha256(pdf.content).hexdigest() == first.sha256
    assert book["ro"].get(f"{API}/reminders/{first.pk}/pdf").status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sent_from": "2025-09-01", "sent_to": "2025-08-01"}, "sent_to"),
        ({"sent_from": "2025-02-30"}, "sent_from"),
        ({"sent_to": "soon"}, "sent_to"),
        ({"invoice": "abc"}, "invoice"),
        ({"customer": "1x"}, "customer"),
        ({"kind": "letter"}, "kind"),
    ],
)
def test_bad_reminder_filters_are_a_400(book, params, field):
    fields = fields_of(get(book, "/reminders", **params))
    assert set(fields) == {field}
    assert fields[field][0]


def test_a_reversed_range_says_which_way(book):
    fields = fields_of(get(book, "/reminders", sent_from="2025-09-01", sent_to="2025-08-01"))
    assert fields["sent_to"] == ["sent_to is before sent_from; give the earlier date first."]


# ---------------------------------------------------------------- holds


def test_put_an_invoice_on_hold_and_release_it(book):
    unpaid = book["unpaid"]
    response = post(book, "/invoice-holds", {"invoice": unpaid.pk, "reason": "Kunden bestrider antall brukere"})
    assert response.status_code == 201, response.json()
    hold = response.json()
    assert (hold["invoice"], hold["invoice_number"], hold["customer"], hold["active"], hold["held_on"]) == (
        unpaid.pk,
        unpaid.number,
        book["fjord"].pk,
        True,
        "2025-09-15",
    )
    assert hold["held_by"].startswith("API key")
    overdue = get(book, "/collections/overdue", customer=book["fjord"].pk).json()["results"]
    assert overdue[0]["on_hold"] is True
    assert {h["id"] for h in get(book, "/invoice-holds", active="true").json()["results"]} == {
        hold["id"],
        book["hold"].pk,
    }
    again = post(book, "/invoice-holds", {"invoice": unpaid.pk, "reason": "Igjen"})
    assert "already on hold" in fields_of(again)["invoice"][0]

    released = post(book, f"/invoice-holds/{hold['id']}/release", {"note": "Avklart"})
    assert released.status_code == 200, released.json()
    assert (released.json()["active"], released.json()["released_on"], released.json()["release_note"]) == (
        False,
        "2025-09-15",
        "Avklart",
    )
    assert "released" in fields_of(post(book, f"/invoice-holds/{hold['id']}/release"))["hold"][0]
    assert get(book, "/invoice-holds", active="false").json()["count"] == 1
    assert get(book, f"/invoice-holds/{hold['id']}").json()["active"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "x"}, "invoice"),
        ({"invoice": "abc", "reason": "x"}, "invoice"),
        ({"invoice": True, "reason": "x"}, "invoice"),
        ({"invoice": 99999999, "reason": "x"}, "invoice"),
        ("invoice", "reason"),  # an invoice without a reason: filled in below
        ("blank", "reason"),
        ("paid", "invoice"),
        ("colour", "colour"),
    ],
)
def test_bad_holds_are_a_400_and_write_nothing(book, body, field):
    late = book["late"].pk
    paid = book["tasta_invoices"]["0_30"].pk  # paid by the bank file
    body = (
        {
            "invoice": {"invoice": late},
            "blank": {"invoice": late, "reason": "   "},
            "paid": {"invoice": paid, "reason": "x"},
            "colour": {"invoice": late, "reason": "x", "colour": "red"},
        }[body]
        if isinstance(body, str)
        else body
    )
    before = counts(book["tenant"])
    fields = fields_of(post(book, "/invoice-holds", body))
    assert field in fields and fields[field][0]
    assert counts(book["tenant"]) == before


def test_a_hold_honours_the_idempotency_key(book):
    body = {"invoice": book["late"].pk, "reason": "Tvist"}
    first = post(book, "/invoice-holds", body, **{"Idempotency-Key": "hold-1"})
    assert first.status_code == 201, first.json()
    again = post(book, "/invoice-holds", body, **{"Idempotency-Key": "hold-1"})
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = post(book, "/invoice-holds", {**body, "reason": "Annet"}, **{"Idempotency-Key": "hold-1"})
    assert other.status_code == 422
    with tenant_context(book["tenant"]):
        assert InvoiceHold.objects.filter(invoice=book["late"]).count() == 1


# ---------------------------------------------------------------- interest charges


def test_interest_charges_from_the_interest_run(book):
    tenant = book["tenant"]
    with tenant_context(tenant), at(ON):
        late = book["tasta_invoices"]["90_plus"]
        billing_services.payment_register(actor=ACTOR, invoice=late, amount=D("4000.00"), paid_on=ON)
        interest_run(on=ON, actor=ACTOR)
        charge = InterestCharge.objects.get(late_invoice=late)
    response = get(book, "/interest-charges")
    assert response.status_code == 200, response.json()
    with tenant_context(tenant):
        assert response.json()["count"] == InterestCharge.objects.count()
    (row,) = [r for r in response.json()["results"] if r["late_invoice"] == late.pk]
    assert (row["id"], row["late_invoice"], row["late_invoice_number"], row["customer"]) == (
        charge.pk,
        late.pk,
        late.number,
        book["tasta"].pk,
    )
    assert (row["amount"], row["total_to_date"], row["through"]) == (
        str(charge.amount),
        str(charge.total_to_date),
        "2025-09-15",
    )
    assert D(row["amount"]) > 0 and row["explanation"]["nb"] and row["explanation"]["en"]
    assert row["interest_invoice"] == charge.interest_invoice_id
    assert get(book, "/interest-charges", late_invoice=late.pk).json()["count"] == 1
    assert late.pk in [
        r["late_invoice"] for r in get(book, "/interest-charges", customer=book["tasta"].pk).json()["results"]
    ]
    assert get(book, "/interest-charges", customer=book["bomlo"].pk).json()["count"] == 0
    assert get(book, f"/interest-charges/{charge.pk}").json()["id"] == charge.pk
    assert "late_invoice" in fields_of(get(book, "/interest-charges", late_invoice="x"))
    # and the interest invoice is in the ledger
    entries = get(book, f"/customers/{book['tasta'].pk}/ledger").json()["entries"]
    assert any(e["kind"] == "interest" and e["invoice"] == charge.interest_invoice_id for e in entries)


# ---------------------------------------------------------------- bank files


def bank_file(book, *credits) -> bytes:
    tenant = book["tenant"]
    return camt054(account=tenant.bank_account, owner=tenant.name, day=ON - dt.timedelta(days=1), credits=list(credits))


def test_a_bank_file_posted_twice_is_booked_once(book):
    fjord = book["unpaid"]
    data = bank_file(
        book,
        Credit(D("2812.50"), fjord.kid, ON - dt.timedelta(days=1), "Fjord Data AS", "API-1"),
        Credit(D("12.00"), "12345678903", ON - dt.timedelta(days=1), "Ukjent AS", "API-2", "Hva er dette"),
    )
    response = book["api"].post(f"{API}/bank-imports?file_name=camt054-0914.xml", data, content_type="application/xml")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["file_name"], body["format"], body["payments"], body["matched"], body["unmatched"]) == (
        "camt054-0914.xml",
        "camt.054",
        2,
        1,
        1,
    )
    assert body["already_imported"] is False and body["total_amount"] == "2824.50"
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    statuses = {p["reference"]: p["status"] for p in body["incoming_payments"]}
    assert statuses == {"API-1": "matched", "API-2": "unmatched"}
    with tenant_context(book["tenant"]):
        assert Invoice.objects.get(pk=fjord.pk).status == "paid"
        # the payment cleared the arrears: the pause is lifted
        assert DefaultCase.objects.get(contract=book["fjord_contract"]).status == DefaultStatus.CLOSED
    before = counts(book["tenant"])

    upload = SimpleUploadedFile("samme-fil.xml", data, content_type="application/xml")
    again = book["api"].post(f"{API}/bank-imports", {"file": upload}, format="multipart")
    assert again.status_code == 200, again.json()
    assert again.json()["already_imported"] is True and again.json()["id"] == body["id"]
    assert again.json()["incoming_payments"] == []
    assert counts(book["tenant"]) == before
    # the imports and their payments
    assert get(book, f"/bank-imports/{body['id']}").json()["matched"] == 1
    assert body["id"] in [r["id"] for r in get(book, "/bank-imports").json()["results"]]
    mine = get(book, "/incoming-payments", bank_import=body["id"], status="all").json()["results"]
    assert {p["reference"] for p in mine} == {"API-1", "API-2"}


def test_an_ocr_file_as_multipart_and_as_plain_text(book):
    data = (DATA / "ocr_giro.txt").read_bytes()
    upload = SimpleUploadedFile("OCR.20250914.txt", data, content_type="text/plain")
    response = book["api"].post(f"{API}/bank-imports", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    assert (response.json()["file_name"], response.json()["format"]) == ("OCR.20250914.txt", "ocr-giro")
    assert response.json()["payments"] == len(response.json()["incoming_payments"]) > 0
    plain = book["api"].post(f"{API}/bank-imports", data, content_type="text/plain")
    assert plain.status_code == 200 and plain.json()["already_imported"] is True


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("camt054_truncated.xml", "line 91: not well-formed XML"),
        ("camt054_amount_not_number.xml", "(line 99): amount '3 750,50' is not a number"),
        ("ocr_giro_bad_record_type.txt", "line 5: unknown record type 'NY091535'"),
        ("ocr_giro_wrong_totals.txt", "line 12: the oppdrag end's sum"),
    ],
)
def test_a_malformed_bank_file_is_a_400_naming_the_line_and_nothing_is_booked(book, name, where):
    before = counts(book["tenant"])
    data = (DATA / name).read_bytes()
    response = book["api"].post(f"{API}/bank-imports?file_name={name}", data, content_type="application/octet-stream")
    (message,) = fields_of(response)["file"]
    assert name in message and where in message
    assert counts(book["tenant"]) == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"data": b"", "content_type": "application/xml"}, "file"),
        ({"data": b"  \n", "content_type": "text/plain"}, "file"),
        ({"data": {"file": ""}, "format": "multipart"}, "file"),
        ({"data": {"document": "x"}, "format": "json"}, "file"),
        ({"data": {"file": "<xml/>"}, "format": "json"}, "file"),
    ],
)
def test_an_empty_or_missing_file_is_a_400(book, kwargs, field):
    before = counts(book["tenant"])
    response = book["api"].post(f"{API}/bank-imports", **kwargs)
    assert field in fields_of(response)
    assert counts(book["tenant"]) == before


def test_a_bad_file_name_is_a_400(book):
    data = (DATA / "ocr_giro.txt").read_bytes()
    long = book["api"].post(f"{API}/bank-imports?file_name={'x' * 300}.txt", data, content_type="text/plain")
    assert "file_name" in fields_of(long)
    control = book["api"].post(f"{API}/bank-imports?file_name=a%07b.txt", data, content_type="text/plain")
    assert "file_name" in fields_of(control)


def test_a_file_over_the_limit_is_a_413_and_nothing_is_read(book, monkeypatch):
    monkeypatch.setattr("receivables.api.MAX_BANK_FILE", 10_000)
    monkeypatch.setattr("receivables.api.MAX_UPLOAD_OVERHEAD", 1_000)
    before = counts(book["tenant"])
    response = book["api"].post(f"{API}/bank-imports", b"0" * 20_000, content_type="text/plain")
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "file_too_large" and "larger than" in error["message"]
    # in a form: the envelope is within the limit, the file is not
    upload = SimpleUploadedFile("stor.txt", b"0" * 10_500, content_type="text/plain")
    assert book["api"].post(f"{API}/bank-imports", {"file": upload}, format="multipart").status_code == 413
    assert counts(book["tenant"]) == before


def test_a_large_body_with_an_idempotency_key_is_read_and_refused_as_a_bank_file(book):
    """Over Django's 2.5 MB in-memory limit, under the 50 MB bank-file limit: read, parsed, refused as a file."""
    data = b"NY000010" + b"0" * 3_000_000
    response = book["api"].post(
        f"{API}/bank-imports?file_name=stor.txt",
        data,
        content_type="text/plain",
        headers={"Idempotency-Key": "big-1"},
    )
    assert "file" in fields_of(response)


def test_a_bank_file_honours_the_idempotency_key(book):
    data = bank_file(book, Credit(D("5.00"), None, ON, "Noen", "IDEM-1"))
    first = book["api"].post(
        f"{API}/bank-imports?file_name=a.xml", data, content_type="application/xml", headers={"Idempotency-Key": "f1"}
    )
    assert first.status_code == 201, first.json()
    again = book["api"].post(
        f"{API}/bank-imports?file_name=a.xml", data, content_type="application/xml", headers={"Idempotency-Key": "f1"}
    )
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    other = bank_file(book, Credit(D("6.00"), None, ON, "Noen", "IDEM-2"))
    reused = book["api"].post(
        f"{API}/bank-imports?file_name=a.xml", other, content_type="application/xml", headers={"Idempotency-Key": "f1"}
    )
    assert reused.status_code == 422


# ---------------------------------------------------------------- the unmatched queue


def test_the_queue_by_default_and_filters(book):
    queue = get(book, "/incoming-payments").json()
    assert [p["id"] for p in queue["results"]] == [book["incoming"].pk]
    row = queue["results"][0]
    assert (row["status"], row["amount"], row["kid"], row["payer_name"], row["invoice"]) == (
        "unmatched",
        "777.00",
        "99999999999",
        "Ukjent Betaler AS",
        None,
    )
    assert row["reason"] and row["bank_file_name"] == "camt054-0912.xml"
    assert get(book, "/incoming-payments", status="queue").json()["count"] == 1
    assert get(book, "/incoming-payments", status="all").json()["count"] == 2
    matched = get(book, "/incoming-payments", status="matched").json()["results"]
    assert [p["invoice"] for p in matched] == [book["tasta_invoices"]["0_30"].pk]
    assert get(book, f"/incoming-payments/{book['incoming'].pk}").json()["id"] == book["incoming"].pk
    assert "status" in fields_of(get(book, "/incoming-payments", status="lost"))
    assert "booked_to" in fields_of(get(book, "/incoming-payments", booked_from="2025-09-10", booked_to="2025-09-01"))


def test_match_an_unmatched_payment_to_an_invoice(book):
    target = book["tasta_invoices"]["31_60"]
    response = post(book, f"/incoming-payments/{book['incoming'].pk}/match", {"invoice": target.pk, "note": "KID feil"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["invoice"], body["invoice_number"], body["unapplied"], body["note"]) == (
        "matched_by_staff",
        target.pk,
        target.number,
        "0.00",
        "KID feil",
    )
    assert body["payment"] and body["resolved_on"] == "2025-09-15"
    with tenant_context(book["tenant"]):
        assert Invoice.objects.get(pk=target.pk).paid_amount == D("777.00")
    assert get(book, "/incoming-payments").json()["count"] == 0
    again = post(book, f"/incoming-payments/{book['incoming'].pk}/match", {"invoice": target.pk})
    assert "incoming" in fields_of(again)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "invoice"),
        ({"invoice": "x"}, "invoice"),
        ({"invoice": 99999999}, "invoice"),
        ("paid", "invoice"),
        ("extra", "extra"),
    ],
)
def test_bad_matches_are_a_400_and_book_nothing(book, body, field):
    body = (
        {
            "paid": {"invoice": book["tasta_invoices"]["0_30"].pk},
            "extra": {"invoice": book["late"].pk, "extra": 1},
        }[body]
        if isinstance(body, str)
        else body
    )
    before = counts(book["tenant"])
    assert field in fields_of(post(book, f"/incoming-payments/{book['incoming'].pk}/match", body))
    assert counts(book["tenant"]) == before


def test_resolve_a_payment_as_refunded(book):
    path = f"/incoming-payments/{book['incoming'].pk}/resolve"
    before = counts(book["tenant"])
    assert set(fields_of(post(book, path, {"how": "gift", "note": "x"}))) == {"how"}
    assert set(fields_of(post(book, path, {"how": "refund"}))) == {"note"}
    assert set(fields_of(post(book, path, {"how": "refund", "note": ""}))) == {"note"}
    assert counts(book["tenant"]) == before
    response = post(book, path, {"how": "refund", "note": "Tilbakebetalt 16.09"})
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["note"]) == ("resolved_refund", "Tilbakebetalt 16.09")
    assert "incoming" in fields_of(post(book, path, {"how": "credit", "note": "igjen"}))
    assert "incoming" in fields_of(
        post(book, f"/incoming-payments/{book['incoming'].pk}/match", {"invoice": book["late"].pk})
    )


# ---------------------------------------------------------------- payment default


def test_default_cases_list_suspend_and_close(book):
    rows = get(book, "/default-cases").json()["results"]
    by_contract = {r["contract"]: r for r in rows}
    bomlo = by_contract[book["bomlo_contract"].pk]
    fjord = by_contract[book["fjord_contract"].pk]
    assert (bomlo["status"], bomlo["action"], bomlo["invoice"], bomlo["customer_name"]) == (
        "awaiting",
        "suspend",
        book["late"].pk,
        "Bømlo Rederi AS",
    )
    assert bomlo["material_breach_on"] and bomlo["stop_on"] <= "2025-09-15"
    assert (fjord["status"], fjord["action"]) == ("paused", "pause") and fjord["deletion_due_on"]
    assert [r["id"] for r in get(book, "/default-cases", status="awaiting").json()["results"]] == [bomlo["id"]]
    assert get(book, "/default-cases", status="open").json()["count"] == 2
    assert get(book, "/default-cases", status="closed").json()["count"] == 0
    assert get(book, "/default-cases", customer=book["fjord"].pk).json()["count"] == 1
    assert "status" in fields_of(get(book, "/default-cases", status="late"))

    suspended = post(book, f"/default-cases/{bomlo['id']}/suspend")
    assert suspended.status_code == 200, suspended.json()
    assert (suspended.json()["status"], suspended.json()["suspended_on"]) == ("suspended", "2025-09-15")
    assert "status" in fields_of(post(book, f"/default-cases/{bomlo['id']}/suspend"))
    assert "colour" in fields_of(post(book, f"/default-cases/{bomlo['id']}/suspend", {"colour": 1}))
    # Fjord is paused, not waiting for suspension
    assert "status" in fields_of(post(book, f"/default-cases/{fjord['id']}/suspend"))

    before = counts(book["tenant"])
    assert "reason" in fields_of(post(book, f"/default-cases/{fjord['id']}/close", {}))
    assert "reason" in fields_of(post(book, f"/default-cases/{fjord['id']}/close", {"reason": " "}))
    assert counts(book["tenant"]) == before
    closed = post(book, f"/default-cases/{fjord['id']}/close", {"reason": "Avtalt nedbetalingsplan"})
    assert closed.status_code == 200, closed.json()
    assert (closed.json()["status"], closed.json()["closed_reason"]) == ("closed", "Avtalt nedbetalingsplan")
    assert "status" in fields_of(post(book, f"/default-cases/{fjord['id']}/close", {"reason": "igjen"}))
    assert get(book, f"/default-cases/{fjord['id']}").json()["closed_on"] == "2025-09-15"


# ---------------------------------------------------------------- collection policies

STEPS = [
    {"kind": "reminder", "after_days": 10, "days_to_pay": 10, "fee": "reminder"},
    {"kind": "warning", "after_days": 1, "days_to_pay": 14, "fee": "none"},
]


def test_collection_policies_list_create_update(book):
    rows = get(book, "/collection-policies").json()["results"]
    assert {r["plan"] for r in rows} == {book["bomlo_contract"].plan.code, book["fjord_contract"].plan.code}
    created = post(book, "/collection-policies", {"name": "Standard", "interest_minimum": "25"})
    assert created.status_code == 201, created.json()
    policy = created.json()
    assert (policy["plan"], policy["interest"], policy["interest_invoicing"], policy["interest_minimum"]) == (
        None,
        "simple",
        "on_payment",
        "25.00",
    )
    assert [s["kind"] for s in policy["dunning_steps"]] == ["reminder", "warning", "final"]  # the built-in
    assert policy["default_action"] == "none" and policy["material_breach_days"] is None
    assert "plan" in fields_of(post(book, "/collection-policies", {"name": "Second default"}))

    patched = book["api"].patch(
        f"{API}/collection-policies/{policy['id']}",
        {"interest_invoicing": "monthly", "dunning_steps": STEPS},
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["interest_invoicing"] == "monthly" and patched.json()["dunning_steps"] == STEPS
    assert patched.json()["interest_minimum"] == "25.00"  # untouched
    put = book["api"].put(f"{API}/collection-policies/{policy['id']}", {"name": "Ny"}, format="json")
    assert put.status_code == 200, put.json()
    assert (put.json()["name"], put.json()["interest_invoicing"], put.json()["interest_minimum"]) == (
        "Ny",
        "on_payment",
        "0.00",
    )
    assert "name" in fields_of(book["api"].put(f"{API}/collection-policies/{policy['id']}", {}, format="json"))
    assert get(book, f"/collection-policies/{policy['id']}").json()["name"] == "Ny"


def test_a_contract_gets_its_own_rules_and_goes_back_to_its_plans(book, tenant_b):
    from receivables.policies import policy_for

    contract = book["bomlo_contract"]
    own = post(book, "/collection-policies", {"name": "Bømlo: avtalt nedbetaling", "interest": "none"}).json()
    assert (
        post(book, f"/collection-policies/{own['id']}/assign", {"contracts": [contract.pk]}, client="ro").status_code
        == 403
    )
    response = post(book, f"/collection-policies/{own['id']}/assign", {"contracts": [contract.pk]})
    assert response.status_code == 200, response.json()
    with tenant_context(book["tenant"]):
        contract.refresh_from_db()
        assert contract.collection_policy_id == own["id"] and policy_for(contract).interest == "none"
        assert AuditEvent.objects.filter(action="contract.collection_policy", object_id=str(contract.pk)).count() == 1
    assert post(book, "/collection-policies/unassign", {"contracts": [contract.pk]}).status_code == 204
    with tenant_context(book["tenant"]):
        contract.refresh_from_db()
        assert contract.collection_policy_id is None and policy_for(contract).plan_id == contract.plan_id
    # another tenant's contract, a bad id, an empty list: a 400 naming the field, nothing changed
    with tenant_context(tenant_b):
        from tests.factories import CustomerFactory
        from tests.receivables.test_pages import contract_for, plan_for

        foreign = contract_for(plan_for("piscator"), CustomerFactory(name="Fremmed AS"))
    before = counts(book["tenant"])
    for body in ({"contracts": [foreign.pk]}, {"contracts": ["x"]}, {"contracts": []}, {}):
        assert set(fields_of(post(book, f"/collection-policies/{own['id']}/assign", body))) <= {
            "contracts",
            "contracts[0]",
        }
    assert counts(book["tenant"]) == before


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [
        (
            {"dunning_steps": [STEPS[0], {**STEPS[1], "days_to_pay": 10}]},
            "dunning_steps[1].days_to_pay",
            "at least 14 days",
        ),
        ({"dunning_steps": [{**STEPS[0], "kind": "letter"}]}, "dunning_steps[0].kind", "'letter' is not a kind"),
        ({"dunning_steps": [{**STEPS[0], "colour": "red"}]}, "dunning_steps[0].colour", "unknown field"),
        ({"dunning_steps": [{**STEPS[0], "after_days": -1}]}, "dunning_steps[0].after_days", "0 to 365"),
        ({"dunning_steps": ["x"]}, "dunning_steps[0]", "must be an object"),
        ({"dunning_steps": {"kind": "reminder"}}, "dunning_steps", "must be a list"),
        ({"dunning_steps": None}, "dunning_steps", "list"),
        ({"interest": "compound"}, "interest", ""),
        ({"interest_minimum": "-1"}, "interest_minimum", ""),
        ({"interest_minimum": "1.001"}, "interest_minimum", ""),
        ({"default_after_days": 0}, "default_after_days", ""),
        ({"material_breach_days": 400}, "material_breach_days", ""),
        ({"plan": "no-such-plan"}, "plan", "does not exist"),
        ({"name": ""}, "name", ""),
        ({"colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_bad_policies_are_a_400_naming_the_field(book, body, field, text):
    with tenant_context(book["tenant"]):
        policy = CollectionPolicy.objects.first()
    before = counts(book["tenant"])
    response = book["api"].patch(f"{API}/collection-policies/{policy.pk}", body, format="json")
    fields = fields_of(response)
    assert field in fields, fields
    assert text in fields[field][0]
    assert counts(book["tenant"]) == before


def test_step_errors_in_bokmaal(book):
    with tenant_context(book["tenant"]):
        policy = CollectionPolicy.objects.first()
    response = book["nb"].patch(
        f"{API}/collection-policies/{policy.pk}",
        {"dunning_steps": [{**STEPS[1], "days_to_pay": 7}]},
        format="json",
    )
    assert "minst 14 dagers betalingsfrist" in fields_of(response)["dunning_steps[0].days_to_pay"][0]


# ---------------------------------------------------------------- keys


def test_a_read_only_key_reads_everything_and_changes_nothing(book):
    with tenant_context(book["tenant"]):
        reminder = Reminder.objects.first()
        policy = CollectionPolicy.objects.first()
        case = DefaultCase.objects.first()
    for path in (
        "/collections/overview",
        "/collections/overdue",
        "/collections/at-risk",
        f"/customers/{book['tasta'].pk}/ledger",
        "/reminders",
        f"/reminders/{reminder.pk}",
        "/invoice-holds",
        f"/invoice-holds/{book['hold'].pk}",
        "/interest-charges",
        "/bank-imports",
        f"/bank-imports/{book['import'].pk}",
        "/incoming-payments",
        f"/incoming-payments/{book['incoming'].pk}",
        "/default-cases",
        f"/default-cases/{case.pk}",
        "/collection-policies",
        f"/collection-policies/{policy.pk}",
    ):
        assert get(book, path, client="ro").status_code == 200, path
    before = counts(book["tenant"])
    ro = book["ro"]
    for method, path, body in (
        ("post", "/invoice-holds", {"invoice": book["late"].pk, "reason": "x"}),
        ("post", f"/invoice-holds/{book['hold'].pk}/release", {}),
        ("post", f"/incoming-payments/{book['incoming'].pk}/match", {"invoice": book["late"].pk}),
        ("post", f"/incoming-payments/{book['incoming'].pk}/resolve", {"how": "refund", "note": "x"}),
        ("post", f"/default-cases/{case.pk}/suspend", {}),
        ("post", f"/default-cases/{case.pk}/close", {"reason": "x"}),
        ("post", "/collection-policies", {"name": "x"}),
        ("put", f"/collection-policies/{policy.pk}", {"name": "x"}),
        ("patch", f"/collection-policies/{policy.pk}", {"name": "x"}),
    ):
        response = getattr(ro, method)(f"{API}{path}", body, format="json")
        assert response.status_code == 403, (method, path)
        assert error_of(response)["code"] == "permission_denied"
    upload = ro.post(f"{API}/bank-imports", (DATA / "ocr_giro.txt").read_bytes(), content_type="text/plain")
    assert upload.status_code == 403
    assert counts(book["tenant"]) == before


def test_without_a_key_it_is_a_401(book):
    for path in ("/collections/overview", "/reminders", f"/customers/{book['tasta'].pk}/ledger"):
        assert client_for(None).get(f"{API}{path}").status_code == 401
    assert client_for(None).post(f"{API}/bank-imports", b"x", content_type="text/plain").status_code == 401


# ---------------------------------------------------------------- odd input and the schema


def test_nul_and_control_characters_are_a_400(book):
    before = counts(book["tenant"])
    assert "reason" in fields_of(post(book, "/invoice-holds", {"invoice": book["late"].pk, "reason": "a\x00b"}))
    assert "name" in fields_of(book["api"].post(f"{API}/collection-policies", {"name": "a\x00b"}, format="json"))
    assert "on" in fields_of(get(book, "/collections/overview", on="2025-09-15\x00"))
    assert "file_name" in fields_of(
        book["api"].post(f"{API}/bank-imports?file_name=a%00.txt", b"NY", content_type="text/plain")
    )
    assert counts(book["tenant"]) == before


@pytest.mark.parametrize("body", [[1, 2], "text", 5, None])
def test_a_body_that_is_not_an_object_is_a_400(book, body):
    with tenant_context(book["tenant"]):
        case = DefaultCase.objects.first()
    for path in ("/invoice-holds", f"/default-cases/{case.pk}/close", "/collection-policies"):
        response = book["api"].post(f"{API}{path}", body, format="json")
        assert response.status_code == 400, path
        assert error_of(response)["fields"]


def test_the_schema_documents_the_collections_endpoints(book):
    import yaml
    from rest_framework.test import APIClient

    document = yaml.safe_load(APIClient().get("/api/schema/").content)
    paths = document["paths"]
    upload = paths["/api/v1/bank-imports/"]["post"]
    assert set(upload["requestBody"]["content"]) == {
        "multipart/form-data",
        "application/xml",
        "text/xml",
        "text/plain",
        "application/octet-stream",
    }
    assert {"200", "201", "400", "403", "413"} <= set(upload["responses"])
    assert set(paths["/api/v1/reminders/{id}/pdf/"]["get"]["responses"]["200"]["content"]) == {"application/pdf"}
    overdue = {p["name"] for p in paths["/api/v1/collections/overdue/"]["get"]["parameters"]}
    assert overdue >= {"bucket", "customer", "on", "page", "page_size"}
    reminders = {p["name"] for p in paths["/api/v1/reminders/"]["get"]["parameters"]}
    assert reminders >= {"invoice", "customer", "kind", "sent_from", "sent_to"}
    assert {p["name"] for p in paths["/api/v1/incoming-payments/"]["get"]["parameters"]} >= {"status", "bank_import"}
    schemas = document["components"]["schemas"]
    assert schemas["AgeBucketEnum"]["enum"] == ["0_30", "31_60", "61_90", "90_plus"]
    assert schemas["DefaultCaseStatusEnum"]["enum"] == ["notice", "awaiting", "suspended", "paused", "closed"]
    assert schemas["ReminderKindEnum"]["enum"] == ["reminder", "warning", "final"]
    assert schemas["LedgerEntry"]["properties"]["text"] == {
        "allOf": [{"$ref": "#/components/schemas/Texts"}],
        "description": "The entry in words, in nb and en.",
    } or "$ref" in str(schemas["LedgerEntry"]["properties"]["text"])
