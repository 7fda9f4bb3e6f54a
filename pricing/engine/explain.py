"""Explanations: every amount says how it came about, in Norwegian Bokmål and English.

An :class:`Explanation` is structured data (a kind plus its factors) so the API can return it
as-is and any face can render it; :func:`render` turns it into a sentence in either language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pricing.engine.money import format_amount, format_number, format_percent


@dataclass(frozen=True)
class Explanation:
    kind: str
    factors: tuple[tuple[str, Any], ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, kind: str, **factors: Any) -> Explanation:
        return cls(kind=kind, factors=tuple(factors.items()))

    def get(self, name: str, default=None):
        return dict(self.factors).get(name, default)

    def as_dict(self) -> dict[str, Any]:
        def plain(value):
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, Explanation):
                return value.as_dict()
            if isinstance(value, list | tuple):
                return [plain(v) for v in value]
            return value

        return {
            "kind": self.kind,
            "factors": {k: plain(v) for k, v in self.factors},
            "nb": render(self, "nb"),
            "en": render(self, "en"),
        }


def _fmt(value: Any, name: str, lang: str) -> str:
    if isinstance(value, Decimal):
        if name == "d":  # the volume discount D, written as in the price list: (1 − 0.50)
            return format_amount(value, lang)
        if name.endswith(("rate", "discount", "share")):
            return format_percent(value, lang)
        if name.endswith(("amount", "price", "sum", "total", "base")):
            return format_amount(value, lang)
        return format_number(value, lang)
    if isinstance(value, int) and not isinstance(value, bool):
        return format_number(value, lang)
    return str(value)


TEMPLATES: dict[str, tuple[str, str]] = {
    "flat": ("Fast pris {amount}", "Fixed price {amount}"),
    "per_unit": ("{quantity} × {unit_price}", "{quantity} × {unit_price}"),
    "band": (
        "{quantity} {unit_nb}: trinn {band} gir {amount}",
        "{quantity} {unit_en}: band {band} gives {amount}",
    ),
    "volume_flat": (
        "{quantity} {unit_nb}: trinn {band}, fast {amount}",
        "{quantity} {unit_en}: tier {band}, flat {amount}",
    ),
    "volume_unit": (
        "{quantity} {unit_nb} × {unit_price} (trinn {band}: alle enheter til trinnets pris)",
        "{quantity} {unit_en} × {unit_price} (tier {band}: every unit at the tier's price)",
    ),
    "graduated": (
        "Trappetrinn: {parts}",
        "Graduated tiers: {parts}",
    ),
    "package": (
        "{packages} pakke(r) à {package_size} × {package_price} for {quantity} {unit_nb}",
        "{packages} package(s) of {package_size} × {package_price} for {quantity} {unit_en}",
    ),
    "percentage": ("{rate} av {base}", "{rate} of {base}"),
    "annual_discount": (
        "Årspris: 12 × {monthly_amount} × (1 − {discount})",
        "Annual price: 12 × {monthly_amount} × (1 − {discount})",
    ),
    "months": ("{months} × {monthly_amount}", "{months} × {monthly_amount}"),
    "licence_formula": (
        "Kategori {category}: {phc_sum} × (1 − {d}) × {m} × {factor} ({count} standarder, {users} samtidige brukere)",
        "Category {category}: {phc_sum} × (1 − {d}) × {m} × {factor} ({count} standards, {users} concurrent users)",
    ),
    "licence_withdrawn": (
        "Kategori {category}, tilbaketrukne standarder til 50 %: {phc_sum} × 0,5 × (1 − {d}) × {m} × {factor}",
        "Category {category}, withdrawn standards at 50%: {phc_sum} × 0.5 × (1 − {d}) × {m} × {factor}",
    ),
    "building_blocks": (
        "Kategori {category}: {blocks} blokk(er) à 25 standarder × snittpris {average_price} = {phc_sum}; "
        "{phc_sum} × (1 − {d}) × {m} × {factor}",
        "Category {category}: {blocks} block(s) of 25 standards × average price {average_price} = {phc_sum}; "
        "{phc_sum} × (1 − {d}) × {m} × {factor}",
    ),
    "extra_prints": (
        "{quantity} ekstra utskrift(er): {catalogue_sum} × {rate}",
        "{quantity} extra print(s): {catalogue_sum} × {rate}",
    ),
    "matrix": (
        "Årsavgift for {users} samtidige brukere og {count} standarder: {amount}",
        "Annual fee for {users} concurrent users and {count} standards: {amount}",
    ),
    "quarters": (
        "{quarters}/4 av årsprisen {annual_amount} (kvartal {first_quarter}–4 {year}, påbegynt kvartal medregnet)",
        "{quarters}/4 of the annual price {annual_amount} (Q{first_quarter}–Q4 {year}, the started quarter included)",
    ),
    "days": (
        "{days}/{period_days} dager av {full_amount}",
        "{days}/{period_days} days of {full_amount}",
    ),
    "on_request": ("Pris på forespørsel: {reason_nb}", "Price on request: {reason_en}"),
    "vat": ("Mva {rate} av {base}", "VAT {rate} of {base}"),
    "no_vat": ("Ingen norsk mva ({reason_nb})", "No Norwegian VAT ({reason_en})"),
    "minimum": (
        "Minstepris {amount} (beregnet {computed_amount})",
        "Minimum price {amount} (computed {computed_amount})",
    ),
}


def render(explanation: Explanation, lang: str = "nb") -> str:
    nb, en = TEMPLATES[explanation.kind]
    template = nb if lang == "nb" else en
    values = {}
    for name, value in explanation.factors:
        if isinstance(value, list | tuple) and value and isinstance(value[0], Explanation):
            values[name] = "; ".join(render(v, lang) for v in value)
        else:
            values[name] = _fmt(value, name, lang)
    return template.format(**values)
