"""CPI indexation as pure rules (RULES §7): what a price becomes under an index policy, and when.

No Django, no I/O, ``Decimal`` only. The services in :mod:`pricing.indexation_services` load the
policy, the index values and the contract, call these functions and store what they answer.

Months are ``(year, month)`` tuples; SSB writes them ``2025M10``. An index month counts as published
on the 10th of the following month (SSB publishes KPI around then), and only if its value is in the
series: a month that is not there is never guessed, the answer is :class:`Waiting` with the reason.

Both months of a ratio come from one series that has both (RULES §7, ``shared/data/README.md``): a
reference month recorded on the 2015 = 100 base is looked up again on the 2025 = 100 series, never
rebased by hand.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pricing.engine.money import KRONE, ORE, format_amount, format_number, round_money

Month = tuple[int, int]

PUBLICATION_DAY = 10  # KPI for month M is published about the 10th of M + 1
FACTOR_PLACES = Decimal("0.00000001")  # the ratio is kept to 8 decimals; only the price is rounded
ONE = Decimal(1)

MONTHS_NB = (
    "januar", "februar", "mars", "april", "mai", "juni",
    "juli", "august", "september", "oktober", "november", "desember",
)  # fmt: skip
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

# Timing: when an indexation takes effect.
JANUARY = "january"  # every 1 January
ANNIVERSARY = "anniversary"  # every contract anniversary (from the start date)
TIMINGS = (JANUARY, ANNIVERSARY)

# Reference: which months the ratio compares.
TWELVE_MONTHS = "twelve_months"  # the latest month published by the measure date, against 12 months before
SINCE_SIGNING = "since_signing"  # the signing month first, then the last month used; new = latest published
REFERENCES = (TWELVE_MONTHS, SINCE_SIGNING)

# Cap on the increase, and what a falling index does.
CAP_NONE, CAP_INDEX = "none", "index"
FALL_LOWER, FALL_KEEP = "lower", "keep"


class IndexationError(ValueError):
    """Bad input to the rules (a policy or a value that cannot be used); the message says what to fix."""

    def __init__(self, message: str, *, field: str = "", message_nb: str = ""):
        super().__init__(message)
        self.field = field
        self.message_nb = message_nb or message


# ---------------------------------------------------------------- months


def month_of(day: dt.date) -> Month:
    return (day.year, day.month)


def add_months_to(month: Month, n: int) -> Month:
    year, m = divmod(month[0] * 12 + month[1] - 1 + n, 12)
    return (year, m + 1)


def parse_month(text: str) -> Month:
    """``2025M10`` (SSB) or ``2025-10`` → (2025, 10); :class:`IndexationError` otherwise."""
    raw = str(text).strip().upper().replace("-", "M")
    try:
        year_text, month_text = raw.split("M")
        month = (int(year_text), int(month_text))
    except ValueError as exc:
        raise IndexationError(f"{text!r} is not a month; write it as 2025M10 or 2025-10.", field="month") from exc
    if not (1 <= month[1] <= 12 and 1900 <= month[0] <= 2999):
        raise IndexationError(f"{text!r} is not a month; write it as 2025M10 or 2025-10.", field="month")
    return month


def month_code(month: Month) -> str:
    return f"{month[0]}M{month[1]:02d}"


def month_label(month: Month, lang: str = "nb") -> str:
    names = MONTHS_EN if lang == "en" else MONTHS_NB
    return f"{names[month[1] - 1]} {month[0]}"


def published_on(month: Month) -> dt.date:
    """The day an index month counts as published (the 10th of the next month)."""
    year, m = add_months_to(month, 1)
    return dt.date(year, m, PUBLICATION_DAY)


def latest_published(day: dt.date) -> Month:
    """The latest month whose index is published by ``day`` (1 November 2025 → September 2025)."""
    month = add_months_to(month_of(day), -1)
    return month if published_on(month) <= day else add_months_to(month, -1)


def add_months(day: dt.date, n: int) -> dt.date:
    """``day`` + ``n`` months, clamped to the month's last day (RULES §9: 31 January + 1 → 28/29 February)."""
    year, m = add_months_to(month_of(day), n)
    return dt.date(year, m, min(day.day, calendar.monthrange(year, m)[1]))


