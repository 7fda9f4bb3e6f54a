"""Payment default (issue 11, item 4): Piscator's notice and suspension, DigiReq's pause at 45 days, and the
payment that gives service back at once. RULES §4 and §5 are the specification.

Definitions (the same everywhere: the run, the payment hook, the faces' "customers at risk"):

- **Days past due** of an invoice on a date ``on``: ``(on − due_date).days``. Due 2026-01-01: 2026-01-02 is
  1 day past due (:func:`billing.models.past_due_q` agrees: past due from the day after the due date),
  2026-02-15 is 45 days past due.
- **Arrears** of a contract on ``on``: its issued invoices (not credit notes) with something outstanding and
  a due date before ``on`` (or marked overdue), **not on hold** (an active :class:`InvoiceHold`: a disputed
  invoice never triggers a default nor keeps one open) and **not interest invoices** (``purpose`` "interest":
  late-payment interest and reminder fees are claims of their own; an unpaid interest invoice alone neither
  opens a case nor pauses an account). The **oldest** is the one with the earliest due date (then number).
  Invoices without a contract cannot stop a contract and are left out.
- **Cleared** (:func:`arrears_cleared`): no arrears left; for a *suspension* (SSA-L: "until paid in full incl.
  interest") also no issued interest invoice of the contract left unpaid, due or not. Interest accrued but
  not yet invoiced does not keep service stopped: it is invoiced as the policy says and chased by reminders.

Piscator (``default_action`` "suspend"): when the oldest arrear is ``default_after_days`` or more past due
(14 in the preset) a :class:`DefaultCase` opens and the "suspension_notice" goes out on that day, stating what
is owed with interest so far and the day service stops: ``add_business_days(notice day,
suspend_notice_business_days)`` (Norwegian holidays do not count). On that day, if not cleared: suspended
(policy automatic) or waiting for staff (:func:`default_case_suspend`). When the oldest arrear is more than
``material_breach_days`` past due (30: day 31 is a breach, day 30 is not) the case is flagged once
(``material_breach_on`` = the first day of the breach) and staff are told.

DigiReq (``default_action`` "pause"): when the oldest arrear is ``default_after_days`` (45) or more past due
the active contract is paused (:func:`contracts.services.contract_pause_unpaid`), the case is "paused" and
"paused_unpaid" goes out with the deletion date. The 60/30/7-days-left notices and the deletion after 90
days are the trial pause's jobs (:mod:`contracts.jobs`). A contract under notice cannot be paused (the
lifecycle has no such move) and is left to the reminders.

A payment that clears the arrears (:func:`on_payment`, called from
:func:`billing.services.payment_register`, so hand-entered payments and bank files alike) closes the case
("paid") and resumes a suspended contract / reactivates a paused one at once. Staff may close a case
themselves (:func:`default_case_close`, e.g. an agreed payment plan): the invoices already past due that day
then open no new case; an invoice falling due later can.

The run (:func:`default_run`) is idempotent (a second run the same day changes nothing: notices are keyed,
cases are one per contract), resumable (each contract in its own savepoint; a failed contract is reported
and the others go on; a rerun picks up where things stand), and ``dry_run`` does the same work inside a
transaction that is rolled back (nothing written, nothing sent).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils.translation import gettext as _

from billing.models import PAYABLE, Invoice, InvoiceKind, past_due_q
from contracts import lifecycle, notify, terms
from contracts import services as contract_services
from contracts.models import Contract
from pricing.engine.money import ZERO
from receivables.accrual import interest_on
from receivables.models import (
    CollectionPolicy,
    DefaultAction,
    DefaultCase,
    DefaultStatus,
    InterestCharge,
    InvoiceHold,
    SuspendConfirm,
)
from receivables.policies import PolicyCache
from tenants import audit
from tenants.audit import Actor

log = logging.getLogger(__name__)

DAY = dt.timedelta(days=1)
INTEREST = "interest"

# Why a case was closed. Cases closed as PAID or HELD do not hold back a new case; any other reason (staff:
# a payment plan; a contract resumed, reactivated or ended by hand) waives the invoices past due that day.
PAID = "paid"
HELD = "held"
DELETED = "deleted"
AUTOMATIC_REASONS = (PAID, HELD)


# ---------------------------------------------------------------- reading


def days_past_due(invoice: Invoice, on: dt.date) -> int:
    """``(on − due_date).days``: 0 on the due date, 1 the day after, 45 on the 45th day after."""
    return (on - invoice.due_date).days


def _not_held(qs: QuerySet) -> QuerySet:
    active_hold = InvoiceHold.objects.filter(invoice=OuterRef("pk"), released_on__isnull=True)
    return qs.filter(~Exists(active_hold))


def arrears(on: dt.date) -> QuerySet:
    """Invoices that count towards a payment default on ``on`` (see the module), oldest first."""
    return _not_held(
        Invoice.objects.filter(past_due_q(on), contract__isnull=False, due_date__isnull=False).exclude(purpose=INTEREST)
    ).order_by("contract_id", "due_date", "number", "id")


def _open_interest_invoices(contract: Contract) -> QuerySet:
    return _not_held(
        Invoice.objects.filter(
            contract=contract,
            purpose=INTEREST,
            kind=InvoiceKind.INVOICE,
            status__in=PAYABLE,
            total__gt=F("paid_amount") + F("credited_amount"),
        )
    )


def arrears_cleared(contract: Contract, on: dt.date, *, action: str | None = None) -> bool:
    """No arrears left on ``on``; for a suspension also no unpaid interest invoice of the contract.
    ``action``: "suspend" or "pause" (default: the open case's, else the contract's policy's)."""
    if arrears(on).filter(contract=contract).exists():
        return False
    action = action or _action_for(contract)
    if action == DefaultAction.SUSPEND and _open_interest_invoices(contract).exists():
        return False
    return True


def _action_for(contract: Contract) -> str:
    case = open_case(contract)
    if case is not None:
        return case.action
    return PolicyCache().for_contract(contract).default_action


def open_case(contract: Contract, *, lock: bool = False) -> DefaultCase | None:
    qs = DefaultCase.objects.filter(contract=contract).exclude(status=DefaultStatus.CLOSED)
    if lock:
        qs = qs.select_for_update()
    return qs.first()


@dataclass(frozen=True)
class OwedLine:
    invoice: Invoice
    days_past_due: int
    outstanding: Decimal
    interest: Decimal  # accrued so far and not yet invoiced


@dataclass(frozen=True)
class Owed:
    """What a contract owes on a date: the arrears, interest accrued on them and not invoiced yet, and
    unpaid interest invoices."""

    lines: tuple[OwedLine, ...]
    principal: Decimal
    interest: Decimal
    interest_invoiced: Decimal
    currency: str

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.interest_invoiced


def owed(contract: Contract, on: dt.date, policy: CollectionPolicy) -> Owed:
    invoices = list(arrears(on).filter(contract=contract))
    charged: dict[int, Decimal] = {}
    for late_id, amount in InterestCharge.objects.filter(late_invoice__in=invoices).values_list(
        "late_invoice_id", "amount"
    ):
        charged[late_id] = charged.get(late_id, ZERO) + amount
    lines = []
    for invoice in invoices:
        accrual = interest_on(invoice, on, policy)
        accrued = accrual.amount if accrual is not None else ZERO
        lines.append(
            OwedLine(
                invoice,
                days_past_due(invoice, on),
                invoice.outstanding,
                max(ZERO, accrued - charged.get(invoice.pk, ZERO)),
            )
        )
    interest_invoiced = sum((i.outstanding for i in _open_interest_invoices(contract)), ZERO)
    return Owed(
        lines=tuple(lines),
        principal=sum((line.outstanding for line in lines), ZERO),
        interest=sum((line.interest for line in lines), ZERO),
        interest_invoiced=interest_invoiced,
        currency=invoices[0].currency if invoices else "NOK",
    )


# ---------------------------------------------------------------- the run


@dataclass
class DefaultRunResult:
    on: dt.date
    dry_run: bool = False
    contracts_seen: int = 0
    notices: list[str] = field(default_factory=list)  # contract references
    suspended: list[str] = field(default_factory=list)
    awaiting: list[str] = field(default_factory=list)
    paused: list[str] = field(default_factory=list)
    material_breaches: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(
            len(x)
            for x in (self.notices, self.suspended, self.awaiting, self.paused, self.material_breaches, self.closed)
        )

    def summary(self) -> str:
        parts = [
            f"{self.contracts_seen} contracts looked at",
            f"{len(self.notices)} suspension notices",
            f"{len(self.suspended)} suspended",
            f"{len(self.awaiting)} awaiting staff",
            f"{len(self.paused)} paused",
            f"{len(self.material_breaches)} material breaches",
            f"{len(self.closed)} cases closed ({len(self.resumed)} with service back)",
        ]
        if self.errors:
            parts.append(f"{len(self.errors)} errors")
        return ", ".join(parts)

    def as_dict(self) -> dict:
        return {
            "on": self.on.isoformat(),
            "dry_run": self.dry_run,
            "contracts_seen": self.contracts_seen,
            "notices": self.notices,
            "suspended": self.suspended,
            "awaiting": self.awaiting,
            "paused": self.paused,
            "material_breaches": self.material_breaches,
            "closed": self.closed,
            "resumed": self.resumed,
            "errors": self.errors,
        }


class _DryRun(Exception):
    pass


def _candidate_ids(on: dt.date) -> list[int]:
    """Contracts with arrears or an open case (the run looks at nothing else)."""
    with_arrears = set(arrears(on).values_list("contract_id", flat=True).distinct())
    with_case = set(
        DefaultCase.objects.exclude(status=DefaultStatus.CLOSED).values_list("contract_id", flat=True).distinct()
    )
    return sorted(with_arrears | with_case)


def default_run(*, on: dt.date, dry_run: bool = False, actor: Actor | None = None) -> DefaultRunResult:
    """Notices, suspensions, pauses, material breaches and closings due on ``on`` for the current tenant."""
    actor = actor or Actor.job(f"default_run {on.isoformat()}")
    result = DefaultRunResult(on=on, dry_run=dry_run)
    policies = PolicyCache()
    try:
        with transaction.atomic():
            for contract_id in _candidate_ids(on):
                try:
                    with transaction.atomic():  # each contract in its own savepoint
                        _process(contract_id, on=on, actor=actor, policies=policies, result=result)
                except Exception as error:  # one contract's failure never stops the others
                    log.exception("default run failed for contract %s on %s", contract_id, on)
                    result.errors.append(f"contract {contract_id}: {error.__class__.__name__}: {_message(error)}")
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result


def _message(error: Exception) -> str:
    return " ".join(error.messages) if isinstance(error, ValidationError) else str(error)


def _waived_before(contract: Contract) -> dt.date | None:
    """The last day staff closed a case by hand: invoices past due on it open no new case."""
    return (
        DefaultCase.objects.filter(contract=contract, status=DefaultStatus.CLOSED)
        .exclude(closed_reason__in=AUTOMATIC_REASONS)
        .exclude(closed_on__isnull=True)
        .order_by("-closed_on")
        .values_list("closed_on", flat=True)
        .first()
    )


def _process(contract_id: int, *, on: dt.date, actor: Actor, policies: PolicyCache, result: DefaultRunResult) -> None:
    contract = Contract.objects.select_for_update().select_related("customer", "product").get(pk=contract_id)
    case = open_case(contract, lock=True)
    if case is None:
        policy = policies.for_contract(contract)
        if policy.default_action == DefaultAction.NONE:
            return
        result.contracts_seen += 1
        invoices = list(arrears(on).filter(contract=contract))
        waived = _waived_before(contract)
        if waived is not None:
            invoices = [i for i in invoices if i.due_date >= waived]
        if not invoices:
            return
        oldest = invoices[0]
        if days_past_due(oldest, on) < policy.default_after_days:
            return
        if policy.default_action == DefaultAction.SUSPEND:
            if contract.state not in (lifecycle.ACTIVE, lifecycle.NOTICE_GIVEN):
                return
            case = _open_notice(contract, oldest, on=on, actor=actor, policy=policy)
            result.notices.append(contract.reference)
            _check_breach(case, contract, oldest, on=on, actor=actor, policy=policy, result=result)
            _stop_if_due(case, contract, on=on, actor=actor, policy=policy, result=result)
        elif policy.default_action == DefaultAction.PAUSE:
            if contract.state != lifecycle.ACTIVE:
                return
            _pause(contract, oldest, on=on, actor=actor)
            result.paused.append(contract.reference)
        return
    result.contracts_seen += 1
    policy = policies.for_contract(contract)
    if contract.state in (lifecycle.DELETED, lifecycle.ENDED, lifecycle.CANCELLED):
        _close(case, on=on, actor=actor, reason=DELETED if contract.state == lifecycle.DELETED else "ended")
        result.closed.append(contract.reference)
        return
    if arrears_cleared(contract, on, action=case.action):
        held = _not_held_excluded_exists(contract, on)
        if _give_back(case, contract, on=on, actor=actor, reason=HELD if held else PAID):
            result.resumed.append(contract.reference)
        result.closed.append(contract.reference)
        return
    # Moved by hand since (staff resumed or reactivated without the case): the case ends, and so do its invoices.
    expected = {
        DefaultStatus.SUSPENDED: (lifecycle.SUSPENDED,),
        DefaultStatus.PAUSED: (lifecycle.PAUSED,),
        DefaultStatus.NOTICE: (lifecycle.ACTIVE, lifecycle.NOTICE_GIVEN),
        DefaultStatus.AWAITING_CONFIRMATION: (lifecycle.ACTIVE, lifecycle.NOTICE_GIVEN),
    }[case.status]
    if contract.state not in expected:
        _close(case, on=on, actor=actor, reason=f"contract {contract.state} by hand")
        result.closed.append(contract.reference)
        return
    oldest = arrears(on).filter(contract=contract).first()
    if oldest is not None and oldest.pk != case.invoice_id:
        case.invoice, case.past_due_since = oldest, oldest.due_date + DAY
        case.save(update_fields=["invoice", "past_due_since", "updated_at"])
    if case.action == DefaultAction.SUSPEND and oldest is not None:
        _check_breach(case, contract, oldest, on=on, actor=actor, policy=policy, result=result)
        _stop_if_due(case, contract, on=on, actor=actor, policy=policy, result=result)


def _not_held_excluded_exists(contract: Contract, on: dt.date) -> bool:
    """Is an invoice of the contract past due and on hold (so the case ends because of the hold)?"""
    active_hold = InvoiceHold.objects.filter(invoice=OuterRef("pk"), released_on__isnull=True)
    return (
        Invoice.objects.filter(past_due_q(on), contract=contract).exclude(purpose=INTEREST).filter(Exists(active_hold))
    ).exists()


def _snapshot(case: DefaultCase) -> dict:
    return audit.snapshot(case)


def _open_notice(
    contract: Contract, oldest: Invoice, *, on: dt.date, actor: Actor, policy: CollectionPolicy
) -> DefaultCase:
    stop_on = terms.add_business_days(on, policy.suspend_notice_business_days)
    case = DefaultCase.objects.create(
        contract=contract,
        customer=contract.customer,
        action=DefaultAction.SUSPEND,
        status=DefaultStatus.NOTICE,
        invoice=oldest,
        past_due_since=oldest.due_date + DAY,
        opened_on=on,
        notice_sent_on=on,
        stop_on=stop_on,
    )
    audit.record(actor, "default_case.notice", case, after=_snapshot(case))
    amounts = owed(contract, on, policy)
    notify.send(
        contract,
        "suspension_notice",
        key=f"case-{case.pk}",
        on=on,
        case=case,
        owed=amounts,
        stop_on=stop_on,
        business_days=policy.suspend_notice_business_days,
        invoice=oldest,
    )
    return case


def _stop_if_due(
    case: DefaultCase,
    contract: Contract,
    *,
    on: dt.date,
    actor: Actor,
    policy: CollectionPolicy,
    result: DefaultRunResult,
) -> None:
    if case.status != DefaultStatus.NOTICE or case.stop_on is None or on < case.stop_on:
        return
    if policy.suspend_confirm == SuspendConfirm.AUTOMATIC:
        _suspend(case, contract, on=on, actor=actor, policy=policy)
        result.suspended.append(contract.reference)
    else:
        before = _snapshot(case)
        case.status = DefaultStatus.AWAITING_CONFIRMATION
        case.save(update_fields=["status", "updated_at"])
        audit.record(actor, "default_case.awaiting", case, before=before, after=_snapshot(case))
        result.awaiting.append(contract.reference)


def _suspend(case: DefaultCase, contract: Contract, *, on: dt.date, actor: Actor, policy: CollectionPolicy) -> None:
    contract_services.contract_suspend(actor=actor, contract=contract, on=on)
    before = _snapshot(case)
    case.status = DefaultStatus.SUSPENDED
    case.suspended_on = on
    case.save(update_fields=["status", "suspended_on", "updated_at"])
    audit.record(actor, "default_case.suspend", case, before=before, after=_snapshot(case))
    contract.refresh_from_db()
    notify.send(
        contract,
        "suspended",
        key=f"case-{case.pk}",
        on=on,
        case=case,
        owed=owed(contract, on, policy),
        invoice=case.invoice,
    )


def _check_breach(
    case: DefaultCase,
    contract: Contract,
    oldest: Invoice,
    *,
    on: dt.date,
    actor: Actor,
    policy: CollectionPolicy,
    result: DefaultRunResult,
) -> None:
    limit = policy.material_breach_days
    if limit is None or case.material_breach_on is not None:
        return
    days = days_past_due(oldest, on)
    if days <= limit:  # "beyond 30 calendar days": day 31 is a breach, day 30 is not
        return
    before = _snapshot(case)
    case.material_breach_on = oldest.due_date + dt.timedelta(days=limit + 1)
    case.save(update_fields=["material_breach_on", "updated_at"])
    audit.record(actor, "default_case.material_breach", case, before=before, after=_snapshot(case))
    notify.send(
        contract,
        "material_breach",
        key=f"case-{case.pk}",
        on=on,
        staff=True,
        case=case,
        invoice=oldest,
        days=days,
        limit=limit,
        owed=owed(contract, on, policy),
    )
    result.material_breaches.append(contract.reference)


def _pause(contract: Contract, oldest: Invoice, *, on: dt.date, actor: Actor) -> DefaultCase:
    contract_services.contract_pause_unpaid(actor=actor, contract=contract, on=on)
    contract.refresh_from_db()
    case = DefaultCase.objects.create(
        contract=contract,
        customer=contract.customer,
        action=DefaultAction.PAUSE,
        status=DefaultStatus.PAUSED,
        invoice=oldest,
        past_due_since=oldest.due_date + DAY,
        opened_on=on,
        paused_on=on,
    )
    audit.record(actor, "default_case.pause", case, after=_snapshot(case))
    timeline = terms.pause_timeline(on)
    # The same key as contracts.jobs.pause_notices uses for the notice at the pause: it goes once.
    notify.send(
        contract,
        "paused_unpaid",
        key=f"paused-{on.isoformat()}",
        on=on,
        case=case,
        invoice=oldest,
        deletion_on=timeline.deletion_on,
        days=days_past_due(oldest, on),
    )
    return case


def _close(case: DefaultCase, *, on: dt.date, actor: Actor, reason: str) -> None:
    before = _snapshot(case)
    case.status = DefaultStatus.CLOSED
    case.closed_on = on
    case.closed_reason = reason[:200]
    case.save(update_fields=["status", "closed_on", "closed_reason", "updated_at"])
    audit.record(actor, "default_case.close", case, before=before, after=_snapshot(case))


def _give_back(case: DefaultCase, contract: Contract, *, on: dt.date, actor: Actor, reason: str) -> bool:
    """Close ``case`` and give service back: resume a suspension, reactivate a pause for non-payment (within
    the 90 days). True when the contract moved. The customer is told either way."""
    _close(case, on=on, actor=actor, reason=reason)
    moved = False
    if contract.state == lifecycle.SUSPENDED:
        contract_services.contract_resume(actor=actor, contract=contract, on=on)
        moved = True
    elif contract.state == lifecycle.PAUSED and contract.pause_reason == "unpaid":
        if contract.deletion_due_on is None or on < contract.deletion_due_on:
            contract_services.contract_reactivate(actor=actor, contract=contract, on=on)
            moved = True
    contract.refresh_from_db()
    kind = "reactivated" if case.action == DefaultAction.PAUSE else "resumed"
    if case.action == DefaultAction.PAUSE and not moved:
        return False
    notify.send(
        contract,
        kind,
        key=f"case-{case.pk}",
        on=on,
        case=case,
        was_stopped=moved,
        held=reason == HELD,
    )
    return moved


# ---------------------------------------------------------------- payments and staff


def on_payment(invoice: Invoice, on: dt.date, actor: Actor) -> DefaultCase | None:
    """After a payment to ``invoice`` (inside its transaction): when its contract's arrears are cleared, close
    the open case ("paid") and give service back at once. Returns the closed case, else None."""
    if invoice.contract_id is None:
        return None
    if not DefaultCase.objects.filter(contract_id=invoice.contract_id).exclude(status=DefaultStatus.CLOSED).exists():
        return None  # the usual case: one query, no lock
    contract = Contract.objects.select_for_update().get(pk=invoice.contract_id)
    case = open_case(contract, lock=True)
    if case is None:
        return None
    # The day service comes back: the payment's date, never before the case's own dates.
    day = max(d for d in (on, case.opened_on, case.paused_on, case.suspended_on) if d is not None)
    if not arrears_cleared(contract, day, action=case.action):
        return None
    _give_back(case, contract, on=day, actor=actor, reason=PAID)
    return case


@transaction.atomic
def default_case_suspend(*, actor: Actor, case: DefaultCase, on: dt.date) -> DefaultCase:
    """Staff confirm the suspension of a case whose notice period is over (policy "staff")."""
    case = DefaultCase.objects.select_for_update().get(pk=case.pk)
    if case.action != DefaultAction.SUSPEND or case.status not in (
        DefaultStatus.NOTICE,
        DefaultStatus.AWAITING_CONFIRMATION,
    ):
        raise ValidationError({"status": _("Only a case waiting for suspension can be suspended.")})
    if case.stop_on is None or on < case.stop_on:
        raise ValidationError(
            {
                "on": _("The notice says service stops on %(day)s; not before.")
                % {"day": case.stop_on.strftime("%d.%m.%Y") if case.stop_on else "?"}
            }
        )
    contract = Contract.objects.select_for_update().get(pk=case.contract_id)
    policy = PolicyCache().for_contract(contract)
    if arrears_cleared(contract, on, action=case.action):
        raise ValidationError({"status": _("The arrears are paid; there is nothing to suspend for.")})
    _suspend(case, contract, on=on, actor=actor, policy=policy)
    return case


@transaction.atomic
def default_case_close(*, actor: Actor, case: DefaultCase, on: dt.date, reason: str) -> DefaultCase:
    """Staff close a case (e.g. an agreed payment plan): service comes back if it was stopped; the invoices
    past due on ``on`` open no new case (an invoice falling due later can)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the case is closed (e.g. an agreed payment plan).")})
    case = DefaultCase.objects.select_for_update().get(pk=case.pk)
    if case.status == DefaultStatus.CLOSED:
        raise ValidationError({"status": _("The case is already closed.")})
    contract = Contract.objects.select_for_update().get(pk=case.contract_id)
    _give_back(case, contract, on=on, actor=actor, reason=reason)
    return case


# ---------------------------------------------------------------- customers at risk


@dataclass(frozen=True)
class AtRisk:
    contract: Contract
    customer: object
    invoice: Invoice  # the oldest arrear
    days_past_due: int
    action: str  # "suspend" or "pause"
    action_on: dt.date  # the day of the next step: the notice, the stop or the pause (past: already taken)
    case: DefaultCase | None


def at_risk(on: dt.date) -> list[AtRisk]:
    """Contracts under a suspend or pause policy with arrears or an open case, soonest next step first.
    Three queries whatever the number: the arrears, the open cases, the policies."""
    policies = PolicyCache()
    oldest: dict[int, Invoice] = {}
    for invoice in (
        arrears(on)
        .select_related("contract", "contract__customer")
        .order_by("contract_id", "due_date", "number", "id")
        .distinct("contract_id")
    ):
        oldest[invoice.contract_id] = invoice
    cases = {
        case.contract_id: case
        for case in DefaultCase.objects.exclude(status=DefaultStatus.CLOSED).select_related(
            "contract", "contract__customer", "invoice"
        )
    }
    out = []
    for contract_id in sorted(set(oldest) | set(cases)):
        case = cases.get(contract_id)
        invoice = oldest.get(contract_id) or case.invoice
        contract = (case or invoice).contract
        action = case.action if case else policies.for_contract(contract).default_action
        if action == DefaultAction.NONE:
            continue
        if case is None and contract.state not in (
            (lifecycle.ACTIVE, lifecycle.NOTICE_GIVEN) if action == DefaultAction.SUSPEND else (lifecycle.ACTIVE,)
        ):
            continue
        policy = policies.for_contract(contract)
        if case is None:
            action_on = max(on, invoice.due_date + dt.timedelta(days=policy.default_after_days))
        elif case.status in (DefaultStatus.NOTICE, DefaultStatus.AWAITING_CONFIRMATION):
            action_on = case.stop_on
        elif case.status == DefaultStatus.SUSPENDED:
            action_on = case.suspended_on
        else:
            action_on = case.paused_on
        out.append(
            AtRisk(
                contract=contract,
                customer=contract.customer,
                invoice=invoice,
                days_past_due=days_past_due(invoice, on),
                action=action,
                action_on=action_on,
                case=case,
            )
        )
    return sorted(out, key=lambda r: (r.action_on, r.contract.pk))
