"""The billing run: every invoice due on a date, per tenant, in chunks of contracts, each chunk atomic.

* Idempotent: the generator proposes only periods not yet invoiced, and the unique constraint
  (contract, period start) for invoices turns a duplicate into a skipped savepoint.
* Concurrent runs take turns: each chunk starts by locking the tenant's :class:`BillingRun` row for the
  date (``SELECT … FOR UPDATE``) and continues after the last contract the previous chunk committed.
* Crash-safe: progress (``last_contract_id``) commits with the chunk's invoices, so a run after a crash
  resumes after the last committed chunk; numbers are taken in the chunk's transaction, so none is lost.

``BILLING_RUN_CHUNK_PAUSE`` (seconds, tests only) sleeps after each committed chunk.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import generator, services
from billing.models import BillingRun, BillingRunStatus
from contracts import lifecycle
from contracts.models import Contract
from tenants.audit import Actor
from tenants.models import Tenant
from tenants.tenancy import require_tenant, tenant_context

CHUNK_SIZE = 500
MAX_PROBLEMS_KEPT = 200


@dataclass
class RunResult:
    tenant: str
    as_of: dt.date
    contracts: int = 0
    invoices: int = 0
    skipped: int = 0  # already invoiced by a concurrent run
    problems: list[generator.Problem] = field(default_factory=list)
    proposals: list[generator.ProposedInvoice] = field(default_factory=list)  # dry run only


def _billable_ids(after: int, limit: int) -> list[int]:
    return list(
        Contract.objects.filter(pk__gt=after, state__in=lifecycle.BILLABLE, start_date__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def _load(ids: list[int]) -> list[Contract]:
    return list(
        Contract.objects.filter(pk__in=ids)
        .select_related("customer", "customer__parent", "plan")
        .prefetch_related("priced_on")
        .order_by("pk")
    )


def preview(on: dt.date, *, chunk_size: int = CHUNK_SIZE) -> RunResult:
    """What the run would invoice on ``on`` for the current tenant; writes nothing."""
    result = RunResult(require_tenant().slug, on)
    after = 0
    while ids := _billable_ids(after, chunk_size):
        for contract in _load(ids):
            proposals, problems = generator.proposals_for(contract, on)
            result.contracts += 1
            result.proposals += proposals
            result.problems += problems
        after = ids[-1]
    return result


def _run_row(on: dt.date) -> BillingRun:
    BillingRun.objects.bulk_create([BillingRun(tenant=require_tenant(), as_of=on)], ignore_conflicts=True)
    return BillingRun.objects.get(as_of=on)


def run_tenant(on: dt.date, *, actor: Actor | None = None, chunk_size: int = CHUNK_SIZE) -> RunResult:
    """Issue every invoice due on ``on`` for the current tenant (see the module's notes)."""
    actor = actor or Actor.job("billing_run")
    pause = float(os.environ.get("BILLING_RUN_CHUNK_PAUSE") or 0)
    result = RunResult(require_tenant().slug, on)
    row = _run_row(on)
    with transaction.atomic():
        row = BillingRun.objects.select_for_update().get(pk=row.pk)
        if row.status == BillingRunStatus.DONE:  # a rerun: a new pass (everything already issued is skipped)
            row.status, row.last_contract_id, row.finished_at = BillingRunStatus.RUNNING, 0, None
            row.save(update_fields=["status", "last_contract_id", "finished_at"])
    while True:
        with transaction.atomic():
            row = BillingRun.objects.select_for_update().get(pk=row.pk)
            if row.status == BillingRunStatus.DONE:  # a concurrent run finished it
                break
            ids = _billable_ids(row.last_contract_id, chunk_size)
            if not ids:
                row.status, row.finished_at = BillingRunStatus.DONE, timezone.now()
                row.save(update_fields=["status", "finished_at"])
                break
            issued = 0
            for contract in _load(ids):
                proposals, problems = generator.proposals_for(contract, on)
                result.contracts += 1
                result.problems += problems
                for proposal in proposals:
                    try:
                        with transaction.atomic():
                            draft = services.invoice_draft_create(actor=actor, proposal=proposal, billing_run_date=on)
                            services.invoice_issue(actor=actor, invoice=draft, on=on)
                    except IntegrityError:
                        result.skipped += 1
                        continue
                    issued += 1
            result.invoices += issued
            row.last_contract_id = ids[-1]
            row.contracts_seen += len(ids)
            row.invoices_issued += issued
            if problems := [vars(p) for p in result.problems][:MAX_PROBLEMS_KEPT]:
                row.problems = problems
            row.save(update_fields=["last_contract_id", "contracts_seen", "invoices_issued", "problems"])
        if pause:
            time.sleep(pause)
    return result


def run(
    on: dt.date, *, tenant_slug: str | None = None, dry_run: bool = False, chunk_size: int = CHUNK_SIZE
) -> list[RunResult]:
    """The run for every active tenant (or one), each in its own tenant context."""
    tenants = Tenant.objects.filter(is_active=True).order_by("pk")
    if tenant_slug:
        tenants = tenants.filter(slug=tenant_slug)
    out = []
    for tenant in tenants:
        with tenant_context(tenant):
            out.append(preview(on, chunk_size=chunk_size) if dry_run else run_tenant(on, chunk_size=chunk_size))
    return out
