"""An issued invoice or credit note as plain data: what the PDF and the EHF (Peppol BIS Billing 3.0)
are both rendered from, so they cannot disagree. Pure: dataclasses and Decimal.

``billing/services.py`` builds it from the database; ``billing/ehf.py`` and ``billing/pdf.py`` render it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from pricing.engine.money import ZERO, round_money

# UNCL5305 VAT categories used here: S standard (25 %), E exempt, AE reverse charge (buyer abroad) — by the
# customer's VAT treatment — and O, not subject to VAT: amounts outside the scope of VAT whoever the buyer is,
# such as late-payment interest and reminder fees (an interest invoice, ``receivables.interest_billing``).
VAT_CATEGORY_BY_TREATMENT = {"no_25": "S", "exempt": "E", "reverse_charge": "AE"}
NOT_SUBJECT_TO_VAT = "O"
EXEMPTION_REASONS = {
    # No VATEX code: Peppol reserves VATEX-EU-O for category O (rule P0105); the reason text is enough (BR-E-10).
    "E": ("", "Fritatt for merverdiavgift"),
    "AE": ("VATEX-EU-AE", "Omvendt avgiftsplikt (reverse charge)"),
    # BR-O-10: the code or a text meaning "Not subject to VAT"; both are sent.
    NOT_SUBJECT_TO_VAT: ("VATEX-EU-O", "Utenfor merverdiavgiftsområdet (not subject to VAT)"),
}


@dataclass(frozen=True)
class Party:
    name: str
    org_number: str  # 9 digits, or "" for a foreign buyer without one
    country: str = "NO"
    address_line: str = ""
    postal_code: str = ""
    city: str = ""
    vat_registered: bool = False  # the seller's "MVA" (NO<orgnr>MVA); a buyer's when known
    in_foretaksregisteret: bool = False  # the seller's "Foretaksregisteret"
    peppol_id: str = ""  # "0192:<orgnr>" when the party has a Peppol endpoint
    email: str = ""
    bank_account: str = ""  # the seller's account (11 digits)

    @property
    def vat_number(self) -> str:
        return f"NO{self.org_number}MVA" if self.vat_registered and self.org_number else ""


@dataclass(frozen=True)
class DocumentLine:
    number: int
    description: str  # Norwegian: the line's label
    explanation: str  # Norwegian: how the amount came about (band, tier, formula and factors)
    explanation_en: str
    quantity: Decimal
    unit_code: str  # UN/ECE rec 20: EA (piece), HUR (hour), ANN (year), MON (month), QAN (quarter)
    unit_price: Decimal
    net: Decimal  # rounded to the øre; = quantity × unit_price where that is exact
    vat_category: str  # S, E, AE or O
    vat_rate: Decimal  # 25 for S, 0 otherwise (percent, as UBL writes it; O has no rate in the EHF)
    period_start: dt.date | None = None
    period_end: dt.date | None = None  # inclusive


@dataclass(frozen=True)
class VatBreakdown:
    category: str
    rate: Decimal  # percent
    taxable: Decimal
    tax: Decimal
    exemption_code: str = ""
    exemption_reason: str = ""


@dataclass(frozen=True)
class InvoiceDocument:
    kind: str  # "invoice" or "credit_note"
    number: str
    issue_date: dt.date
    due_date: dt.date | None
    currency: str
    seller: Party
    buyer: Party
    buyer_reference: str  # BT-10: the buyer's reference (e.g. "Oppvekst, ressursnr. 4011")
    kid: str  # the payment reference (KID)
    lines: tuple[DocumentLine, ...]
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    order_reference: str = ""  # the contract reference
    note: str = ""
    payment_terms: str = ""  # e.g. "30 dager netto"
    credited_number: str = ""  # a credit note: the invoice it corrects (BT-25) ...
    credited_issue_date: dt.date | None = None  # ... and its date (BT-26)
    vat_breakdown: tuple[VatBreakdown, ...] = field(default=())

    @property
    def not_subject_to_vat(self) -> bool:
        """Any line outside the scope of VAT (category O): then every line must be (BR-O-11/12)."""
        return any(line.vat_category == NOT_SUBJECT_TO_VAT for line in self.lines)

    @property
    def net_total(self) -> Decimal:
        return sum((line.net for line in self.lines), ZERO)

    @property
    def vat_total(self) -> Decimal:
        return sum((v.tax for v in self.vat_breakdown), ZERO)

    @property
    def total(self) -> Decimal:
        return self.net_total + self.vat_total


def vat_breakdown(lines: tuple[DocumentLine, ...] | list[DocumentLine]) -> tuple[VatBreakdown, ...]:
    """VAT per category and rate on the sum of the line nets, rounded once (RULES §1, EN 16931 BR-CO-17)."""
    groups: dict[tuple[str, Decimal], Decimal] = {}
    for line in lines:
        key = (line.vat_category, line.vat_rate)
        groups[key] = groups.get(key, ZERO) + line.net
    out = []
    for (category, rate), taxable in sorted(groups.items()):
        code, reason = EXEMPTION_REASONS.get(category, ("", ""))
        out.append(VatBreakdown(category, rate, taxable, round_money(taxable * rate / 100), code, reason))
    return tuple(out)


def kid_mod10(base: str) -> str:
    """``base`` + its MOD10 (Luhn) check digit: the usual Norwegian KID."""
    total = 0
    for i, ch in enumerate(reversed(base)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return base + str((10 - total % 10) % 10)


def kid_mod11(base: str) -> str | None:
    """``base`` + its MOD11 check digit (weights 2–7 from the right); None where the digit would be 10."""
    total = sum(int(ch) * (2 + i % 6) for i, ch in enumerate(reversed(base)))
    check = (11 - total % 11) % 11
    if check == 10:
        return None
    return base + str(check)
