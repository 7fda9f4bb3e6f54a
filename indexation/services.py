"""CPI indexation use cases: the job that proposes, notifies and applies, and what staff and customers do
with a proposal (approve, reject, ask for an increase above the index, terminate after such a notice).

Every function runs for the current tenant, takes an explicit ``as_of``/``on`` date and an actor, and is
the one way a page, the API, a task or a command does that thing. The rules are pure
(:mod:`pricing.indexation`); this module loads, calls them and stores the answer.

Idempotent: one proposal per (contract, date) or (policy, date) — unique in the database — and one price
adjustment per proposal, so a rerun, two jobs at once or approving twice make one new price.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from catalog.models import StandardPrice
from contracts import lifecycle, notify
from contracts import services as contract_services
from contracts.models import Contract, PricedOn
from indexation.models import (
    OPEN_STATUSES,
    IndexationEvent,
    IndexationProposal,
    PriceAdjustment,
    ProposalStatus,
)
from indexation.preview import PricePreview, row_on
from pricing import indexation as ix
from pricing.engine.money import KRONE, ORE
from pricing.index_data import as_date, as_month, load_series
from pricing.models import IndexationPolicy, PlanVersion, PolicyApproval, PolicyScope
from tenants import audit
from tenants.audit import Actor
from tenants.bulk import insert_rows, plain

CHUNK = 1000
LOCK_NAMESPACE = 0x1DE7  # pg_advisory_xact_lock(namespace, policy id): one run at a time per policy
CATCH_UP = dt.timedelta(days=31)  # a run that missed days still proposes what fell due in them
INDEXABLE_STATES = (lifecycle.ACCEPTANCE, lifecycle.ACTIVE, lifecycle.NOTICE_GIVEN, lifecycle.SUSPENDED)


def job_actor(on: dt.date) -> Actor:
    return Actor.job(f"indexation_run {on.isoformat()}")


def _in_words(error: ix.IndexationError) -> str:
    """The rules' message in the active language (Bokmål or English)."""
    return str(error) if (get_language() or "nb").startswith("en") else error.message_nb


def rules_of(policy: IndexationPolicy) -> ix.Policy:
    try:
        return policy.rules()
    except ix.IndexationError as error:
        raise ValidationError({error.field or "policy": _in_words(error)}) from error


def signed_on(contract: Contract) -> dt.date | None:
    return contract.signed_on or contract.received_on or contract.start_date


def policies_by_plan() -> dict[int, IndexationPolicy]:
    """The plan-level contract policy of each plan (one active contract-scope policy per plan)."""
    return {
        p.plan_id: p
        for p in IndexationPolicy.objects.filter(is_active=True, scope=PolicyScope.CONTRACT, plan__isnull=False)
    }


def policy_for(contract: Contract) -> IndexationPolicy | None:
    if contract.indexation_policy_id:
        return contract.indexation_policy
    return policies_by_plan().get(contract.plan_id)


# ---------------------------------------------------------------- the report


@dataclass
class RunReport:
    as_of: dt.date
    dry_run: bool = False
    proposed: int = 0
    waiting: int = 0
    approved: int = 0
    notices: int = 0
    applied: int = 0
    withdrawn: int = 0
    waiting_reasons: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, other: RunReport) -> None:
        for name in ("proposed", "waiting", "approved", "notices", "applied", "withdrawn"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, n in other.waiting_reasons.items():
            self.waiting_reasons[reason] = self.waiting_reasons.get(reason, 0) + n
        self.errors += other.errors

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "proposed": self.proposed,
            "waiting": self.waiting,
            "approved": self.approved,
            "notices": self.notices,
            "applied": self.applied,
            "withdrawn": self.withdrawn,
            "waiting_reasons": self.waiting_reasons,
            "errors": self.errors,
        }

    def summary(self) -> str:
        parts = [
            f"{n} {label}"
            for n, label in (
                (self.proposed, "proposed"),
                (self.approved, "approved"),
                (self.notices, "notices sent"),
                (self.applied, "applied"),
                (self.waiting, "waiting"),
                (self.withdrawn, "withdrawn"),
            )
            if n
        ]
        text = ", ".join(parts) or "nothing due"
        for reason, n in sorted(self.waiting_reasons.items()):
            text += f"\n  waiting ({n}): {reason}"
        for error in self.errors:
            text += f"\n  error: {error}"
        return text


# ---------------------------------------------------------------- the job


def indexation_run(*, as_of: dt.date, dry_run: bool = False) -> RunReport:
    """Everything indexation owes on ``as_of`` for the current tenant: waiting proposals computed once
    their index is there, new proposals for the indexations whose index month is now read, notices, and
    approved proposals applied on their date. A dry run does the same in a transaction it rolls back."""
    if dry_run:
        report = RunReport(as_of, dry_run=True)
        try:
            with transaction.atomic():
                _run(as_of, report)
                raise _RollBack
        except _RollBack:
            pass
        return report
    report = RunReport(as_of)
    _run(as_of, report)
    return report


class _RollBack(Exception):
    pass


def _run(as_of: dt.date, report: RunReport) -> None:
    _SERIES.clear()
    _SERIES_BY_ID.clear()
    series_cache: dict[str, list[ix.Series]] = {}
    for policy in IndexationPolicy.objects.filter(is_active=True).select_related("plan").order_by("pk"):
        try:
            rules = policy.rules()
        except ix.IndexationError as error:
            report.errors.append(f"{policy.code}: {error}")
            continue
        series = series_cache.setdefault(policy.index_code, load_series(policy.index_code, on=as_of))
        try:
            if policy.scope == PolicyScope.CONTRACT:
                _propose_contracts(policy, rules, series, as_of, report)
            else:
                _propose_single(policy, rules, series, as_of, report)
        except Exception as error:  # one policy's failure never stops the others; the chunk rolled back
            report.errors.append(f"{policy.code}: {error.__class__.__name__}: {error}")
    _refresh_waiting(as_of, report, series_cache)
    _apply_due(as_of, report)


