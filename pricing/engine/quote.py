"""Pricing a plan for what a customer buys: lines with explanations, totals, first period, thresholds.

Pure: a :class:`PlanSpec` (from a plan version's JSON document, see :mod:`pricing.engine.document`)
and a :class:`QuoteInput` go in, a :class:`QuoteResult` comes out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from pricing.engine import standards as std
from pricing.engine.errors import PricingError
from pricing.engine.explain import Explanation
from pricing.engine.lines import Line, Totals, on_request_line, priced_line, totals
from pricing.engine.models import (
    ACTIVE_USERS,
    PUPILS,
    UNITS,
    Band,
    Flat,
    Graduated,
    Matrix,
    OnRequest,
    Package,
    Percentage,
    PerUnit,
    Unit,
    Volume,
    check_count,
)
from pricing.engine.money import ZERO, D
from pricing.engine.periods import prorate_days, prorate_quarters

INTERVAL_MONTHS = {"month": 1, "quarter": 3, "year": 12}
UNIT_BY_NAME = {
    "pupils": PUPILS,
    "active_users": ACTIVE_USERS,
    "units": UNITS,
    "hours": Unit("timer", "hours"),
    "schools": Unit("skoler", "schools"),
}


@dataclass(frozen=True)
class Component:
    """One priced part of a plan.

    ``quantity``: where the count comes from — "fixed" (1), "per_school" (one line per school,
    counted by its pupils), or a key of ``QuoteInput.quantities`` (e.g. "active_users").
    ``model`` "licence" prices ``QuoteInput.standards`` with the plan's licence tables.
    An ``addon`` is priced only when chosen.
    """

    code: str
    label_nb: str
    label_en: str
    model: object  # a price model, Percentage, or "licence"
    quantity: str = "fixed"
    addon: bool = False
    percentage_of: tuple[str, ...] = ()
    unit: str = "units"
    share: Decimal | None = None  # extra prints: the share of the catalogue price charged per print


@dataclass(frozen=True)
class PlanSpec:
    code: str
    name_nb: str
    name_en: str
    components: tuple[Component, ...]
    currency: str = "NOK"
    base_period: str = "year"  # the period the component prices are for
    intervals: tuple[str, ...] = ("year",)
    annual_discount: Decimal = ZERO  # annual billing of a monthly price: 12 × monthly × (1 − discount)
    first_period: str = "none"  # none | quarters (rest of year in whole quarters) | days
    whole_kroner: bool = False
    minimum: Decimal | None = None  # per billing period, before VAT
    licence_tables: std.LicenceTables | None = None
    categories: dict[str, std.Category] = field(default_factory=dict)


@dataclass(frozen=True)
class School:
    name: str
    pupils: int


@dataclass(frozen=True)
class QuoteInput:
    interval: str = "year"
    schools: tuple[School, ...] = ()
    quantities: dict[str, int] = field(default_factory=dict)
    standards: tuple[std.HeldStandard, ...] = ()
    concurrent_users: int | None = None
    addons: tuple[str, ...] = ()
    addon_amounts: dict[str, Decimal] = field(default_factory=dict)  # e.g. direct links: price set in the contract
    extra_prints: tuple[tuple[str, Decimal, int], ...] = ()  # (standard code, catalogue price, prints beyond allowance)
    start: dt.date | None = None
    vat_treatment: str = "no_25"
    public_sector: bool = False
    contract_months: int = 12  # what the procurement estimate covers


@dataclass(frozen=True)
class Threshold:
    code: str
    amount: Decimal
    label_nb: str
    label_en: str
    reached: bool


@dataclass(frozen=True)
class Procurement:
    estimated_value: Decimal
    months: int
    on: dt.date
    thresholds: tuple[Threshold, ...]

    def as_dict(self) -> dict:
        return {
            "estimated_value": str(self.estimated_value),
            "months": self.months,
            "date": self.on.isoformat(),
            "thresholds": [
                {
                    "code": t.code,
                    "amount": str(t.amount),
                    "label": {"nb": t.label_nb, "en": t.label_en},
                    "reached": t.reached,
                }
                for t in self.thresholds
            ],
        }


# RULES §5: the national threshold rises to 500 000 on 2026-07-01; Doffin announcement above 1 300 000.
NATIONAL_THRESHOLDS = ((dt.date(2017, 1, 1), Decimal("100000")), (dt.date(2026, 7, 1), Decimal("500000")))
DOFFIN_THRESHOLD = Decimal("1300000")


def procurement(value: Decimal, months: int, on: dt.date) -> Procurement:
    national = [amount for since, amount in NATIONAL_THRESHOLDS if since <= on][-1]
    return Procurement(
        D(value),
        months,
        on,
        (
            Threshold(
                "procurement_rules",
                national,
                f"Anskaffelsesregelverket gjelder over {national:,.0f} kr".replace(",", "\u00a0"),
                f"Procurement rules apply above NOK {national:,.0f}",
                D(value) > national,
            ),
            Threshold(
                "doffin",
                DOFFIN_THRESHOLD,
                "Kunngjøring i Doffin kreves over 1\u00a0300\u00a0000 kr",
                "Doffin announcement required above NOK 1,300,000",
                D(value) > DOFFIN_THRESHOLD,
            ),
        ),
    )


@dataclass(frozen=True)
class FirstPeriod:
    lines: tuple[Line, ...]
    totals: Totals
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class QuoteResult:
    plan: str
    interval: str
    lines: tuple[Line, ...]
    totals: Totals
    first_period: FirstPeriod | None
    procurement: Procurement | None
    on_request: bool
    reasons_nb: tuple[str, ...] = ()
    reasons_en: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {
            "plan": self.plan,
            "interval": self.interval,
            "lines": [line.as_dict() for line in self.lines],
            **self.totals.as_dict(),
            "on_request": self.on_request,
            "on_request_reasons": {"nb": list(self.reasons_nb), "en": list(self.reasons_en)},
            "first_period": None
            if self.first_period is None
            else {
                "start": self.first_period.start.isoformat(),
                "end": self.first_period.end.isoformat(),
                "lines": [line.as_dict() for line in self.first_period.lines],
                **self.first_period.totals.as_dict(),
            },
            "procurement": self.procurement.as_dict() if self.procurement else None,
        }


def _interval_step(plan: PlanSpec, interval: str, base_amount: Decimal) -> tuple[Decimal, Explanation | None]:
    """Convert a base-period amount to the billing interval's amount (unrounded)."""
    base_months, months = INTERVAL_MONTHS[plan.base_period], INTERVAL_MONTHS[interval]
    if months == base_months:
        return base_amount, None
    if plan.base_period == "month" and interval == "year":
        discount = plan.annual_discount
        return 12 * base_amount * (1 - discount), Explanation.of(
            "annual_discount", monthly_amount=base_amount, discount=discount
        )
    factor = Decimal(months) / Decimal(base_months)
    return base_amount * factor, Explanation.of("months", months=f"{months}/{base_months}", monthly_amount=base_amount)


