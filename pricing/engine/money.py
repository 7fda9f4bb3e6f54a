"""Money: Decimal only, and rounding in exactly one place.

RULES §1: half up to the øre at each line; VAT per rate on the sum of line nets, rounded once.
A price list may ask for whole kroner.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ORE = Decimal("0.01")
KRONE = Decimal("1")
ZERO = Decimal("0")


def D(value) -> Decimal:  # noqa: N802 - short constructor used in tables
    """A Decimal from str/int/Decimal; floats are refused (they are not exact)."""
    if isinstance(value, float):
        raise TypeError("Money is never a float; pass a string or Decimal")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def round_money(amount: Decimal, step: Decimal = ORE) -> Decimal:
    """The one rounding helper: half up to the øre (or whole kroner when ``step`` is 1)."""
    return D(amount).quantize(step, rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal, lang: str = "nb", places: int = 2) -> str:
    """48000 → '48 000,00' (nb, with a no-break space) or '48,000.00' (en)."""
    q = D(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) if places else round_money(amount, KRONE)
    sign = "−" if q < 0 else ""
    text = f"{abs(q):,.{places}f}"
    if lang == "nb":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return sign + text


def format_number(value: Decimal | int, lang: str = "nb") -> str:
    """A factor or count without forced decimals: 0.45 → '0,45' (nb); 6.5 → '6,5'; 40 → '40'."""
    d = D(value)
    text = format(d.normalize(), "f") if d != d.to_integral_value() else f"{int(d):,}"
    if lang == "nb":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text


def format_percent(rate: Decimal, lang: str = "nb") -> str:
    """0.15 → '15 %' (nb) / '15%' (en)."""
    pct = format_number(D(rate) * 100, lang)
    return f"{pct}\u00a0%" if lang == "nb" else f"{pct}%"
