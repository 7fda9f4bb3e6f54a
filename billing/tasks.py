"""Celery task for the billing run: thin, with an explicit ``as_of`` date (beat runs it nightly)."""

from __future__ import annotations

from celery import shared_task

from billing import run
from tenants.jobs import parse_as_of


@shared_task(name="billing.tasks.billing_run")
def billing_run(as_of: str | None = None, tenant_slug: str | None = None) -> dict:
    day = parse_as_of(as_of)
    return {r.tenant: {"contracts": r.contracts, "invoices": r.invoices} for r in run.run(day, tenant_slug=tenant_slug)}
