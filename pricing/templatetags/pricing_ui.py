"""Money and percentages on the pages, in the active language: 1 234,50 kr (nb) / NOK 1,234.50 (en)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import get_language

from pricing.engine.money import format_amount, format_number, format_percent

register = template.Library()


def current_lang() -> str:
    return "en" if (get_language() or "nb").startswith("en") else "nb"


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money(value, currency: str = "NOK") -> str:
    """An amount with two decimals and the currency; "—" for nothing."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    lang = current_lang()
    text = format_amount(amount, lang)
    if currency in ("NOK", "", None):
        return f"{text}\u00a0kr" if lang == "nb" else f"NOK\u00a0{text}"
    return f"{text}\u00a0{currency}"


@register.filter
def amount(value) -> str:
    """An amount with two decimals, no currency (for table cells under a currency heading)."""
    d = _decimal(value)
    return "—" if d is None else format_amount(d, current_lang())


@register.filter
def number(value) -> str:
    d = _decimal(value)
    return "—" if d is None else format_number(d, current_lang())


@register.filter
def percent(value) -> str:
    d = _decimal(value)
    return "—" if d is None else format_percent(d, current_lang())


@register.filter
def in_lang(value) -> str:
    """``{"nb": ..., "en": ...}`` → the text in the active language."""
    if isinstance(value, dict):
        return value.get(current_lang()) or value.get("nb") or ""
    return "" if value is None else str(value)


@register.filter
def get(mapping, key):
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def as_date(value, days_before: int = 0):
    """An ISO date string (as in a saved quote) → a date, optionally ``days_before`` earlier
    (an exclusive period end shown as the last day)."""
    import datetime as dt

    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            return value
    return day - dt.timedelta(days=int(days_before or 0))
