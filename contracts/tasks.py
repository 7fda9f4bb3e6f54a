"""Celery tasks for the contract jobs: thin, per tenant, with an explicit ``as_of`` date."""

from __future__ import annotations

from celery import shared_task

from contracts import jobs
from tenants import tenancy
from tenants.jobs import for_each_tenant, parse_as_of
from tenants.models import Tenant


@shared_task(name="contracts.tasks.run_job")
def run_job(job: str, tenant_id: int, as_of: str | None = None) -> int:
    tenant = Tenant.objects.get(pk=tenant_id)
    with tenancy.tenant_context(tenant):
        return jobs.JOBS[job](parse_as_of(as_of))


@shared_task(name="contracts.tasks.run_all_jobs")
def run_all_jobs(as_of: str | None = None) -> dict:
    """Every contract job for every tenant, in order (beat runs this nightly)."""
    day = parse_as_of(as_of)
    return for_each_tenant(lambda tenant: jobs.run_all(day))
