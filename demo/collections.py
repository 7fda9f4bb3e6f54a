"""Demo collections: each vendor's collection rules, and the nightly collections job replayed on the days it
has something to do (reminders, notices, suspensions, pauses, interest invoices), through the same job
production runs (:func:`receivables.jobs.collections_run`).

The payments that make the stories are in ``demo/billing.py`` (PAYERS): Bømlo (Piscator) leaves two
quarterly invoices unpaid over the 2024 year end, is suspended and reopened when it pays in February 2025,
and is invoiced the SSA-L interest compounded on 31 December; Sikkerhet Øst (DigiReq) pays one invoice 50
days late, is paused at 45 days and reactivated on payment; Kvalitetshuset (DigiReq) stops paying in
autumn 2026 and is paused 45 days after the due date.
"""

from __future__ import annotations

import datetime as dt

from billing.models import PAYABLE, Invoice, InvoiceKind
from receivables import services
from receivables.jobs import collections_run
from receivables.models import CollectionPolicy, DefaultCase, DefaultStatus, InterestInvoicing, Reminder
from receivables.presets import PRESETS
from tenants.audit import Actor

FINANCE = Actor.system("load_demo (finance)")
# Days after a due date on which something may happen: the first reminder (14), the next steps (their pay-by
# dates + 1 are added from the reminders sent), the Piscator notice (14), material breach (31), the pause (45).
AFTER_DUE = (1, 14, 15, 29, 30, 31, 44, 45, 46)


def load_collection_policy(slug: str) -> CollectionPolicy | None:
    """The vendor's default collection rules (once)."""
    if slug not in PRESETS:
        return None
    found = CollectionPolicy.objects.filter(plan__isnull=True).first()
    if found is not None:
        return found
    return services.collection_policy_create(actor=FINANCE, **PRESETS[slug])


def collections_day(day: dt.date) -> None:
    report = collections_run(on=day)
    if report.errors:  # the demo must replay cleanly; a failure here is a bug to fix, not to skip
        raise RuntimeError(f"collections on {day}: {report.errors}")


def collections_dates(after: dt.date, until: dt.date) -> set[dt.date]:
    """Days after ``after`` (up to ``until``) on which the collections job has something to do for the
    invoices, reminders and default cases as they are now."""
    days: set[dt.date] = set()
    for due in (
        Invoice.objects.filter(kind=InvoiceKind.INVOICE, status__in=PAYABLE, due_date__isnull=False)
        .values_list("due_date", flat=True)
        .distinct()
    ):
        days.update(due + dt.timedelta(days=n) for n in AFTER_DUE)
    for pay_by in Reminder.objects.filter(invoice__status__in=PAYABLE).values_list("pay_by", flat=True).distinct():
        days.update((pay_by + dt.timedelta(days=1), pay_by + dt.timedelta(days=2)))
    for stop_on in DefaultCase.objects.exclude(status=DefaultStatus.CLOSED).values_list("stop_on", flat=True):
        if stop_on:
            days.add(stop_on)
    if CollectionPolicy.objects.filter(interest_invoicing=InterestInvoicing.MONTHLY).exists():
        month = dt.date(after.year, after.month, 1)
        while month <= until:
            month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
            days.add(month)
    return {day for day in days if after < day <= until}
