"""Which billing periods are due on a date for a contract (issue 5, RULES §2–§6). Pure: dates in, periods out.

Three kinds of schedule cover the seed vendors:

* ``from_start``: periods of the billing interval anchored on the start date, invoiced in advance
  (Spekter yearly per term year; Piscator quarterly; DigiReq monthly or yearly from conversion;
  Identum monthly). ``billable_from`` holds the first invoice back until e.g. the DPA is in.
* ``calendar_year``: the first (signing) year billed in whole quarters including the started one,
  then every 1 January for the whole year (Standard Norge).

A period is due once its issue date has come, it has not been invoiced (it starts after
``invoiced_through``) and it starts before the contract's end.

Between periods: :func:`hours_cutoff` says which hours go on a supplementary invoice when no period invoice
is due (those before the current month), and :func:`rest_of_period_days` / :func:`rest_of_year_quarters`
measure what is left of an invoiced period from an amendment (by days, or in whole quarters) for its
supplementary charge or credit (see :mod:`billing.generator`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from contracts.terms import add_months

DAY = dt.timedelta(days=1)
INTERVAL_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class BillingPeriod:
    start: dt.date
    end: dt.date  # inclusive, as printed on the invoice
    issue_on: dt.date
    quarters: int | None = None  # for a part year billed in whole quarters: how many (of 4)

    @property
    def is_part_year(self) -> bool:
        return self.quarters is not None and self.quarters < 4


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def periods_from_start(
    start: dt.date, interval: str, *, until: dt.date, billable_from: dt.date | None = None
) -> list[BillingPeriod]:
    """Periods of ``interval`` from ``start`` whose issue date is on or before ``until``."""
    months = INTERVAL_MONTHS[interval]
    out = []
    n = 0
    while True:
        period_start = add_months(start, n * months)  # anchored on the start: the day of month is kept
        if period_start > until and (billable_from is None or period_start > billable_from):
            return out
        issue_on = max(period_start, billable_from or period_start)
        if issue_on > until:
            return out
        out.append(BillingPeriod(period_start, add_months(start, (n + 1) * months) - DAY, issue_on))
        n += 1


def periods_calendar_year(start: dt.date, *, until: dt.date) -> list[BillingPeriod]:
    """The rest of the signing year in whole quarters (incl. the started one), then each calendar year."""
    first_start = _quarter_start(start)
    quarters = 4 - (first_start.month - 1) // 3
    out = [BillingPeriod(first_start, dt.date(start.year, 12, 31), start, quarters=quarters)] if start <= until else []
    year = start.year + 1
    while dt.date(year, 1, 1) <= until:
        out.append(BillingPeriod(dt.date(year, 1, 1), dt.date(year, 12, 31), dt.date(year, 1, 1), quarters=4))
        year += 1
    return out


def due_periods(
    kind: str,
    *,
    start: dt.date,
    interval: str,
    on: dt.date,
    invoiced_through: dt.date | None = None,
    billable_from: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> list[BillingPeriod]:
    """Periods to invoice on ``on``: issue date reached, not yet invoiced, starting before the end (exclusive)."""
    if kind == "calendar_year":
        periods = periods_calendar_year(start, until=on)
    elif kind == "from_start":
        periods = periods_from_start(start, interval, until=on, billable_from=billable_from)
    else:
        raise ValueError(f"Unknown schedule kind {kind!r}")
    return [
        p
        for p in periods
        if (invoiced_through is None or p.start > invoiced_through) and (ends_on is None or p.start < ends_on)
    ]


# ---------------------------------------------------------------- hours and amendments between periods


def hours_cutoff(on: dt.date) -> dt.date:
    """The last day whose hours go on a supplementary invoice on ``on`` when no period invoice is due:
    the last day of the previous calendar month (so no hours wait more than about a month)."""
    return on.replace(day=1) - DAY


def rest_of_period_days(period_start: dt.date, period_end: dt.date, effective_from: dt.date) -> tuple[int, int]:
    """(days from ``effective_from`` to the period's end, days in the period); ends inclusive."""
    if not period_start <= effective_from <= period_end:
        raise ValueError("The change must take effect inside the period")
    return (period_end - effective_from).days + 1, (period_end - period_start).days + 1


def rest_of_year_quarters(effective_from: dt.date, *, started_included: bool = True) -> int:
    """Whole quarters left in the year from ``effective_from``: the started one included (a charge), or only
    those after it (a credit: the quarter in progress is paid)."""
    left = 4 - (effective_from.month - 1) // 3
    return left if started_included else left - 1
