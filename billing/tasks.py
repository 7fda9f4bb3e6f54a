"""Celery tasks for billing: thin, with an explicit ``as_of`` date (beat passes none: today in Oslo)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from billing import delivery, jobs, run
from tenants.jobs import for_each_tenant, parse_as_of
from tenants.models import Tenant


@shared_task(bind=True, name="billing.tasks.billing_run")
def billing_run(self, as_of: str | None = None, tenant_slug: str | None = None) -> dict:
    """The billing run for one tenant, or (beat: no tenant) one task per active tenant on the same queue,
    so the tenants' runs spread over the workers (bench/billing_run.py: 100 000 contracts in 52 s on two
    workers). Without a broker (eager) the tenants run in turn, here, and their results are returned."""
    day = parse_as_of(as_of)
    if tenant_slug is None and not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        queue = (self.request.delivery_info or {}).get("routing_key") or None
        slugs = Tenant.objects.filter(is_active=True).order_by("pk").values_list("slug", flat=True)
        return {"queued": {slug: billing_run.apply_async((day.isoformat(), slug), queue=queue).id for slug in slugs}}
    return {r.tenant: {"contracts": r.contracts, "invoices": r.invoices} for r in run.run(day, tenant_slug=tenant_slug)}


@shared_task(name="billing.tasks.deliver_invoices")
def deliver_invoices(as_of: str | None = None) -> dict:
    """Queue every issued invoice and credit note not yet delivered, and send what is due, per tenant."""
    day = parse_as_of(as_of)
    now = jobs.moment_for(day)
    return for_each_tenant(lambda tenant: jobs.deliver(as_of=day, now=now))


@shared_task(name="billing.tasks.deliveries_send_due")
def deliveries_send_due(now: str | None = None) -> dict:
    """Send the deliveries due at ``now`` (ISO date-time; default the clock): the retries between runs."""
    moment = dt.datetime.fromisoformat(now) if now else timezone.now()
    if timezone.is_naive(moment):
        raise ValueError("Give now with its UTC offset, e.g. 2026-04-20T03:30:00+02:00")
    return for_each_tenant(lambda tenant: delivery.deliveries_send_due(now=moment))


@shared_task(name="billing.tasks.invoices_mark_overdue")
def invoices_mark_overdue(as_of: str | None = None) -> dict:
    day = parse_as_of(as_of)
    return for_each_tenant(lambda tenant: jobs.invoices_mark_overdue(as_of=day))
