"""A contract's price history: what its yearly price was, from when, and why (the start, an amendment, a
CPI indexation with its inputs, a new price list at a renewal, the new year's catalogue prices), and the
changes announced for later. Read by the back-office, the portal and the API alike.

Prices are the engine's, on the plan version and priced-on row in force on each date with the contract's
CPI steps so far: the same computation the invoices make.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import get_language

from contracts.models import Contract, PricedOn
from indexation.models import IndexationProposal, PriceAdjustment, ProposalStatus
from indexation.preview import PricePreview, row_on
from pricing.indexation import add_months

REASONS = {
    "start": ("Avtalen startet", "Agreement started"),
    "amendment": ("Endring i avtalen", "Amendment"),
    "indexation": ("Prisjustering etter indeks", "Index adjustment"),
    "list": ("Ny prisliste", "New price list"),
    "catalogue": ("Nye katalogpriser", "New catalogue prices"),
    "renewal": ("Fornyelse", "Renewal"),
}


@dataclass(frozen=True)
class PriceHistoryEntry:
    effective_from: dt.date
    reason: str  # start | amendment | indexation | list | catalogue | renewal
    yearly_price: Decimal | None
    previous_yearly_price: Decimal | None
    explanation_nb: str
    explanation_en: str
    proposal_id: int | None = None
    announced: bool = False  # approved, takes effect later

    @property
    def reason_label(self) -> str:
        nb, en = REASONS[self.reason]
        return en if (get_language() or "nb").startswith("en") else nb

    @property
    def explanation(self) -> str:
        return self.explanation_en if (get_language() or "nb").startswith("en") else self.explanation_nb

    @property
    def change(self) -> Decimal | None:
        if self.yearly_price is None or self.previous_yearly_price is None:
            return None
        return self.yearly_price - self.previous_yearly_price


def price_history(contract: Contract, *, today: dt.date) -> list[PriceHistoryEntry]:
    """Oldest first; the last entries may be announced changes (``announced``)."""
    if contract.start_date is None:
        return []
    rows = list(PricedOn.objects.filter(contract=contract).order_by("effective_from", "pk"))
    adjustments = list(PriceAdjustment.objects.filter(contract=contract).order_by("effective_from"))
    preview = PricePreview()
    start = contract.start_date
    end = min(d for d in (today, contract.ends_on or today) if d)

    candidates: dict[dt.date, tuple[str, str, str, int | None]] = {}
    candidates[start] = ("start", "Pris ved avtalens start", "The price when the agreement started", None)
    for row in rows[1:]:
        if start < row.effective_from <= end:
            candidates[row.effective_from] = ("amendment", row.reason, row.reason, None)
    term = contract.renewal_term_months or contract.initial_term_months or 12
    n, day = 1, add_months(start, contract.initial_term_months or 12)
    while day <= end:
        candidates.setdefault(day, ("renewal", "", "", None))
        day = add_months(start, (contract.initial_term_months or 12) + n * term)
        n += 1
    for year in range(start.year + 1, end.year + 1):
        candidates.setdefault(dt.date(year, 1, 1), ("catalogue", "", "", None))
    for a in adjustments:
        if a.effective_from <= end:
            candidates[a.effective_from] = ("indexation", a.explanation_nb, a.explanation_en, a.proposal_id)

    out: list[PriceHistoryEntry] = []
    previous: Decimal | None = None
    previous_version = None
    for day in sorted(candidates):
        reason, nb, en, proposal_id = candidates[day]
        steps = tuple((a.factor, a.rounding) for a in adjustments if a.effective_from <= day)
        price = preview.yearly(contract, row_on(rows, day), day, steps)
        version = preview.version_on(contract.plan_id, day)
        if reason in ("renewal", "catalogue"):
            if price == previous:
                previous_version = version
                continue
            indexed = (version.document or {}).get("indexation") if version is not None else None
            if version is not None and version != previous_version:
                reason = "list"
                if isinstance(indexed, dict):
                    nb, en = indexed.get("nb", ""), indexed.get("en", "")
                else:
                    nb = en = version.note
            elif reason == "catalogue":
                nb = f"Katalogprisene per 1. januar {day.year}"
                en = f"The catalogue prices as of 1 January {day.year}"
            else:
                nb, en = "Ny avtaleperiode", "New term"
        out.append(PriceHistoryEntry(day, reason, price, previous, nb, en, proposal_id))
        previous, previous_version = price, version

    for p in IndexationProposal.objects.filter(
        contract=contract, status=ProposalStatus.APPROVED, effective_on__gt=today
    ).order_by("effective_on"):
        out.append(
            PriceHistoryEntry(
                p.effective_on, "indexation", p.new_amount, p.old_amount, p.explanation_nb, p.explanation_en,
                p.pk, announced=True,
            )
        )  # fmt: skip
    return out
