"""The collections reads: age buckets at their edges, a customer's outstanding amount and ledger."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Q

from billing import services
from billing.models import Invoice, InvoiceKind, InvoiceStatus
from receivables import selectors
from receivables.models import InvoiceHold, Reminder
from tenants.audit import Actor
from tenants.tenancy import tenant_context
from tests.factories import CustomerFactory

ON = dt.date(2025, 6, 30)
ACTOR = Actor.system("test")


def _invoice(customer, number, due, total="1000.00", status=InvoiceStatus.SENT, currency="NOK"):
    return Invoice.objects.create(
        customer=customer,
        kind=InvoiceKind.INVOICE,
        status=status,
        series="invoice",
        number=number,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        total=Decimal(total),
        net=Decimal(total),
        currency=currency,
    )


@pytest.fixture
def book(tenant_a):
    with tenant_context(tenant_a):
        customer = CustomerFactory(name="Bømlo kommune")
        other = CustomerFactory(name="Tasta skole")
        invoices = {
            "not_due": _invoice(customer, 1, ON),  # due today: not past due
            "d1": _invoice(customer, 2, ON - dt.timedelta(days=1)),  # 1 day
            "d30": _invoice(customer, 3, ON - dt.timedelta(days=30), "200.00"),
            "d31": _invoice(customer, 4, ON - dt.timedelta(days=31), "300.00"),
            "d90": _invoice(other, 5, ON - dt.timedelta(days=90), "400.00"),
            "d91": _invoice(other, 6, ON - dt.timedelta(days=91), "500.00"),
            "paid": _invoice(other, 7, ON - dt.timedelta(days=200), status=InvoiceStatus.PAID),
            "eur": _invoice(other, 8, ON - dt.timedelta(days=10), currency="EUR"),
        }
        yield {"customer": customer, "other": other, "invoices": invoices}


def test_age_buckets_at_their_edges(book):
    aging = selectors.aging(ON)
    by_key = {b.key: b for b in aging.buckets}
    assert (by_key["0_30"].count, by_key["0_30"].amount) == (3, Decimal("1200.00"))  # 1 and 30 days, + EUR counted
    assert (by_key["31_60"].count, by_key["31_60"].amount) == (1, Decimal("300.00"))
    assert (by_key["61_90"].count, by_key["61_90"].amount) == (1, Decimal("400.00"))
    assert (by_key["90_plus"].count, by_key["90_plus"].amount) == (1, Decimal("500.00"))
    assert aging.not_due == Decimal("1000.00")
    assert aging.overdue == Decimal("2400.00")
    assert aging.outstanding == Decimal("3400.00")
    assert aging.other_currencies == 1


def test_overdue_list_filters_by_bucket_and_marks_holds(book):
    held = book["invoices"]["d31"]
    InvoiceHold.objects.create(invoice=held, reason="Disputed", held_on=ON, held_by="test")
    rows = list(selectors.overdue_invoices(ON, "31_60"))
    assert [r.number for r in rows] == [4]
    assert rows[0].on_hold == 1 and rows[0].open_amount == Decimal("300.00")
    assert [r.number for r in selectors.overdue_invoices(ON)] == [6, 5, 4, 3, 8, 2]
    assert selectors.aging(ON).on_hold_count == 1


def test_ledger_runs_a_balance_through_invoices_payments_and_reminders(book):
    customer = book["customer"]
    invoice = book["invoices"]["d31"]
    services.payment_register(actor=ACTOR, invoice=invoice, amount=Decimal("100.00"), paid_on=ON)
    Reminder.objects.create(
        invoice=invoice,
        customer=customer,
        step=1,
        kind="reminder",
        sent_on=ON,
        pay_by=ON + dt.timedelta(days=14),
        outstanding=Decimal("200.00"),
        fee=Decimal("35.00"),
    )
    ledger = selectors.customer_ledger(Q(customer=customer))
    kinds = [e.kind for e in ledger.entries]
    assert kinds.count("invoice") == 4 and "payment" in kinds and "reminder" in kinds
    assert ledger.balance == Decimal("2400.00")  # 1000 + 1000 + 200 + 300 − 100
    assert ledger.entries[-1].balance == ledger.balance
    reminder = next(e for e in ledger.entries if e.kind == "reminder")
    assert "gebyr 35.00" in reminder.text_nb and "fee NOK 35.00" in reminder.text_en
    owed = selectors.outstanding(Q(customer=customer), ON)
    assert owed.total == Decimal("2400.00") and owed.overdue == Decimal("1400.00") and owed.overdue_invoices == 3
    assert owed.oldest_due == ON - dt.timedelta(days=31)


def test_another_tenant_sees_nothing(book, tenant_b):
    with tenant_context(tenant_b):
        assert selectors.aging(ON).outstanding == 0
        assert selectors.customer_ledger(Q(customer_id=book["customer"].pk)).entries == ()
