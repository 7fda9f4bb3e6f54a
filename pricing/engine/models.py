"""Price models: flat, per unit, band (stairstep), volume tiers, graduated tiers, package, percentage.

Each ``evaluate`` returns the *unrounded* amount with its :class:`Explanation`; rounding happens
once per line in :mod:`pricing.engine.lines`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from pricing.engine.errors import PricingError
from pricing.engine.explain import Explanation
from pricing.engine.money import ZERO, D


@dataclass(frozen=True)
class Unit:
    """What is counted, named in both languages (plural)."""

    nb: str
    en: str


PUPILS = Unit("elever", "pupils")
ACTIVE_USERS = Unit("aktive brukere", "active users")
UNITS = Unit("enheter", "units")


@dataclass(frozen=True)
class Tier:
    """Quantities ``lower``..``upper`` (inclusive; ``upper`` None = no limit).

    Band: ``flat_amount`` is the whole amount. Volume/graduated: ``unit_price`` per unit, or
    ``flat_amount`` for the tier. ``on_request``: no list price; a manual quote is needed.
    """

    lower: int
    upper: int | None
    unit_price: Decimal | None = None
    flat_amount: Decimal | None = None
    on_request: bool = False

    @property
    def label(self) -> str:
        return f"{self.lower}–{self.upper}" if self.upper is not None else f"{self.lower}+"

    def contains(self, quantity: int) -> bool:
        return quantity >= self.lower and (self.upper is None or quantity <= self.upper)


class OnRequest(Exception):  # noqa: N818 - a result, not an error
    """No list price for this input: a manual price is needed (never a crash)."""

    def __init__(self, reason_en: str, reason_nb: str):
        super().__init__(reason_en)
        self.reason_en = reason_en
        self.reason_nb = reason_nb


def validate_tiers(tiers: tuple[Tier, ...], *, field: str = "tiers", start: int = 1) -> None:
    """Ascending bounds, starting at ``start``, no gaps, no overlaps; only the last may be open."""
    if not tiers:
        raise PricingError("Give at least one tier.", field=field, message_nb="Oppgi minst ett trinn.")
    expected = start
    for i, tier in enumerate(tiers):
        where = f"{field}[{i}]"
        if tier.upper is not None and tier.upper < tier.lower:
            raise PricingError(
                f"Tier {i + 1}: the upper bound {tier.upper} is below the lower bound {tier.lower}.",
                field=where,
                message_nb=f"Trinn {i + 1}: øvre grense {tier.upper} er under nedre grense {tier.lower}.",
            )
        if tier.lower < expected:
            raise PricingError(
                f"Tier {i + 1} starts at {tier.lower} and overlaps the tier before it; start it at {expected}.",
                field=where,
                message_nb=f"Trinn {i + 1} starter på {tier.lower} og overlapper trinnet før; start det på {expected}.",
            )
        if tier.lower > expected:
            raise PricingError(
                f"Gap before tier {i + 1}: {expected}–{tier.lower - 1} has no price; start it at {expected}.",
                field=where,
                message_nb=(
                    f"Hull før trinn {i + 1}: {expected}–{tier.lower - 1} har ingen pris; start det på {expected}."
                ),
            )
        if tier.upper is None and i != len(tiers) - 1:
            raise PricingError(
                f"Tier {i + 1} has no upper bound, so it must be the last tier.",
                field=where,
                message_nb=f"Trinn {i + 1} har ingen øvre grense og må være det siste.",
            )
        for name in ("unit_price", "flat_amount"):
            value = getattr(tier, name)
            if value is not None and D(value) < 0:
                raise PricingError(
                    f"Tier {i + 1}: {name} cannot be negative.",
                    field=where,
                    message_nb=f"Trinn {i + 1}: beløpet kan ikke være negativt.",
                )
        if not tier.on_request and tier.unit_price is None and tier.flat_amount is None:
            raise PricingError(
                f"Tier {i + 1} needs a price (or 'on request').",
                field=where,
                message_nb=f"Trinn {i + 1} mangler pris (eller «på forespørsel»).",
            )
        expected = (tier.upper + 1) if tier.upper is not None else expected


def check_count(quantity, *, field: str, unit: Unit = UNITS, minimum: int = 1) -> int:
    """A count of things: a whole number ≥ ``minimum``. Refuses zero, negatives, fractions, non-numbers."""
    if isinstance(quantity, bool) or quantity is None:
        raise PricingError(f"Give the number of {unit.en}.", field=field, message_nb=f"Oppgi antall {unit.nb}.")
    try:
        d = D(quantity) if not isinstance(quantity, float) else Decimal(repr(quantity))
    except Exception as exc:  # noqa: BLE001
        raise PricingError(
            f"The number of {unit.en} must be a whole number.",
            field=field,
            message_nb=f"Antall {unit.nb} må være et heltall.",
        ) from exc
    if not d.is_finite() or d != d.to_integral_value():
        raise PricingError(
            f"The number of {unit.en} must be a whole number, not {quantity}.",
            field=field,
            message_nb=f"Antall {unit.nb} må være et heltall, ikke {quantity}.",
        )
    if d < minimum:
        raise PricingError(
            f"The number of {unit.en} must be at least {minimum} (got {quantity}).",
            field=field,
            message_nb=f"Antall {unit.nb} må være minst {minimum} (fikk {quantity}).",
        )
    return int(d)


def find_tier(tiers: tuple[Tier, ...], quantity: int) -> Tier:
    for tier in tiers:
        if tier.contains(quantity):
            return tier
    raise PricingError(f"No tier covers {quantity}.", field="quantity", message_nb=f"Ingen trinn dekker {quantity}.")


def _on_request(tier: Tier, quantity: int, unit: Unit):
    raise OnRequest(
        f"{quantity} {unit.en} is beyond the price list (tier {tier.label}); ask for a quote.",
        f"{quantity} {unit.nb} er utenfor prislisten (trinn {tier.label}); be om tilbud.",
    )


@dataclass(frozen=True)
class Flat:
    amount: Decimal

    def evaluate(self, quantity: int = 1) -> tuple[Decimal, Explanation]:
        return D(self.amount), Explanation.of("flat", amount=D(self.amount))


@dataclass(frozen=True)
class PerUnit:
    unit_price: Decimal
    unit: Unit = UNITS

    def evaluate(self, quantity: int) -> tuple[Decimal, Explanation]:
        return quantity * D(self.unit_price), Explanation.of(
            "per_unit", quantity=quantity, unit_price=D(self.unit_price)
        )


@dataclass(frozen=True)
class Band:
    """Stairstep: the whole amount of the band the quantity falls in (Spekter per school)."""

    tiers: tuple[Tier, ...]
    unit: Unit = UNITS

    def evaluate(self, quantity: int) -> tuple[Decimal, Explanation]:
        tier = find_tier(self.tiers, quantity)
        if tier.on_request:
            _on_request(tier, quantity, self.unit)
        amount = D(tier.flat_amount)
        return amount, Explanation.of(
            "band", quantity=quantity, unit_nb=self.unit.nb, unit_en=self.unit.en, band=tier.label, amount=amount
        )


@dataclass(frozen=True)
class Volume:
    """All units at the rate of the tier reached; a tier may be flat instead (DigiReq 1–10: 495)."""

    tiers: tuple[Tier, ...]
    unit: Unit = UNITS

    def evaluate(self, quantity: int) -> tuple[Decimal, Explanation]:
        tier = find_tier(self.tiers, quantity)
        if tier.on_request:
            _on_request(tier, quantity, self.unit)
        if tier.flat_amount is not None:
            amount = D(tier.flat_amount)
            return amount, Explanation.of(
                "volume_flat",
                quantity=quantity,
                unit_nb=self.unit.nb,
                unit_en=self.unit.en,
                band=tier.label,
                amount=amount,
            )
        price = D(tier.unit_price)
        return quantity * price, Explanation.of(
            "volume_unit",
            quantity=quantity,
            unit_nb=self.unit.nb,
            unit_en=self.unit.en,
            band=tier.label,
            unit_price=price,
        )


@dataclass(frozen=True)
class Graduated:
    """Each unit at its own tier's rate (plus a tier's flat amount once the tier is entered)."""

    tiers: tuple[Tier, ...]
    unit: Unit = UNITS

    def evaluate(self, quantity: int) -> tuple[Decimal, Explanation]:
        total = ZERO
        parts = []
        for tier in self.tiers:
            if quantity < tier.lower:
                break
            if tier.on_request:
                _on_request(tier, quantity, self.unit)
            top = quantity if tier.upper is None else min(quantity, tier.upper)
            units = top - tier.lower + 1
            if tier.flat_amount is not None:
                total += D(tier.flat_amount)
                parts.append(Explanation.of("flat", amount=D(tier.flat_amount)))
            if tier.unit_price is not None:
                total += units * D(tier.unit_price)
                parts.append(Explanation.of("per_unit", quantity=units, unit_price=D(tier.unit_price)))
        return total, Explanation.of("graduated", parts=tuple(parts))


@dataclass(frozen=True)
class Package:
    """Bought in packages of ``size``: every started package is paid in full."""

    size: int
    price: Decimal
    unit: Unit = UNITS

    def evaluate(self, quantity: int) -> tuple[Decimal, Explanation]:
        packages = math.ceil(quantity / self.size)
        return packages * D(self.price), Explanation.of(
            "package",
            packages=packages,
            package_size=self.size,
            package_price=D(self.price),
            quantity=quantity,
            unit_nb=self.unit.nb,
            unit_en=self.unit.en,
        )


@dataclass(frozen=True)
class Percentage:
    """A share of other lines' amounts (the offline add-on: 10 % of the annual licence)."""

    rate: Decimal

    def evaluate_on(self, base: Decimal) -> tuple[Decimal, Explanation]:
        return D(base) * D(self.rate), Explanation.of("percentage", rate=D(self.rate), base=D(base))