def _base_lines(plan: PlanSpec, data: QuoteInput, on: dt.date | None) -> list[tuple[Component, Line]]:
    """Lines at base-period prices, unconverted (precise amounts kept)."""
    out: list[tuple[Component, Line]] = []
    chosen = set(data.addons)
    unknown = chosen - {c.code for c in plan.components if c.addon}
    if unknown:
        raise PricingError(
            f"Unknown add-on(s) for this plan: {', '.join(sorted(unknown))}.",
            field="addons",
            message_nb=f"Ukjente tillegg for denne planen: {', '.join(sorted(unknown))}.",
        )
    for comp in plan.components:
        if comp.addon and comp.code not in chosen:
            continue
        unit = UNIT_BY_NAME.get(comp.unit, UNITS)
        if comp.model == "licence":
            if plan.licence_tables is None:
                raise PricingError("This plan has no licence tables.", field="plan")
            if data.concurrent_users is None:
                raise PricingError(
                    "Give the number of concurrent users.",
                    field="concurrent_users",
                    message_nb="Oppgi antall samtidige brukere.",
                )
            day = data.start or on
            if day is None:
                raise PricingError(
                    "Give the start date: catalogue prices are those of 1 January of its year.",
                    field="start",
                    message_nb="Oppgi startdato: katalogprisene er per 1. januar det året.",
                )
            year = day.year
            result = std.licence(
                plan.licence_tables, plan.categories, list(data.standards), data.concurrent_users, year
            )
            out.extend((comp, line) for line in result.lines)
            continue
        if isinstance(comp.model, Percentage):
            continue  # after the lines it is a percentage of
        if isinstance(comp.model, Matrix):
            if data.concurrent_users is None:
                raise PricingError(
                    "Give the number of concurrent users.",
                    field="concurrent_users",
                    message_nb="Oppgi antall samtidige brukere.",
                )
            users = check_count(data.concurrent_users, field="concurrent_users", unit=std.CONCURRENT_USERS)
            try:
                precise, explanation = comp.model.evaluate_pair(users, len(data.standards))
            except OnRequest as request:
                out.append(
                    (
                        comp,
                        on_request_line(comp.code, comp.label_nb, comp.label_en, request.reason_nb, request.reason_en),
                    )
                )
                continue
            out.append((comp, priced_line(comp.code, comp.label_nb, comp.label_en, precise, explanation)))
            continue
        if comp.model == "extra_prints":
            if not data.extra_prints:
                continue
            share = comp.share if comp.share is not None else Decimal("0.30")
            count = 0
            catalogue_sum = ZERO
            for i, (_code, catalogue_price, prints) in enumerate(data.extra_prints):
                prints = check_count(prints, field=f"extra_prints[{i}].count", unit=Unit("utskrifter", "prints"))
                count += prints
                catalogue_sum += prints * D(catalogue_price)
            out.append(
                (
                    comp,
                    priced_line(
                        comp.code,
                        comp.label_nb,
                        comp.label_en,
                        catalogue_sum * share,
                        Explanation.of("extra_prints", quantity=count, catalogue_sum=catalogue_sum, rate=share),
                        quantity=count,
                    ),
                )
            )
            continue
        if comp.code in data.addon_amounts:
            amount = D(data.addon_amounts[comp.code])
            if amount < 0:
                raise PricingError(
                    f"{comp.label_en}: the amount cannot be negative.", field=f"addon_amounts.{comp.code}"
                )
            out.append(
                (
                    comp,
                    priced_line(comp.code, comp.label_nb, comp.label_en, amount, Explanation.of("flat", amount=amount)),
                )
            )
            continue
        if comp.quantity == "per_school":
            if not data.schools:
                raise PricingError(
                    "Give at least one school with its number of pupils.",
                    field="schools",
                    message_nb="Oppgi minst én skole med elevtall.",
                )
            for i, school in enumerate(data.schools):
                pupils = check_count(school.pupils, field=f"schools[{i}].pupils", unit=PUPILS)
                out.append(
                    (
                        comp,
                        _evaluate(
                            comp, pupils, f"{comp.label_nb}: {school.name}", f"{comp.label_en}: {school.name}", unit
                        ),
                    )
                )
            continue
        if comp.quantity == "fixed":
            quantity = 1
        else:
            if comp.quantity not in data.quantities:
                raise PricingError(
                    f"Give {unit.en} ({comp.quantity}).",
                    field=comp.quantity,
                    message_nb=f"Oppgi antall {unit.nb} ({comp.quantity}).",
                )
            quantity = check_count(data.quantities[comp.quantity], field=comp.quantity, unit=unit)
        out.append((comp, _evaluate(comp, quantity, comp.label_nb, comp.label_en, unit)))
    for comp in plan.components:
        if not isinstance(comp.model, Percentage) or (comp.addon and comp.code not in chosen):
            continue
        of = [
            line for c, line in out if (c.code in comp.percentage_of or line.code.split(":")[0] in comp.percentage_of)
        ]
        if any(line.on_request for line in of):
            out.append(
                (
                    comp,
                    on_request_line(
                        comp.code,
                        comp.label_nb,
                        comp.label_en,
                        "grunnlaget er på forespørsel",
                        "its base is on request",
                    ),
                )
            )
            continue
        base = sum((line.amount for line in of), ZERO)
        precise, explanation = comp.model.evaluate_on(base)
        out.append((comp, priced_line(comp.code, comp.label_nb, comp.label_en, precise, explanation)))
    return out