def _next_effective(
    rules: ix.Policy, start: dt.date, after: dt.date, as_of: dt.date, first: dt.date | None = None
) -> dt.date:
    return ix.next_due(rules, start, after, not_before=as_of - CATCH_UP, first=first)


def _propose_contracts(
    policy: IndexationPolicy, rules: ix.Policy, series: list[ix.Series], as_of: dt.date, report: RunReport
) -> None:
    contracts = Contract.objects.filter(state__in=INDEXABLE_STATES, start_date__isnull=False, start_date__lte=as_of)
    if policy.plan_id:
        contracts = contracts.filter(
            Q(indexation_policy=policy) | Q(indexation_policy__isnull=True, plan_id=policy.plan_id)
        )
    else:
        contracts = contracts.filter(indexation_policy=policy)
    ids = list(contracts.order_by("pk").values_list("pk", flat=True))
    preview = PricePreview()
    for i in range(0, len(ids), CHUNK):
        with transaction.atomic():
            _propose_chunk(policy, rules, series, contracts, ids[i : i + CHUNK], as_of, report, preview)


def _propose_chunk(policy, rules, series, candidates, ids, as_of, report, preview: PricePreview) -> None:
    """Proposals for the contracts ``ids`` (ascending, from ``candidates``). Rows are read by id range (a
    thousand ids in an IN list cost more to send than the few rows of other contracts the range brings)."""
    _lock_policy(policy)
    contracts = _contract_views(candidates.filter(pk__gte=ids[0], pk__lte=ids[-1]))
    existing: set[tuple[int, dt.date]] = set()
    last: dict[int, IndexationProposal] = {}
    for p in (
        IndexationProposal.objects.filter(contract_id__gte=ids[0], contract_id__lte=ids[-1])
        .only("contract_id", "effective_on", "status", "new_month")
        .order_by("contract_id", "effective_on")
    ):
        existing.add((p.contract_id, p.effective_on))
        if p.status not in (ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN):
            last[p.contract_id] = p
    rows = _row_views(PricedOn.objects.filter(contract_id__gte=ids[0], contract_id__lte=ids[-1]))
    steps = _steps_for(PriceAdjustment.objects.filter(contract_id__gte=ids[0], contract_id__lte=ids[-1]))
    preview.load_versions({c.plan_id for c in contracts})
    memo: dict[tuple, dict] = {}
    new = []
    for contract in contracts:
        start = contract.start_date
        previous = last.get(contract.pk)
        effective = _next_effective(
            rules, start, previous.effective_on if previous else start, as_of, policy.first_effective_on
        )
        if ix.measure_date(rules, effective) > as_of or (contract.pk, effective) in existing:
            continue
        if contract.ends_on and contract.ends_on <= effective:
            continue
        proposal = _Draft(
            policy=policy, scope=PolicyScope.CONTRACT, contract_id=contract.pk, effective_on=effective, created_on=as_of
        )
        _compute_contract(
            proposal, contract, rules, series, as_of, previous, rows[contract.pk], steps, preview, memo=memo
        )
        new.append(proposal)
    _insert_proposals(new)
    _after_create(new, policy, as_of, report, {c.pk: c.reference for c in contracts})


_PROPOSAL_FIELDS = [
    f
    for f in IndexationProposal._meta.concrete_fields
    if not f.primary_key and not getattr(f, "auto_now", False) and not getattr(f, "auto_now_add", False)
]


class _Draft:
    """A proposal being made in bulk: the model's fields as plain attributes (no model instance per
    contract), inserted by :func:`_insert_proposals`; ``as_model()`` when one must be handled singly."""

    _defaults = {f.attname: None if f.attname == "tenant_id" else f.get_default() for f in _PROPOSAL_FIELDS}

    def __init__(self, *, policy: IndexationPolicy, **fields) -> None:
        self.__dict__.update(self._defaults)
        self.pk = None
        self.policy = policy
        self.policy_id = policy.pk
        self.tenant_id = policy.tenant_id
        self.__dict__.update(fields)

    @property
    def series(self):
        return _SERIES_BY_ID.get(self.series_id)

    @series.setter
    def series(self, value) -> None:
        self.series_id = value.pk if value is not None else None

    def as_model(self) -> IndexationProposal:
        proposal = IndexationProposal.objects.select_related("policy", "contract", "contract__customer").get(pk=self.pk)
        return proposal


_COLUMNS = [(f.attname, f.column) for f in _PROPOSAL_FIELDS]
_AS_TEXT = {
    f.attname for f in _PROPOSAL_FIELDS if f.get_internal_type() in ("DecimalField", "DateField", "DateTimeField")
}


def _insert_proposals(proposals: list[_Draft]) -> None:
    """One INSERT per 2 000 proposals, the rows as one JSON parameter; ids set on the drafts."""
    now = timezone.now().isoformat()
    rows = []
    for p in proposals:
        values = p.__dict__
        row = {
            column: plain(values[attname]) if attname in _AS_TEXT else values[attname] for attname, column in _COLUMNS
        }
        row["created_at"] = row["updated_at"] = now
        rows.append(row)
    for p, pk in zip(proposals, insert_rows(IndexationProposal, rows, returning=True, complete=True), strict=True):
        p.pk = pk


