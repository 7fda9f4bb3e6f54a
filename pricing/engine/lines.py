"""Priced lines and totals. Each line is rounded here, once; VAT once per rate on the sum of nets."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from pricing.engine.explain import Explanation, render
from pricing.engine.money import KRONE, ORE, ZERO, D, round_money

VAT_RATE_NO = Decimal("0.25")

VAT_TREATMENTS = {
    # treatment: (rate, reason nb, reason en)
    "no_25": (VAT_RATE_NO, "", ""),
    "reverse_charge": (ZERO, "kunde i utlandet, omvendt avgiftsplikt", "customer abroad, reverse charge"),
    "exempt": (ZERO, "fritatt for mva", "exempt from VAT"),
}


@dataclass(frozen=True)
class Line:
    code: str
    label_nb: str
    label_en: str
    amount: Decimal | None  # rounded; None when on request
    explanation: Explanation
    quantity: int | None = None
    on_request: bool = False
    reason_nb: str = ""
    reason_en: str = ""
    precise_amount: Decimal | None = None  # before rounding, kept for audit
    steps: tuple[Explanation, ...] = field(default_factory=tuple)  # e.g. annual price, then proration

    def label(self, lang: str = "nb") -> str:
        return self.label_nb if lang == "nb" else self.label_en

    def explain(self, lang: str = "nb") -> str:
        return " → ".join(render(e, lang) for e in (self.explanation, *self.steps))

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "label": {"nb": self.label_nb, "en": self.label_en},
            "quantity": self.quantity,
            "amount": str(self.amount) if self.amount is not None else None,
            "on_request": self.on_request,
            "reason": {"nb": self.reason_nb, "en": self.reason_en} if self.on_request else None,
            "explanation": {
                "nb": self.explain("nb"),
                "en": self.explain("en"),
                "steps": [e.as_dict() for e in (self.explanation, *self.steps)],
            },
        }


def priced_line(
    code: str,
    label_nb: str,
    label_en: str,
    precise: Decimal,
    explanation: Explanation,
    *,
    quantity: int | None = None,
    whole_kroner: bool = False,
    steps: tuple[Explanation, ...] = (),
) -> Line:
    """A line whose amount is ``precise`` rounded half up once (to the øre, or whole kroner)."""
    amount = round_money(precise, KRONE if whole_kroner else ORE)
    return Line(
        code, label_nb, label_en, amount, explanation, quantity=quantity, precise_amount=D(precise), steps=steps
    )


def on_request_line(
    code: str, label_nb: str, label_en: str, reason_nb: str, reason_en: str, quantity: int | None = None
) -> Line:
    return Line(
        code,
        label_nb,
        label_en,
        None,
        Explanation.of("on_request", reason_nb=reason_nb, reason_en=reason_en),
        quantity=quantity,
        on_request=True,
        reason_nb=reason_nb,
        reason_en=reason_en,
    )


@dataclass(frozen=True)
class VatLine:
    rate: Decimal
    base: Decimal
    amount: Decimal
    explanation: Explanation


@dataclass(frozen=True)
class Totals:
    net: Decimal
    vat: Decimal
    total: Decimal
    vat_lines: tuple[VatLine, ...]
    on_request: bool
    currency: str = "NOK"

    def as_dict(self) -> dict:
        return {
            "currency": self.currency,
            "net": str(self.net),
            "vat": str(self.vat),
            "total": str(self.total),
            "on_request": self.on_request,
            "vat_lines": [
                {
                    "rate": str(v.rate),
                    "base": str(v.base),
                    "amount": str(v.amount),
                    "explanation": v.explanation.as_dict(),
                }
                for v in self.vat_lines
            ],
        }


def totals(lines: list[Line] | tuple[Line, ...], vat_treatment: str = "no_25", currency: str = "NOK") -> Totals:
    """Net = sum of rounded lines; VAT per rate on that sum, rounded once (EN 16931 style)."""
    if vat_treatment not in VAT_TREATMENTS:
        from pricing.engine.errors import PricingError

        raise PricingError(
            f"Unknown VAT treatment {vat_treatment!r}; use one of {', '.join(VAT_TREATMENTS)}.", field="vat_treatment"
        )
    rate, reason_nb, reason_en = VAT_TREATMENTS[vat_treatment]
    priced = [line for line in lines if line.amount is not None]
    net = round_money(sum((line.amount for line in priced), ZERO))
    vat = round_money(net * rate)
    explanation = (
        Explanation.of("vat", rate=rate, base=net)
        if rate
        else Explanation.of("no_vat", reason_nb=reason_nb, reason_en=reason_en)
    )
    return Totals(
        net=net,
        vat=vat,
        total=net + vat,
        vat_lines=(VatLine(rate, net, vat, explanation),),
        on_request=any(line.on_request for line in lines),
        currency=currency,
    )