def _evaluate(comp: Component, quantity: int, label_nb: str, label_en: str, unit: Unit) -> Line:
    model = comp.model
    if isinstance(model, Band | Volume | Graduated | Package | PerUnit) and getattr(model, "unit", None) is UNITS:
        model = type(model)(**{**model.__dict__, "unit": unit})
    try:
        precise, explanation = model.evaluate(quantity)
    except OnRequest as request:
        return on_request_line(comp.code, label_nb, label_en, request.reason_nb, request.reason_en, quantity=quantity)
    return priced_line(comp.code, label_nb, label_en, precise, explanation, quantity=quantity)


def _convert(plan: PlanSpec, line: Line, interval: str) -> Line:
    if line.on_request:
        return line
    precise, step = _interval_step(plan, interval, line.amount if line.precise_amount is None else line.precise_amount)
    if step is None:
        return line
    return priced_line(
        line.code,
        line.label_nb,
        line.label_en,
        precise,
        line.explanation,
        quantity=line.quantity,
        whole_kroner=plan.whole_kroner,
        steps=(*line.steps, step),
    )


def price(plan: PlanSpec, data: QuoteInput, *, on: dt.date | None = None) -> QuoteResult:
    """Price ``data`` on ``plan`` for one billing interval, plus the first (part) period if ``start`` is given."""
    if data.interval not in plan.intervals:
        raise PricingError(
            f"This plan is billed {' or '.join(plan.intervals)}, not {data.interval}.",
            field="interval",
            message_nb=f"Denne planen faktureres {' eller '.join(plan.intervals)}, ikke {data.interval}.",
        )
    base = _base_lines(plan, data, on)
    lines = tuple(_convert(plan, line, data.interval) for _comp, line in base)
    lines = _apply_minimum(plan, lines)
    result_totals = totals(lines, data.vat_treatment, plan.currency)
    first = _first_period(plan, data, lines) if data.start else None
    reasons_nb = tuple(f"{line.label_nb}: {line.reason_nb}" for line in lines if line.on_request)
    reasons_en = tuple(f"{line.label_en}: {line.reason_en}" for line in lines if line.on_request)
    proc = None
    quote_day = on or data.start
    if data.public_sector and quote_day and not result_totals.on_request:
        per_month = result_totals.net / INTERVAL_MONTHS[data.interval]
        proc = procurement(
            (per_month * data.contract_months).quantize(Decimal("0.01")), data.contract_months, quote_day
        )
    return QuoteResult(
        plan.code, data.interval, lines, result_totals, first, proc, result_totals.on_request, reasons_nb, reasons_en
    )