# ---------------------------------------------------------------- policy


@dataclass(frozen=True)
class Notice:
    months: int = 0
    days: int = 0

    def before(self, day: dt.date) -> dt.date:
        return add_months(day, -self.months) - dt.timedelta(days=self.days)

    def after(self, day: dt.date) -> dt.date:
        return add_months(day, self.months) + dt.timedelta(days=self.days)

    @property
    def is_none(self) -> bool:
        return not self.months and not self.days

    def at_least(self, other: Notice, on: dt.date) -> bool:
        """Whether this notice is at least ``other`` counted back from ``on``."""
        return self.before(on) <= other.before(on)

    def label(self, lang: str = "nb") -> str:
        if self.is_none:
            return "ingen" if lang == "nb" else "none"
        parts = []
        if self.months:
            parts.append(f"{self.months} {'måneder' if lang == 'nb' else 'months'}")
        if self.days:
            weeks, rest = divmod(self.days, 7)
            if not rest:
                parts.append(f"{weeks} {'uker' if lang == 'nb' else 'weeks'}")
            else:
                parts.append(f"{self.days} {'dager' if lang == 'nb' else 'days'}")
        return " + ".join(parts)


@dataclass(frozen=True)
class Policy:
    """An indexation policy as data (RULES §7). Every field has the meaning the seed terms give it.

    ``measure``: the (month, day) in the year before the effective date on which the new index month is
    read (Identum: 1 November → September); None reads it on the effective date itself.
    ``first_after_start``: the first indexation is the first effective date after the contract started
    (Identum: 1 January of the year after signing; Piscator: the first anniversary).
    """

    timing: str = JANUARY
    reference: str = TWELVE_MONTHS
    measure: tuple[int, int] | None = (11, 1)
    cap: str = CAP_NONE
    notice: Notice = Notice()
    above_cap_notice: Notice | None = None  # an increase above the cap allowed with this notice …
    above_cap_may_terminate: bool = False  # … and then the customer may terminate before it applies
    rounding: Decimal = ORE  # ORE or KRONE (list prices)
    falling: str = FALL_KEEP
    minimum_notice: Notice = Notice()  # what the contract demands; a shorter notice is refused

    def __post_init__(self) -> None:
        validate_policy(self)


def validate_policy(policy: Policy) -> None:
    """:class:`IndexationError` naming the field when the policy cannot be used."""
    if policy.timing not in TIMINGS:
        raise IndexationError(f"timing: use one of {', '.join(TIMINGS)}.", field="timing")
    if policy.reference not in REFERENCES:
        raise IndexationError(f"reference: use one of {', '.join(REFERENCES)}.", field="reference")
    if policy.cap not in (CAP_NONE, CAP_INDEX):
        raise IndexationError("cap: use none or index.", field="cap")
    if policy.falling not in (FALL_LOWER, FALL_KEEP):
        raise IndexationError("falling: use lower or keep.", field="falling")
    if policy.rounding not in (ORE, KRONE):
        raise IndexationError("rounding: use øre (0.01) or whole kroner (1).", field="rounding")
    if policy.measure is not None:
        month, day = policy.measure
        if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(2023, month)[1]):
            raise IndexationError("measure: give a month (1–12) and a day in it.", field="measure")
    for name, notice in (("notice", policy.notice), ("above_cap_notice", policy.above_cap_notice)):
        if notice is not None and (notice.months < 0 or notice.days < 0 or notice.months > 24 or notice.days > 366):
            raise IndexationError(f"{name}: give 0–24 months and 0–366 days.", field=name)
    probe = dt.date(2030, 1, 1)
    if not policy.notice.at_least(policy.minimum_notice, probe):
        raise IndexationError(
            f"notice: the contract demands a notice of at least {policy.minimum_notice.label('en')} of a price change; "
            f"{policy.notice.label('en')} is too short.",
            field="notice",
            message_nb=f"notice: avtalen krever minst {policy.minimum_notice.label('nb')} varsel om prisendring; "
            f"{policy.notice.label('nb')} er for kort.",
        )
    if policy.above_cap_notice is not None:
        if policy.cap != CAP_INDEX:
            raise IndexationError("above_cap_notice: only a policy capped at the index has an above-cap notice.",
                                  field="above_cap_notice")  # fmt: skip
        if not policy.above_cap_notice.at_least(policy.notice, probe) or policy.above_cap_notice.is_none:
            raise IndexationError(
                "above_cap_notice: an increase above the cap needs a longer notice than the ordinary one.",
                field="above_cap_notice",
                message_nb="above_cap_notice: en økning over taket krever lengre varsel enn det ordinære.",
            )