PriceModel = Flat | PerUnit | Band | Volume | Graduated | Package


@dataclass(frozen=True)
class Matrix:
    """An amount from a two-way table: rows by one count (concurrent users), columns by another
    (number of standards). ``row_uppers``/``column_uppers`` are inclusive upper bounds, ascending;
    beyond the last bound the price is on request. (Standard Norge's annual fee for establishment,
    support and maintenance; the table is the tenant's data.)"""

    row_uppers: tuple[int, ...]
    column_uppers: tuple[int, ...]
    amounts: tuple[tuple[Decimal, ...], ...]

    def __post_init__(self):
        for name, bounds in (("rows", self.row_uppers), ("columns", self.column_uppers)):
            if not bounds or any(b <= a for a, b in zip(bounds, bounds[1:], strict=False)) or bounds[0] < 1:
                raise PricingError(f"The table's {name} need ascending upper bounds from 1.", field=f"matrix.{name}")
        if len(self.amounts) != len(self.row_uppers) or any(len(r) != len(self.column_uppers) for r in self.amounts):
            raise PricingError(
                "The table needs one amount per row and column.",
                field="matrix.amounts",
                message_nb="Tabellen trenger ett beløp per rad og kolonne.",
            )

    def evaluate_pair(self, users: int, count: int) -> tuple[Decimal, Explanation]:
        row = next((i for i, upper in enumerate(self.row_uppers) if users <= upper), None)
        column = next((j for j, upper in enumerate(self.column_uppers) if count <= upper), None)
        if row is None or column is None:
            raise OnRequest(
                f"{users} concurrent users and {count} standards is beyond the fee table",
                f"{users} samtidige brukere og {count} standarder er utenfor avgiftstabellen",
            )
        amount = D(self.amounts[row][column])
        return amount, Explanation.of("matrix", users=users, count=count, amount=amount)
