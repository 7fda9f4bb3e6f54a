"""What to invoice for a chunk of contracts on a date: proposed invoices as plain data (issue 5).

The generator decides *what* (periods from :mod:`billing.schedule`, amounts and explanations from the pure
pricing engine, hours from :mod:`billing.hours`); :mod:`billing.run` and :mod:`billing.services` write and
issue (Kill Bill's generator/dispatcher split). It reads the database but writes nothing.

Loading is per chunk, in a fixed number of queries whatever the chunk's size (:func:`load_chunk`):
the contracts with customer, parent, plan and priced-on rows; the plan versions of their plans; the DPAs of
their controllers; how far each is invoiced (one aggregate); unbilled time entries and charges; the
catalogue prices of the standards they hold; and, for contracts with amendments not yet charged, their
period invoices. Pricing is the engine's :func:`pricing.engine.quote.price` on the same input
:func:`pricing.services.quote_compute` builds, memoised per run (:class:`Pricer`: the same plan version,
request and period give the same lines), so 10 000 identical Piscator contracts are priced once.

Periods:

* Spekter: yearly from the term start, once the contract and the DPA are in (the DPA's date is the
  first invoice's date).
* Standard Norge (a plan with ``first_period: quarters``): the signing year in whole quarters incl. the
  started one, from the engine's first period; then every 1 January at that day's catalogue prices.
* Piscator quarterly, DigiReq monthly or yearly from conversion, Identum monthly: periods of the
  contract's interval from its start.
* A period that began while the contract was paused (a DigiReq pause for an unpaid invoice; its
  ``pause``/``reactivate`` events) is never invoiced, also not after the reactivation (:func:`began_paused`).

Time entries (RULES §4, issue item 8): unbilled entries worked on or before the run date go on the first
invoice issued for the contract that day — its period invoice (the latest period when several are due).
When no period invoice is due, entries worked before the current calendar month
(:func:`billing.schedule.hours_cutoff`) go on a supplementary invoice, so in practice hours are billed on
the 1st of each month unless a period invoice takes them earlier; this month's hours wait for the next
period invoice or the next month's 1st, never longer than about a month.

Amendments (issue item 1): a ``PricedOn`` row taking effect on or before the run date inside a period
already invoiced on the earlier row becomes one :class:`billing.models.Charge` (unique per row, so once):

* a plan billed in whole quarters (Standard Norge) adding standards: the engine's ``addition`` for the
  remaining whole quarters incl. the started one (RULES §3; the amendment's ``price_effect["addition"]``);
  any other change on such a plan: the change in the annual price × the remaining quarters incl. the
  started one / 4 for an increase, × the whole quarters after the started one / 4 for a decrease (the
  quarter in progress is paid);
* every other plan: the change in the period price × the days from the amendment to the period's end /
  the period's days, rounded once (positive: a charge; negative: a credit line). Every already-invoiced
  period from the amendment on that was priced on the earlier row is covered.

Charges due on the run date go on that day's period invoice when one is due, else on a supplementary
invoice together with the contract's unbilled hours. When credits would make an invoice's total negative,
the credits leave it and are issued as a credit note referencing the invoice they correct
(:func:`billing.services.charges_credit_note_create`); a credit larger than what remains of that invoice
is refused and reported as a problem (the charge waits, nothing is written).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from billing import hours as hourly
from billing.document import VAT_CATEGORY_BY_TREATMENT, DocumentLine, vat_breakdown
from billing.models import Charge, Invoice, InvoiceKind, TimeEntry
from billing.schedule import (
    BillingPeriod,
    due_periods,
    hours_cutoff,
    rest_of_period_days,
    rest_of_year_quarters,
)
from catalog.models import Standard, StandardPrice
from contracts import lifecycle
from contracts.models import Contract, ContractEvent, DataProcessingAgreement, PricedOn
from contracts.services import controller_of
from indexation.models import IndexationProposal, PriceAdjustment, ProposalStatus
from pricing.engine.document import parse_plan
from pricing.engine.errors import PricingError
from pricing.engine.money import ZERO, format_amount, round_money
from pricing.engine.quote import QuoteResult, price
from pricing.engine.standards import HeldStandard
from pricing.indexation import apply_steps
from pricing.models import PlanVersion
from pricing.services import as_validation_error, build_input, contract_quote_request

UNIT_BY_INTERVAL = {"year": "ANN", "quarter": "QAN", "month": "MON"}


def format_date(day: dt.date, lang: str = "nb") -> str:
    """15.06.2026 (nb) / 2026-06-15 (en)."""
    return day.strftime("%d.%m.%Y") if lang == "nb" else day.isoformat()


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
    period_start: dt.date | None
    period_end: dt.date | None

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
class ProposedCharge:
    """A charge the run creates for an amendment (not in the database yet)."""

    contract_id: int
    priced_on_id: int
    due_on: dt.date
    code: str
    description: str
    description_en: str
    explanation_nb: str
    explanation_en: str
    net: Decimal
    period_start: dt.date
    period_end: dt.date
    corrects_invoice_id: int | None  # the period invoice it corrects (None: today's proposal)

    def as_row(self, *, invoice_id: int | None, created_by: str, tenant_id: int | None = None) -> Charge:
        """The :class:`~billing.models.Charge` row for it (unsaved), billed on ``invoice_id``."""
        extra = {"tenant_id": tenant_id} if tenant_id is not None else {}
        return Charge(
            **extra,
            contract_id=self.contract_id,
            source="amendment",
            priced_on_id=self.priced_on_id,
            due_on=self.due_on,
            code=self.code,
            description=self.description,
            description_en=self.description_en,
            explanation_nb=self.explanation_nb,
            explanation_en=self.explanation_en,
            net=self.net,
            period_start=self.period_start,
            period_end=self.period_end,
            invoice_id=invoice_id,
            created_by=created_by[:200],
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
    supplementary: bool = False
    time_entry_ids: tuple[int, ...] = ()
    charge_ids: tuple[int, ...] = ()  # existing charges billed on it
    new_charges: tuple[ProposedCharge, ...] = ()  # amendment charges created and billed on it

    @property
    def net(self) -> Decimal:
        return sum((line.net for line in self.lines), ZERO)

    @property
    def vat(self) -> Decimal:
        return sum((v.tax for v in vat_breakdown(self.document_lines())), ZERO)

    @property
    def total(self) -> Decimal:
        return self.net + self.vat

    def document_lines(self) -> list[DocumentLine]:
        return [line.as_document_line(i) for i, line in enumerate(self.lines, start=1)]


@dataclass(frozen=True)
class ProposedCredit:
    """Credits that would make an invoice negative: issued as a credit note referencing ``invoice_id``
    (None: the contract's last period invoice, found when writing)."""

    contract_id: int
    contract_reference: str
    customer_name: str
    invoice_id: int | None
    charge_ids: tuple[int, ...]
    new_charges: tuple[ProposedCharge, ...]
    lines: tuple[ProposedLine, ...]  # negative nets, as on the charges

    @property
    def net(self) -> Decimal:
        return -sum((line.net for line in self.lines), ZERO)


@dataclass(frozen=True)
class Problem:
    contract_id: int
    contract_reference: str
    message: str


class _OnRequest(Exception):
    pass


# ---------------------------------------------------------------- loading a chunk


@dataclass(frozen=True)
class InvoicedPeriod:
    invoice_id: int
    start: dt.date
    end: dt.date
    created_at: dt.datetime | None  # None: proposed today (priced after every amendment recorded so far)


@dataclass
class Chunk:
    """Everything the generator needs for a block of contracts, loaded in a fixed number of queries."""

    on: dt.date
    contracts: list[Contract]
    rows: dict[int, list[PricedOn]] = field(default_factory=dict)  # contract id → priced-on rows by date
    versions: dict[int, list[PlanVersion]] = field(default_factory=dict)  # plan id → by valid_from
    dpas: dict[int, DataProcessingAgreement] = field(default_factory=dict)  # controller id → DPA
    invoiced_through: dict[int, dt.date] = field(default_factory=dict)
    period_invoices: dict[int, list[InvoicedPeriod]] = field(default_factory=dict)
    charged_rows: set[int] = field(default_factory=set)
    time_entries: dict[int, list[TimeEntry]] = field(default_factory=dict)
    charges: dict[int, list[Charge]] = field(default_factory=dict)
    standards: dict[str, Standard] = field(default_factory=dict)
    standard_prices: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    adjustments: dict[int, list[PriceAdjustment]] = field(default_factory=dict)  # contract id → by date
    catalogue_notes: dict[int, tuple[str, str]] = field(default_factory=dict)  # year → catalogue indexation
    paused: dict[int, list[tuple[dt.date, dt.date | None]]] = field(default_factory=dict)  # id → [from, until)


def adjustments_on(chunk: Chunk, contract: Contract, day: dt.date) -> list[PriceAdjustment]:
    """The contract's price adjustments (CPI) in force on ``day``, oldest first."""
    return [a for a in chunk.adjustments.get(contract.pk, ()) if a.effective_from <= day]


def _group(rows, key) -> dict:
    out = defaultdict(list)
    for row in rows:
        out[key(row)].append(row)
    return dict(out)


def _years_of(contract: Contract, on: dt.date) -> set[int]:
    start = contract.start_date or on
    return set(range(start.year, on.year + 1))


CONTRACT_COLUMNS = (
    "tenant_id",
    "reference",
    "state",
    "interval",
    "start_date",
    "ends_on",
    "dpa_required",
    "customer_id",
    "plan_id",
    *(
        f"customer__{name}"
        for name in (
            "tenant_id",
            "name",
            "kind",
            "parent_id",
            "org_number",
            "country",
            "address_line",
            "postal_code",
            "city",
            "invoice_reference",
            "invoice_email",
            "peppol_endpoint",
            "vat_treatment",
        )
    ),
    "customer__parent__kind",
    "customer__parent__tenant_id",
    "plan__code",
    "plan__is_active",
    "plan__tenant_id",
)


def load_contracts(ids: list[int]) -> list[Contract]:
    """The contracts with customer, its parent and plan: one query, with only the columns the run reads
    (a deferred one read by mistake would cost a query per contract: the query-count test catches it)."""
    return list(
        Contract.objects.filter(pk__in=ids)
        .select_related("customer", "customer__parent", "plan")
        .only(*CONTRACT_COLUMNS)
        .order_by("pk")
    )


def load_chunk(ids: list[int], on: dt.date, *, lock: bool = False) -> Chunk:
    return chunk_for(load_contracts(ids), on, lock=lock)


def chunk_for(contracts: list[Contract], on: dt.date, *, lock: bool = False) -> Chunk:
    """Everything needed to invoice ``contracts`` on ``on``. ``lock``: take the unbilled time entries and
    charges ``FOR UPDATE`` (the run; the preview locks nothing)."""
    chunk = Chunk(on, contracts)
    if not contracts:
        return chunk
    ids = [c.pk for c in contracts]
    for row in PricedOn.objects.filter(contract_id__in=ids).order_by("contract_id", "effective_from", "pk"):
        chunk.rows.setdefault(row.contract_id, []).append(row)
    for adjustment in PriceAdjustment.objects.filter(contract_id__in=ids).order_by("contract_id", "effective_from"):
        chunk.adjustments.setdefault(adjustment.contract_id, []).append(adjustment)
    plan_ids = {c.plan_id for c in contracts}
    chunk.versions = _group(
        PlanVersion.objects.filter(plan_id__in=plan_ids).order_by("plan_id", "valid_from"), lambda v: v.plan_id
    )
    controllers = {ctl.pk for c in contracts if c.dpa_required and (ctl := controller_of(c.customer))}
    if controllers:
        chunk.dpas = {
            dpa.controller_id: dpa for dpa in DataProcessingAgreement.objects.filter(controller__in=controllers)
        }
    chunk.paused = pause_spans(ids)
    chunk.invoiced_through = dict(
        Invoice.objects.filter(contract_id__in=ids, kind=InvoiceKind.INVOICE, supplementary=False)
        .values("contract_id")
        .annotate(end=Max("period_end"))
        .values_list("contract_id", "end")
    )
    amended = [row.pk for rows in chunk.rows.values() for row in rows[1:]]  # every row but the earliest
    amended_contracts = {contract_id for contract_id, rows in chunk.rows.items() if len(rows) > 1}
    if amended:
        chunk.charged_rows = set(Charge.objects.filter(priced_on_id__in=amended).values_list("priced_on_id", flat=True))
        rows = (
            Invoice.objects.filter(
                contract_id__in=amended_contracts,
                kind=InvoiceKind.INVOICE,
                supplementary=False,
                period_start__isnull=False,
            )
            .exclude(status="draft")
            .order_by("period_start")
            .values_list("contract_id", "pk", "period_start", "period_end", "created_at")
        )
        for contract_id, pk, start, end, created in rows:
            chunk.period_invoices.setdefault(contract_id, []).append(InvoicedPeriod(pk, start, end, created))
    entries = TimeEntry.objects.filter(contract_id__in=ids, invoice__isnull=True, worked_on__lte=on)
    charges = Charge.objects.filter(contract_id__in=ids, invoice__isnull=True, due_on__lte=on)
    if lock:
        entries, charges = entries.select_for_update(of=("self",)), charges.select_for_update()
    chunk.time_entries = _group(entries.select_related("service").order_by("worked_on", "pk"), lambda e: e.contract_id)
    chunk.charges = _group(charges.order_by("due_on", "pk"), lambda c: c.contract_id)
    codes = {
        str(s.get("code"))
        for rows in chunk.rows.values()
        for row in rows
        for s in [*(row.request.get("standards") or []), *(row.request.get("extra_prints") or [])]
        if isinstance(s, dict) and s.get("code") and not s.get("category") and s.get("price") is None
    }
    if codes:
        chunk.standards = {s.code: s for s in Standard.objects.filter(code__in=codes).select_related("category")}
        years = set().union(*(_years_of(c, on) for c in contracts))
        chunk.standard_prices = {
            (p.standard_id, p.year): p.price
            for p in StandardPrice.objects.filter(standard__in=chunk.standards.values(), year__in=years)
        }
        chunk.catalogue_notes = {
            effective.year: (nb, en)
            for effective, nb, en in IndexationProposal.objects.filter(
                scope="catalogue", status=ProposalStatus.APPLIED, effective_on__year__in=years
            ).values_list("effective_on", "explanation_nb", "explanation_en")
        }
    return chunk


# ---------------------------------------------------------------- pricing, memoised


class Pricer:
    """The engine over a chunk's preloaded data; one per run, so identical requests are priced once."""

    def __init__(self) -> None:
        self._specs: dict[int, object] = {}
        self._results: dict[tuple, QuoteResult] = {}
        self.lines: dict[tuple, tuple] = {}  # (memo key, period, unit, VAT) → proposed lines
        self._held: dict[tuple, HeldStandard] = {}  # (code, year, added in year) → held standard, per run
        self.hits = 0

    MAX_MEMO = 20_000  # results kept between chunks; beyond this the memo starts afresh (memory bound)

    def trim(self) -> None:
        if len(self._results) > self.MAX_MEMO or len(self.lines) > self.MAX_MEMO:
            self._results.clear()
            self.lines.clear()
            self._held.clear()

    def version_in_force(self, chunk: Chunk, contract: Contract, day: dt.date) -> PlanVersion | None:
        found = None
        for version in chunk.versions.get(contract.plan_id, ()):
            if version.valid_from <= day:
                found = version
        return found

    def spec(self, version: PlanVersion, steps: tuple = ()):
        """The version's plan, with a contract's CPI adjustments applied step by step (each rounded once)."""
        key = (version.pk, steps) if steps else version.pk
        if key not in self._specs:
            self._specs[key] = parse_plan(apply_steps(version.document, steps) if steps else version.document)
        return self._specs[key]

    def _resolve(self, chunk: Chunk, rows, year: int) -> tuple[HeldStandard, ...] | None:
        """Catalogue codes as the engine's held standards, priced per 1 January ``year`` from the chunk's
        catalogue (what :func:`pricing.services.held_standards` loads), or None when a row is not a plain
        catalogue code or is unknown or unpriced: then the service's own lookup prices it or says why not."""
        out = []
        known = self._held
        for row in rows:
            if not isinstance(row, dict) or row.get("category") or row.get("price") is not None or not row.get("code"):
                return None
            key = (row["code"], year, row.get("added_in_year"))
            held = known.get(key)
            if held is None:
                standard = chunk.standards.get(str(row["code"]))
                amount = chunk.standard_prices.get((standard.pk, year)) if standard else None
                if amount is None:
                    return None
                held = known[key] = HeldStandard(
                    standard.code, standard.category.code, amount, standard.withdrawn_on, row.get("added_in_year")
                )
            out.append(held)
        return tuple(out)

    def quote(self, chunk: Chunk, contract: Contract, request: dict, *, start: dt.date, on: dt.date) -> QuoteResult:
        """What :func:`pricing.services.quote_compute` answers for the contract's ``request`` from ``start``."""
        return self.keyed_quote(chunk, contract, request, start=start, on=on)[1]

    def keyed_quote(
        self, chunk: Chunk, contract: Contract, request: dict, *, start: dt.date, on: dt.date
    ) -> tuple[tuple, QuoteResult]:
        """:meth:`quote` with the memo key it was found under (the same key: the same lines)."""
        plan = contract.plan
        if not plan.is_active:
            raise ValidationError({"plan": _("Unknown plan %(p)s.") % {"p": plan.code}})
        version = self.version_in_force(chunk, contract, start)
        if version is None:
            raise ValidationError(
                {"start": _("Plan %(p)s has no prices valid on %(d)s.") % {"p": plan.code, "d": start.isoformat()}}
            )
        customer = contract.customer
        steps = tuple((a.factor, a.rounding) for a in adjustments_on(chunk, contract, start))
        body = contract_quote_request(
            request,
            plan_code=plan.code,
            interval=contract.interval,
            start=start,
            customer=customer,
            leave_out=("standards", "extra_prints"),
        )
        standards, prints = request.get("standards"), request.get("extra_prints")
        held = printed = None
        if standards and isinstance(standards, list):
            held = self._resolve(chunk, standards, start.year)
            if held is None:  # let the service load them (and complain)
                body["standards"] = standards
        if prints:
            if isinstance(prints, list) and all(isinstance(p, dict) for p in prints):
                printed = self._resolve(chunk, [{"code": p.get("code")} for p in prints], start.year)
            if printed is None:
                body["extra_prints"] = prints
        key = (
            version.pk,
            steps,
            json.dumps(body, sort_keys=True, default=str),
            held,
            json.dumps(prints, sort_keys=True, default=str) if printed else None,
            on,
        )
        if key in self._results:
            self.hits += 1
            return key, self._results[key]
        spec = self.spec(version, steps)
        data, _customer = build_input(body, on=on, plan_intervals=spec.intervals)
        if held is not None:
            data = dataclasses.replace(data, standards=held)
        if printed is not None:
            data = dataclasses.replace(
                data,
                extra_prints=tuple(
                    (s.code, s.catalogue_price, p.get("count")) for s, p in zip(printed, prints, strict=True)
                ),
            )
        try:
            result = price(spec, data, on=on)
        except PricingError as error:
            raise as_validation_error(error) from error
        self._results[key] = result
        return key, result


# ---------------------------------------------------------------- per contract


def schedule_kind_for(spec) -> str:
    return "calendar_year" if spec is not None and spec.first_period == "quarters" else "from_start"


def pause_spans(ids: list[int]) -> dict[int, list[tuple[dt.date, dt.date | None]]]:
    """When each contract was paused: ``[(paused from, reactivated on or None)]`` from its lifecycle events
    (one query). A pause for an unpaid invoice (receivables.default) is not billed: see :func:`began_paused`."""
    spans: dict[int, list[tuple[dt.date, dt.date | None]]] = {}
    events = ContractEvent.objects.filter(contract_id__in=ids, event__in=("pause", "reactivate")).order_by(
        "contract_id", "on", "id"
    )
    for contract_id, event, day in events.values_list("contract_id", "event", "on"):
        rows = spans.setdefault(contract_id, [])
        if event == "pause":
            rows.append((day, None))
        elif rows and rows[-1][1] is None:
            rows[-1] = (rows[-1][0], day)
    return spans


def began_paused(chunk: Chunk, contract: Contract, period: BillingPeriod) -> bool:
    """Did ``period`` begin while the contract was paused (on or after a pause, before its reactivation)?
    Such a period is not invoiced when the contract is reactivated: billing goes on with the first period
    that begins after the reactivation (the days from the reactivation to it are not charged)."""
    return any(
        start <= period.start and (until is None or period.start < until)
        for start, until in chunk.paused.get(contract.pk, ())
    )


def billable_from_in(chunk: Chunk, contract: Contract) -> dt.date | None:
    """The first day an invoice may be issued: the start, or (a DPA needed) the day the DPA came in."""
    if contract.start_date is None:
        return None
    if not contract.dpa_required:
        return contract.start_date
    controller = controller_of(contract.customer)
    dpa = chunk.dpas.get(controller.pk) if controller else None
    if dpa is None:
        return None
    return max(contract.start_date, dpa.signed_on)


def priced_on_for(contract: Contract, day: dt.date, rows: list[PricedOn] | None = None) -> PricedOn | None:
    """The priced-on row in force on ``day`` (else the earliest); ``rows``: the contract's, by date."""
    if rows is None:
        rows = sorted(contract.priced_on.all(), key=lambda r: (r.effective_from, r.pk))
    in_force = [r for r in rows if r.effective_from <= day]
    return (in_force or rows or [None])[-1]


def _vat(contract: Contract) -> tuple[str, Decimal]:
    category = VAT_CATEGORY_BY_TREATMENT[contract.customer.vat_treatment]
    return category, VAT_RATE_BY_CATEGORY[category]


def _period_lines(
    chunk: Chunk, pricer: Pricer, contract: Contract, kind: str, period: BillingPeriod
) -> tuple[tuple[ProposedLine, ...], str, str]:
    row = priced_on_for(contract, period.start, chunk.rows.get(contract.pk, []))
    if row is None:
        raise ValidationError({"priced_on": "The contract has nothing to price (no priced-on row)."})
    first_part_year = kind == "calendar_year" and period.issue_on == contract.start_date
    start = contract.start_date if first_part_year else period.start
    key, result = pricer.keyed_quote(chunk, contract, row.request, start=start, on=period.issue_on)
    lines = result.first_period.lines if first_part_year and result.first_period else result.lines
    if result.on_request or any(line.amount is None for line in lines):
        raise _OnRequest("Price on request: " + "; ".join(result.reasons_en))
    category, rate = _vat(contract)
    unit = "EA" if period.is_part_year else UNIT_BY_INTERVAL.get(contract.interval, "EA")
    reference = str(row.request.get("invoice_reference") or contract.customer.invoice_reference or "")[:100]
    indexed_nb, indexed_en = indexation_notes(chunk, pricer, contract, start)
    memo = (key, first_part_year, unit, category, period, indexed_nb)
    if memo in pricer.lines:
        return pricer.lines[memo], result.totals.currency, reference
    proposed = tuple(
        ProposedLine(
            code=line.code,
            description=line.label_nb,
            description_en=line.label_en,
            explanation_nb=line.explain("nb") + indexed_nb,
            explanation_en=line.explain("en") + indexed_en,
            quantity=Decimal("1"),
            unit_code=unit,
            unit_price=line.amount,
            net=line.amount,
            vat_category=category,
            vat_rate=rate,
            period_start=period.start,
            period_end=period.end,
        )
        for line in lines
    )
    pricer.lines[memo] = proposed
    return proposed, result.totals.currency, reference


def indexation_notes(chunk: Chunk, pricer: Pricer, contract: Contract, start: dt.date) -> tuple[str, str]:
    """What the line's explanation adds when the price was indexed (RULES §7: shown on the invoice):
    the contract's latest CPI adjustment, the indexed list the plan version is, or the catalogue's."""
    notes = []
    adjustments = adjustments_on(chunk, contract, start)
    if adjustments:
        notes.append((adjustments[-1].explanation_nb, adjustments[-1].explanation_en))
    version = pricer.version_in_force(chunk, contract, start)
    indexed = (version.document or {}).get("indexation") if version is not None else None
    if isinstance(indexed, dict) and indexed.get("nb"):
        notes.append((indexed["nb"], indexed.get("en") or indexed["nb"]))
    if contract.pk in chunk.rows and any(row.request.get("standards") for row in chunk.rows[contract.pk]):
        catalogue = chunk.catalogue_notes.get(start.year)
        if catalogue:
            notes.append(catalogue)
    if not notes:
        return "", ""
    return (
        "".join(f" · Prisjustert etter KPI: {nb}" for nb, _en in notes),
        "".join(f" · Price indexed by CPI: {en}" for _nb, en in notes),
    )


def _hour_lines(contract: Contract, entries: list[TimeEntry]) -> list[ProposedLine]:
    category, rate = _vat(contract)
    out = []
    for entry in entries:
        service = entry.service
        for line in hourly.hour_lines(
            hours=entry.hours,
            travel_hours=entry.travel_hours,
            expenses=entry.expenses,
            rate=service.hourly_rate,
            travel_share=service.travel_share,
            increment_minutes=service.increment_minutes,
            expenses_description=entry.expenses_description,
        ):
            day_nb, day_en = format_date(entry.worked_on, "nb"), format_date(entry.worked_on, "en")
            what_nb, what_en = {
                "hours": (service.name_nb, service.name_en),
                "travel": (f"Reisetid, {service.name_nb}", f"Travel time, {service.name_en}"),
                "expenses": (f"Utlegg, {service.name_nb}", f"Expenses, {service.name_en}"),
            }[line.kind]
            out.append(
                ProposedLine(
                    code=f"{line.kind}:{service.code}"[:60],
                    description=f"{what_nb} {day_nb}: {entry.description}"[:300],
                    description_en=f"{what_en} {day_en}: {entry.description}"[:300],
                    explanation_nb=line.explanation_nb,
                    explanation_en=line.explanation_en,
                    quantity=line.quantity,
                    unit_code=line.unit_code,
                    unit_price=line.unit_price,
                    net=line.net,
                    vat_category=category,
                    vat_rate=rate,
                    period_start=entry.worked_on,
                    period_end=entry.worked_on,
                )
            )
    return out


def _charge_line(contract: Contract, charge: Charge | ProposedCharge) -> ProposedLine:
    category, rate = _vat(contract)
    # A credit is quantity −1 at a positive price: EHF (BR-27) refuses a negative unit price.
    quantity = Decimal("1") if charge.net >= 0 else Decimal("-1")
    return ProposedLine(
        code=charge.code or "charge",
        description=charge.description[:300],
        description_en=(charge.description_en or charge.description)[:300],
        explanation_nb=charge.explanation_nb,
        explanation_en=charge.explanation_en or charge.explanation_nb,
        quantity=quantity,
        unit_code="EA",
        unit_price=abs(charge.net),
        net=charge.net,
        vat_category=category,
        vat_rate=rate,
        period_start=charge.period_start,
        period_end=charge.period_end,
    )


def _period_price(result: QuoteResult) -> Decimal:
    if result.on_request or any(line.amount is None for line in result.lines):
        raise _OnRequest("Price on request: " + "; ".join(result.reasons_en))
    return sum((line.amount for line in result.lines), ZERO)


def _amendment_charges(
    chunk: Chunk, pricer: Pricer, contract: Contract, kind: str, today: list[BillingPeriod]
) -> list[ProposedCharge]:
    rows = chunk.rows.get(contract.pk, [])
    out = []
    for previous, row in zip(rows, rows[1:], strict=False):
        if row.pk in chunk.charged_rows or row.effective_from > chunk.on:
            continue
        effective = row.effective_from
        invoiced = [
            p
            for p in chunk.period_invoices.get(contract.pk, [])
            if p.end >= effective and (p.created_at is None or p.created_at < row.created_at or effective > p.start)
        ]
        invoiced += [InvoicedPeriod(0, p.start, p.end, None) for p in today if p.start < effective <= p.end]
        if not invoiced:
            continue
        charge = _charge_for(chunk, pricer, contract, kind, previous, row, invoiced)
        if charge is not None:
            out.append(charge)
    return out


def _charge_for(
    chunk: Chunk,
    pricer: Pricer,
    contract: Contract,
    kind: str,
    previous: PricedOn,
    row: PricedOn,
    invoiced: list[InvoicedPeriod],
) -> ProposedCharge | None:
    effective = row.effective_from
    reason = row.reason or _("amendment")
    day_nb, day_en = format_date(effective, "nb"), format_date(effective, "en")
    first = min(invoiced, key=lambda p: p.start)
    period_end = max(p.end for p in invoiced)
    corrects = first.invoice_id or None
    addition = (row.price_effect or {}).get("addition")
    if kind == "calendar_year" and addition:
        if addition.get("on_request"):
            raise _OnRequest("Price on request for the added standards")
        parts = addition.get("lines") or []
        net = round_money(Decimal(str(addition.get("total") or "0")))
        nb = "; ".join(
            f"{p['label']['nb']}: {p['explanation']['nb']} = {format_amount(Decimal(p['amount']))}" for p in parts
        )
        en = "; ".join(
            f"{p['label']['en']}: {p['explanation']['en']} = {format_amount(Decimal(p['amount']), 'en')}" for p in parts
        )
        return ProposedCharge(
            contract.pk,
            row.pk,
            chunk.on,
            "amendment:addition",
            f"Tillegg fra {day_nb}: {reason}"[:300],
            f"Addition from {day_en}: {reason}"[:300],
            nb,
            en,
            net,
            effective,
            period_end,
            corrects,
        )
    net = ZERO
    nb_parts, en_parts = [], []
    for period in sorted(invoiced, key=lambda p: p.start):
        start = max(effective, period.start)
        old = _period_price(pricer.quote(chunk, contract, previous.request, start=period.start, on=period.start))
        new = _period_price(pricer.quote(chunk, contract, row.request, start=period.start, on=period.start))
        delta = new - old
        if kind == "calendar_year":
            quarters = rest_of_year_quarters(start, started_included=delta >= 0)
            part = round_money(delta * quarters / 4)
            nb_parts.append(
                f"({format_amount(new)} − {format_amount(old)}) × {quarters}/4 kvartal {period.start.year} "
                f"= {format_amount(part)}"
            )
            en_parts.append(
                f"({format_amount(new, 'en')} − {format_amount(old, 'en')}) × {quarters}/4 quarters "
                f"{period.start.year} = {format_amount(part, 'en')}"
            )
        else:
            days, period_days = rest_of_period_days(period.start, period.end, start)
            part = round_money(delta * days / period_days)
            span_nb = f"{format_date(period.start, 'nb')}–{format_date(period.end, 'nb')}"
            span_en = f"{format_date(period.start, 'en')}–{format_date(period.end, 'en')}"
            nb_parts.append(
                f"periodepris {span_nb} {format_amount(old)} → {format_amount(new)}: "
                f"{format_amount(delta)} × {days}/{period_days} dager = {format_amount(part)}"
            )
            en_parts.append(
                f"period price {span_en} {format_amount(old, 'en')} → {format_amount(new, 'en')}: "
                f"{format_amount(delta, 'en')} × {days}/{period_days} days = {format_amount(part, 'en')}"
            )
        net += part
    if net == 0:
        return None
    label_nb, label_en = ("Tillegg", "Supplementary charge") if net > 0 else ("Fradrag", "Credit")
    return ProposedCharge(
        contract.pk,
        row.pk,
        chunk.on,
        "amendment",
        f"{label_nb} for endring fra {day_nb}: {reason}"[:300],
        f"{label_en} for the change from {day_en}: {reason}"[:300],
        "; ".join(nb_parts),
        "; ".join(en_parts),
        net,
        effective,
        period_end,
        corrects,
    )


def _problem(contract: Contract, error: Exception) -> Problem:
    if isinstance(error, ValidationError):
        message = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
    else:
        message = str(error)
    return Problem(contract.pk, contract.reference, message)


@dataclass
class ContractPlan:
    """What the run does for one contract: invoices (period and supplementary), credits, problems."""

    invoices: list[ProposedInvoice] = field(default_factory=list)
    credits: list[ProposedCredit] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def plan_contract(chunk: Chunk, pricer: Pricer, contract: Contract) -> ContractPlan:
    """Every invoice due for ``contract`` on the chunk's date that has not been issued yet."""
    out = ContractPlan()
    on = chunk.on
    if contract.state not in lifecycle.BILLABLE or contract.start_date is None:
        return out
    first_day = billable_from_in(chunk, contract)
    if first_day is None:
        return out
    version = pricer.version_in_force(chunk, contract, contract.start_date)
    kind = schedule_kind_for(pricer.spec(version) if version is not None else None)
    periods = due_periods(
        kind,
        start=contract.start_date,
        interval=contract.interval,
        on=on,
        invoiced_through=chunk.invoiced_through.get(contract.pk),
        billable_from=first_day,
        ends_on=contract.ends_on,
    )
    periods = [p for p in periods if not began_paused(chunk, contract, p)]
    customer = contract.customer
    priced = []
    for period in periods:
        try:
            lines, currency, reference = _period_lines(chunk, pricer, contract, kind, period)
        except (ValidationError, _OnRequest) as error:
            out.problems.append(_problem(contract, error))
            continue
        priced.append(
            ProposedInvoice(
                contract_id=contract.pk,
                contract_reference=contract.reference,
                customer_id=customer.pk,
                customer_name=customer.name,
                period=period,
                issue_date=on,  # the day it is issued (a missed period is invoiced when the run catches up)
                currency=currency,
                buyer_reference=reference,
                lines=lines,
            )
        )
    try:
        new_charges = _amendment_charges(chunk, pricer, contract, kind, [p.period for p in priced])
    except (ValidationError, _OnRequest) as error:
        out.problems.append(_problem(contract, error))
        new_charges = []
    old_charges = chunk.charges.get(contract.pk, [])
    entries = chunk.time_entries.get(contract.pk, [])
    if not priced and not old_charges and not new_charges:
        entries = [e for e in entries if e.worked_on <= hours_cutoff(on)]
    extras = (
        [_charge_line(contract, c) for c in old_charges if c.net >= 0]
        + [_charge_line(contract, c) for c in new_charges if c.net >= 0]
        + _hour_lines(contract, entries)
    )
    credits_old = [c for c in old_charges if c.net < 0]
    credits_new = [c for c in new_charges if c.net < 0]
    credit_lines = [_charge_line(contract, c) for c in [*credits_old, *credits_new]]
    base = priced[-1].lines if priced else ()
    goes_on_invoice = sum((line.net for line in (*base, *extras, *credit_lines)), ZERO) >= 0
    if goes_on_invoice:
        extras += credit_lines
    elif credit_lines:
        invoice_ids = {c.corrects_invoice_id for c in credits_new} | {None}
        out.credits.append(
            ProposedCredit(
                contract.pk,
                contract.reference,
                customer.name,
                next(iter(invoice_ids - {None}), None),
                tuple(c.pk for c in credits_old),
                tuple(credits_new),
                tuple(credit_lines),
            )
        )
    billed = dict(
        time_entry_ids=tuple(e.pk for e in entries),
        charge_ids=tuple(c.pk for c in old_charges if c.net >= 0 or goes_on_invoice),
        new_charges=tuple(c for c in new_charges if c.net >= 0 or goes_on_invoice),
    )
    if priced:
        last = priced[-1]
        priced[-1] = dataclasses.replace(last, lines=(*last.lines, *extras), **billed)
    elif extras:
        starts = [line.period_start for line in extras if line.period_start]
        ends = [line.period_end for line in extras if line.period_end]
        row = priced_on_for(contract, on, chunk.rows.get(contract.pk, []))
        reference = str((row.request if row else {}).get("invoice_reference") or customer.invoice_reference or "")
        priced.append(
            ProposedInvoice(
                contract_id=contract.pk,
                contract_reference=contract.reference,
                customer_id=customer.pk,
                customer_name=customer.name,
                period=BillingPeriod(min(starts, default=on), max(ends, default=on), on),
                issue_date=on,
                currency=pricer.spec(version).currency if version is not None else "NOK",
                buyer_reference=reference[:100],
                lines=tuple(extras),
                supplementary=True,
                **billed,
            )
        )
    out.invoices = priced
    return out


def proposals_for(contract: Contract, on: dt.date) -> tuple[list[ProposedInvoice], list[Problem]]:
    """Every invoice due for one contract on ``on`` (the chunked path for a chunk of one)."""
    chunk = load_chunk([contract.pk], on)
    if not chunk.contracts:
        return [], []
    planned = plan_contract(chunk, Pricer(), chunk.contracts[0])
    return planned.invoices, planned.problems


def invoiced_through(contract: Contract) -> dt.date | None:
    """The last day invoiced by the contract's period invoices."""
    return (
        Invoice.objects.filter(contract=contract, kind=InvoiceKind.INVOICE, supplementary=False)
        .filter(~Q(period_end=None))
        .aggregate(end=Max("period_end"))["end"]
    )
