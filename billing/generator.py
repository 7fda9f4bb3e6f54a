"""What to invoice for a contract on a date: proposed invoices as plain data (issue 5).

The generator decides *what* (periods from :mod:`billing.schedule`, amounts and explanations from the
pricing engine via :func:`pricing.services.quote_compute`); :mod:`billing.run` and
:mod:`billing.services` write and issue (Kill Bill's generator/dispatcher split). It reads the database
but writes nothing.

* Spekter: yearly from the term start, once the contract and the DPA are in (the DPA's date is the
  first invoice's date).
* Standard Norge (a plan with ``first_period: quarters``): the signing year in whole quarters incl. the
  started one, from the engine's first period; then every 1 January at that day's catalogue prices.
* Piscator quarterly, DigiReq monthly or yearly from conversion, Identum monthly: periods of the
  contract's interval from its start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Max

from billing.document import VAT_CATEGORY_BY_TREATMENT, DocumentLine, vat_breakdown
from billing.models import Invoice, InvoiceKind
from billing.schedule import BillingPeriod, due_periods
from contracts import lifecycle
from contracts.models import Contract, DataProcessingAgreement, PricedOn
from contracts.services import controller_of
from pricing.engine.document import parse_plan
from pricing.engine.money import ZERO
from pricing.selectors import plan_version_in_force
from pricing.services import quote_compute

UNIT_BY_INTERVAL = {"year": "ANN", "quarter": "QAN", "month": "MON"}
VAT_RATE_BY_CATEGORY = {"S": Decimal("25"), "E": Decimal("0"), "AE": Decimal("0")}


@dataclass(frozen=True)
class ProposedLine:
    code: str
    description: str
    description_en: str
    explanation_nb: str
    explanation_en: str
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    net: Decimal
    vat_category: str
    vat_rate: Decimal
    period_start: dt.date
    period_end: dt.date

    def as_document_line(self, number: int) -> DocumentLine:
        return DocumentLine(
            number=number,
            description=self.description,
            explanation=self.explanation_nb,
            explanation_en=self.explanation_en,
            quantity=self.quantity,
            unit_code=self.unit_code,
            unit_price=self.unit_price,
            net=self.net,
            vat_category=self.vat_category,
            vat_rate=self.vat_rate,
            period_start=self.period_start,
            period_end=self.period_end,
        )


@dataclass(frozen=True)
class ProposedInvoice:
    contract_id: int
    contract_reference: str
    customer_id: int
    customer_name: str
    period: BillingPeriod
    issue_date: dt.date
    currency: str
    buyer_reference: str
    lines: tuple[ProposedLine, ...]

    @property
    def net(self) -> Decimal:
        return sum((line.net for line in self.lines), ZERO)

    @property
    def vat(self) -> Decimal:
        return sum((v.tax for v in vat_breakdown([line.as_document_line(1) for line in self.lines])), ZERO)

    @property
    def total(self) -> Decimal:
        return self.net + self.vat


@dataclass(frozen=True)
class Problem:
    contract_id: int
    contract_reference: str
    message: str


def schedule_kind(contract: Contract, on: dt.date) -> str:
    version = plan_version_in_force(contract.plan, contract.start_date or on)
    if version is not None and parse_plan(version.document).first_period == "quarters":
        return "calendar_year"
    return "from_start"


def billable_from(contract: Contract) -> dt.date | None:
    """The first day an invoice may be issued: the start, or (a DPA needed) the day the DPA came in."""
    if contract.start_date is None:
        return None
    if not contract.dpa_required:
        return contract.start_date
    controller = controller_of(contract.customer)
    dpa = DataProcessingAgreement.objects.filter(controller=controller).first() if controller else None
    if dpa is None:
        return None
    return max(contract.start_date, dpa.signed_on)


def invoiced_through(contract: Contract) -> dt.date | None:
    return Invoice.objects.filter(contract=contract, kind=InvoiceKind.INVOICE).aggregate(end=Max("period_end"))["end"]


def priced_on_for(contract: Contract, day: dt.date) -> PricedOn | None:
    rows = sorted(contract.priced_on.all(), key=lambda r: (r.effective_from, r.pk))
    in_force = [r for r in rows if r.effective_from <= day]
    return (in_force or rows or [None])[-1]


def proposals_for(contract: Contract, on: dt.date) -> tuple[list[ProposedInvoice], list[Problem]]:
    """Every invoice due for ``contract`` on ``on`` that has not been issued yet."""
    if contract.state not in lifecycle.BILLABLE or contract.start_date is None:
        return [], []
    first_day = billable_from(contract)
    if first_day is None:
        return [], []
    kind = schedule_kind(contract, on)
    periods = due_periods(
        kind,
        start=contract.start_date,
        interval=contract.interval,
        on=on,
        invoiced_through=invoiced_through(contract),
        billable_from=first_day,
        ends_on=contract.ends_on,
    )
    out, problems = [], []
    for period in periods:
        try:
            out.append(_propose(contract, kind, period, on))
        except ValidationError as error:
            messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            problems.append(Problem(contract.pk, contract.reference, messages))
        except _OnRequest as error:
            problems.append(Problem(contract.pk, contract.reference, str(error)))
    return out, problems


class _OnRequest(Exception):
    pass


def _propose(contract: Contract, kind: str, period: BillingPeriod, on: dt.date) -> ProposedInvoice:
    row = priced_on_for(contract, period.start)
    if row is None:
        raise ValidationError({"priced_on": "The contract has nothing to price (no priced-on row)."})
    customer = contract.customer
    first_part_year = kind == "calendar_year" and period.issue_on == contract.start_date
    request = {
        **row.request,
        "plan": contract.plan.code,
        "customer": customer.pk,
        "interval": contract.interval,
        "start": (contract.start_date if first_part_year else period.start).isoformat(),
    }
    result, _version, _customer = quote_compute(request=request, on=period.issue_on)
    lines = result.first_period.lines if first_part_year and result.first_period else result.lines
    if result.on_request or any(line.amount is None for line in lines):
        raise _OnRequest("Price on request: " + "; ".join(result.reasons_en))
    category = VAT_CATEGORY_BY_TREATMENT[customer.vat_treatment]
    unit = "EA" if period.is_part_year else UNIT_BY_INTERVAL.get(contract.interval, "EA")
    proposed = tuple(
        ProposedLine(
            code=line.code,
            description=line.label_nb,
            description_en=line.label_en,
            explanation_nb=line.explain("nb"),
            explanation_en=line.explain("en"),
            quantity=Decimal("1"),
            unit_code=unit,
            unit_price=line.amount,
            net=line.amount,
            vat_category=category,
            vat_rate=VAT_RATE_BY_CATEGORY[category],
            period_start=period.start,
            period_end=period.end,
        )
        for line in lines
    )
    return ProposedInvoice(
        contract_id=contract.pk,
        contract_reference=contract.reference,
        customer_id=customer.pk,
        customer_name=customer.name,
        period=period,
        issue_date=on,  # the day it is issued (a missed period is invoiced when the run catches up)
        currency=result.totals.currency,
        buyer_reference=str(row.request.get("invoice_reference") or customer.invoice_reference or "")[:100],
        lines=proposed,
    )