def _lock_policy(policy: IndexationPolicy) -> None:
    """Two runs at once take turns per policy (the second then finds the first's proposals)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, policy.pk])


@dataclass(frozen=True)
class _Named:
    code: str = ""


@dataclass(frozen=True)
class _Customer:
    kind: str
    vat_treatment: str


@dataclass(frozen=True)
class ContractView:
    """What the job reads of a contract: loaded as plain values, a chunk in one query."""

    pk: int
    reference: str
    interval: str
    start_date: dt.date
    ends_on: dt.date | None
    signed_on: dt.date | None
    received_on: dt.date | None
    plan_id: int
    plan: _Named
    customer: _Customer


@dataclass(frozen=True)
class RowView:
    effective_from: dt.date
    request: dict
    key: str  # the request as PostgreSQL's jsonb text: equal requests, equal keys


def _contract_views(contracts) -> list[ContractView]:
    return [
        ContractView(pk, ref, interval, start, ends, signed, received, plan_id, _Named(code), _Customer(kind, vat))
        for pk, ref, interval, start, ends, signed, received, plan_id, code, kind, vat in contracts.order_by("pk")
        .values_list(
            "pk", "reference", "interval", "start_date", "ends_on", "signed_on", "received_on", "plan_id",
            "plan__code", "customer__kind", "customer__vat_treatment",
        )
    ]  # fmt: skip


def _row_views(rows) -> dict[int, list[RowView]]:
    out = defaultdict(list)
    for contract_id, effective, text in rows.order_by("contract_id", "effective_from", "pk").values_list(
        "contract_id", "effective_from", Cast("request", TextField())
    ):
        out[contract_id].append(RowView(effective, json.loads(text), text))
    return out


def _steps_for(adjustments) -> dict[int, list[PriceAdjustment]]:
    """The contracts' price adjustments by contract, oldest first (``adjustments``: a queryset, or ids)."""
    if not hasattr(adjustments, "order_by"):
        adjustments = PriceAdjustment.objects.filter(contract_id__in=list(adjustments))
    out = defaultdict(list)
    for a in adjustments.order_by("contract_id", "effective_from"):
        out[a.contract_id].append(a)
    return out


def _compute_contract(
    proposal: IndexationProposal,
    contract: Contract,
    rules: ix.Policy,
    series: list[ix.Series],
    as_of: dt.date,
    previous: IndexationProposal | None,
    rows: list[PricedOn],
    steps: dict[int, list[PriceAdjustment]],
    preview: PricePreview,
    *,
    memo: dict | None = None,
) -> None:
    """Fill the proposal from the rules: computed (proposed or approved), or waiting with the reason.
    ``memo``: contracts of the same shape (price inputs, dates, last indexation) get the same answer."""
    effective = proposal.effective_on
    row = row_on(rows, effective)
    before = tuple((a.factor, a.rounding) for a in steps.get(contract.pk, ()) if a.effective_from < effective)
    last_effective = previous.effective_on if previous else None  # approved or proposed count for 12 months too
    last_month = as_month(previous.new_month) if previous and previous.new_month else None
    signed = signed_on(contract)
    key = None
    if memo is not None and proposal.requested_factor is None:
        key = (effective, signed, last_effective, last_month, preview.shape(contract, row, effective, before))
        if key in memo:
            for name, value in memo[key].items():
                setattr(proposal, name, value)
            return
    old = preview.yearly(contract, row, effective, before)
    customers = 1
    _fill(
        proposal, rules, series, old_price=old, signed=signed, as_of=as_of,
        last_effective=last_effective, last_month=last_month, customers=customers,
        reprice=(lambda factor, rounding: preview.yearly(contract, row, effective, (*before, (factor, rounding))))
        if old is not None else None,
    )  # fmt: skip
    if key is not None:
        memo[key] = {name: getattr(proposal, name) for name in FILLED}


FILLED = (
    "rounding", "customers_affected", "status", "waiting_nb", "waiting_en", "series", "base", "reference_month",
    "new_month", "reference_value", "new_value", "index_factor", "factor", "capped", "above_cap", "kept",
    "old_amount", "new_amount", "notice_by", "may_terminate", "late_notice", "explanation_nb", "explanation_en",
    "decided_by", "decided_on",
)  # fmt: skip


def _fill(
    proposal: IndexationProposal,
    rules: ix.Policy,
    series: list[ix.Series],
    *,
    old_price: Decimal | None,
    signed: dt.date,
    as_of: dt.date,
    last_effective: dt.date | None,
    last_month: ix.Month | None,
    customers: int,
    reprice=None,
) -> None:
    proposal.rounding = rules.rounding
    proposal.customers_affected = customers
    try:
        result = ix.compute(
            rules,
            series,
            price=old_price if old_price is not None else Decimal(0),
            effective_on=proposal.effective_on,
            signed_on=signed,
            last_effective=last_effective,
            last_month=last_month,
            requested_factor=proposal.requested_factor,
            today=as_of,
            reprice=reprice,
        )
    except ix.IndexationError as error:
        result = ix.Waiting(error.message_nb, str(error))
    if isinstance(result, ix.Waiting):
        if proposal.requested_factor is not None:
            _fill_requested(proposal, rules, old_price, reprice, result)
            return
        proposal.status = ProposalStatus.WAITING
        proposal.waiting_nb, proposal.waiting_en = result.reason_nb[:300], result.reason_en[:300]
        return
    proposal.series = _series(result.series_code)
    proposal.base = result.base
    proposal.reference_month = as_date(result.reference_month)
    proposal.new_month = as_date(result.new_month)
    proposal.reference_value, proposal.new_value = result.reference_value, result.new_value
    proposal.index_factor, proposal.factor = result.index_factor, result.factor
    proposal.capped, proposal.above_cap, proposal.kept = result.capped, result.above_cap, result.kept
    proposal.old_amount = old_price
    proposal.new_amount = result.new_price if old_price is not None else None
    proposal.notice_by = result.notice_by
    proposal.may_terminate = result.may_terminate or proposal.may_terminate
    proposal.late_notice = bool(result.extra.get("late_notice")) and proposal.notice_sent_on is None
    proposal.explanation_nb, proposal.explanation_en = result.explanation_nb, result.explanation_en
    proposal.waiting_nb = proposal.waiting_en = ""
    if proposal.status in (None, "", ProposalStatus.WAITING):
        # Applied automatically where the policy says so, unless the notice the terms require can no
        # longer be given in time: then staff decide (approving moves the date to the first one the
        # notice allows).
        auto = (
            proposal.policy.approval == PolicyApproval.AUTO
            and proposal.requested_factor is None
            and not (proposal.notice_by is not None and as_of > proposal.notice_by)
        )
        proposal.status = ProposalStatus.APPROVED if auto else ProposalStatus.PROPOSED
        if auto:
            proposal.decided_by, proposal.decided_on = "job (the policy applies it automatically)", as_of


