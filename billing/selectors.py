"""Reads for the billing pages (back-office and portal): querysets with what they show, in a fixed number
of queries whatever the number of rows.

Everything starts from the tenant-scoped managers (``Model.objects``), so another tenant's rows are never
there. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from billing.models import (
    BillingRun,
    Delivery,
    Invoice,
    InvoiceFile,
    InvoiceStatus,
    Payment,
    TimeEntry,
    past_due_q,
)
from tenants.models import OWNER_KINDS, Customer


def _latest_delivery(field: str):
    return Subquery(Delivery.objects.filter(invoice=OuterRef("pk")).order_by("-created_at", "-id").values(field)[:1])


def invoices() -> QuerySet[Invoice]:
    """Invoices and credit notes with their customer, the invoice a credit note credits, and the status of
    the latest delivery (``delivery_status``; None when never sent). Newest first."""
    return (
        Invoice.objects.select_related("customer", "contract", "credited_invoice")
        .defer("document", "customer__registry")
        .annotate(delivery_status=_latest_delivery("status"), delivery_channel=_latest_delivery("channel"))
        .order_by("-issue_date", "-number", "-id")
    )


def filter_invoices(
    queryset: QuerySet[Invoice],
    *,
    status: str = "",
    kind: str = "",
    customer: str = "",
    customer_id: int | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    overdue: bool = False,
    number: int | None = None,
    today: dt.date | None = None,
) -> QuerySet[Invoice]:
    """The list's filters. ``period_from``/``period_to`` select invoices whose period overlaps the range
    (an invoice without a period by its issue date); ``overdue``: open and past the due date."""
    if status:
        queryset = queryset.filter(status=status)
    if kind:
        queryset = queryset.filter(kind=kind)
    if customer_id:
        queryset = queryset.filter(customer_id=customer_id)
    if customer:
        condition = Q(customer__name__icontains=customer)
        digits = customer.replace(" ", "")
        if digits.isdigit():
            condition |= Q(customer__org_number__contains=digits)
        queryset = queryset.filter(condition)
    if period_from:
        queryset = queryset.filter(
            Q(period_end__gte=period_from) | Q(period_end__isnull=True, issue_date__gte=period_from)
        )
    if period_to:
        queryset = queryset.filter(
            Q(period_start__lte=period_to) | Q(period_start__isnull=True, issue_date__lte=period_to)
        )
    if overdue:
        day = today or timezone.localdate()
        queryset = queryset.filter(past_due_q(day))
    if number is not None:
        queryset = queryset.filter(number=number)
    return queryset


def file_rows() -> QuerySet[InvoiceFile]:
    """Stored files without their content (the detail shows their SHA-256)."""
    return InvoiceFile.objects.defer("content").order_by("format", "language")


def invoice_details(queryset: QuerySet[Invoice] | None = None) -> QuerySet[Invoice]:
    """Everything an invoice's detail page shows, fetched in a fixed number of queries."""
    queryset = queryset if queryset is not None else Invoice.objects.all()
    return queryset.select_related("customer", "customer__parent", "contract", "credited_invoice").prefetch_related(
        "lines",
        Prefetch("payments", queryset=Payment.objects.order_by("paid_on", "id")),
        Prefetch("credit_notes", queryset=Invoice.objects.defer("document").order_by("issue_date", "number", "id")),
        Prefetch("deliveries", queryset=Delivery.objects.order_by("-created_at", "-id")),
        Prefetch("files", queryset=file_rows()),
    )


def customer_family_q(customer: Customer, field: str = "customer") -> Q:
    """The customer's own rows and, for a kommune or fylkeskommune, its schools' (the portal's scoping)."""
    own = Q(**{field: customer})
    if customer.kind in OWNER_KINDS:
        own |= Q(**{f"{field}__parent": customer})
    return own


def portal_invoices(customer: Customer) -> QuerySet[Invoice]:
    """What a portal user of ``customer`` sees: issued invoices and credit notes (never drafts)."""
    return (
        Invoice.objects.filter(customer_family_q(customer))
        .exclude(status=InvoiceStatus.DRAFT)
        .select_related("customer", "credited_invoice")
        .defer("document", "customer__registry")
        .order_by("-issue_date", "-number", "-id")
    )


def time_entries() -> QuerySet[TimeEntry]:
    return TimeEntry.objects.select_related("contract", "contract__customer", "service", "invoice").defer(
        "contract__customer__registry"
    )


def billing_runs() -> QuerySet[BillingRun]:
    return BillingRun.objects.order_by("-as_of", "-id")


def invoices_of_customer(customer: Customer, limit: int = 20) -> list[Invoice]:
    return list(invoices().filter(customer_family_q(customer))[:limit])


def invoices_of_contract(contract, limit: int = 20) -> list[Invoice]:
    return list(invoices().filter(contract=contract)[:limit])
