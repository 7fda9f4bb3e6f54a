"""Tenant isolation in the billing API: B's invoices, credit notes, lines, payments, time entries and billing
runs are 404 for A's key and absent from A's lists; B's ids in A's bodies are 400 "does not exist"."""

from __future__ import annotations

import datetime as dt

import pytest

from billing import services
from billing.models import BillingRun, Invoice, InvoiceFile, Payment, TimeEntry
from catalog import services as catalog_services
from tenants.audit import Actor
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, error_of, make_key
from tests.billing.test_services import piscator_contract
from tests.contracts.conftest import plan_for
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
d = dt.date


def _books(tenant, code: str) -> dict:
    """An invoice with a payment and a partial credit note, a time entry and a billing run."""
    with tenant_context(tenant):
        contract = piscator_contract(plan_for("piscator", code=code))
        service = catalog_services.hourly_service_save(
            actor=ACTOR, data={"code": "k", "name_nb": "K", "name_en": "K", "hourly_rate": "1800.00"}
        )
        draft = services.invoice_manual_draft_create(
            actor=ACTOR, customer=contract.customer, lines=[{"description": "Kurs", "unit_price": "1000.00"}]
        )
        invoice = services.invoice_issue(actor=ACTOR, invoice=draft, on=d(2026, 3, 1))
        payment = services.payment_register(actor=ACTOR, invoice=invoice, amount="100.00", paid_on=d(2026, 3, 2))
        note = services.credit_note_create(actor=ACTOR, invoice=invoice, on=d(2026, 3, 3), reason="R", net_amount="10")
        entry = services.time_entry_create(
            actor=ACTOR, contract=contract, service=service, worked_on=d(2026, 3, 1), description="x", hours=2
        )
        run = BillingRun.objects.create(as_of=d(2026, 3, 1))
        other_draft = services.invoice_manual_draft_create(
            actor=ACTOR, customer=contract.customer, lines=[{"description": "Utkast", "unit_price": "5.00"}]
        )
        return {
            "customer": contract.customer,
            "contract": contract,
            "service": service,
            "invoice": invoice,
            "line": invoice.lines.get(),
            "payment": payment,
            "note": note,
            "entry": entry,
            "run": run,
            "draft": other_draft,
        }


@pytest.fixture
def books(tenant_a, tenant_b):
    a, b = _books(tenant_a, "a"), _books(tenant_b, "b")
    _key, raw = make_key(tenant_a)
    return {"a": a, "b": b, "api": client_for(raw), "tenant_a": tenant_a, "tenant_b": tenant_b}


def counts(tenant) -> dict:
    with tenant_context(tenant):
        return {m.__name__: m.objects.count() for m in (Invoice, Payment, TimeEntry, InvoiceFile, BillingRun)}


def test_another_tenants_objects_are_404(books):
    api, b = books["api"], books["b"]
    for path in (
        f"/invoices/{b['invoice'].pk}",
        f"/invoices/{b['note'].pk}",
        f"/credit-notes/{b['note'].pk}",
        f"/invoice-lines/{b['line'].pk}",
        f"/payments/{b['payment'].pk}",
        f"/time-entries/{b['entry'].pk}",
        f"/billing-runs/{b['run'].pk}",
        f"/invoices/{b['invoice'].pk}/pdf",
        f"/invoices/{b['invoice'].pk}/ehf",
    ):
        response = api.get(f"{API}{path}")
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
    # and the same for A's own objects is 200 (the test can fail)
    a = books["a"]
    assert api.get(f"{API}/invoices/{a['invoice'].pk}").status_code == 200
    assert api.get(f"{API}/payments/{a['payment'].pk}").status_code == 200


