"""Entitlements: does a customer have access *now*, and if not, why not (issue 11, item 5).

A vendor's own application asks this at login (``GET /api/v1/entitlements/{customer_id}``, see
:mod:`contracts.entitlements_api`). The answer is read from the contracts' lifecycle states, with
``today`` closing the gap until the nightly jobs run: a trial whose end has come, or a contract
whose notice period has run out, gives no access even if the job has not moved it yet.

Decisions:

- **Which contracts count**: the customer's own, and, for a customer with an owner (a school whose
  ``parent`` is its kommune or fylkeskommune), the owner's contracts that cover it. An owner's
  contract covers the school when what it is priced on now names that school's customer id, or
  names no schools at all (a contract for the whole organisation), or names schools without any
  customer ids (we cannot tell them apart, so the owner's contract is taken to cover its schools).
  A kommune asking gets only its own contracts (not those its schools signed themselves).
  Drafts, unsigned offers and withdrawn contracts are not agreements and are left out.
- **Several contracts**: access if any of them gives access. The answer's status, reason and
  ``until`` come from the contract that decides it: with access the best one (active, then notice
  given, then trial; the latest ``until`` among equals), without access the one that says most
  about why (paused, suspended, waiting for the DPA, ended).
- **until** is exclusive, like the contract's own ``ends_on``: the first day without access (a
  trial's end, the end after notice, a non-renewing term's end) or, for a paused contract, the day
  its data is deleted.
- **Reasons** are in Bokmål and English. A paused or suspended contract names its oldest past-due
  invoice (number and due date) when it has one.

Queries: a fixed number, whatever the number of contracts or invoices: one for the contracts, one
for what the owner's contracts are priced on (only for a customer with an owner that has
contracts), one for the oldest past-due invoice per paused or suspended contract (only if any).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from django.db.models import Q

from billing.models import Invoice, past_due_q
from contracts import lifecycle
from contracts.models import Contract, PricedOn
from tenants.models import Customer

ACTIVE = "active"
TRIAL = "trial"
NOTICE_GIVEN = "notice_given"
PAUSED = "paused"
SUSPENDED = "suspended"
PENDING = "pending"  # signed, waiting for the data processing agreement
ENDED = "ended"
NONE = "none"
STATUSES = (ACTIVE, TRIAL, NOTICE_GIVEN, PAUSED, SUSPENDED, PENDING, ENDED, NONE)

NOT_AGREEMENTS = (lifecycle.DRAFT, lifecycle.SENT, lifecycle.CANCELLED)

# Which contract decides the answer: with access the first of these, without access the first of those.
ACCESS_ORDER = (ACTIVE, NOTICE_GIVEN, TRIAL)
NO_ACCESS_ORDER = (PAUSED, SUSPENDED, PENDING, ENDED)


@dataclass(frozen=True)
class Reason:
    nb: str
    en: str


@dataclass(frozen=True)
class ContractEntitlement:
    id: int
    reference: str
    product: str  # the product's code
    state: str  # the lifecycle state
    status: str
    access: bool
    until: dt.date | None
    reason: Reason
    customer: int  # the contract's party: the customer asked about, or its owner
    inherited: bool  # the owner's contract (kommune/fylkeskommune) covering this school


@dataclass(frozen=True)
class Entitlement:
    customer: int
    on: dt.date
    access: bool
    status: str
    reason: Reason
    until: dt.date | None
    contracts: list[ContractEntitlement] = field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON-ready (dates as ISO strings)."""

        def clean(value):
            if isinstance(value, dt.date):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, list):
                return [clean(v) for v in value]
            return value

        return clean(asdict(self))


NO_CONTRACT = Reason("Ingen avtale", "No contract")


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def _covers(priced_on: PricedOn | None, school_id: int) -> bool:
    """Does the owner's contract, priced on ``priced_on`` now, cover the school?"""
    schools = (priced_on.request or {}).get("schools") if priced_on else None
    if not schools:
        return True
    ids = {school.get("customer") for school in schools if isinstance(school, dict)} - {None}
    return not ids or school_id in ids


def _unpaid(prefix_nb: str, prefix_en: str, invoice: Invoice) -> Reason:
    return Reason(
        f"{prefix_nb}: faktura {invoice.number} ubetalt siden {_iso(invoice.due_date)}",
        f"{prefix_en}: invoice {invoice.number} unpaid since {_iso(invoice.due_date)}",
    )


