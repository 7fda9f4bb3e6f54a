"""Hourly services as invoice lines (RULES §4, §6): pure — numbers in, lines out.

Hours are billed at the service's rate, rounded up to its increment (per started half hour when the
increment is 30 minutes); travel hours at ``travel_share`` of the rate (50 % for Piscator); expenses at
cost. Each line is rounded once, half up to the øre, and says how it was computed in nb and en.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from pricing.engine.money import ZERO, format_amount, format_number, round_money

MINUTES_PER_HOUR = Decimal(60)


@dataclass(frozen=True)
class HourLine:
    kind: str  # hours | travel | expenses
    quantity: Decimal  # hours billed (after the increment), or 1 for expenses
    unit_code: str  # HUR (hours) or EA
    unit_price: Decimal
    net: Decimal
    explanation_nb: str
    explanation_en: str


def billed_hours(hours: Decimal, increment_minutes: int) -> Decimal:
    """Hours rounded up to whole increments: 1.2 h per started half hour → 1.5 h."""
    if increment_minutes <= 1:
        return hours
    step = Decimal(increment_minutes) / MINUTES_PER_HOUR
    return (hours / step).to_integral_value(rounding=ROUND_CEILING) * step


def hour_lines(
    *,
    hours: Decimal,
    travel_hours: Decimal,
    expenses: Decimal,
    rate: Decimal,
    travel_share: Decimal,
    increment_minutes: int = 1,
    expenses_description: str = "",
) -> list[HourLine]:
    """The lines for one time entry (hours, travel, expenses), leaving out the zero ones."""
    out = []
    if hours > 0:
        billed = billed_hours(hours, increment_minutes)
        net = round_money(billed * rate)
        rounded_nb = rounded_en = ""
        if billed != hours:
            rounded_nb = f" ({format_number(hours)} t, per påbegynte {increment_minutes} min)"
            rounded_en = f" ({format_number(hours, 'en')} h, per started {increment_minutes} min)"
        out.append(
            HourLine(
                "hours",
                billed,
                "HUR",
                rate,
                net,
                f"{format_number(billed)} t × {format_amount(rate)}{rounded_nb} = {format_amount(net)}",
                f"{format_number(billed, 'en')} h × {format_amount(rate, 'en')}{rounded_en} "
                f"= {format_amount(net, 'en')}",
            )
        )
    if travel_hours > 0:
        billed = billed_hours(travel_hours, increment_minutes)
        travel_rate = round_money(rate * travel_share)
        net = round_money(billed * travel_rate)
        share = format_number(round_money(travel_share * 100))
        share_en = format_number(round_money(travel_share * 100), "en")
        out.append(
            HourLine(
                "travel",
                billed,
                "HUR",
                travel_rate,
                net,
                f"Reisetid {format_number(billed)} t × {format_amount(travel_rate)} "
                f"({share} % av timeprisen {format_amount(rate)}) = {format_amount(net)}",
                f"Travel time {format_number(billed, 'en')} h × {format_amount(travel_rate, 'en')} "
                f"({share_en} % of the hourly rate {format_amount(rate, 'en')}) = {format_amount(net, 'en')}",
            )
        )
    if expenses > 0:
        net = round_money(expenses)
        what = f": {expenses_description}" if expenses_description else ""
        out.append(
            HourLine(
                "expenses",
                Decimal(1),
                "EA",
                net,
                net,
                f"Utlegg etter regning{what} = {format_amount(net)}",
                f"Expenses at cost{what} = {format_amount(net, 'en')}",
            )
        )
    return out


def total(lines: list[HourLine]) -> Decimal:
    return sum((line.net for line in lines), ZERO)
