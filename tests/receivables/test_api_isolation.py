"""Tenant isolation in the collections API: with A's key, every one of B's reminders, holds, interest charges, bank
imports, incoming payments, default cases, policies and customers is a 404 (reads and actions alike, and nothing
of B's changes), absent from A's lists and sums, and B's invoices in A's bodies "do not exist" (400)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing import bank
from billing import services as billing_services
from billing.models import BankImport, IncomingPayment, Invoice, Payment
from fakes.bank import Credit, camt054
from receivables.interest_billing import interest_run
from receivables.models import CollectionPolicy, DefaultCase, InterestCharge, InvoiceHold, Reminder
from tenants.audit import Actor
from tenants.models import AuditEvent
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, error_of, make_key
from tests.contracts.conftest import plan_for
from tests.receivables.test_pages import ON, at, build_book

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
MODELS = (Invoice, Payment, BankImport, IncomingPayment, InvoiceHold, Reminder, DefaultCase, CollectionPolicy)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr("receivables.api.business_today", lambda: ON)


def _book(tenant) -> dict:
    with at(ON):
        book = build_book(tenant)
    with tenant_context(tenant), at(ON):
        paid = book["tasta_invoices"]["90_plus"]
        billing_services.payment_register(actor=ACTOR, invoice=paid, amount=Decimal("4000.00"), paid_on=ON)
        interest_run(on=ON, actor=ACTOR)
        book["charge"] = InterestCharge.objects.filter(late_invoice=paid).get()
        book["reminder"] = Reminder.objects.filter(invoice=book["late"]).first()
        book["case"] = DefaultCase.objects.get(contract=book["bomlo_contract"])
        book["paused_case"] = DefaultCase.objects.get(contract=book["fjord_contract"])
        book["policy"] = CollectionPolicy.objects.first()
    return book


@pytest.fixture
def books(tenant_a, tenant_b):
    a, b = _book(tenant_a), _book(tenant_b)
    with tenant_context(tenant_b):
        b["own_plan"] = plan_for("spekter")  # a plan A does not have
    _key, raw = make_key(tenant_a)
    return {"a": a, "b": b, "api": client_for(raw), "tenant_a": tenant_a, "tenant_b": tenant_b}


def state(tenant) -> dict:
    """Every row of the collections models, as values: what must not move."""
    with tenant_context(tenant):
        rows = {m.__name__: sorted(map(repr, m.objects.values())) for m in MODELS}
        rows["AuditEvent"] = AuditEvent.objects.count()
        return rows


def b_detail_paths(b) -> list[str]:
    return [
        f"/customers/{b['tasta'].pk}/ledger",
        f"/customers/{b['bomlo'].pk}/ledger",
        f"/reminders/{b['reminder'].pk}",
        f"/reminders/{b['reminder'].pk}/pdf",
        f"/invoice-holds/{b['hold'].pk}",
        f"/interest-charges/{b['charge'].pk}",
        f"/bank-imports/{b['import'].pk}",
        f"/incoming-payments/{b['incoming'].pk}",
        f"/default-cases/{b['case'].pk}",
        f"/default-cases/{b['paused_case'].pk}",
        f"/collection-policies/{b['policy'].pk}",
    ]


def test_another_tenants_objects_are_404(books):
    api, a, b = books["api"], books["a"], books["b"]
    for path in b_detail_paths(b):
        response = api.get(f"{API}{path}")
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
    # and A's own are there (the test can fail)
    for path in b_detail_paths(a):
        assert api.get(f"{API}{path}").status_code == 200, path


def test_actions_on_another_tenants_objects_are_404_and_change_nothing(books):
    api, a, b = books["api"], books["a"], books["b"]
    before_a, before_b = state(books["tenant_a"]), state(books["tenant_b"])
    for method, path, body in (
        ("post", f"/invoice-holds/{b['hold'].pk}/release", {"note": "x"}),
        ("post", f"/incoming-payments/{b['incoming'].pk}/match", {"invoice": a["late"].pk}),
        ("post", f"/incoming-payments/{b['incoming'].pk}/resolve", {"how": "refund", "note": "x"}),
        ("post", f"/default-cases/{b['case'].pk}/suspend", {}),
        ("post", f"/default-cases/{b['case'].pk}/close", {"reason": "x"}),
        ("post", f"/default-cases/{b['paused_case'].pk}/close", {"reason": "x"}),
        ("put", f"/collection-policies/{b['policy'].pk}", {"name": "x"}),
        ("patch", f"/collection-policies/{b['policy'].pk}", {"name": "x"}),
    ):
        response = getattr(api, method)(f"{API}{path}", body, format="json")
        assert response.status_code == 404, (method, path, response.content[:300])
    assert state(books["tenant_a"]) == before_a
    assert state(books["tenant_b"]) == before_b


def test_another_tenants_invoices_in_a_body_do_not_exist(books):
    api, a, b = books["api"], books["a"], books["b"]
    before_a, before_b = state(books["tenant_a"]), state(books["tenant_b"])
    for path, body in (
        ("/invoice-holds", {"invoice": b["unpaid"].pk, "reason": "x"}),
        (f"/incoming-payments/{a['incoming'].pk}/match", {"invoice": b["unpaid"].pk}),
    ):
        response = api.post(f"{API}{path}", body, format="json")
        assert error_of(response)["fields"]["invoice"] == [f"Invoice {b['unpaid'].pk} does not exist."], path
    code = b["own_plan"].code
    for method, path in (("post", "/collection-policies"), ("patch", f"/collection-policies/{a['policy'].pk}")):
        response = getattr(api, method)(f"{API}{path}", {"name": "x", "plan": code}, format="json")
        assert error_of(response)["fields"]["plan"] == [f"Plan {code} does not exist."], path
    assert state(books["tenant_b"]) == before_b
    assert state(books["tenant_a"]) == before_a


def test_lists_and_sums_show_only_the_keys_tenant(books):
    api, a, b = books["api"], books["a"], books["b"]

    def ids(path, key="id", **params):
        response = api.get(f"{API}{path}", {"page_size": 500, **params})
        assert response.status_code == 200, response.json()
        return {row[key] for row in response.json()["results"]}

    with tenant_context(books["tenant_a"]):
        own = {
            "reminders": set(Reminder.objects.values_list("pk", flat=True)),
            "holds": set(InvoiceHold.objects.values_list("pk", flat=True)),
            "charges": set(InterestCharge.objects.values_list("pk", flat=True)),
            "imports": set(BankImport.objects.values_list("pk", flat=True)),
            "incoming": set(IncomingPayment.objects.values_list("pk", flat=True)),
            "cases": set(DefaultCase.objects.values_list("pk", flat=True)),
            "policies": set(CollectionPolicy.objects.values_list("pk", flat=True)),
        }
    assert ids("/reminders") == own["reminders"]
    assert ids("/invoice-holds") == own["holds"]
    assert ids("/interest-charges") == own["charges"]
    assert ids("/bank-imports") == own["imports"]
    assert ids("/incoming-payments", status="all") == own["incoming"]
    assert ids("/default-cases") == own["cases"]
    assert ids("/collection-policies") == own["policies"]
    a_invoices = {i.pk for i in a["tasta_invoices"].values()} | {a["late"].pk, a["unpaid"].pk}
    assert ids("/collections/overdue", key="invoice") <= a_invoices
    assert ids("/collections/at-risk", key="contract") == {a["bomlo_contract"].pk, a["fjord_contract"].pk}
    # filtering by B's ids finds nothing
    assert ids("/reminders", invoice=b["late"].pk) == set()
    assert ids("/reminders", customer=b["bomlo"].pk) == set()
    assert ids("/invoice-holds", invoice=b["hold"].invoice_id) == set()
    assert ids("/invoice-holds", customer=b["tasta"].pk) == set()
    assert ids("/interest-charges", late_invoice=b["charge"].late_invoice_id) == set()
    assert ids("/interest-charges", customer=b["tasta"].pk) == set()
    assert ids("/incoming-payments", status="all", bank_import=b["import"].pk) == set()
    assert ids("/default-cases", customer=b["bomlo"].pk) == set()
    assert ids("/default-cases", contract=b["bomlo_contract"].pk) == set()
    assert ids("/collections/overdue", key="invoice", customer=b["bomlo"].pk) == set()
    # the sums are A's alone: the same book in each tenant, so B's would double them
    overview = api.get(f"{API}/collections/overview").json()
    assert (overview["overdue"], overview["unmatched_payments"], overview["open_default_cases"]) == (
        "57812.50",
        1,
        2,
    )


def test_a_bank_file_is_booked_in_the_keys_tenant_only(books):
    """The same file B imported: for A it is new (files are once per tenant), and books nothing of B's."""
    api, b = books["api"], books["b"]

    tenant_b = books["tenant_b"]
    data = camt054(
        account=tenant_b.bank_account,
        owner=tenant_b.name,
        day=ON,
        credits=[Credit(Decimal("2812.50"), b["unpaid"].kid, ON, "Fjord Data AS", "ISO-1")],
    )
    with tenant_context(tenant_b):
        bank.bank_file_import(actor=ACTOR, data=data, file_name="b.xml", on=ON)
    before_b = state(tenant_b)
    response = api.post(f"{API}/bank-imports?file_name=b.xml", data, content_type="application/xml")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["already_imported"] is False
    # B's invoice is not A's: the KID is A's invoice with the same number (the books are alike) or nobody's
    (payment,) = body["incoming_payments"]
    if payment["invoice"] is not None:
        with tenant_context(books["tenant_a"]):
            assert Invoice.objects.filter(pk=payment["invoice"]).exists()
    assert state(tenant_b) == before_b
    assert api.get(f"{API}/bank-imports/{body['id']}").status_code == 200


@pytest.mark.parametrize("pk", ["abc", "-1", "1e3", "99999999999999999999"])
def test_malformed_ids_are_404_on_every_route(books, pk):
    api = books["api"]
    for path in (
        f"/customers/{pk}/ledger",
        f"/reminders/{pk}",
        f"/reminders/{pk}/pdf",
        f"/invoice-holds/{pk}",
        f"/interest-charges/{pk}",
        f"/bank-imports/{pk}",
        f"/incoming-payments/{pk}",
        f"/default-cases/{pk}",
        f"/collection-policies/{pk}",
    ):
        response = api.get(f"{API}{path}")
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
    for path in (f"/invoice-holds/{pk}/release", f"/default-cases/{pk}/suspend", f"/incoming-payments/{pk}/match"):
        assert api.post(f"{API}{path}", {}, format="json").status_code == 404, path
