"""Running work per tenant, for Celery tasks and management commands alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.utils import timezone

from tenants import tenancy
from tenants.models import Tenant

OSLO = ZoneInfo("Europe/Oslo")


def business_today() -> dt.date:
    """Today's business date in Europe/Oslo. Only the edges (beat, commands) call this."""
    return timezone.now().astimezone(OSLO).date()


def parse_as_of(value: str | dt.date | None) -> dt.date:
    if value is None or value == "":
        return business_today()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def for_each_tenant(work: Callable[[Tenant], object]) -> dict[str, object]:
    """Run ``work`` once per active tenant, each inside its own tenant context."""
    results = {}
    for tenant in Tenant.objects.filter(is_active=True).order_by("pk"):
        with tenancy.tenant_context(tenant):
            results[tenant.slug] = work(tenant)
    return results