def _fill_requested(proposal, rules: ix.Policy, old_price, reprice, waiting: ix.Waiting) -> None:
    """An increase the vendor asks for before the index of its date is known (DigiReq above CPI, told 6
    months ahead): the requested factor with the above-cap notice and, if the terms give it, the right to
    terminate. The index is recorded when it is published; the price applied is the one announced."""
    factor = proposal.requested_factor
    notice = rules.above_cap_notice or rules.notice
    proposal.factor = factor
    proposal.above_cap = rules.above_cap_notice is not None
    proposal.may_terminate = proposal.above_cap and rules.above_cap_may_terminate
    proposal.notice_by = None if notice.is_none else notice.before(proposal.effective_on)
    proposal.old_amount = old_price
    if old_price is not None:
        proposal.new_amount = reprice(factor, rules.rounding) if reprice else ix.index_price(old_price, factor)
    proposal.explanation_nb, proposal.explanation_en = ix.requested_explanation(
        factor, proposal.effective_on, notice, proposal.old_amount, proposal.new_amount,
        may_terminate=proposal.may_terminate,
    )  # fmt: skip
    proposal.waiting_nb, proposal.waiting_en = waiting.reason_nb[:300], waiting.reason_en[:300]
    if proposal.status in (None, "", ProposalStatus.WAITING):
        proposal.status = ProposalStatus.PROPOSED


_SERIES: dict[str, object] = {}  # code → IndexSeries, per run (cleared at the start of each)


_SERIES_BY_ID: dict[int, object] = {}


def _series(code: str):
    from pricing.models import IndexSeries

    if code not in _SERIES:
        _SERIES[code] = found = IndexSeries.objects.filter(code=code).first()
        if found is not None:
            _SERIES_BY_ID[found.pk] = found
    return _SERIES[code]


def _event(proposal: IndexationProposal, kind: str, on: dt.date, **extra) -> IndexationEvent:
    return IndexationEvent(kind=kind, proposal=proposal, occurred_on=on, payload=_payload(proposal, **extra))


def _events_for(proposals: list, kind: str, on: dt.date, references: dict[int, str] | None = None) -> None:
    """One event row per proposal (the payload of :func:`_payload`), inserted as one JSON parameter."""
    if not proposals:
        return
    now = timezone.now().isoformat()
    rows = [
        {
            "tenant_id": p.tenant_id,
            "kind": kind,
            "proposal_id": p.pk,
            "payload": _payload(p, references=references),
            "occurred_on": on.isoformat(),
            "created_at": now,
            "delivered_at": None,
        }
        for p in proposals
    ]
    insert_rows(IndexationEvent, rows, complete=True)


def _payload(p: IndexationProposal, references: dict[int, str] | None = None, **extra) -> dict:
    def text(v):
        return None if v is None else str(v)

    if p.contract_id is None:
        contract = None
    elif references is not None:
        contract = references[p.contract_id]
    else:
        contract = p.contract.reference
    return {
        "proposal": p.pk,
        "scope": p.scope,
        "contract": contract,
        "policy": p.policy.code,
        "effective_on": p.effective_on.isoformat(),
        "status": p.status,
        "factor": text(p.factor),
        "old_amount": text(p.old_amount),
        "new_amount": text(p.new_amount),
        "series": p.series.code if p.series_id else None,
        "reference_month": p.reference_month.strftime("%YM%m") if p.reference_month else None,
        "new_month": p.new_month.strftime("%YM%m") if p.new_month else None,
        "reference_value": text(p.reference_value),
        "new_value": text(p.new_value),
        **extra,
    }


def _after_create(
    created: list, policy, as_of: dt.date, report: RunReport, references: dict[int, str] | None = None
) -> None:
    for p in created:
        p.policy = policy
        if p.status == ProposalStatus.WAITING:
            report.waiting += 1
            report.waiting_reasons[p.waiting_en] = report.waiting_reasons.get(p.waiting_en, 0) + 1
        else:
            report.proposed += p.status == ProposalStatus.PROPOSED
            report.approved += p.status == ProposalStatus.APPROVED
    _events_for(created, "indexation.proposed", as_of, references)
    _events_for([p for p in created if p.status == ProposalStatus.APPROVED], "indexation.approved", as_of, references)
    for p in created:
        if p.status == ProposalStatus.APPROVED and (p.notice_by is not None or p.may_terminate):
            if _notify(p.as_model() if isinstance(p, _Draft) else p, as_of):
                report.notices += 1


def _propose_single(
    policy: IndexationPolicy, rules: ix.Policy, series: list[ix.Series], as_of: dt.date, report: RunReport
) -> None:
    """A list or catalogue policy: one proposal per effective date for the whole list or catalogue."""
    if policy.plan_id is None:
        return
    first = PlanVersion.objects.filter(plan_id=policy.plan_id).order_by("valid_from").first()
    if first is None:
        return
    previous = (
        IndexationProposal.objects.filter(policy=policy)
        .exclude(status__in=(ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN))
        .order_by("-effective_on")
        .first()
    )
    start = first.valid_from
    effective = _next_effective(
        rules, start, previous.effective_on if previous else start, as_of, policy.first_effective_on
    )
    if ix.measure_date(rules, effective) > as_of:
        return
    if IndexationProposal.objects.filter(policy=policy, effective_on=effective).exists():
        return
    with transaction.atomic():
        _lock_policy(policy)
        if IndexationProposal.objects.filter(policy=policy, effective_on=effective).exists():
            return
        proposal = IndexationProposal(
            policy=policy, scope=policy.scope, plan_id=policy.plan_id, effective_on=effective, created_on=as_of
        )
        _compute_single(proposal, rules, series, as_of, previous, start)
        try:
            with transaction.atomic():
                proposal.save()
        except IntegrityError:
            return  # another run made it a moment ago
        _after_create([proposal], policy, as_of, report)