# ---------------------------------------------------------------- when


def effective_dates(policy: Policy, start: dt.date, until: dt.date) -> list[dt.date]:
    """Every effective date after ``start`` up to and including ``until`` (at most one per 12 months)."""
    out: list[dt.date] = []
    if policy.timing == JANUARY:
        year = start.year + 1
        while (day := dt.date(year, 1, 1)) <= until:
            out.append(day)
            year += 1
    else:
        n = 1
        while (day := add_months(start, 12 * n)) <= until:
            out.append(day)
            n += 1
    return out


def next_effective(policy: Policy, start: dt.date, on: dt.date) -> dt.date:
    """The first effective date after ``start`` that is on or after ``on``."""
    if policy.timing == JANUARY:
        return dt.date(max(start.year + 1, on.year + (0 if (on.month, on.day) == (1, 1) else 1)), 1, 1)
    n = 1
    while (day := add_months(start, 12 * n)) < on:
        n += 1
    return day


def next_due(
    policy: Policy, start: dt.date, after: dt.date, *, not_before: dt.date, first: dt.date | None = None
) -> dt.date:
    """The first effective date after ``after`` (the last indexation, or the start) that is on or after
    ``not_before`` and ``first``: a job that missed a window does not propose indexations for long past
    dates, and a policy adopted later starts from its first date."""
    effective = next_effective(policy, start, after + dt.timedelta(days=1))
    while effective < not_before or (first is not None and effective < first):
        effective = next_effective(policy, start, effective + dt.timedelta(days=1))
    return effective


def measure_date(policy: Policy, effective_on: dt.date) -> dt.date:
    """The day the new index month is read for an indexation on ``effective_on``."""
    if policy.measure is None:
        return effective_on
    month, day = policy.measure
    year = effective_on.year if (month, day) < (effective_on.month, effective_on.day) else effective_on.year - 1
    return dt.date(year, month, day)


def months_for(
    policy: Policy, effective_on: dt.date, *, signed_on: dt.date, last_month: Month | None
) -> tuple[Month, Month]:
    """(reference month, new month) for an indexation on ``effective_on``."""
    new = latest_published(measure_date(policy, effective_on))
    if policy.reference == TWELVE_MONTHS:
        return add_months_to(new, -12), new
    return (last_month or month_of(signed_on)), new


def too_soon(last_effective: dt.date | None, effective_on: dt.date) -> bool:
    """A price is indexed at most once per 12 months."""
    return last_effective is not None and effective_on < add_months(last_effective, 12)


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Series:
    """One published series: its code, base and values per month (as published, never rebased)."""

    code: str
    base: str  # "2015=100"
    name_nb: str
    name_en: str
    values: Mapping[Month, Decimal]
    newest_base_first: int = 0  # higher: preferred when several series have both months


