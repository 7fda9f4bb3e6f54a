"""Late-payment interest accrued on one invoice, as the collection policy says: the one impure step in
front of the pure :func:`billing.interest.interest` (reads the invoice's payments and the rate table).

Payments booked on an invoice pay its principal (``apply_payments="principal_first"``): interest is claimed
on invoices of its own (``receivables.interest_billing``), so a payment to the late invoice is for the
invoice. Interest runs to the last payment for a paid invoice, else to the statement date ``on``; a day
beyond the last half-year in the rate table is not guessed: interest stops there and ``waiting_from`` says
from which day the rate is missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from billing.interest import InterestResult, interest
from billing.interest_rates import load_rates
from billing.models import Invoice, InvoiceKind, InvoiceStatus
from pricing.engine.money import ZERO
from receivables.models import CollectionPolicy, InterestConvention

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Accrual:
    result: InterestResult
    through: dt.date  # interest is counted to and including this day
    waiting_from: dt.date | None  # the first day without a rate in the table, when the claim runs past it

    @property
    def amount(self) -> Decimal:
        return self.result.interest

    def explain(self, lang: str = "nb") -> str:
        text = self.result.explain(lang)
        if self.waiting_from:
            if lang == "nb":
                text += (
                    f"\nRenten fra {self.waiting_from.strftime('%d.%m.%Y')} er ikke beregnet ennå: satsen for "
                    "det halvåret er ikke lagt inn."
                )
            else:
                text += (
                    f"\nInterest from {self.waiting_from.isoformat()} is not calculated yet: the rate for that "
                    "half-year is not in the table."
                )
        return text


def bears_interest(invoice: Invoice) -> bool:
    """An issued invoice (not a credit note, not an interest invoice) with a due date."""
    return (
        invoice.kind == InvoiceKind.INVOICE
        and invoice.status != InvoiceStatus.DRAFT
        and invoice.purpose != "interest"
        and invoice.due_date is not None
    )


def interest_on(
    invoice: Invoice, on: dt.date, policy: CollectionPolicy, *, payments: list | None = None
) -> Accrual | None:
    """Interest accrued on ``invoice`` by ``on`` under ``policy``; None when the policy charges none or the
    invoice bears none. ``payments``: ``(paid_on, amount)`` pairs when the caller has them already."""
    if policy.interest == InterestConvention.NONE or not bears_interest(invoice):
        return None
    if payments is None:
        payments = [(p.paid_on, p.amount) for p in invoice.payments.all()]
    payments = sorted((day, amount) for day, amount in payments if day <= on)
    principal = invoice.total - invoice.credited_amount
    if principal <= ZERO:
        return None
    paid = sum((amount for _, amount in payments), ZERO)
    through = payments[-1][0] if payments and paid >= principal else on
    rates = load_rates()
    waiting_from = None
    if through >= rates.ends:  # rates.ends: the first day with no known rate
        waiting_from = rates.ends
        through = rates.ends - DAY
        payments = [(day, amount) for day, amount in payments if day <= through]
    result = interest(
        principal,
        invoice.due_date,
        through,
        rates,
        compound_yearly=policy.interest == InterestConvention.SSAL,
        payments=payments,
        apply_payments="principal_first",
    )
    return Accrual(result=result, through=through, waiting_from=waiting_from)