def _apply_minimum(plan: PlanSpec, lines: tuple[Line, ...]) -> tuple[Line, ...]:
    if plan.minimum is None or any(line.on_request for line in lines):
        return lines
    net = sum((line.amount for line in lines), ZERO)
    if net >= plan.minimum:
        return lines
    top_up = plan.minimum - net
    return (
        *lines,
        priced_line(
            "minimum",
            "Minstepris",
            "Minimum price",
            top_up,
            Explanation.of("minimum", amount=plan.minimum, computed_amount=net),
        ),
    )


def _first_period(plan: PlanSpec, data: QuoteInput, lines: tuple[Line, ...]) -> FirstPeriod | None:
    start = data.start
    if plan.first_period == "quarters":
        end = dt.date(start.year + 1, 1, 1)
        part = []
        for line in lines:
            if line.on_request:
                part.append(line)
                continue
            precise, step = prorate_quarters(line.amount, start)
            part.append(
                priced_line(
                    line.code,
                    line.label_nb,
                    line.label_en,
                    precise,
                    line.explanation,
                    quantity=line.quantity,
                    steps=(*line.steps, step),
                )
            )
    elif plan.first_period == "days":
        months = INTERVAL_MONTHS[data.interval]
        if months == 12:
            period_start, end = dt.date(start.year, 1, 1), dt.date(start.year + 1, 1, 1)
        else:
            period_start = dt.date(start.year, start.month, 1)
            end = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        part = []
        for line in lines:
            if line.on_request:
                part.append(line)
                continue
            precise, step = prorate_days(line.amount, start, end, period_start, end)
            part.append(
                priced_line(
                    line.code,
                    line.label_nb,
                    line.label_en,
                    precise,
                    line.explanation,
                    quantity=line.quantity,
                    steps=(*line.steps, step),
                )
            )
    else:
        return None
    return FirstPeriod(tuple(part), totals(part, data.vat_treatment, plan.currency), start, end)


__all__ = [
    "Band",
    "Component",
    "Flat",
    "Graduated",
    "Package",
    "PerUnit",
    "Percentage",
    "PlanSpec",
    "QuoteInput",
    "QuoteResult",
    "School",
    "Volume",
    "price",
    "procurement",
]