def test_actions_on_another_tenants_objects_are_404_and_write_nothing(books):
    api, b = books["api"], books["b"]
    before_a, before_b = counts(books["tenant_a"]), counts(books["tenant_b"])
    invoice = b["invoice"].pk
    for path, body in (
        (f"/invoices/{b['draft'].pk}/issue", {}),
        (f"/invoices/{invoice}/credit", {"reason": "x"}),
        (f"/invoices/{invoice}/payments", {"amount": "1.00", "paid_on": "2026-03-05"}),
        (f"/invoices/{invoice}/send", {}),
    ):
        response = api.post(f"{API}{path}", body, format="json")
        assert response.status_code == 404, path
    for path in (f"/invoices/{b['draft'].pk}", f"/time-entries/{b['entry'].pk}"):
        assert api.delete(f"{API}{path}").status_code == 404, path
    assert counts(books["tenant_a"]) == before_a
    assert counts(books["tenant_b"]) == before_b
    with tenant_context(books["tenant_b"]):
        assert Invoice.objects.get(pk=b["draft"].pk).status == "draft"


def test_lists_show_only_the_keys_tenant(books):
    api, a, b = books["api"], books["a"], books["b"]

    def ids(path, **params):
        response = api.get(f"{API}{path}", {"page_size": 100, **params})
        assert response.status_code == 200, response.json()
        return sorted(row["id"] for row in response.json()["results"])

    assert ids("/invoices") == sorted([a["invoice"].pk, a["note"].pk, a["draft"].pk])
    assert ids("/credit-notes") == [a["note"].pk]
    assert ids("/payments") == [a["payment"].pk]
    assert ids("/time-entries") == [a["entry"].pk]
    assert ids("/billing-runs") == [a["run"].pk]
    assert set(ids("/invoice-lines")).isdisjoint({b["line"].pk})
    # Filtering by B's ids finds nothing.
    assert ids("/invoice-lines", invoice=b["invoice"].pk) == []
    assert ids("/payments", invoice=b["invoice"].pk) == []
    assert ids("/invoices", customer=b["customer"].pk) == []
    assert ids("/invoices", contract=b["contract"].pk) == []
    assert ids("/time-entries", contract=b["contract"].pk) == []


def test_another_tenants_ids_in_a_body_do_not_exist(books):
    api, a, b = books["api"], books["a"], books["b"]
    before = counts(books["tenant_a"])
    line = [{"description": "Kurs", "unit_price": "1.00"}]
    for path, body, field, message in (
        ("/invoices", {"customer": b["customer"].pk, "lines": line}, "customer", f"Customer {b['customer'].pk}"),
        (
            "/invoices",
            {"customer": a["customer"].pk, "contract": b["contract"].pk, "lines": line},
            "contract",
            f"Contract {b['contract'].pk}",
        ),
        (
            "/time-entries",
            {
                "contract": b["contract"].pk,
                "service": a["service"].pk,
                "worked_on": "2026-03-02",
                "description": "x",
                "hours": "1",
            },
            "contract",
            f"Contract {b['contract'].pk}",
        ),
        (
            "/time-entries",
            {
                "contract": a["contract"].pk,
                "service": b["service"].pk,
                "worked_on": "2026-03-02",
                "description": "x",
                "hours": "1",
            },
            "service",
            f"Hourly service {b['service'].pk}",
        ),
    ):
        response = api.post(f"{API}{path}", body, format="json")
        assert response.status_code == 400, (path, body)
        assert error_of(response)["fields"][field] == [f"{message} does not exist."]
    assert counts(books["tenant_a"]) == before


def test_a_billing_run_runs_only_the_keys_tenant(books):
    api = books["api"]
    response = api.post(f"{API}/billing-runs", {"as_of": "2026-02-16"}, format="json")
    assert response.status_code == 202, response.json()
    assert set(response.json()["result"]) == {"alpha"}
    with tenant_context(books["tenant_b"]):
        assert BillingRun.objects.filter(as_of=d(2026, 2, 16)).count() == 0
        assert Invoice.objects.filter(billing_run_date=d(2026, 2, 16)).count() == 0
    with tenant_context(books["tenant_a"]):
        assert Invoice.objects.filter(billing_run_date=d(2026, 2, 16)).count() == 1


def test_another_tenants_customer_in_the_list_does_not_leak_through_search(books):
    with tenant_context(books["tenant_b"]):
        CustomerFactory(name="Hemmelig kunde AS")
    response = books["api"].get(f"{API}/invoices", {"search": "Hemmelig"})
    assert response.status_code == 200 and response.json()["count"] == 0
