"""The nightly invoice jobs besides the billing run (``billing/run.py``), for one tenant and one date.

Each is idempotent: a second run for the same date changes nothing. Celery tasks (``billing/tasks.py``)
and ``manage.py billing_jobs`` / ``manage.py deliver_invoices`` call these.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from billing.delivery import deliveries_enqueue, deliveries_send_due
from billing.models import Invoice, InvoiceStatus, past_due_q
from tenants import audit
from tenants.audit import Actor
from tenants.jobs import OSLO, business_today

CHUNK = 500


def invoices_mark_overdue(*, as_of: dt.date) -> int:
    """Invoices whose due date has passed (due 2026-04-19 → overdue from 2026-04-20) with something
    outstanding become ``overdue``; the count. A payment later moves one to partly paid or paid."""
    actor = Actor.job(f"invoices_mark_overdue {as_of.isoformat()}")
    count = 0
    while True:
        with transaction.atomic():
            late = list(
                Invoice.objects.select_for_update()
                .filter(past_due_q(as_of))
                .exclude(status=InvoiceStatus.OVERDUE)
                .order_by("pk")[:CHUNK]
            )
            if not late:
                return count
            # Only ``status`` is written (a queryset update): the database refuses other changes once issued.
            Invoice.objects.filter(pk__in=[i.pk for i in late]).update(status=InvoiceStatus.OVERDUE)
            for invoice in late:
                audit.record(
                    actor,
                    "invoice.overdue",
                    invoice,
                    before={"status": invoice.status},
                    after={"status": InvoiceStatus.OVERDUE},
                    extra={"due_date": invoice.due_date, "outstanding": invoice.outstanding},
                )
            count += len(late)


def moment_for(as_of: dt.date) -> dt.datetime:
    """The moment the send step of a job for ``as_of`` acts at: now for today (or later), the end of that
    business day when a past date is replayed (the demo), so retry times stay within the replayed day."""
    if as_of >= business_today():
        return timezone.now()
    return dt.datetime.combine(as_of, dt.time(23, 59), tzinfo=OSLO)


def deliver(*, as_of: dt.date, now: dt.datetime) -> dict[str, int]:
    """Queue every issued invoice and credit note not yet delivered, then send what is due."""
    return {"enqueued": deliveries_enqueue(on=as_of), **deliveries_send_due(now=now)}


JOBS = {
    "overdue": lambda as_of, now: invoices_mark_overdue(as_of=as_of),
    "deliver": lambda as_of, now: deliver(as_of=as_of, now=now),
}
ORDER = ("deliver", "overdue")


def run_all(*, as_of: dt.date, now: dt.datetime) -> dict[str, object]:
    return {name: JOBS[name](as_of, now) for name in ORDER}
