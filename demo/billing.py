"""Demo billing: the billing run, deliveries, payments and the overdue job, replayed day by day with the
contracts (called from :func:`demo.contracts.replay`), through the same services and jobs production runs.

Each vendor has a small billing story besides what the run invoices by itself: hours and expenses on
Piscator's contracts, Identum's support billed per started half hour, a partial credit note, and
customers who pay on time, late, in part or not at all.
Payments are registered on the replay step that reaches their date (with that date), before the overdue
job runs, so an invoice paid in time is never overdue. Idempotent: what is done is skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from billing import bank, jobs, run, services
from billing.models import (
    PAYABLE,
    BillingSettings,
    IncomingPayment,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    TimeEntry,
)
from catalog.models import HourlyService
from contracts import lifecycle, terms
from contracts.models import Contract
from fakes.bank import Credit, camt054
from tenants.audit import Actor
from tenants.tenancy import require_tenant

FINANCE = Actor.system("load_demo (finance)")
STAFF = Actor.system("load_demo (staff)")
PAYS_AFTER_DAYS = 18  # most customers pay 18 days after the invoice date (30 days net)
INTERVAL_MONTHS = {"month": 1, "quarter": 3, "year": 12}

# How each vendor's customers pay (customer org key → rule); everyone else pays PAYS_AFTER_DAYS after issue.
# "late": 20 days after the due date; "never": not at all; "partial": half on time, the rest 30 days after the
# due date; ("arrears", first, last, paid_on): invoices issued from first to last are paid on paid_on;
# ("stops", from): invoices issued from that day are not paid; ("one_late", first, last, days): invoices issued
# from first to last are paid ``days`` after their due date.
PAYERS: dict[str, dict[str, str | tuple]] = {
    "spekter": {},
    "standard-norge": {"nordvik": "late", "fjordbygg": "partial"},
    # Bømlo: two quarters unpaid over the 2024 year end; suspended in November, reopened on payment in February
    "piscator": {"bomlo": ("arrears", dt.date(2024, 9, 1), dt.date(2024, 12, 31), dt.date(2025, 2, 14))},
    "digireq": {
        "lillestrom": "late",
        "sikkerhet-ost": ("one_late", dt.date(2026, 5, 1), dt.date(2026, 5, 31), 50),  # paused at 45, reactivated
        "kvalitetshuset": ("stops", dt.date(2026, 8, 1)),  # paused 45 days after the first unpaid due date
    },
    "identum": {"vestland": "late"},
}

# Invoicing choices: DigiReq numbers credit notes in their own series, Identum's bank wants MOD11 KIDs.
SETTINGS: dict[str, dict] = {
    "digireq": {"credit_notes_own_series": True},
    "identum": {"kid_method": "mod11"},
}

Action = tuple[dt.date, str, Callable[[], object]]


def choose_settings(slug: str) -> None:
    """The vendor's invoicing choices, made before its first invoice (once)."""
    if SETTINGS.get(slug) and not BillingSettings.objects.exists():
        services.billing_settings_update(actor=FINANCE, **SETTINGS[slug])


def _contract(reference: str) -> Contract | None:
    return Contract.objects.filter(reference=reference).select_related("customer").first()


def hours(
    reference: str,
    on: dt.date,
    description: str,
    *,
    service: str,
    worked: str = "0",
    travel: str = "0",
    expenses: str = "0",
    expenses_for: str = "",
) -> Callable[[], object]:
    def act():
        contract = _contract(reference)
        if contract is None or TimeEntry.objects.filter(contract=contract, worked_on=on, description=description):
            return None
        return services.time_entry_create(
            actor=STAFF,
            contract=contract,
            service=HourlyService.objects.get(code=service),
            worked_on=on,
            description=description,
            hours=Decimal(worked),
            travel_hours=Decimal(travel),
            expenses=Decimal(expenses),
            expenses_description=expenses_for,
        )

    return act


def credit(reference: str, on: dt.date, issued_on: dt.date, net: str, reason: str) -> Callable[[], object]:
    """A partial credit note for the contract's invoice issued on ``issued_on``."""

    def act():
        invoice = Invoice.objects.filter(
            contract__reference=reference, kind=InvoiceKind.INVOICE, issue_date=issued_on
        ).first()
        if invoice is None or invoice.credit_notes.exists():
            return None
        return services.credit_note_create(actor=FINANCE, invoice=invoice, on=on, reason=reason, net_amount=net)

    return act


def story(slug: str, as_of: dt.date) -> list[Action]:
    d = dt.date
    if slug == "piscator":
        return [
            (
                d(2024, 4, 16),
                "hours",
                hours(
                    "PI-2024-001",
                    d(2024, 4, 16),
                    "Opplæring i mannskapsplanlegging om bord",
                    service="consulting",
                    worked="3",
                    travel="2",
                ),
            ),
            (
                d(2025, 2, 4),
                "hours",
                hours(
                    "PI-2024-002",
                    d(2025, 2, 4),
                    "Oppsett av lønnsarter for sjøfolk",
                    service="consulting",
                    worked="4.5",
                ),
            ),
            (
                d(2026, 9, 8),
                "hours",
                hours(
                    "PI-2024-001",
                    d(2026, 9, 8),
                    "Workshop om innrapportering av sjøtid, Ålesund",
                    service="consulting",
                    worked="6",
                    travel="3",
                    expenses="2480.00",
                    expenses_for="Reise etter statens satser (fly Bergen–Ålesund t/r)",
                ),
            ),
        ]
    if slug == "identum":
        return [
            (
                d(2026, 10, 14),
                "hours",
                hours(
                    "ID-2024-001",
                    d(2026, 10, 14),
                    "Feilsøking av SAML-pålogging for skoleadministrasjonen",
                    service="support",
                    worked="1.2",  # billed per started half hour: 1.5 h
                ),
            )
        ]
    if slug == "digireq":
        return [
            (
                d(2026, 3, 2),
                "credit",
                credit(
                    "DR-T-002",
                    d(2026, 3, 2),
                    d(2026, 2, 19),
                    "375.00",
                    "Fem brukere var deaktivert før perioden; kreditert etter avtale",
                ),
            )
        ]
    return []


