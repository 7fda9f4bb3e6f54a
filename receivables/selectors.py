"""Reads for the collections faces (back-office, portal, API): what is owed, how late, and one customer's
ledger. Fixed numbers of queries whatever the number of rows; everything from the tenant-scoped managers.
Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from billing.models import (
    PAYABLE,
    IncomingPayment,
    IncomingPaymentStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
)
from receivables.models import InterestCharge, InvoiceHold, Reminder

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)

REMINDER_KINDS = {
    "reminder": ("Betalingspåminnelse", "Payment reminder"),
    "warning": ("Skriftlig varsel (inkassovarsel)", "Written reminder (debt collection warning)"),
    "final": ("Siste varsel", "Final notice"),
}

# (key, first day past due, last day past due or None, Bokmål, English)
BUCKETS = (
    ("0_30", 1, 30, "1–30 dager", "1–30 days"),
    ("31_60", 31, 60, "31–60 dager", "31–60 days"),
    ("61_90", 61, 90, "61–90 dager", "61–90 days"),
    ("90_plus", 91, None, "Over 90 dager", "Over 90 days"),
)


def open_amount():
    return ExpressionWrapper(F("total") - F("credited_amount") - F("paid_amount"), output_field=MONEY)


def open_invoices() -> QuerySet[Invoice]:
    """Issued invoices (not credit notes) with something left to pay, annotated ``open_amount``."""
    return (
        Invoice.objects.filter(kind=InvoiceKind.INVOICE, status__in=PAYABLE)
        .annotate(open_amount=open_amount())
        .filter(open_amount__gt=0)
    )


def overdue_invoices(on: dt.date, bucket: str = "") -> QuerySet[Invoice]:
    """Open invoices past their due date on ``on`` (due 2026-04-19 → 1 day past due on 2026-04-20), oldest
    due first, annotated ``open_amount``, ``days_past_due`` and ``on_hold``; ``bucket`` one of BUCKETS' keys."""
    queryset = (
        open_invoices()
        .filter(due_date__lt=on)
        .annotate(
            on_hold=Count("holds", filter=Q(holds__released_on__isnull=True)),
        )
        .select_related("customer", "contract")
        .defer("document", "customer__registry")
        .order_by("due_date", "number", "id")
    )
    for key, first, last, _nb, _en in BUCKETS:
        if key == bucket:
            queryset = queryset.filter(due_date__lte=on - dt.timedelta(days=first))
            if last is not None:
                queryset = queryset.filter(due_date__gte=on - dt.timedelta(days=last))
    return queryset


def days_past_due(invoice: Invoice, on: dt.date) -> int:
    return max((on - invoice.due_date).days, 0) if invoice.due_date else 0


@dataclass(frozen=True)
class Bucket:
    key: str
    label_nb: str
    label_en: str
    count: int
    amount: Decimal  # in NOK; invoices in other currencies are counted in ``other_currencies``


@dataclass(frozen=True)
class Aging:
    on: dt.date
    buckets: tuple[Bucket, ...]
    outstanding: Decimal  # all open invoices, NOK
    not_due: Decimal
    overdue: Decimal
    overdue_count: int
    on_hold_count: int
    other_currencies: int  # open invoices not in NOK (not in the sums)


def aging(on: dt.date) -> Aging:
    """Open invoices by how late they are, in one query."""
    conditions = {}
    for key, first, last, _nb, _en in BUCKETS:
        condition = Q(due_date__lte=on - dt.timedelta(days=first))
        if last is not None:
            condition &= Q(due_date__gte=on - dt.timedelta(days=last))
        conditions[key] = condition
    nok = Q(currency="NOK")
    aggregates = {
        "outstanding": Coalesce(Sum("open_amount", filter=nok), ZERO, output_field=MONEY),
        "not_due": Coalesce(Sum("open_amount", filter=nok & Q(due_date__gte=on)), ZERO, output_field=MONEY),
        "other": Count("id", filter=~nok),
    }
    for key, condition in conditions.items():
        aggregates[f"n_{key}"] = Count("id", filter=condition)
        aggregates[f"a_{key}"] = Coalesce(Sum("open_amount", filter=condition & nok), ZERO, output_field=MONEY)
    row = open_invoices().aggregate(**aggregates)
    buckets = tuple(Bucket(key, nb, en, row[f"n_{key}"], row[f"a_{key}"]) for key, _first, _last, nb, en in BUCKETS)
    held = InvoiceHold.objects.filter(released_on__isnull=True, invoice__status__in=PAYABLE).count()
    return Aging(
        on=on,
        buckets=buckets,
        outstanding=row["outstanding"],
        not_due=row["not_due"],
        overdue=sum((b.amount for b in buckets), ZERO),
        overdue_count=sum(b.count for b in buckets),
        on_hold_count=held,
        other_currencies=row["other"],
    )