@dataclass(frozen=True)
class Waiting:
    """The indexation cannot be computed yet; ``reason_*`` says what is missing. Nothing is guessed."""

    reason_nb: str
    reason_en: str
    month: Month | None = None


def pick_series(series: Iterable[Series], reference: Month, new: Month) -> Series | Waiting:
    """The series (newest base first) that has both months, or :class:`Waiting` naming the missing month."""
    ordered = sorted(series, key=lambda s: -s.newest_base_first)
    if not ordered:
        return Waiting("Ingen indeksserie er lastet.", "No index series is loaded.")
    for s in ordered:
        if reference in s.values and new in s.values:
            return s
    newest = ordered[0]
    missing = new if not any(new in s.values for s in ordered) else reference
    return Waiting(
        f"Venter på indeksen for {month_label(missing, 'nb')} ({newest.name_nb}): "
        "den er ikke publisert eller hentet ennå.",
        f"Waiting for the index for {month_label(missing, 'en')} ({newest.name_en}): not published or fetched yet.",
        missing,
    )


def check_value(value: Decimal, month: Month, *, today: dt.date) -> None:
    """A value that can be stored for ``month``: positive, and not a month that cannot have been published."""
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise IndexationError("value: an index is a positive number, e.g. 138.4.", field="value",
                              message_nb="value: en indeks er et positivt tall, f.eks. 138,4.")  # fmt: skip
    if month > month_of(today) or (month == month_of(today)):
        raise IndexationError(
            f"month: {month_code(month)} has not ended yet; an index is published after its month.",
            field="month",
            message_nb=f"month: {month_code(month)} er ikke over ennå; en indeks publiseres etter måneden.",
        )


# ---------------------------------------------------------------- the computation


@dataclass(frozen=True)
class Indexation:
    """What a price becomes: inputs, factor, cap, rounding, notice and the explanation in nb and en."""

    effective_on: dt.date
    series_code: str
    base: str
    reference_month: Month
    new_month: Month
    reference_value: Decimal
    new_value: Decimal
    index_factor: Decimal  # new / reference, 8 decimals
    factor: Decimal  # what is applied (after cap, falling rule or a requested increase)
    capped: bool
    above_cap: bool  # a requested increase above the cap, allowed by its longer notice
    kept: bool  # a falling index and the policy keeps the price
    old_price: Decimal
    new_price: Decimal
    notice_by: dt.date | None  # the last day the customer can be told; None: no notice needed
    may_terminate: bool
    explanation_nb: str
    explanation_en: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def change(self) -> Decimal:
        return self.factor - ONE


def ratio(new_value: Decimal, reference_value: Decimal) -> Decimal:
    if reference_value <= 0 or new_value <= 0:
        raise IndexationError("An index value must be positive.", field="value",
                              message_nb="En indeksverdi må være positiv.")  # fmt: skip
    return (new_value / reference_value).quantize(FACTOR_PLACES, rounding=ROUND_HALF_UP)


def index_price(price: Decimal, factor: Decimal, rounding: Decimal = ORE) -> Decimal:
    """The one step: price × factor, rounded once (øre, or whole kroner for list prices)."""
    return round_money(price * factor, rounding)