def _compute_single(proposal, rules, series, as_of, previous, start) -> None:
    policy = proposal.policy
    effective = proposal.effective_on
    if policy.scope == PolicyScope.LIST:
        old, customers, reprice = _list_preview(policy, effective)
    else:
        old, customers, reprice = _catalogue_preview(policy, effective)
    _fill(
        proposal, rules, series, old_price=old, signed=start, as_of=as_of,
        last_effective=previous.effective_on if previous else None,
        last_month=as_month(previous.new_month) if previous and previous.new_month else None,
        customers=customers, reprice=reprice,
    )  # fmt: skip
    if proposal.factor is not None and proposal.series is not None:
        # What customers read on their invoices: the index and the date, not the vendor's revenue (the
        # preview's totals stay in old_amount/new_amount for staff).
        proposal.explanation_nb, proposal.explanation_en = _list_explanation(proposal)


def _list_explanation(p: IndexationProposal) -> tuple[str, str]:
    return ix.list_explanation(
        (p.series.short_nb, p.series.short_en), as_month(p.reference_month), as_month(p.new_month),
        p.reference_value, p.new_value, p.index_factor, p.base, p.effective_on,
        catalogue=p.scope == PolicyScope.CATALOGUE, whole_kroner=p.rounding == KRONE,
    )  # fmt: skip


def _list_contracts(policy: IndexationPolicy, effective: dt.date) -> list[Contract]:
    return list(
        Contract.objects.filter(plan_id=policy.plan_id, state__in=INDEXABLE_STATES, start_date__isnull=False)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=effective))
        .select_related("customer", "plan")
    )


def _list_preview(policy: IndexationPolicy, effective: dt.date):
    """The list's effect: every running contract's yearly price at its next term year on the old and the
    new list (Spekter: running contracts follow the list on their next term year)."""
    contracts = _list_contracts(policy, effective)
    preview = PricePreview()
    rows = defaultdict(list)
    for row in PricedOn.objects.filter(contract__in=contracts).order_by("contract_id", "effective_from", "pk"):
        rows[row.contract_id].append(row)
    old_total = Decimal(0)
    priced = []
    for c in contracts:
        amount = preview.yearly(c, row_on(rows[c.pk], effective), effective, ())
        if amount is not None:
            old_total += amount
            priced.append(c)

    def reprice(factor, rounding):
        total = Decimal(0)
        for c in priced:
            total += preview.yearly(c, row_on(rows[c.pk], effective), effective, ((factor, rounding),)) or 0
        return total

    return old_total, len(priced), reprice


def _catalogue_preview(policy: IndexationPolicy, effective: dt.date):
    """The catalogue's effect: the sum of last year's catalogue prices and the same indexed (whole kroner)."""
    prices = list(_indexable_prices(effective.year - 1).values_list("price", flat=True))
    customers = Contract.objects.filter(
        plan_id=policy.plan_id, state__in=INDEXABLE_STATES, start_date__isnull=False
    ).count()

    def reprice(factor, rounding):
        return sum((ix.index_price(p, factor, rounding) for p in prices), Decimal(0))

    return sum(prices, Decimal(0)), customers, reprice


def _refresh_waiting(as_of: dt.date, report: RunReport, series_cache: dict) -> None:
    """Compute the proposals that waited for an index month once it is there (and announced increases
    once their index is published, to record it)."""
    waiting = IndexationProposal.objects.filter(
        Q(status=ProposalStatus.WAITING) | Q(status__in=OPEN_STATUSES, requested_factor__isnull=False, new_month=None)
    ).select_related("policy", "contract", "contract__customer", "contract__plan")
    ids = list(waiting.values_list("pk", flat=True))
    preview = PricePreview()
    for i in range(0, len(ids), CHUNK):
        with transaction.atomic():
            batch = list(waiting.filter(pk__in=ids[i : i + CHUNK]).select_for_update(of=("self",)))
            contract_ids = [p.contract_id for p in batch if p.contract_id]
            steps = _steps_for(contract_ids)
            rows = defaultdict(list)
            for row in PricedOn.objects.filter(contract_id__in=contract_ids).order_by(
                "contract_id", "effective_from", "pk"
            ):
                rows[row.contract_id].append(row)
            for p in batch:
                policy = p.policy
                try:
                    rules = policy.rules()
                except ix.IndexationError:
                    continue
                series = series_cache.setdefault(policy.index_code, load_series(policy.index_code, on=as_of))
                was = p.status
                before = {name: getattr(p, name) for name in FILLED}
                previous = _previous(p)
                if p.contract_id:
                    _compute_contract(
                        p, p.contract, rules, series, as_of, previous, rows[p.contract_id], steps, preview
                    )
                else:
                    first = PlanVersion.objects.filter(plan_id=p.plan_id).order_by("valid_from").first()
                    _compute_single(p, rules, series, as_of, previous, first.valid_from)
                if {name: getattr(p, name) for name in FILLED} == before:
                    if p.status == ProposalStatus.WAITING:
                        report.waiting_reasons[p.waiting_en] = report.waiting_reasons.get(p.waiting_en, 0) + 1
                    continue  # still waiting for the same month: nothing to write
                p.save()
                if was == ProposalStatus.WAITING and p.status != ProposalStatus.WAITING:
                    report.proposed += p.status == ProposalStatus.PROPOSED
                    report.approved += p.status == ProposalStatus.APPROVED
                    kinds = ["indexation.proposed"] + (["indexation.approved"] if p.status == "approved" else [])
                    IndexationEvent.objects.bulk_create([_event(p, k, as_of) for k in kinds])
                    if p.status == ProposalStatus.APPROVED and _notify(p, as_of):
                        report.notices += 1
                elif p.status == ProposalStatus.WAITING:
                    report.waiting_reasons[p.waiting_en] = report.waiting_reasons.get(p.waiting_en, 0) + 1