def unmatched_payments() -> QuerySet[IncomingPayment]:
    """The queue staff resolve: unmatched payments and matched ones with an unapplied surplus."""
    return (
        IncomingPayment.objects.filter(
            Q(status=IncomingPaymentStatus.UNMATCHED)
            | Q(
                status__in=[IncomingPaymentStatus.MATCHED, IncomingPaymentStatus.MATCHED_BY_STAFF],
                unapplied__gt=0,
            )
        )
        .select_related("bank_import", "invoice")
        .order_by("booked_on", "id")
    )


@dataclass(frozen=True)
class Outstanding:
    total: Decimal
    overdue: Decimal
    invoices: int
    overdue_invoices: int
    oldest_due: dt.date | None


def outstanding(customer_q: Q, on: dt.date) -> Outstanding:
    """What a customer (``customer_q`` over Invoice, e.g. ``billing.selectors.customer_family_q``) owes."""
    row = (
        open_invoices()
        .filter(customer_q)
        .aggregate(
            total=Coalesce(Sum("open_amount"), ZERO, output_field=MONEY),
            overdue=Coalesce(Sum("open_amount", filter=Q(due_date__lt=on)), ZERO, output_field=MONEY),
            n=Count("id"),
            n_overdue=Count("id", filter=Q(due_date__lt=on)),
        )
    )
    oldest = (
        open_invoices()
        .filter(customer_q, due_date__lt=on)
        .order_by("due_date")
        .values_list("due_date", flat=True)
        .first()
    )
    return Outstanding(row["total"], row["overdue"], row["n"], row["n_overdue"], oldest)


@dataclass(frozen=True)
class LedgerEntry:
    on: dt.date
    kind: str  # invoice | credit_note | payment | reminder | interest | hold | release
    text_nb: str
    text_en: str
    debit: Decimal = ZERO  # what the customer owes more
    credit: Decimal = ZERO  # what the customer owes less
    balance: Decimal = ZERO
    invoice_id: int | None = None
    invoice_number: int | None = None
    reminder_id: int | None = None

    def text(self, lang: str) -> str:
        return self.text_en if (lang or "nb").startswith("en") else self.text_nb


@dataclass(frozen=True)
class Ledger:
    entries: tuple[LedgerEntry, ...] = field(default_factory=tuple)
    balance: Decimal = ZERO