def percent_text(factor: Decimal, lang: str) -> str:
    pct = ((factor - ONE) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "+" if pct >= 0 else "−"
    text = format_number(abs(pct), lang) if pct != pct.to_integral_value() else f"{abs(pct):.2f}"
    if lang == "nb":
        text = text.replace(".", ",")
        if "," not in text:
            text += ",00"
        elif len(text.split(",")[1]) == 1:
            text += "0"
        return f"{sign}{text}\u00a0%"
    if "." not in text:
        text += ".00"
    elif len(text.split(".")[1]) == 1:
        text += "0"
    return f"{sign}{text} %"


def _value_text(value: Decimal, lang: str) -> str:
    text = format(value.normalize(), "f") if value != value.to_integral_value() else f"{value:.1f}"
    return text.replace(".", ",") if lang == "nb" else text


def compute(
    policy: Policy,
    series: Iterable[Series],
    *,
    price: Decimal,
    effective_on: dt.date,
    signed_on: dt.date,
    last_effective: dt.date | None = None,
    last_month: Month | None = None,
    requested_factor: Decimal | None = None,
    today: dt.date | None = None,
    reprice: Callable[[Decimal, Decimal], Decimal] | None = None,
) -> Indexation | Waiting:
    """What ``price`` becomes on ``effective_on``, or :class:`Waiting` when an index month is missing.

    ``last_effective``/``last_month``: the previous indexation's date and new month (None: the first).
    ``requested_factor``: an increase the vendor asks for instead of the index (DigiReq above CPI).
    ``today``: the day it is computed (for the notice: a notice already too late is said so).
    ``reprice(factor, rounding)``: the new price when ``price`` is a sum of indexed prices (a contract's
    yearly price from its plan, each of whose prices is indexed and rounded on its own); default: ``price``
    × factor rounded once.
    Raises :class:`IndexationError` for a second indexation within 12 months or bad values.
    """
    if price < 0:
        raise IndexationError("price: a price to index is 0 or more.", field="price")
    if too_soon(last_effective, effective_on):
        raise IndexationError(
            f"A price is indexed at most once per 12 months: the last indexation took effect on "
            f"{last_effective.isoformat()}, so the next can take effect on "
            f"{add_months(last_effective, 12).isoformat()} at the earliest.",
            field="effective_on",
            message_nb=f"En pris indeksreguleres høyst én gang per 12 måneder: forrige regulering gjaldt fra "
            f"{last_effective.isoformat()}, så neste kan tidligst gjelde fra "
            f"{add_months(last_effective, 12).isoformat()}.",
        )
    if effective_on <= signed_on:
        raise IndexationError("effective_on: the first indexation comes after the agreement was signed.",
                              field="effective_on")  # fmt: skip
    reference_month, new_month = months_for(policy, effective_on, signed_on=signed_on, last_month=last_month)
    if reference_month >= new_month:
        return Waiting(
            f"Ingen ny indeks siden {month_label(reference_month, 'nb')}: ingen endring å gjøre ennå.",
            f"No index published since {month_label(reference_month, 'en')}: nothing to change yet.",
            new_month,
        )
    if today is not None and published_on(new_month) > today:
        # Asked before the new month can have been published (e.g. an increase announced months ahead):
        # whatever a replay or a test has stored for it, SSB had not published it on ``today``.
        return Waiting(
            f"Venter på indeksen for {month_label(new_month, 'nb')}: den publiseres rundt "
            f"{published_on(new_month).isoformat()}.",
            f"Waiting for the index for {month_label(new_month, 'en')}: it is published about "
            f"{published_on(new_month).isoformat()}.",
            new_month,
        )
    chosen = pick_series(series, reference_month, new_month)
    if isinstance(chosen, Waiting):
        return chosen
    ref_value, new_value = chosen.values[reference_month], chosen.values[new_month]
    index_factor = ratio(new_value, ref_value)

    factor, capped, above_cap, kept = index_factor, False, False, False
    notice = policy.notice
    if requested_factor is not None:
        if requested_factor <= 0:
            raise IndexationError("requested change: the new price must be positive.", field="requested_factor")
        factor = requested_factor.quantize(FACTOR_PLACES, rounding=ROUND_HALF_UP)
        if policy.cap == CAP_INDEX and factor > index_factor:
            if policy.above_cap_notice is not None:
                above_cap, notice = True, policy.above_cap_notice
            else:
                factor, capped = index_factor, True
    if factor < ONE and policy.falling == FALL_KEEP:
        factor, kept = ONE, True

    new_price = reprice(factor, policy.rounding) if reprice is not None else index_price(price, factor, policy.rounding)
    notice_by = None if notice.is_none or factor <= ONE else notice.before(effective_on)
    may_terminate = above_cap and policy.above_cap_may_terminate
    nb, en = explain(
        chosen, reference_month, new_month, ref_value, new_value, index_factor, factor,
        capped=capped, above_cap=above_cap, kept=kept, price=price, new_price=new_price,
        effective_on=effective_on, notice_by=notice_by, may_terminate=may_terminate,
    )  # fmt: skip
    extra = {}
    if today is not None and notice_by is not None and today > notice_by:
        extra["late_notice"] = True
    return Indexation(
        effective_on=effective_on,
        series_code=chosen.code,
        base=chosen.base,
        reference_month=reference_month,
        new_month=new_month,
        reference_value=ref_value,
        new_value=new_value,
        index_factor=index_factor,
        factor=factor,
        capped=capped,
        above_cap=above_cap,
        kept=kept,
        old_price=price,
        new_price=new_price,
        notice_by=notice_by,
        may_terminate=may_terminate,
        explanation_nb=nb,
        explanation_en=en,
        extra=extra,
    )


def index_text(series_name: str, reference: Month, new: Month, ref_value: Decimal, new_value: Decimal,
               factor: Decimal, lang: str) -> str:  # fmt: skip
    """'KPI oktober 2026 / oktober 2025 = 138,4 / 134,7 = +2,75 %'."""
    return (
        f"{series_name} {month_label(new, lang)} / {month_label(reference, lang)} = "
        f"{_value_text(new_value, lang)} / {_value_text(ref_value, lang)} = {percent_text(factor, lang)}"
    )


def explain(series: Series, reference: Month, new: Month, ref_value: Decimal, new_value: Decimal,
            index_factor: Decimal, factor: Decimal, *, capped: bool, above_cap: bool, kept: bool,
            price: Decimal, new_price: Decimal, effective_on: dt.date, notice_by: dt.date | None,
            may_terminate: bool) -> tuple[str, str]:  # fmt: skip
    out = {}
    for lang, name in (("nb", series.name_nb), ("en", series.name_en)):
        parts = [index_text(name, reference, new, ref_value, new_value, index_factor, lang)]
        parts.append(f"({'grunnlag' if lang == 'nb' else 'base'} {series.base})")
        if capped:
            parts.append(
                "; ønsket økning begrenset til indeksen" if lang == "nb" else "; requested increase capped at the index"
            )
        if above_cap:
            parts.append(
                f"; økning {percent_text(factor, lang)} over indeksen, varslet minst 6 måneder før"
                if lang == "nb"
                else f"; increase {percent_text(factor, lang)} above the index, notified at least 6 months before"
            )
        if kept:
            parts.append(
                "; fallende indeks, prisen holdes uendret" if lang == "nb" else "; falling index, the price is kept"
            )
        parts.append(
            f": {format_amount(price, lang)} → {format_amount(new_price, lang)} "
            f"{'fra' if lang == 'nb' else 'from'} {effective_on.isoformat()}"
        )
        if may_terminate:
            parts.append(
                "; kunden kan si opp uten oppsigelsestid før endringen"
                if lang == "nb"
                else "; the customer may terminate without notice period before the change"
            )
        out[lang] = " ".join(parts).replace(" ;", ";").replace(" :", ":")
    return out["nb"], out["en"]


def requested_explanation(
    factor: Decimal, effective_on: dt.date, notice: Notice, old: Decimal | None, new: Decimal | None,
    *, may_terminate: bool,
) -> tuple[str, str]:  # fmt: skip
    """An increase announced before its index is known (DigiReq above CPI, 6 months ahead), in nb and en."""
    amounts = {lang: "" for lang in ("nb", "en")}
    if old is not None and new is not None:
        amounts = {lang: f": {format_amount(old, lang)} → {format_amount(new, lang)}" for lang in ("nb", "en")}
    nb = (
        f"Varslet prisøkning {percent_text(factor, 'nb')} fra {effective_on.isoformat()}, mer enn KPI-endringen "
        f"kan gi; varslet minst {notice.label('nb')} før{amounts['nb']}"
        + ("; kunden kan si opp uten oppsigelsestid før endringen" if may_terminate else "")
    )
    en = (
        f"Announced price increase {percent_text(factor, 'en')} from {effective_on.isoformat()}, more than the "
        f"CPI change allows; notified at least {notice.label('en')} before{amounts['en']}"
        + ("; the customer may terminate without notice period before the change" if may_terminate else "")
    )
    return nb, en


def list_explanation(
    names: tuple[str, str], reference: Month, new: Month, reference_value: Decimal, new_value: Decimal,
    index_factor: Decimal, base: str, effective_on: dt.date, *, catalogue: bool, whole_kroner: bool,
) -> tuple[str, str]:  # fmt: skip
    """A price list's or catalogue's indexation as customers read it on their invoices: the index and the
    date, not the vendor's totals."""
    out = []
    for lang, name in zip(("nb", "en"), names, strict=True):
        text = index_text(name, reference, new, reference_value, new_value, index_factor, lang)
        if catalogue:
            what = (
                f"katalogprisene for {effective_on.year}"
                if lang == "nb"
                else f"the catalogue prices for {effective_on.year}"
            )
        else:
            what = (
                f"prislisten fra {effective_on.isoformat()}"
                if lang == "nb"
                else f"the price list from {effective_on.isoformat()}"
            )
        rounding = (" (hele kroner)" if lang == "nb" else " (whole kroner)") if whole_kroner else ""
        out.append(f"{text} ({'grunnlag' if lang == 'nb' else 'base'} {base}): {what}{rounding}")
    return out[0], out[1]


def postponed(
    explanation_nb: str, explanation_en: str, was: dt.date, notice: Notice, told_on: dt.date
) -> tuple[dt.date, str, str]:
    """A change whose notice comes after the day the customer had to be told: it takes effect on the first
    day the notice allows from ``told_on`` (never earlier than planned), and the explanation says so."""
    effective = max(notice.after(told_on), was)
    nb = explanation_nb.replace(f"fra {was.isoformat()}", f"fra {effective.isoformat()}")
    en = explanation_en.replace(f"from {was.isoformat()}", f"from {effective.isoformat()}")
    nb += f"; varslet for sent for {was.isoformat()}, gjelder derfor fra {effective.isoformat()}"
    en += f"; notified too late for {was.isoformat()}, so it takes effect on {effective.isoformat()}"
    return effective, nb, en


# ---------------------------------------------------------------- price documents


MONEY_KEYS = frozenset({"amount", "unit_price", "flat_amount", "price", "average_list_price", "minimum"})


def index_document(document: Any, factor: Decimal, rounding: Decimal = ORE) -> Any:
    """A plan's price document with every money amount × ``factor``, each rounded once.

    Rates, discounts, multipliers, shares and quantities are not money and stay as they are; so do
    the licence D/M tables. The matrix of fixed fees (``table.amounts``) is money.
    """
    if isinstance(document, dict):
        out = {}
        for key, value in document.items():
            if key in MONEY_KEYS and value is not None and not isinstance(value, (dict, list, bool)):
                out[key] = str(index_price(Decimal(str(value)), factor, rounding))
            elif key == "amounts" and isinstance(value, list):
                out[key] = [[str(index_price(Decimal(str(v)), factor, rounding)) for v in row] for row in value]
            elif key in ("d_table", "m_table", "label", "name", "indexation"):
                out[key] = value
            else:
                out[key] = index_document(value, factor, rounding)
        return out
    if isinstance(document, list):
        return [index_document(v, factor, rounding) for v in document]
    return document


def apply_steps(document: Any, steps: Iterable[tuple[Decimal, Decimal]]) -> Any:
    """The document after each (factor, rounding) step in order: every step rounds once, as it did."""
    for factor, rounding in steps:
        document = index_document(document, factor, rounding)
    return document
