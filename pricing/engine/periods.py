"""Part periods: whole quarters including the started one, and by days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pricing.engine.explain import Explanation
from pricing.engine.money import D


def quarter_of(day: dt.date) -> int:
    return (day.month - 1) // 3 + 1


def quarters_left_in_year(day: dt.date) -> int:
    """Whole quarters from ``day``'s quarter to the end of the year, the started one included."""
    return 4 - quarter_of(day) + 1


def prorate_quarters(annual: Decimal, day: dt.date) -> tuple[Decimal, Explanation]:
    """The rest of the year in whole quarters incl. the started one (Standard Norge first year)."""
    quarters = quarters_left_in_year(day)
    return D(annual) * quarters / 4, Explanation.of(
        "quarters", quarters=quarters, annual_amount=D(annual), first_quarter=quarter_of(day), year=str(day.year)
    )


def prorate_days(
    full: Decimal, start: dt.date, end: dt.date, period_start: dt.date, period_end: dt.date
) -> tuple[Decimal, Explanation]:
    """``full`` × days in [start, end) / days in [period_start, period_end)."""
    days = (end - start).days
    period_days = (period_end - period_start).days
    if not (0 <= days <= period_days) or period_days <= 0:
        raise ValueError("The part period must lie inside the full period")
    return D(full) * days / period_days, Explanation.of("days", days=days, period_days=period_days, full_amount=D(full))