def _payer_rules(slug: str) -> dict[int, str | tuple]:
    """Customer id → payment rule, from the keys in PAYERS."""
    from demo.contracts import _customer

    return {_customer(slug, key).pk: rule for key, rule in PAYERS.get(slug, {}).items()}


def _planned_payments(rule: str | tuple, invoice: Invoice) -> list[tuple[dt.date, Decimal]]:
    outstanding = invoice.total - invoice.credited_amount
    on_time = invoice.issue_date + dt.timedelta(days=PAYS_AFTER_DAYS)
    if isinstance(rule, tuple):
        kind, first, *rest = rule
        if kind == "stops":
            return [] if invoice.issue_date >= first else [(on_time, outstanding)]
        last, then = rest
        if first <= invoice.issue_date <= last:
            paid_on = then if kind == "arrears" else invoice.due_date + dt.timedelta(days=then)
            return [(paid_on, outstanding)]
        return [(on_time, outstanding)]
    if rule == "never":
        return []
    if rule == "late":
        return [(invoice.due_date + dt.timedelta(days=20), outstanding)]
    if rule in ("half", "partial"):
        half = (outstanding / 2).quantize(Decimal("0.01"))
        rest = [(invoice.due_date + dt.timedelta(days=30), outstanding - half)] if rule == "partial" else []
        return [(on_time, half), *rest]
    return [(on_time, outstanding)]


# A payment no invoice fits (no KID, an amount nothing is owed): it waits in the unmatched queue for staff.
STRAY_PAYMENTS: dict[str, list[tuple[dt.date, str, str, str]]] = {
    "piscator": [(dt.date(2025, 9, 15), "4321.00", "Havbruk Vest AS", "Innbetaling kurs, se e-post")],
}


def pay_due(slug: str, day: dt.date) -> int:
    """The payments planned on or before ``day`` (dated as planned), as the bank reports them: one camt.054
    file for the step, written by the fake bank and imported through the same service production uses
    (``billing.bank.bank_file_import``): booked by KID, a stray payment left for staff."""
    rules = _payer_rules(slug)
    open_invoices = (
        Invoice.objects.filter(kind=InvoiceKind.INVOICE, status__in=PAYABLE, issue_date__lte=day)
        .select_related("customer")
        .prefetch_related("payments")
        .order_by("pk")
    )
    credits = []
    for invoice in open_invoices:
        paid_before = {p.paid_on for p in invoice.payments.all()}
        outstanding = invoice.outstanding
        for paid_on, amount in _planned_payments(rules.get(invoice.customer_id, ""), invoice):
            if paid_on > day or paid_on in paid_before or amount <= 0:
                continue
            amount = min(amount, outstanding)
            if amount <= 0:
                continue
            outstanding -= amount
            credits.append(
                Credit(amount, invoice.kid, paid_on, invoice.customer.name, f"{slug}-{invoice.number}-{paid_on:%Y%m%d}")
            )
    known = set(IncomingPayment.objects.values_list("reference", flat=True))
    for paid_on, amount, payer, message in STRAY_PAYMENTS.get(slug, []):
        reference = f"{slug}-stray-{paid_on:%Y%m%d}"
        if paid_on <= day and reference not in known:
            credits.append(Credit(Decimal(amount), None, paid_on, payer, reference, message))
    if not credits:
        return 0
    tenant = require_tenant()
    data = camt054(account=tenant.bank_account, owner=tenant.name, day=day, credits=credits)
    bank.bank_file_import(actor=FINANCE, data=data, file_name=f"camt054-{day.isoformat()}.xml", on=day)
    return len(credits)


def billing_dates(after: dt.date, until: dt.date) -> set[dt.date]:
    """Days after ``after`` on which an invoice may fall due for the contracts as they are now: each
    period start of the contract's interval from its start, and each 1 January (Standard Norge)."""
    days: set[dt.date] = set()
    for year in range(after.year, until.year + 1):
        days.add(dt.date(year + 1, 1, 1))
    for contract in Contract.objects.filter(state__in=lifecycle.BILLABLE, start_date__isnull=False):
        months = INTERVAL_MONTHS.get(contract.interval, 12)
        n = 0
        while (day := terms.add_months(contract.start_date, n * months)) <= until:
            if day > after:
                days.add(day)
            n += 1
    return {day for day in days if after < day <= until}


def billing_day(slug: str, day: dt.date) -> None:
    """What production runs each night, in order: the billing run, payments (the bank file), the invoice
    jobs (delivery of what was issued, the overdue job), then collections (defaults, reminders, interest)."""
    from demo.collections import collections_day

    run.run_tenant(day)
    pay_due(slug, day)
    jobs.run_all(as_of=day, now=jobs.moment_for(day))
    collections_day(day)
    jobs.deliver(as_of=day, now=jobs.moment_for(day))  # the 5-minute delivery loop sends the interest invoices


def outstanding_summary() -> dict[str, int]:
    return {
        status: Invoice.objects.filter(status=status).count()
        for status in (InvoiceStatus.PAID, InvoiceStatus.PARTLY_PAID, InvoiceStatus.OVERDUE, InvoiceStatus.SENT)
    }
