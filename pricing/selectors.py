"""Reads for pages and the API."""

from __future__ import annotations

import datetime as dt

from pricing.models import Plan, PlanVersion


def plan_version_in_force(plan: Plan, on: dt.date) -> PlanVersion | None:
    """The version whose ``valid_from`` is the latest on or before ``on``."""
    return plan.versions.filter(valid_from__lte=on).order_by("-valid_from").first()


def plans_with_current_version(on: dt.date) -> list[tuple[Plan, PlanVersion | None]]:
    plans = list(Plan.objects.select_related("product").order_by("code"))
    versions: dict[int, PlanVersion] = {}
    for version in PlanVersion.objects.filter(valid_from__lte=on).order_by("plan_id", "-valid_from"):
        versions.setdefault(version.plan_id, version)
    return [(plan, versions.get(plan.pk)) for plan in plans]
