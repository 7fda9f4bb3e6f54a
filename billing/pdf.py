"""The invoice or credit note as a PDF: ``templates/documents/invoice.html`` rendered with WeasyPrint.

Pure in what it reads: an ``InvoiceDocument`` (``billing/document.py``) in, PDF bytes out — the EHF
is rendered from the same data, so the two cannot disagree. Norwegian Bokmål by default, English with
``lang="en"``. Everything the template shows is formatted here (amounts as ``1 234,50``, org numbers
as ``937 620 187``, accounts as ``8601 11 17947``), so the template only places text.

RULES §10: the seller's org number with "MVA" (when VAT-registered) and "Foretaksregisteret" (when
registered there), address, bank account and KID; the buyer's org number and reference; invoice and
due dates; lines with their explanation; VAT per rate; total. A credit note names the invoice it credits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from stdnum.no import kontonr, orgnr

from billing.document import NOT_SUBJECT_TO_VAT, InvoiceDocument, Party, vat_breakdown
from pricing.engine.money import format_amount, format_number

LABELS: dict[str, dict[str, str]] = {
    "nb": {
        "invoice": "Faktura",
        "credit_note": "Kreditnota",
        "seller": "Selger",
        "buyer": "Kunde",
        "org_no": "Org.nr.",
        "invoice_number": "Fakturanr.",
        "credit_note_number": "Kreditnotanr.",
        "invoice_date": "Fakturadato",
        "credit_note_date": "Dato",
        "due_date": "Forfallsdato",
        "payment_terms": "Betalingsbetingelser",
        "your_ref": "Deres ref.",
        "contract": "Avtale",
        "period": "Periode",
        "currency": "Valuta",
        "description": "Beskrivelse",
        "quantity": "Antall",
        "unit_price": "Enhetspris",
        "vat": "Mva.",
        "amount": "Beløp",
        "vat_summary": "Merverdiavgift",
        "vat_basis": "Grunnlag",
        "vat_rate": "Sats",
        "vat_amount": "Mva.",
        "net_total": "Sum eks. mva.",
        "vat_total": "Mva.",
        "total_invoice": "Å betale",
        "total_credit": "Kreditert beløp",
        "pay_to": "Betales til konto",
        "kid": "KID",
        "amount_due": "Beløp",
        "pay_before": "Betales innen",
        "credits": "Krediterer faktura nr. %(number)s av %(date)s.",
        "credits_no_date": "Krediterer faktura nr. %(number)s.",
        "credit_note_info": "Beløpet godskrives og skal ikke betales.",
        "kid_notice": "Oppgi KID ved betaling.",
        "page": "Side",
        "of": "av",
        "cat_S": "Mva. %(rate)s",
        "cat_E": "Fritatt for mva.",
        "cat_AE": "Omvendt avgiftsplikt",
        "cat_O": "Utenfor mva.-området",
        "exempt_note": "Fritatt for merverdiavgift.",
        "outside_note": "Utenfor merverdiavgiftsområdet: det beregnes ikke merverdiavgift.",
        "reverse_note": "Omvendt avgiftsplikt: kjøper beregner og innberetter merverdiavgiften (reverse charge).",
        "email": "E-post",
    },
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "seller": "Seller",
        "buyer": "Customer",
        "org_no": "Org. no.",
        "invoice_number": "Invoice no.",
        "credit_note_number": "Credit note no.",
        "invoice_date": "Invoice date",
        "credit_note_date": "Date",
        "due_date": "Due date",
        "payment_terms": "Payment terms",
        "your_ref": "Your ref.",
        "contract": "Contract",
        "period": "Period",
        "currency": "Currency",
        "description": "Description",
        "quantity": "Qty",
        "unit_price": "Unit price",
        "vat": "VAT",
        "amount": "Amount",
        "vat_summary": "VAT",
        "vat_basis": "Basis",
        "vat_rate": "Rate",
        "vat_amount": "VAT",
        "net_total": "Total excl. VAT",
        "vat_total": "VAT",
        "total_invoice": "Amount due",
        "total_credit": "Amount credited",
        "pay_to": "Pay to account",
        "kid": "KID (payment reference)",
        "amount_due": "Amount",
        "pay_before": "Due date",
        "credits": "Credits invoice no. %(number)s of %(date)s.",
        "credits_no_date": "Credits invoice no. %(number)s.",
        "credit_note_info": "The amount is credited to you and is not to be paid.",
        "kid_notice": "Please state the KID when paying.",
        "page": "Page",
        "of": "of",
        "cat_S": "VAT %(rate)s",
        "cat_E": "Exempt from VAT",
        "cat_AE": "Reverse charge",
        "cat_O": "Not subject to VAT",
        "exempt_note": "Exempt from VAT.",
        "outside_note": "Not subject to VAT (outside the scope of VAT): no VAT is charged.",
        "reverse_note": "Reverse charge: VAT to be accounted for by the recipient.",
        "email": "E-mail",
    },
}

UNITS = {
    "nb": {"EA": "stk.", "HUR": "timer", "ANN": "år", "MON": "mnd.", "QAN": "kvartal", "DAY": "dager"},
    "en": {"EA": "pcs", "HUR": "hours", "ANN": "years", "MON": "months", "QAN": "quarters", "DAY": "days"},
}
UNITS_EN_ONE = {"HUR": "hour", "ANN": "year", "MON": "month", "QAN": "quarter", "DAY": "day"}

MONTHS_EN = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def show_date(day: dt.date | None, lang: str = "nb") -> str:
    """2026-03-20 → '20.03.2026' (nb) / '20 Mar 2026' (en)."""
    if day is None:
        return ""
    if lang == "en":
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return day.strftime("%d.%m.%Y")


def show_period(start: dt.date | None, end: dt.date | None, lang: str = "nb") -> str:
    """A period with its inclusive last day: '15.03.2026–14.03.2027'."""
    if start is None and end is None:
        return ""
    return f"{show_date(start, lang)}\u2013{show_date(end, lang)}"


def show_org_number(number: str) -> str:
    return orgnr.format(number) if number and orgnr.is_valid(number) else number


def show_account(number: str) -> str:
    """'86011117947' → '8601 11 17947' (the usual grouping, with spaces)."""
    return kontonr.format(number).replace(".", " ") if number and kontonr.is_valid(number) else number


def _lang(lang: str) -> str:
    return "en" if (lang or "nb").lower().startswith("en") else "nb"


def _party(party: Party, t: dict[str, str], seller: bool) -> dict[str, Any]:
    org = show_org_number(party.org_number)
    if org and seller and party.vat_registered:
        org_line = f"{t['org_no']} {org} MVA"
    elif org:
        org_line = f"{t['org_no']} {org}"
    else:
        org_line = ""
    postal = " ".join(p for p in (party.postal_code, party.city) if p)
    return {
        "name": party.name,
        "org_line": org_line,
        "foretaksregisteret": seller and party.in_foretaksregisteret,
        "address_line": party.address_line,
        "postal": postal,
        "country": party.country if party.country and party.country != "NO" else "",
        "email": party.email,
        "account": show_account(party.bank_account),
    }


def document_context(doc: InvoiceDocument, lang: str = "nb") -> dict[str, Any]:
    """Everything the template shows, formatted for ``lang``."""
    lang = _lang(lang)
    t = LABELS[lang]
    units = UNITS[lang]
    credit = doc.kind == "credit_note"

    def money(amount: Decimal) -> str:
        return format_amount(amount, lang)

    lines = [
        {
            "number": line.number,
            "description": line.description,
            "explanation": line.explanation_en if lang == "en" and line.explanation_en else line.explanation,
            "period": show_period(line.period_start, line.period_end, lang)
            if line.period_start and (line.period_start, line.period_end) != (doc.period_start, doc.period_end)
            else "",
            "quantity": format_number(line.quantity, lang),
            "unit": (UNITS_EN_ONE if lang == "en" and line.quantity == 1 else units).get(
                line.unit_code, units.get(line.unit_code, line.unit_code)
            ),
            "unit_price": money(line.unit_price),
            "vat": "–"
            if line.vat_category == NOT_SUBJECT_TO_VAT
            else format_number(line.vat_rate, lang) + ("\u00a0%" if lang == "nb" else "%"),
            "net": money(line.net),
        }
        for line in doc.lines
    ]
    breakdown = doc.vat_breakdown or vat_breakdown(doc.lines)
    vat_rows = []
    notes = []
    for v in breakdown:
        outside = v.category == NOT_SUBJECT_TO_VAT
        rate = "–" if outside else format_number(v.rate, lang) + ("\u00a0%" if lang == "nb" else "%")
        label = t.get(f"cat_{v.category}", v.category) % {"rate": rate}
        vat_rows.append({"label": label, "rate": rate, "taxable": money(v.taxable), "tax": money(v.tax)})
        if v.category == "E" and t["exempt_note"] not in notes:
            notes.append(t["exempt_note"])
        if v.category == "AE" and t["reverse_note"] not in notes:
            notes.append(t["reverse_note"])
        if outside and t["outside_note"] not in notes:
            notes.append(t["outside_note"])
    net_total = sum((v.taxable for v in breakdown), Decimal(0)) if breakdown else doc.net_total
    vat_total = sum((v.tax for v in breakdown), Decimal(0))
    total = net_total + vat_total

    if credit and doc.credited_number:
        credits = (
            t["credits"] % {"number": doc.credited_number, "date": show_date(doc.credited_issue_date, lang)}
            if doc.credited_issue_date
            else t["credits_no_date"] % {"number": doc.credited_number}
        )
    else:
        credits = ""
    title = t["credit_note"] if credit else t["invoice"]
    return {
        "lang": lang,
        "t": t,
        "credit": credit,
        "title": title,
        "number": doc.number,
        "number_label": t["credit_note_number"] if credit else t["invoice_number"],
        "date_label": t["credit_note_date"] if credit else t["invoice_date"],
        "issue_date": show_date(doc.issue_date, lang),
        "due_date": "" if credit else show_date(doc.due_date, lang),
        "payment_terms": doc.payment_terms,
        "currency": doc.currency,
        "seller": _party(doc.seller, t, seller=True),
        "buyer": _party(doc.buyer, t, seller=False),
        "buyer_reference": doc.buyer_reference,
        "order_reference": doc.order_reference,
        "period": show_period(doc.period_start, doc.period_end, lang),
        "kid": doc.kid,
        "note": doc.note,
        "credits": credits,
        "lines": lines,
        "vat_rows": vat_rows,
        "vat_notes": notes,
        "net_total": money(net_total),
        "vat_total": money(vat_total),
        "total": money(total),
        "total_label": t["total_credit"] if credit else t["total_invoice"],
        "footer": " \u00b7 ".join(
            p for p in (doc.seller.name, _party(doc.seller, t, seller=True)["org_line"], f"{title} {doc.number}") if p
        ).replace('"', "'"),
    }


def render_invoice_html(doc: InvoiceDocument, lang: str = "nb") -> str:
    return render_to_string("documents/invoice.html", document_context(doc, lang))


_font_config = None


def render_invoice_pdf(doc: InvoiceDocument, lang: str = "nb") -> bytes:
    """The invoice or credit note as A4 PDF bytes (WeasyPrint)."""
    global _font_config
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    if _font_config is None:  # fontconfig set-up is the slow part; one per process is enough
        _font_config = FontConfiguration()
    html = render_invoice_html(doc, lang)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(font_config=_font_config)


def pdf_sha256(pdf: bytes) -> str:
    """The SHA-256 a stored document is kept with, as 64 lowercase hex digits."""
    return hashlib.sha256(pdf).hexdigest()
