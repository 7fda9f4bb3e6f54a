"""Invoice statuses, kinds and deliveries in words (in the active language), line texts by language, and
the invoice tables shown on the customer's and the contract's pages.

The words are pairs (nb, en) here, like the contract states in ``contracts.lifecycle``.
"""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

register = template.Library()

STATUSES = {
    "draft": ("Utkast", "Draft"),
    "issued": ("Utstedt", "Issued"),
    "sent": ("Sendt", "Sent"),
    "partly_paid": ("Delvis betalt", "Partly paid"),
    "paid": ("Betalt", "Paid"),
    "overdue": ("Forfalt", "Overdue"),
    "credited": ("Kreditert", "Credited"),
}
KINDS = {"invoice": ("Faktura", "Invoice"), "credit_note": ("Kreditnota", "Credit note")}
DELIVERY_STATUSES = {
    "pending": ("Venter på sending", "Waiting to be sent"),
    "sent": ("Levert", "Delivered"),
    "failed": ("Feilet (prøves igjen)", "Failed (will be retried)"),
    "gave_up": ("Feilet (gitt opp)", "Failed (no more retries)"),
}
CHANNELS = {"ehf": ("EHF (Peppol)", "EHF (Peppol)"), "email": ("PDF på e-post", "PDF by e-mail")}
STATUS_BADGES = {
    "draft": "badge--neutral",
    "issued": "badge--warn",
    "sent": "badge--warn",
    "partly_paid": "badge--warn",
    "paid": "badge--ok",
    "overdue": "badge--danger",
    "credited": "badge--neutral",
}
DELIVERY_BADGES = {"pending": "badge--warn", "sent": "badge--ok", "failed": "badge--danger", "gave_up": "badge--danger"}


def _en() -> bool:
    return (get_language() or "nb").startswith("en")


def _word(table: dict, code) -> str:
    pair = table.get(code)
    if pair is None:
        return code or ""
    return pair[1] if _en() else pair[0]


@register.filter
def status_name(status: str) -> str:
    return _word(STATUSES, status)


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "badge--neutral")


@register.filter
def kind_name(kind: str) -> str:
    return _word(KINDS, kind)


@register.filter
def delivery_name(status: str) -> str:
    return _word(DELIVERY_STATUSES, status)


@register.filter
def delivery_badge(status: str) -> str:
    return DELIVERY_BADGES.get(status, "badge--neutral")


@register.filter
def channel_name(channel: str) -> str:
    return _word(CHANNELS, channel)


@register.filter
def line_description(line) -> str:
    """A line's description in the active language (nb when there is no English one)."""
    return (line.description_en or line.description) if _en() else line.description


@register.filter
def line_explanation(line) -> str:
    return (line.explanation_en or line.explanation_nb) if _en() else line.explanation_nb


@register.filter
def invoice_label(invoice) -> str:
    """ "Faktura 12" / "Credit note 3" / "Utkast" (a draft has no number)."""
    if invoice is None:
        return ""
    if invoice.number is None:
        return f"{_word(KINDS, invoice.kind)} ({_word(STATUSES, 'draft').lower()})"
    return f"{_word(KINDS, invoice.kind)} {invoice.number}"


@register.filter
def org_number(value) -> str:
    """ "979190018" → "979 190 018" (anything else as it is)."""
    text = str(value or "")
    return f"{text[:3]} {text[3:6]} {text[6:]}" if len(text) == 9 and text.isdigit() else text


@register.filter
def account_number(value) -> str:
    """A Norwegian bank account "86011117947" → "8601 11 17947" (anything else as it is)."""
    text = str(value or "").replace(" ", "").replace(".", "")
    return f"{text[:4]} {text[4:6]} {text[6:]}" if len(text) == 11 and text.isdigit() else str(value or "")


@register.inclusion_tag("backoffice/billing/_invoice_table.html", takes_context=True)
def invoices_of(context, customer=None, contract=None):
    """The newest invoices of a customer (with its schools') or of a contract, for their detail pages."""
    from billing import selectors

    if contract is not None:
        rows = selectors.invoices_of_contract(contract)
    elif customer is not None:
        rows = selectors.invoices_of_customer(customer)
    else:
        rows = []
    return {
        "tenant": context.get("tenant"),
        "can": context.get("can"),
        "invoices": rows,
        "customer": customer,
        "contract": contract,
    }


@register.inclusion_tag("backoffice/billing/_time_table.html", takes_context=True)
def time_entries_of(context, contract):
    from billing import selectors

    return {
        "tenant": context.get("tenant"),
        "can": context.get("can"),
        "entries": list(selectors.time_entries().filter(contract=contract)[:50]),
        "contract": contract,
    }


@register.filter
def past_due(invoice, today) -> bool:
    """``invoice|past_due:today``: unpaid after its due date (:meth:`billing.models.Invoice.is_past_due`)."""
    return invoice.is_past_due(today)
