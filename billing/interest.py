"""Late-payment interest (forsinkelsesrente, RULES §8): pure — a claim, dates and a rate table in, interest out.

Conventions fixed here:

* **Rates** are statutory, per half-year, from 1 January and 1 July (Norges Bank's policy rate + 8 points).
  :class:`RateTable` holds them as data; :func:`parse_rates` reads the CSV ``from_date,rate_percent,source``
  (``billing/data/forsinkelsesrente.csv``; :mod:`billing.interest_rates` loads it). A :class:`Rate` keeps the
  rate as a **fraction** (12.5 % → ``Decimal("0.125")``, as :func:`pricing.engine.money.format_percent` expects);
  ``rate_percent`` gives the percent back. The table has no gaps: each row starts the half-year after the
  previous one, and the last row is valid to the end of its half-year — there is no rate after that.
* **Days**: interest runs for each day after the due date up to and including the payment date
  (``paid_on``: the day of the final payment, or the statement date for a claim still open):
  ``principal × rate × days / 365``, split at rate changes. The divisor is 365 also in a leap year
  (a whole leap year of interest is 366/365 of the yearly rate).
* **SSA-L** (``compound_yearly=True``): interest accrued by 31 December and not paid is added to the principal
  from 1 January and bears interest from then on.
* **Partial payments** ``(date, amount)`` reduce the claim from the day after their date (the payment day
  itself still bears interest on the old balance). A payment covers the interest accrued by its date first
  and the principal after (``apply_payments="interest_first"``, the default). No statute fixes the order for a
  voluntary payment: the debtor may say which debt it pays, and when he does not the creditor chooses
  (Lovavdelingen 19.08.1999, «Avdrag innbetalt i inkassosak», citing Krüger, Pengekrav); the creditor's choice
  in practice is «renter og kostnader før hovedstol». A debtor who said the payment is for the principal is
  ``apply_payments="principal_first"``. What a payment leaves over after interest and principal is
  ``unapplied``.
* **Rounding**: all arithmetic is exact; every amount that is settled or shown as a result (the interest a
  payment covers, the interest added to the principal on 1 January, the total) is the exact cumulative
  interest rounded once, half up to the øre, by :func:`pricing.engine.money.round_money`, less what was
  settled before — so rounding never accumulates. Each period keeps its exact amount.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from pricing.engine.money import ZERO, D, format_amount, format_percent, round_money

DAY = dt.timedelta(days=1)
DAYS_PER_YEAR = 365  # also in leap years (RULES §8)
HUNDRED = Decimal(100)
NIL = Decimal("0.00")  # a zero amount in øre
HEADER = ("from_date", "rate_percent", "source")
APPLY_ORDERS = ("interest_first", "principal_first")


class RateTableError(ValueError):
    """A rate table that cannot be used; ``line`` is the 1-based line of the CSV text (0 when not from text)."""

    def __init__(self, message: str, line: int = 0):
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


class RateMissing(ValueError):
    """No statutory rate is known for a day the interest has to run (before the table or after its end)."""


@dataclass(frozen=True)
class Rate:
    from_date: dt.date
    rate: Decimal  # a fraction: 0.125 for 12.5 %
    source: str = ""
    line: int = 0  # where it came from in the CSV, for error messages

    @property
    def rate_percent(self) -> Decimal:
        return self.rate * HUNDRED


def half_year_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 1 if day.month < 7 else 7, 1)


def next_half_year(day: dt.date) -> dt.date:
    """The first day of the half-year after the one ``day`` is in."""
    return dt.date(day.year, 7, 1) if day.month < 7 else dt.date(day.year + 1, 1, 1)


@dataclass(frozen=True)
class RateTable:
    rows: tuple[Rate, ...]

    def __post_init__(self):
        rows = tuple(sorted(self.rows, key=lambda r: r.from_date))
        if not rows:
            raise RateTableError("the rate table is empty")
        for row in rows:
            if row.from_date != half_year_start(row.from_date):
                raise RateTableError(f"{row.from_date} is not 1 January or 1 July", row.line)
            if row.rate < 0:
                raise RateTableError(f"negative rate {row.rate_percent} % from {row.from_date}", row.line)
        for prev, row in zip(rows, rows[1:], strict=False):
            if row.from_date == prev.from_date:
                raise RateTableError(f"{row.from_date} is given twice (also line {prev.line})", row.line)
            if row.from_date != next_half_year(prev.from_date):
                raise RateTableError(
                    f"gap: {row.from_date} follows {prev.from_date} (line {prev.line}); "
                    f"the rate from {next_half_year(prev.from_date)} is missing",
                    row.line,
                )
        object.__setattr__(self, "rows", rows)

    @property
    def starts(self) -> dt.date:
        return self.rows[0].from_date

    @property
    def ends(self) -> dt.date:
        """The first day with no known rate (the end of the last row's half-year)."""
        return next_half_year(self.rows[-1].from_date)

    def rate_on(self, day: dt.date) -> Rate:
        if day < self.starts:
            raise RateMissing(f"no late-payment interest rate before {self.starts} (asked for {day})")
        if day >= self.ends:
            raise RateMissing(f"no late-payment interest rate from {self.ends} (asked for {day}); add the new rate")
        found = self.rows[0]
        for row in self.rows:
            if row.from_date > day:
                break
            found = row
        return found

    def changes_between(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """Dates after ``first`` up to and including ``last`` from which a (possibly equal) rate applies."""
        return [r.from_date for r in self.rows if first < r.from_date <= last]


def parse_rates(text: str) -> RateTable:
    """The CSV ``from_date,rate_percent,source`` (header first; rates in percent with a dot) → a table.

    Refuses a missing header, a bad date or number, a negative rate, a date that is not 1 January / 1 July,
    a duplicate and a gap, naming the line."""
    reader = csv.reader(text.splitlines())
    rows = []
    header_seen = False
    for index, record in enumerate(reader, start=1):
        line = reader.line_num or index
        if not record or all(not cell.strip() for cell in record):
            continue
        cells = [cell.strip() for cell in record]
        if not header_seen:
            if tuple(cells[:3]) != HEADER:
                raise RateTableError(f"expected the header {','.join(HEADER)}, got {','.join(cells)}", line)
            header_seen = True
            continue
        if len(cells) not in (2, 3):
            raise RateTableError(f"expected 3 fields, got {len(cells)}", line)
        try:
            from_date = dt.date.fromisoformat(cells[0])
        except ValueError:
            raise RateTableError(f"{cells[0]!r} is not a date (YYYY-MM-DD)", line) from None
        try:
            percent = Decimal(cells[1])
        except InvalidOperation:
            raise RateTableError(f"{cells[1]!r} is not a rate in percent (like 12.50)", line) from None
        if not percent.is_finite():
            raise RateTableError(f"{cells[1]!r} is not a rate in percent (like 12.50)", line)
        if percent < 0:
            raise RateTableError(f"negative rate {cells[1]} %", line)
        rows.append(Rate(from_date, percent / HUNDRED, cells[2] if len(cells) == 3 else "", line))
    if not header_seen:
        raise RateTableError("the rate table is empty")
    return RateTable(tuple(rows))


def _date(day: dt.date, lang: str) -> str:
    return day.strftime("%d.%m.%Y") if lang == "nb" else day.isoformat()


@dataclass(frozen=True)
class InterestPeriod:
    """Days with one rate and one principal; ``precise_amount`` is exact (not rounded)."""

    start: dt.date
    end: dt.date  # inclusive
    days: int
    rate: Decimal  # fraction
    principal: Decimal
    precise_amount: Decimal

    @property
    def amount(self) -> Decimal:
        return round_money(self.precise_amount)

    def explain(self, lang: str = "nb") -> str:
        sep = "–" if lang == "nb" else " to "
        return (
            f"{format_amount(self.principal, lang)} × {format_percent(self.rate, lang)} × {self.days}/{DAYS_PER_YEAR}"
            f" = {format_amount(self.precise_amount, lang)} ({_date(self.start, lang)}{sep}{_date(self.end, lang)})"
        )


@dataclass(frozen=True)
class InterestEvent:
    """A payment (``kind="payment"``) or interest added to the principal on 1 January (``kind="capitalised"``)."""

    kind: str
    on: dt.date  # the payment date, or the 1 January from which the interest bears interest
    amount: Decimal
    to_interest: Decimal = ZERO
    to_principal: Decimal = ZERO
    unapplied: Decimal = ZERO

    def explain(self, lang: str = "nb") -> str:
        a = format_amount
        if self.kind == "capitalised":
            year_end = _date(self.on - DAY, lang)
            if lang == "nb":
                return f"Renter per {year_end} lagt til hovedstolen fra {_date(self.on, lang)}: {a(self.amount)}"
            return (
                f"Interest accrued by {year_end} added to the principal from {_date(self.on, lang)}: "
                f"{a(self.amount, 'en')}"
            )
        rest_nb = f", ikke brukt {a(self.unapplied)}" if self.unapplied else ""
        rest_en = f", not applied {a(self.unapplied, 'en')}" if self.unapplied else ""
        if lang == "nb":
            return (
                f"Innbetalt {_date(self.on, lang)}: {a(self.amount)} (renter {a(self.to_interest)}, "
                f"hovedstol {a(self.to_principal)}{rest_nb})"
            )
        return (
            f"Paid {_date(self.on, lang)}: {a(self.amount, 'en')} (interest {a(self.to_interest, 'en')}, "
            f"principal {a(self.to_principal, 'en')}{rest_en})"
        )


@dataclass(frozen=True)
class InterestResult:
    interest: Decimal  # all interest accrued from the due date to paid_on, rounded once
    precise_interest: Decimal  # the same, exact
    interest_paid: Decimal  # covered by the partial payments
    interest_capitalised: Decimal  # added to the principal on 1 January (SSA-L)
    interest_outstanding: Decimal  # interest − paid − capitalised: what is still owed as interest on paid_on
    principal_outstanding: Decimal  # the principal at the end of paid_on (incl. capitalised interest)
    unapplied: Decimal  # what the payments left over after interest and principal
    periods: tuple[InterestPeriod, ...] = field(default_factory=tuple)
    events: tuple[InterestEvent, ...] = field(default_factory=tuple)

    @property
    def days(self) -> int:
        return sum(p.days for p in self.periods)

    def explain(self, lang: str = "nb") -> str:
        """One line per period and event, in date order, then the total when there is more than one line."""
        items = [(p.start, 1, p.explain(lang)) for p in self.periods]
        items += [(e.on + DAY if e.kind == "payment" else e.on, 0, e.explain(lang)) for e in self.events]
        lines = [text for _, _, text in sorted(items, key=lambda item: (item[0], item[1]))]
        if not lines:
            return "Ingen forsinkelsesrente" if lang == "nb" else "No late-payment interest"
        if len(lines) > 1:
            if lang == "nb":
                lines.append(f"Forsinkelsesrente i alt: {format_amount(self.interest)}")
            else:
                lines.append(f"Late-payment interest in total: {format_amount(self.interest, 'en')}")
        return "\n".join(lines)

    @property
    def explanation_nb(self) -> str:
        return self.explain("nb")

    @property
    def explanation_en(self) -> str:
        return self.explain("en")


def _money(value, what: str) -> Decimal:
    amount = D(value)
    if not amount.is_finite() or amount < 0 or round_money(amount) != amount:
        raise ValueError(f"{what} must be a non-negative amount in øre, got {value}")
    return amount


def interest(
    principal: Decimal,
    due_date: dt.date,
    paid_on: dt.date,
    rates: RateTable,
    *,
    compound_yearly: bool = False,
    payments: tuple[tuple[dt.date, Decimal], ...] | list[tuple[dt.date, Decimal]] = (),
    apply_payments: str = "interest_first",
) -> InterestResult:
    """Late-payment interest on ``principal`` due on ``due_date`` for the days after it up to ``paid_on``.

    RULES §8: 10 000.00 due 2025-01-15, paid 2025-03-01 at 12.5 % → 45 days → 154.11. Paid on or before the
    due date → no interest. Raises :class:`RateMissing` when a day of interest has no rate in ``rates``.
    """
    principal = _money(principal, "the principal")
    if apply_payments not in APPLY_ORDERS:
        raise ValueError(f"apply_payments must be one of {APPLY_ORDERS}, got {apply_payments!r}")
    paid = sorted(((day, _money(amount, f"the payment of {day}")) for day, amount in payments), key=lambda p: p[0])
    for day, _ in paid:
        if day > paid_on:
            raise ValueError(f"a payment on {day} is after paid_on {paid_on}")
    if paid_on <= due_date:
        return InterestResult(NIL, ZERO, NIL, NIL, NIL, principal, NIL)

    first = due_date + DAY
    rates.rate_on(first)  # clear errors before any work: before the table starts …
    rates.rate_on(paid_on)  # … or after its last half-year

    # Changes take effect at the start of a day: a payment from the day after it, a rate from its date,
    # SSA-L capitalisation from 1 January.
    effective: dict[dt.date, list[tuple[dt.date, Decimal]]] = {}
    for day, amount in paid:
        effective.setdefault(max(day + DAY, first), []).append((day, amount))
    boundaries = set(rates.changes_between(first, paid_on))
    boundaries |= {day for day in effective if first < day <= paid_on}
    if compound_yearly:
        boundaries |= {dt.date(year, 1, 1) for year in range(first.year + 1, paid_on.year + 1)}

    precise = ZERO  # exact interest accrued so far
    settled = NIL  # interest paid or capitalised so far (øre)
    interest_paid = capitalised = unapplied = NIL
    periods: list[InterestPeriod] = []
    events: list[InterestEvent] = []

    def pay(day: dt.date, amount: Decimal) -> None:
        nonlocal principal, settled, interest_paid, unapplied
        due_interest = round_money(precise) - settled
        to_interest = min(amount, due_interest) if apply_payments == "interest_first" else ZERO
        to_principal = min(amount - to_interest, principal)
        if apply_payments == "principal_first":
            to_interest = min(amount - to_principal, due_interest)
        rest = amount - to_interest - to_principal
        principal -= to_principal
        settled += to_interest
        interest_paid += to_interest
        unapplied += rest
        events.append(InterestEvent("payment", day, amount, to_interest, to_principal, rest))

    for day, amount in effective.get(first, []):
        pay(day, amount)
    start = first
    for boundary in sorted(boundaries) + [paid_on + DAY]:
        days = (boundary - start).days
        if principal > 0:
            rate = rates.rate_on(start).rate
            amount = principal * rate * days / DAYS_PER_YEAR
            precise += amount
            periods.append(InterestPeriod(start, boundary - DAY, days, rate, principal, amount))
        if boundary > paid_on:
            break
        for day, amount in effective.get(boundary, []):
            pay(day, amount)  # a payment on 31 December covers that year's interest before it is capitalised
        if compound_yearly and boundary.month == 1 and boundary.day == 1:
            added = round_money(precise) - settled
            if added:
                principal += added
                settled += added
                capitalised += added
                events.append(InterestEvent("capitalised", boundary, added, to_principal=added))
        start = boundary
    for day, amount in effective.get(paid_on + DAY, []):
        pay(day, amount)  # payments on paid_on itself: the interest up to and including that day is known

    total = round_money(precise)
    return InterestResult(
        interest=total,
        precise_interest=precise,
        interest_paid=interest_paid,
        interest_capitalised=capitalised,
        interest_outstanding=total - settled,
        principal_outstanding=principal,
        unapplied=unapplied,
        periods=tuple(periods),
        events=tuple(events),
    )
