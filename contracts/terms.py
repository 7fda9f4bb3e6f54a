"""The rules of contract time, as plain functions of dates (RULES §2–§6, §9). No Django, no clock.

Conventions (RULES §9): a term of N months from S ends, exclusive, at S + N months, clamped to
the month's last day; notice of P before expiry is on time if received no later than
``end − P − 1 day``; a late notice takes effect at the end of the next renewal period.
Business days exclude weekends and Norwegian public holidays.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import holidays

DAY = dt.timedelta(days=1)


# ---------------------------------------------------------------- periods and calendar


@dataclass(frozen=True)
class Period:
    """A length of time: months (calendar, clamped), weeks and days."""

    months: int = 0
    weeks: int = 0
    days: int = 0

    def after(self, day: dt.date) -> dt.date:
        return add_months(day, self.months) + dt.timedelta(weeks=self.weeks, days=self.days)

    def before(self, day: dt.date) -> dt.date:
        return add_months(day, -self.months) - dt.timedelta(weeks=self.weeks, days=self.days)

    @property
    def is_zero(self) -> bool:
        return not (self.months or self.weeks or self.days)


def months(n: int) -> Period:
    return Period(months=n)


def days(n: int) -> Period:
    return Period(days=n)


def weeks(n: int) -> Period:
    return Period(weeks=n)


def add_months(day: dt.date, n: int) -> dt.date:
    """``day`` + ``n`` months, clamped to the last day of the target month (2026-01-31 + 1 → 2026-02-28)."""
    index = day.year * 12 + (day.month - 1) + n
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@lru_cache(maxsize=64)
def _norwegian_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.Norway(years=year).keys())


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _norwegian_holidays(day.year)


def first_business_day_on_or_after(day: dt.date) -> dt.date:
    while not is_business_day(day):
        day += DAY
    return day


def add_business_days(day: dt.date, n: int) -> dt.date:
    """The ``n``-th business day after ``day`` (``day`` itself not counted)."""
    count = 0
    while count < n:
        day += DAY
        if is_business_day(day):
            count += 1
    return day


# ---------------------------------------------------------------- terms, notice, renewal


@dataclass(frozen=True)
class Terms:
    """A contract's time rules as data.

    ``start_rule``: "on_receipt" (the date the signed contract is received), "after_signing"
    (``start_offset`` after signing), or "on_date" (a date given in the contract).
    ``renewal_term`` None: the contract does not renew by itself.
    ``acceptance`` then ordinary operation from the first business day after it ends
    (``ordinary_on_business_day``) or the day after.
    """

    initial_term: Period
    notice: Period
    renewal_term: Period | None = None
    binding: Period | None = None
    start_rule: str = "on_receipt"
    start_offset: Period = Period()
    acceptance: Period | None = None
    ordinary_on_business_day: bool = True


SPEKTER = Terms(initial_term=months(12), renewal_term=months(12), notice=months(3), start_rule="on_receipt")
PISCATOR = Terms(
    initial_term=months(12),
    renewal_term=months(12),
    notice=months(6),
    start_rule="after_signing",
    start_offset=weeks(2),
    acceptance=days(14),
)
DIGIREQ_ANNUAL = Terms(
    initial_term=months(12), renewal_term=months(12), notice=days(30), binding=months(12), start_rule="on_date"
)
DIGIREQ_MONTHLY = Terms(initial_term=months(1), renewal_term=months(1), notice=days(0), start_rule="on_date")
IDENTUM = Terms(
    initial_term=months(12),
    renewal_term=months(12),
    notice=months(3),
    start_rule="on_date",
    acceptance=days(30),
    ordinary_on_business_day=False,
)


def start_date(
    terms: Terms,
    *,
    signed_on: dt.date | None = None,
    received_on: dt.date | None = None,
    agreed_start: dt.date | None = None,
) -> dt.date:
    """When the term starts under ``terms.start_rule``."""
    if terms.start_rule == "on_receipt":
        if received_on is None:
            raise ValueError("The term starts when the signed contract is received: give that date")
        return received_on
    if terms.start_rule == "after_signing":
        if signed_on is None:
            raise ValueError("The term starts a fixed time after signing: give the signing date")
        return terms.start_offset.after(signed_on)
    if agreed_start is None:
        raise ValueError("Give the agreed start date")
    return agreed_start


@dataclass(frozen=True)
class Acceptance:
    starts: dt.date
    ends: dt.date  # exclusive
    ordinary_from: dt.date


def acceptance_period(terms: Terms, start: dt.date) -> Acceptance | None:
    """The acceptance (godkjennings-) period from ``start``, and when ordinary operation begins."""
    if terms.acceptance is None:
        return None
    ends = terms.acceptance.after(start)
    ordinary = first_business_day_on_or_after(ends) if terms.ordinary_on_business_day else ends
    return Acceptance(start, ends, ordinary)


def term_end(start: dt.date, period: Period) -> dt.date:
    """Exclusive end of a term of ``period`` from ``start``."""
    return period.after(start)


NOTICE_REMINDER_DAYS = 30  # customer and vendor are reminded this many days before the last day for notice


def notice_reminder_date(deadline: dt.date) -> dt.date:
    """When the reminder before the last day for notice is due."""
    return deadline - dt.timedelta(days=NOTICE_REMINDER_DAYS)


def notice_deadline(end: dt.date, notice: Period) -> dt.date:
    """The last day a notice can be received to end the term at ``end``: ``end − notice − 1 day``."""
    return notice.before(end) - DAY


def nth_term_end(terms: Terms, start: dt.date, n: int) -> dt.date:
    """Exclusive end of term ``n`` (0 = the initial term, 1 = the first renewal, ...).

    Month-based terms count from the original start, so renewals keep its day of month and a
    clamped February does not shift later terms (2026-01-31 → 02-28 → 03-31).
    """
    renewal = terms.renewal_term
    if n and renewal is None:
        raise ValueError("This contract does not renew")
    if not (terms.initial_term.weeks or terms.initial_term.days) and (n == 0 or not (renewal.weeks or renewal.days)):
        return add_months(start, terms.initial_term.months + (renewal.months * n if n else 0))
    end = terms.initial_term.after(start)
    for _ in range(n):
        end = renewal.after(end)
    return end


def current_term(terms: Terms, start: dt.date, on: dt.date) -> tuple[int, dt.date, dt.date]:
    """(index, start, exclusive end) of the term running on ``on`` (the last one if it has ended)."""
    n, term_start = 0, start
    while True:
        end = nth_term_end(terms, start, n)
        if on < end or terms.renewal_term is None:
            return n, term_start, end
        n, term_start = n + 1, end


@dataclass(frozen=True)
class NoticeEffect:
    received_on: dt.date
    ends_on: dt.date  # exclusive: the contract runs up to this date
    deadline: dt.date  # the last day for notice that would have ended the running term
    late: bool


def notice_effect(terms: Terms, start: dt.date, received_on: dt.date) -> NoticeEffect:
    """What a notice received on ``received_on`` does (RULES §9).

    On or before the deadline it ends the running term; after it, the contract runs to the end
    of the next renewal period — which the product says at the moment the notice is given.
    """
    n, _term_start, end = current_term(terms, start, received_on)
    deadline = notice_deadline(end, terms.notice)
    if received_on <= deadline or terms.renewal_term is None:
        return NoticeEffect(received_on, end, deadline, late=False)
    return NoticeEffect(received_on, nth_term_end(terms, start, n + 1), deadline, late=True)


def paid_through(period_start: dt.date, cancelled_on: dt.date, period: Period) -> dt.date:
    """Monthly plans: a cancellation takes effect at the end of the paid period that contains it.

    Returns the last day with access (inclusive). No refund and no further period.
    """
    n = 0
    while True:
        end = add_months(period_start, (n + 1) * period.months) if period.months else period.after(period_start)
        if cancelled_on < end:
            return end - DAY
        n += 1


# ---------------------------------------------------------------- trials and pauses (DigiReq)


@dataclass(frozen=True)
class TrialRules:
    length: Period = days(14)
    extension: Period = days(7)
    max_extensions: int = 3
    retention_days: int = 90
    notices_days_left: tuple[int, ...] = (60, 30, 7)


DIGIREQ_TRIAL = TrialRules()


class TrialExtensionRefused(ValueError):
    pass


def trial_end(signed_up: dt.date, extensions: int, rules: TrialRules = DIGIREQ_TRIAL) -> dt.date:
    """The day the trial ends (and an unconfirmed account is paused): sign-up + length + extensions."""
    if extensions < 0:
        raise ValueError("extensions cannot be negative")
    if extensions > rules.max_extensions:
        raise TrialExtensionRefused(
            f"A trial can be extended at most {rules.max_extensions} times; this would be extension {extensions}."
        )
    end = rules.length.after(signed_up)
    for _ in range(extensions):
        end = rules.extension.after(end)
    return end


@dataclass(frozen=True)
class PauseTimeline:
    paused_on: dt.date
    deletion_on: dt.date
    notices: tuple[tuple[dt.date, str], ...]  # (date, kind): "paused", "60_days_left", ...

    def due(self, on: dt.date) -> list[str]:
        return [kind for day, kind in self.notices if day == on]


def pause_timeline(paused_on: dt.date, rules: TrialRules = DIGIREQ_TRIAL) -> PauseTimeline:
    """Data kept ``retention_days`` from the pause; notices at the pause and with 60, 30 and 7 days left."""
    deletion = paused_on + dt.timedelta(days=rules.retention_days)
    notices = [(paused_on, "paused")]
    notices += [(deletion - dt.timedelta(days=n), f"{n}_days_left") for n in rules.notices_days_left]
    return PauseTimeline(paused_on, deletion, tuple(notices))