def _contract_entitlement(
    contract: Contract, *, today: dt.date, customer: Customer, overdue: Invoice | None
) -> ContractEntitlement | None:
    state = contract.state
    until = None
    if state in (lifecycle.ACTIVE, lifecycle.ACCEPTANCE):
        until = contract.ends_on or (contract.term_end if not contract.renewal_term_months else None)
        if until and until <= today:
            status, access = ENDED, False
            reason = Reason(f"Avsluttet {_iso(until)}", f"Ended {_iso(until)}")
            until = None
        else:
            status, access = ACTIVE, True
            reason = (
                Reason("Aktiv", "Active")
                if until is None
                else Reason(f"Aktiv til {_iso(until)}", f"Active until {_iso(until)}")
            )
    elif state == lifecycle.NOTICE_GIVEN:
        until = contract.ends_on
        if until and until <= today:
            status, access = ENDED, False
            reason = Reason(f"Avsluttet {_iso(until)} etter oppsigelse", f"Ended {_iso(until)} after notice")
            until = None
        else:
            status, access = NOTICE_GIVEN, True
            reason = Reason(f"Oppsagt, tilgang til {_iso(until)}", f"Notice given; access until {_iso(until)}")
    elif state == lifecycle.TRIAL:
        until = contract.trial_ends_on
        if until and until <= today:  # the nightly job pauses it on this day
            status, access = PAUSED, False
            reason = Reason(
                f"Pauset: prøveperioden endte {_iso(until)} uten bekreftelse",
                f"Paused: the trial ended {_iso(until)} without confirmation",
            )
            until = None
        else:
            status, access = TRIAL, True
            reason = Reason(f"Prøveperiode til {_iso(until)}", f"Trial until {_iso(until)}")
    elif state == lifecycle.PAUSED:
        status, access, until = PAUSED, False, contract.deletion_due_on
        if overdue is not None:
            reason = _unpaid("Pauset", "Paused", overdue)
        elif contract.start_date is None and contract.trial_ends_on:
            reason = Reason(
                f"Pauset: prøveperioden endte {_iso(contract.trial_ends_on)} uten bekreftelse",
                f"Paused: the trial ended {_iso(contract.trial_ends_on)} without confirmation",
            )
        else:
            reason = Reason(f"Pauset siden {_iso(contract.paused_on)}", f"Paused since {_iso(contract.paused_on)}")
        if until:
            reason = Reason(f"{reason.nb}; data slettes {_iso(until)}", f"{reason.en}; data deleted on {_iso(until)}")
    elif state == lifecycle.SUSPENDED:
        status, access = SUSPENDED, False
        reason = (
            _unpaid("Stengt", "Suspended", overdue)
            if overdue is not None
            else Reason("Stengt (betalingsmislighold)", "Suspended (payment default)")
        )
    elif state == lifecycle.AWAITING_DPA:
        status, access = PENDING, False
        reason = Reason(*lifecycle.STATES[lifecycle.AWAITING_DPA])
    elif state == lifecycle.ENDED:
        status, access = ENDED, False
        day = contract.ended_on or contract.ends_on
        reason = Reason(f"Avsluttet {_iso(day)}", f"Ended {_iso(day)}") if day else Reason("Avsluttet", "Ended")
    elif state == lifecycle.DELETED:
        status, access = ENDED, False
        reason = Reason(f"Data slettet {_iso(contract.deleted_on)}", f"Data deleted {_iso(contract.deleted_on)}")
    else:
        return None
    return ContractEntitlement(
        id=contract.pk,
        reference=contract.reference,
        product=contract.product.code,
        state=state,
        status=status,
        access=access,
        until=until,
        reason=reason,
        customer=contract.customer_id,
        inherited=contract.customer_id != customer.pk,
    )


def _oldest_past_due(contract_ids: list[int], today: dt.date) -> dict[int, Invoice]:
    """The oldest past-due invoice of each contract (one query: DISTINCT ON the contract)."""
    if not contract_ids:
        return {}
    rows = (
        Invoice.objects.filter(past_due_q(today), contract_id__in=contract_ids)
        .order_by("contract_id", "due_date", "number", "id")
        .distinct("contract_id")
        .only("id", "contract_id", "number", "due_date")
    )
    return {invoice.contract_id: invoice for invoice in rows}


def _current_priced_on(contract_ids: list[int], today: dt.date) -> dict[int, PricedOn]:
    """What each contract is priced on today: the newest row in force, else its first (one query)."""
    if not contract_ids:
        return {}
    current: dict[int, PricedOn] = {}
    rows = PricedOn.objects.filter(contract_id__in=contract_ids).order_by("contract_id", "effective_from", "id")
    for row in rows:  # oldest first: a later row in force replaces an earlier one
        if row.contract_id not in current or row.effective_from <= today:
            current[row.contract_id] = row
    return current


def entitlements_for(customer: Customer, *, today: dt.date) -> Entitlement:
    """Whether ``customer`` has access on ``today``, why (not), and per contract (see the module)."""
    parties = Q(customer=customer)
    if customer.parent_id:
        parties |= Q(customer_id=customer.parent_id)
    contracts = list(
        Contract.objects.filter(parties)
        .exclude(state__in=NOT_AGREEMENTS)
        .select_related("product")
        .order_by("created_at", "id")
    )
    inherited = [c.pk for c in contracts if c.customer_id != customer.pk]
    if inherited:
        priced = _current_priced_on(inherited, today)
        contracts = [c for c in contracts if c.customer_id == customer.pk or _covers(priced.get(c.pk), customer.pk)]
    overdue = _oldest_past_due([c.pk for c in contracts if c.state in (lifecycle.PAUSED, lifecycle.SUSPENDED)], today)
    entries = [
        entry
        for c in contracts
        if (entry := _contract_entitlement(c, today=today, customer=customer, overdue=overdue.get(c.pk)))
    ]
    deciding = _deciding(entries)
    if deciding is None:
        return Entitlement(
            customer=customer.pk, on=today, access=False, status=NONE, reason=NO_CONTRACT, until=None, contracts=[]
        )
    return Entitlement(
        customer=customer.pk,
        on=today,
        access=deciding.access,
        status=deciding.status,
        reason=deciding.reason,
        until=deciding.until,
        contracts=entries,
    )


def _deciding(entries: list[ContractEntitlement]) -> ContractEntitlement | None:
    with_access = [e for e in entries if e.access]
    if with_access:
        # The best status; among equals the one that lasts longest (no end at all is longest).
        return min(
            with_access,
            key=lambda e: (ACCESS_ORDER.index(e.status), -(e.until or dt.date.max).toordinal()),
        )
    without = [e for e in entries if e.status in NO_ACCESS_ORDER]
    if not without:
        return None
    return min(without, key=lambda e: (NO_ACCESS_ORDER.index(e.status), -e.id))