def _previous(p: IndexationProposal) -> IndexationProposal | None:
    qs = IndexationProposal.objects.filter(effective_on__lt=p.effective_on).exclude(
        status__in=(ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN)
    )
    qs = qs.filter(contract_id=p.contract_id) if p.contract_id else qs.filter(policy_id=p.policy_id, contract=None)
    return qs.order_by("-effective_on").first()


# ---------------------------------------------------------------- notices


def _notify(p: IndexationProposal, on: dt.date) -> bool:
    """Tell the customer when the policy demands it (or the customer may terminate). Once per proposal."""
    if p.contract_id is None or p.notice_sent_on is not None:
        return False
    if p.notice_by is None and not p.may_terminate:
        return False
    from indexation.letters import render_letter_pdf

    contract = p.contract
    pdf = render_letter_pdf(p)
    message = notify.send(
        contract,
        "price_change",
        key=f"indexation-{p.pk}",
        on=on,
        staff=True,
        proposal=p,
        attachments=[(f"prisendring-{contract.reference}-{p.effective_on.isoformat()}.pdf", pdf, "application/pdf")],
    )
    IndexationProposal.objects.filter(pk=p.pk).update(
        notice_sent_on=on, late_notice=p.late_notice or bool(p.notice_by and on > p.notice_by)
    )
    p.notice_sent_on = on
    IndexationEvent.objects.create(kind="indexation.notice_sent", proposal=p, occurred_on=on, payload=_payload(p))
    return message is not None


# ---------------------------------------------------------------- applying


def _apply_due(as_of: dt.date, report: RunReport, only: list[int] | None = None) -> None:
    """Apply the approved proposals whose date has come (``only``: just these)."""
    due = IndexationProposal.objects.filter(status=ProposalStatus.APPROVED, effective_on__lte=as_of)
    if only is not None:
        due = due.filter(pk__in=only)
    ids = list(due.order_by("effective_on", "pk").values_list("pk", flat=True))
    for i in range(0, len(ids), CHUNK):
        with transaction.atomic():
            batch = list(
                IndexationProposal.objects.filter(pk__in=ids[i : i + CHUNK], status=ProposalStatus.APPROVED)
                .select_related("policy", "contract", "plan")
                .select_for_update(of=("self",))
            )
            adjustments, events = [], []
            for p in batch:
                outcome = _apply_one(p, as_of, adjustments)
                if outcome == "applied":
                    report.applied += 1
                elif outcome == "withdrawn":
                    report.withdrawn += 1
                elif outcome:
                    report.errors.append(outcome)
                    continue
                events.append(_event(p, f"indexation.{outcome}", as_of))
            PriceAdjustment.objects.bulk_create(adjustments, ignore_conflicts=True)
            IndexationProposal.objects.bulk_update(batch, ["status", "applied_on", "plan_version", "explanation_nb",
                                                           "explanation_en"])  # fmt: skip
            IndexationEvent.objects.bulk_create(events)


def _apply_one(p: IndexationProposal, as_of: dt.date, adjustments: list) -> str:
    """'applied', 'withdrawn', or an error in words (the proposal then stays approved)."""
    if p.scope == PolicyScope.CONTRACT:
        contract = p.contract
        if contract.state not in INDEXABLE_STATES or (contract.ends_on and contract.ends_on <= p.effective_on):
            p.status = ProposalStatus.WITHDRAWN
            return "withdrawn"
        if p.factor is None:
            return f"{contract.reference}: approved without a factor (index missing); it stays approved"
        adjustments.append(
            PriceAdjustment(
                contract=contract,
                effective_from=p.effective_on,
                factor=p.factor,
                rounding=p.rounding,
                proposal=p,
                explanation_nb=p.explanation_nb,
                explanation_en=p.explanation_en,
                created_by=job_actor(as_of).label,
            )
        )
    elif p.scope == PolicyScope.LIST:
        error = _apply_list(p)
        if error:
            return error
    else:
        _apply_catalogue(p)
    p.status, p.applied_on = ProposalStatus.APPLIED, as_of
    return "applied"


def _apply_list(p: IndexationProposal) -> str:
    base = PlanVersion.objects.filter(plan_id=p.plan_id, valid_from__lt=p.effective_on).order_by("-valid_from").first()
    if base is None or p.factor is None:
        return f"{p.plan.code}: no price list before {p.effective_on.isoformat()} to index"
    clash = PlanVersion.objects.filter(plan_id=p.plan_id, valid_from=p.effective_on).first()
    if clash is not None:
        if (clash.document or {}).get("indexation", {}).get("proposal") == p.pk:
            p.plan_version = clash
            return ""
        return (
            f"{p.plan.code}: a price list from {p.effective_on.isoformat()} was already made by hand; "
            "reject this proposal or remove that version"
        )
    document = ix.index_document(base.document, p.factor, KRONE if p.rounding == KRONE else ORE)
    document["indexation"] = {"nb": p.explanation_nb, "en": p.explanation_en, "proposal": p.pk}
    p.plan_version = PlanVersion.objects.create(
        plan_id=p.plan_id,
        valid_from=p.effective_on,
        document=document,
        note=p.explanation_en[:200],
        created_by="indexation",
    )
    return ""


def _indexable_prices(year: int):
    """The catalogue prices of ``year`` that the index carries forward: not those of categories whose
    prices the vendor fetches from the publisher each year (RULES §3 (a), e.g. Thomson Reuters), which
    come in by import."""
    return StandardPrice.objects.filter(year=year, standard__category__yearly_prices_fetched=False)