def _nb_date(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def customer_ledger(customer_q: Q, *, limit: int | None = None) -> Ledger:
    """One customer's invoices, credit notes, payments, reminders, interest and holds in date order, with the
    running balance (NOK amounts as invoiced). ``customer_q`` is over Invoice (``customer=…`` or the family).
    ``limit``: only the newest entries are returned (the balance is still the whole ledger's)."""
    rows: list[tuple[dt.date, int, int, LedgerEntry]] = []
    invoices = (
        Invoice.objects.filter(customer_q)
        .exclude(status=InvoiceStatus.DRAFT)
        .only("id", "kind", "number", "issue_date", "due_date", "total", "purpose", "credited_invoice_id", "reason")
    )
    for invoice in invoices:
        if invoice.kind == InvoiceKind.CREDIT_NOTE:
            entry = LedgerEntry(
                invoice.issue_date,
                "credit_note",
                f"Kreditnota {invoice.number}",
                f"Credit note {invoice.number}",
                credit=invoice.total,
                invoice_id=invoice.pk,
                invoice_number=invoice.number,
            )
        else:
            interest = invoice.purpose == "interest"
            entry = LedgerEntry(
                invoice.issue_date,
                "interest" if interest else "invoice",
                (f"Rentefaktura {invoice.number}" if interest else f"Faktura {invoice.number}")
                + (f", forfall {_nb_date(invoice.due_date)}" if invoice.due_date else ""),
                (f"Interest invoice {invoice.number}" if interest else f"Invoice {invoice.number}")
                + (f", due {invoice.due_date.isoformat()}" if invoice.due_date else ""),
                debit=invoice.total,
                invoice_id=invoice.pk,
                invoice_number=invoice.number,
            )
        rows.append((invoice.issue_date, 0, invoice.pk, entry))
    payments = (
        Payment.objects.filter(invoice__in=Invoice.objects.filter(customer_q))
        .select_related("invoice")
        .only("id", "amount", "paid_on", "reference", "invoice__id", "invoice__number")
    )
    for payment in payments:
        rows.append(
            (
                payment.paid_on,
                1,
                payment.pk,
                LedgerEntry(
                    payment.paid_on,
                    "payment",
                    f"Innbetaling til faktura {payment.invoice.number}",
                    f"Payment of invoice {payment.invoice.number}",
                    credit=payment.amount,
                    invoice_id=payment.invoice_id,
                    invoice_number=payment.invoice.number,
                ),
            )
        )
    reminders = Reminder.objects.filter(invoice__in=Invoice.objects.filter(customer_q)).select_related("invoice")
    for reminder in reminders:
        fee_nb = f", gebyr {reminder.fee} kr" if reminder.fee else ""
        fee_en = f", fee NOK {reminder.fee}" if reminder.fee else ""
        rows.append(
            (
                reminder.sent_on,
                2,
                reminder.pk,
                LedgerEntry(
                    reminder.sent_on,
                    "reminder",
                    f"{REMINDER_KINDS[reminder.kind][0]} for faktura {reminder.invoice.number}, betal innen "
                    f"{_nb_date(reminder.pay_by)}{fee_nb}",
                    f"{REMINDER_KINDS[reminder.kind][1]} for invoice {reminder.invoice.number}, pay by "
                    f"{reminder.pay_by.isoformat()}{fee_en}",
                    invoice_id=reminder.invoice_id,
                    invoice_number=reminder.invoice.number,
                    reminder_id=reminder.pk,
                ),
            )
        )
    holds = InvoiceHold.objects.filter(invoice__in=Invoice.objects.filter(customer_q)).select_related("invoice")
    for hold in holds:
        rows.append(
            (
                hold.held_on,
                3,
                hold.pk,
                LedgerEntry(
                    hold.held_on,
                    "hold",
                    f"Faktura {hold.invoice.number} satt på vent: {hold.reason}",
                    f"Invoice {hold.invoice.number} put on hold: {hold.reason}",
                    invoice_id=hold.invoice_id,
                    invoice_number=hold.invoice.number,
                ),
            )
        )
        if hold.released_on:
            rows.append(
                (
                    hold.released_on,
                    3,
                    hold.pk,
                    LedgerEntry(
                        hold.released_on,
                        "release",
                        f"Faktura {hold.invoice.number} ikke lenger på vent",
                        f"Invoice {hold.invoice.number} no longer on hold",
                        invoice_id=hold.invoice_id,
                        invoice_number=hold.invoice.number,
                    ),
                )
            )
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    balance = ZERO
    entries = []
    for _day, _order, _pk, entry in rows:
        balance += entry.debit - entry.credit
        entries.append(LedgerEntry(**{**entry.__dict__, "balance": balance}))
    if limit is not None:
        entries = entries[-limit:]
    return Ledger(entries=tuple(entries), balance=balance)


def interest_charges(customer_q: Q) -> QuerySet[InterestCharge]:
    return InterestCharge.objects.filter(late_invoice__in=Invoice.objects.filter(customer_q)).select_related(
        "late_invoice", "interest_invoice"
    )
