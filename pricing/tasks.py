"""Celery tasks for pricing: thin, with an explicit ``as_of`` date (beat passes none: today in Oslo).

Index series and values are public figures shared by every tenant, so the fetch runs without a tenant.
"""

from __future__ import annotations

from celery import shared_task

from pricing.index_services import index_fetch
from tenants.jobs import parse_as_of

#: The monthly job reads SSB's latest year: a month missed while SSB was down, or one SSB revised, is
#: picked up the next month. A longer gap is filled with ``manage.py index_fetch`` (no ``--months``).
MONTHLY_MONTHS = 12


@shared_task(name="pricing.tasks.index_fetch_task")
def index_fetch_task(as_of: str | None = None, months: int | None = MONTHLY_MONTHS) -> dict:
    """Fetch the CPI series from SSB (``pricing.index_services.index_fetch``); the report as JSON."""
    return index_fetch(as_of=parse_as_of(as_of), months=months).as_dict()