def _apply_catalogue(p: IndexationProposal) -> None:
    year = p.effective_on.year
    have = set(StandardPrice.objects.filter(year=year).values_list("standard_id", flat=True))
    rounding = KRONE if p.rounding == KRONE else ORE
    StandardPrice.objects.bulk_create(
        [
            StandardPrice(standard_id=sp.standard_id, year=year, price=ix.index_price(sp.price, p.factor, rounding))
            for sp in _indexable_prices(year - 1).exclude(standard_id__in=have)
        ],
        ignore_conflicts=True,
    )


# ---------------------------------------------------------------- staff and customers


def _locked(proposal: IndexationProposal) -> IndexationProposal:
    return (
        IndexationProposal.objects.select_for_update(of=("self",))
        .select_related("policy", "contract", "contract__customer", "plan")
        .get(pk=proposal.pk)
    )


@transaction.atomic
def proposal_approve(*, actor: Actor, proposal: IndexationProposal, on: dt.date) -> IndexationProposal:
    """Approve a proposal: it takes effect on its date; the customer is told now where the policy says.
    Approving an approved or applied proposal changes nothing (one price, however often it is clicked)."""
    p = _locked(proposal)
    if p.status in (ProposalStatus.APPROVED, ProposalStatus.APPLIED):
        return p
    if p.status != ProposalStatus.PROPOSED:
        raise ValidationError({"status": _("Only a proposal awaiting approval can be approved (this one is: %(s)s).")
                               % {"s": p.get_status_display()}})  # fmt: skip
    before = audit.snapshot(p)
    if p.notice_by is not None and on > p.notice_by:
        _postpone_for_notice(p, on)
    before = audit.snapshot(p)
    p.status, p.decided_by, p.decided_on = ProposalStatus.APPROVED, actor.label[:200], on
    p.save()
    audit.record(actor, "indexation.approve", p, before=before, after=audit.snapshot(p))
    IndexationEvent.objects.create(kind="indexation.approved", proposal=p, occurred_on=on, payload=_payload(p))
    _notify(p, on)
    if p.effective_on <= on:
        report = RunReport(on)
        _apply_due(on, report, only=[p.pk])
        p.refresh_from_db()
    return p


def _postpone_for_notice(p: IndexationProposal, on: dt.date) -> None:
    """Approved after the day the customer had to be told: the change takes effect on the first day the
    notice allows, counted from today, and the explanation says so."""
    rules = rules_of(p.policy)
    notice = rules.above_cap_notice if p.above_cap and rules.above_cap_notice else rules.notice
    effective, explanation_nb, explanation_en = ix.postponed(
        p.explanation_nb, p.explanation_en, p.effective_on, notice, on
    )
    clash = IndexationProposal.objects.filter(effective_on=effective).exclude(pk=p.pk)
    clash = clash.filter(contract_id=p.contract_id) if p.contract_id else clash.filter(policy_id=p.policy_id)
    if clash.exists():
        raise ValidationError(
            {"effective_on": _("Too late to give notice for %(d)s, and another price change is set for %(e)s.")
             % {"d": p.effective_on.isoformat(), "e": effective.isoformat()}}
        )  # fmt: skip
    p.explanation_nb, p.explanation_en = explanation_nb, explanation_en
    p.effective_on, p.notice_by, p.late_notice = effective, on, True


