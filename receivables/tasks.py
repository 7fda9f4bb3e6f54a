"""Celery tasks for collections: thin, per tenant, with an explicit ``as_of`` date."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from receivables.jobs import CollectionsReport, collections_run
from tenants.jobs import for_each_tenant, parse_as_of
from tenants.models import Tenant

log = logging.getLogger(__name__)


def run_all(day, *, dry_run: bool = False, tenant_slug: str | None = None) -> dict[str, CollectionsReport]:
    """The job for every active tenant (or one); a tenant whose job fails is reported, the next goes on."""

    def failed(error: Exception) -> CollectionsReport:
        report = CollectionsReport(day, dry_run=dry_run)
        report.errors.append(f"{error.__class__.__name__}: {error}")
        return report

    return for_each_tenant(
        lambda _tenant: collections_run(on=day, dry_run=dry_run), tenant_slug=tenant_slug, on_error=failed
    )


@shared_task(bind=True, name="receivables.tasks.collections_run")
def collections_run_task(self, as_of: str | None = None, tenant_slug: str | None = None) -> dict:
    """Nightly, after the bank file is imported and invoices are marked overdue. From beat (no tenant) one
    task per active tenant, so tenants spread over the workers; eagerly (no broker) the tenants in turn."""
    day = parse_as_of(as_of)
    if tenant_slug is None and not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        queue = (self.request.delivery_info or {}).get("routing_key") or None
        slugs = Tenant.objects.filter(is_active=True).order_by("pk").values_list("slug", flat=True)
        return {
            "queued": {
                slug: collections_run_task.apply_async((day.isoformat(), slug), queue=queue).id for slug in slugs
            }
        }
    return {slug: report.as_dict() for slug, report in run_all(day, tenant_slug=tenant_slug).items()}
