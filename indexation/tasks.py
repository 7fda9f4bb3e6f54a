"""Celery tasks for CPI indexation: thin, per tenant, with an explicit ``as_of`` date."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from indexation import services
from tenants import tenancy
from tenants.jobs import parse_as_of
from tenants.models import Tenant

log = logging.getLogger(__name__)


def run_all(day, *, dry_run: bool = False, tenant_slug: str | None = None) -> dict[str, services.RunReport]:
    """The run for every active tenant (or one); a tenant whose run fails is reported and the next goes on."""
    tenants = Tenant.objects.filter(is_active=True).order_by("pk")
    if tenant_slug:
        tenants = tenants.filter(slug=tenant_slug)
    reports = {}
    for tenant in tenants:
        with tenancy.tenant_context(tenant):
            try:
                reports[tenant.slug] = services.indexation_run(as_of=day, dry_run=dry_run)
            except Exception as error:  # one tenant's failure never stops another's
                log.exception("indexation run failed for %s on %s", tenant.slug, day)
                report = services.RunReport(day, dry_run=dry_run)
                report.errors.append(f"{error.__class__.__name__}: {error}")
                reports[tenant.slug] = report
    return reports


@shared_task(bind=True, name="indexation.tasks.indexation_run")
def indexation_run(self, as_of: str | None = None, tenant_slug: str | None = None) -> dict:
    """Nightly, before the contract jobs and the billing run: proposals, notices and the day's new prices.
    From beat (no tenant) one task per active tenant on the same queue, so tenants spread over the workers;
    without a broker (eager) the tenants run in turn, here."""
    day = parse_as_of(as_of)
    if tenant_slug is None and not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        queue = (self.request.delivery_info or {}).get("routing_key") or None
        slugs = Tenant.objects.filter(is_active=True).order_by("pk").values_list("slug", flat=True)
        return {"queued": {slug: indexation_run.apply_async((day.isoformat(), slug), queue=queue).id for slug in slugs}}
    return {slug: report.as_dict() for slug, report in run_all(day, tenant_slug=tenant_slug).items()}