def proposals_approve(*, actor: Actor, policy: IndexationPolicy, effective_on: dt.date, on: dt.date) -> int:
    """Approve every proposal of a policy for a date (each in its own transaction). Returns how many."""
    ids = list(
        IndexationProposal.objects.filter(policy=policy, effective_on=effective_on, status=ProposalStatus.PROPOSED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    done = 0
    for pk in ids:
        try:
            proposal_approve(actor=actor, proposal=IndexationProposal(pk=pk), on=on)
            done += 1
        except ValidationError:
            continue
    return done


@transaction.atomic
def proposal_reject(*, actor: Actor, proposal: IndexationProposal, on: dt.date, reason: str = "") -> IndexationProposal:
    p = _locked(proposal)
    if p.status == ProposalStatus.REJECTED:
        return p
    if p.status not in (ProposalStatus.WAITING, ProposalStatus.PROPOSED):
        message = _("Only a waiting or proposed indexation can be rejected (this one is: %(s)s).")
        raise ValidationError({"status": message % {"s": p.get_status_display()}})
    before = audit.snapshot(p)
    p.status, p.decided_by, p.decided_on = ProposalStatus.REJECTED, actor.label[:200], on
    p.save()
    audit.record(actor, "indexation.reject", p, before=before, after=audit.snapshot(p), extra={"reason": reason[:300]})
    IndexationEvent.objects.create(kind="indexation.rejected", proposal=p, occurred_on=on, payload=_payload(p))
    return p


@transaction.atomic
def increase_request(
    *, actor: Actor, contract: Contract, percent: Decimal, effective_on: dt.date, on: dt.date
) -> IndexationProposal:
    """The vendor asks for an increase other than the index on a contract (DigiReq: above CPI, allowed with
    6 months' notice, and the customer may then terminate). Proposed for approval; the notice goes out
    when it is approved."""
    contract = Contract.objects.select_for_update().select_related("customer", "plan").get(pk=contract.pk)
    policy = policy_for(contract)
    if policy is None:
        raise ValidationError({"contract": _("This contract follows no indexation policy.")})
    rules = rules_of(policy)
    if contract.state not in INDEXABLE_STATES or contract.start_date is None:
        raise ValidationError({"contract": _("Only a running contract can get a price change.")})
    if not isinstance(percent, Decimal) or not percent.is_finite() or percent <= 0 or percent > 100:
        raise ValidationError({"percent": _("Give the increase in per cent, more than 0 and at most 100.")})
    expected = ix.next_effective(rules, contract.start_date, effective_on)
    if expected != effective_on:
        raise ValidationError(
            {"effective_on": _("Under this policy a price changes on %(d)s, not on the date given.")
             % {"d": expected.isoformat()}}
        )  # fmt: skip
    if effective_on <= on:
        raise ValidationError({"effective_on": _("A price change is announced before it takes effect.")})
    notice = rules.above_cap_notice or rules.notice
    if not notice.is_none and on > notice.before(effective_on):
        raise ValidationError(
            {
                "effective_on": _(
                    "An increase above the index must be announced %(n)s before it takes effect: for %(e)s the "
                    "customer had to be told by %(d)s."
                )
                % {
                    "n": notice.label("en" if (get_language() or "nb").startswith("en") else "nb"),
                    "e": effective_on.isoformat(),
                    "d": notice.before(effective_on).isoformat(),
                }
            }
        )
    if contract.ends_on and contract.ends_on <= effective_on:
        raise ValidationError({"contract": _("The contract ends before the change would take effect.")})
    existing = IndexationProposal.objects.filter(contract=contract, effective_on=effective_on).first()
    if existing is not None and existing.status not in (ProposalStatus.WAITING, ProposalStatus.PROPOSED):
        raise ValidationError({"effective_on": _("The price change on this date is already decided.")})
    previous = (
        IndexationProposal.objects.filter(contract=contract, effective_on__lt=effective_on)
        .exclude(status__in=(ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN))
        .order_by("-effective_on")
        .first()
    )
    if ix.too_soon(previous.effective_on if previous else None, effective_on):
        raise ValidationError({"effective_on": _("A price is indexed at most once per 12 months.")})
    p = existing or IndexationProposal(
        policy=policy, scope=PolicyScope.CONTRACT, contract=contract, effective_on=effective_on, created_on=on
    )
    p.policy = policy
    p.status = ProposalStatus.PROPOSED if existing is None else existing.status
    if p.status == ProposalStatus.WAITING:
        p.status = ""
    p.requested_factor = (1 + percent / 100).quantize(ix.FACTOR_PLACES)
    _SERIES.clear()
    _SERIES_BY_ID.clear()
    rows = list(PricedOn.objects.filter(contract=contract).order_by("effective_from", "pk"))
    series = load_series(policy.index_code, on=on)
    _compute_contract(p, contract, rules, series, on, previous, rows, _steps_for([contract.pk]), PricePreview())
    p.save()
    audit.record(actor, "indexation.request_increase", p, after=audit.snapshot(p))
    IndexationEvent.objects.create(kind="indexation.proposed", proposal=p, occurred_on=on, payload=_payload(p))
    return p


@transaction.atomic
def terminate_before_increase(*, actor: Actor, proposal: IndexationProposal, on: dt.date):
    """The customer's right after an above-index notice: the contract ends the day before the increase,
    without notice period; the increase is then withdrawn."""
    p = _locked(proposal)
    if not p.may_terminate or p.status != ProposalStatus.APPROVED or p.contract_id is None:
        raise ValidationError({"proposal": _("This price change gives no right to terminate.")})
    if on >= p.effective_on:
        raise ValidationError({"proposal": _("The right to terminate ended when the new price took effect.")})
    contract = p.contract
    if contract.ends_on and contract.ends_on <= p.effective_on:
        raise ValidationError({"proposal": _("The agreement already ends before the price change.")})
    notice = contract_services.notice_give(
        actor=actor, contract=contract, given_by="customer", received_on=on, ends_on=p.effective_on
    )
    IndexationEvent.objects.create(
        kind="indexation.terminated",
        proposal=p,
        occurred_on=on,
        payload=_payload(p, ends_on=notice.ends_on.isoformat()),
    )
    return notice


# ---------------------------------------------------------------- policies


POLICY_FIELDS = (
    "code", "name_nb", "name_en", "scope", "plan", "index_code", "timing", "reference", "measure_month",
    "measure_day", "cap", "notice_months", "notice_days", "above_cap_notice_months", "above_cap_may_terminate",
    "whole_kroner", "falling", "approval", "first_effective_on", "is_active",
)  # fmt: skip


def _check_policy(policy: IndexationPolicy) -> None:
    from pricing.models import IndexSeries

    errors = {}
    if not IndexSeries.objects.filter(index_code=policy.index_code).exists():
        errors["index_code"] = _("Unknown index %(c)s; use one of the series listed under Indexation.") % {
            "c": policy.index_code
        }
    if policy.scope in (PolicyScope.LIST, PolicyScope.CATALOGUE) and policy.plan_id is None:
        errors["plan"] = _("A list or catalogue policy names the plan whose prices it indexes.")
    if (policy.measure_month is None) != (policy.measure_day is None):
        errors["measure_day"] = _("Give both the month and the day the index is read, or neither.")
    if errors:
        raise ValidationError(errors)
    try:
        policy.full_clean(exclude=["tenant", "plan"])
        policy.rules()
    except ix.IndexationError as error:
        raise ValidationError({error.field or "policy": _in_words(error)}) from error


@transaction.atomic
def policy_create(*, actor: Actor, data: dict) -> IndexationPolicy:
    policy = IndexationPolicy(**{k: v for k, v in data.items() if k in POLICY_FIELDS or k.endswith("_id")})
    minimum = data.get("minimum_notice_days"), data.get("minimum_notice_months")
    policy.minimum_notice_days, policy.minimum_notice_months = minimum[0] or 0, minimum[1] or 0
    _check_policy(policy)
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError as exc:
        raise ValidationError({"code": _("There is already a policy with this code.")}) from exc
    audit.record(actor, "indexation.policy_create", policy, after=audit.snapshot(policy))
    return policy


@transaction.atomic
def policy_update(*, actor: Actor, policy: IndexationPolicy, data: dict) -> IndexationPolicy:
    """Change a policy (the contract's minimum notice stays as the terms set it)."""
    policy = IndexationPolicy.objects.select_for_update().get(pk=policy.pk)
    before = audit.snapshot(policy)
    for key, value in data.items():
        if key in POLICY_FIELDS and key not in ("code",):
            setattr(policy, key, value)
    _check_policy(policy)
    policy.save()
    audit.record(actor, "indexation.policy_update", policy, before=before, after=audit.snapshot(policy))
    return policy
