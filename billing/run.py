"""The billing run: every invoice due on a date, per tenant, in chunks of contracts, each chunk atomic.

* Idempotent: the generator proposes only periods not yet invoiced, time entries and charges not yet
  billed (their ``invoice`` is set in the issuing transaction), and the unique constraint (contract,
  period start) for period invoices turns a duplicate into a skipped invoice.
* Concurrent runs take turns: each chunk starts by locking the tenant's :class:`BillingRun` row for the
  date (``SELECT … FOR UPDATE``) and continues after the last contract the previous chunk committed; it
  then locks the invoice number series before reading what is invoiced, so runs for other dates (and
  anything else that issues) wait for the chunk too.
* Crash-safe: progress (``last_contract_id``) commits with the chunk's invoices, so a run after a crash
  resumes after the last committed chunk; numbers are taken in the chunk's transaction, so none is lost.
* Fast: a chunk loads what it needs in a fixed number of queries (:func:`billing.generator.chunk_for`),
  prices through a per-run memo (:class:`billing.generator.Pricer`), and writes in bulk (:func:`_insert`:
  a batch of rows as one JSON parameter): a block of numbers from the series row, the invoices as drafts
  with KID, totals and the stored document, their lines (PostgreSQL refuses lines under an issued invoice),
  then one ``UPDATE`` issuing them all with their numbers, one audit row per invoice (the document named by
  its SHA-256), and one ``UPDATE`` each billing the chunk's time entries and charges. Should the bulk insert
  meet the unique constraint (a period invoiced meanwhile by hand), the chunk falls back to one savepoint per
  invoice and skips the duplicate.

Credits that would make an invoice negative are issued as credit notes by
:func:`billing.services.charges_credit_note_create` (see :mod:`billing.generator`).

``BILLING_RUN_CHUNK_PAUSE`` (seconds, tests only) sleeps after each committed chunk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from billing import generator, numbering, services
from billing.document import DocumentLine
from billing.models import (
    BillingRun,
    BillingRunStatus,
    Charge,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    NumberSeries,
    TimeEntry,
)
from contracts import lifecycle
from contracts.models import Contract
from tenants import audit
from tenants.audit import Actor
from tenants.bulk import insert_rows as _insert
from tenants.models import AuditEvent, Tenant
from tenants.tenancy import require_tenant, tenant_context

CHUNK_SIZE = 1000
MAX_PROBLEMS_KEPT = 200
BATCH = 2000  # rows per INSERT


@dataclass
class RunResult:
    tenant: str
    as_of: dt.date
    contracts: int = 0
    invoices: int = 0
    credit_notes: int = 0
    skipped: int = 0  # already invoiced by a concurrent run
    problems: list[generator.Problem] = field(default_factory=list)
    proposals: list[generator.ProposedInvoice] = field(default_factory=list)  # dry run only
    credits: list[generator.ProposedCredit] = field(default_factory=list)  # dry run only


def _billable_ids(after: int, limit: int) -> list[int]:
    return list(
        Contract.objects.filter(pk__gt=after, state__in=lifecycle.BILLABLE, start_date__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def _load(ids: list[int]) -> list[Contract]:
    return generator.load_contracts(ids)


def preview(on: dt.date, *, chunk_size: int = CHUNK_SIZE) -> RunResult:
    """What the run would invoice on ``on`` for the current tenant; writes nothing."""
    result = RunResult(require_tenant().slug, on)
    pricer = generator.Pricer()
    after = 0
    while ids := _billable_ids(after, chunk_size):
        chunk = generator.chunk_for(_load(ids), on)
        for contract in chunk.contracts:
            planned = generator.plan_contract(chunk, pricer, contract)
            result.contracts += 1
            result.proposals += planned.invoices
            result.credits += planned.credits
            result.problems += planned.problems
        after = ids[-1]
        pricer.trim()
    return result


def _run_row(on: dt.date) -> BillingRun:
    BillingRun.objects.bulk_create([BillingRun(tenant=require_tenant(), as_of=on)], ignore_conflicts=True)
    return BillingRun.objects.get(as_of=on)


def _lock_series(series: str) -> NumberSeries:
    NumberSeries.objects.bulk_create([NumberSeries(tenant=require_tenant(), code=series)], ignore_conflicts=True)
    return NumberSeries.objects.select_for_update().get(code=series)


@dataclass
class _Context:
    actor: Actor
    on: dt.date
    tenant: Tenant
    kid_method: str
    series: str


def _snapshot(model, row: dict) -> dict:
    """What :func:`tenants.audit.snapshot` gives for the saved row."""
    fields = _SNAPSHOT_FIELDS.get(model)
    if fields is None:
        fields = _SNAPSHOT_FIELDS[model] = [
            (f.name, f.attname, f.get_default())
            for f in model._meta.concrete_fields
            if f.name not in audit.SKIP_FIELDS and not f.primary_key
        ]
    return {name: audit._json_value(row.get(attname, default)) for name, attname, default in fields}


_SNAPSHOT_FIELDS: dict = {}


QUANTITY, ORE = Decimal("0.0001"), Decimal("0.01")


def _stored_lines(proposal: generator.ProposedInvoice) -> tuple[DocumentLine, ...]:
    """The document's lines as PostgreSQL will store them (quantity to 4 places, amounts and rate to 2), so the
    document is the one :func:`billing.services.build_document` would build from the rows."""
    return tuple(
        DocumentLine(
            number=i,
            description=line.description[:300],
            explanation=line.explanation_nb,
            explanation_en=line.explanation_en,
            quantity=line.quantity.quantize(QUANTITY),
            unit_code=line.unit_code,
            unit_price=line.unit_price.quantize(ORE),
            net=line.net.quantize(ORE),
            vat_category=line.vat_category,
            vat_rate=line.vat_rate.quantize(ORE),
            period_start=line.period_start,
            period_end=line.period_end,
        )
        for i, line in enumerate(proposal.lines, start=1)
    )


def _issue_changes(row: dict) -> dict:
    """The audit row's changes: every field as issued, the stored document by its SHA-256 (the document is
    on the invoice itself, which PostgreSQL keeps unchanged; copying it into the log would double the run's
    writes)."""
    after = _snapshot(Invoice, row)
    document = json.dumps(after.pop("document"), separators=(",", ":"))  # as built: keys in the document's order
    after["document_sha256"] = hashlib.sha256(document.encode()).hexdigest()
    return audit.diff({}, after)


def _write(ctx: _Context, proposals: list[generator.ProposedInvoice], by_contract: dict) -> int:
    """Issue ``proposals`` in bulk: a block of numbers, the drafts (with KID and document), their lines,
    one UPDATE issuing them, an audit row each, then the time entries and charges they bill."""
    if not proposals:
        return 0
    series_row = _lock_series(ctx.series)
    first = series_row.next_number
    NumberSeries.objects.filter(pk=series_row.pk).update(next_number=first + len(proposals))
    terms = dt.timedelta(days=ctx.tenant.payment_terms_days or 30)
    due = ctx.on + terms
    rows, numbers = [], []
    for number, proposal in enumerate(proposals, start=first):
        contract = by_contract[proposal.contract_id]
        invoice = SimpleNamespace(  # what compose_document reads of an invoice (no model instance needed)
            kind=InvoiceKind.INVOICE,
            reason="",
            currency=proposal.currency,
            buyer_reference=proposal.buyer_reference,
            period_start=proposal.period.start,
            period_end=proposal.period.end,
            number=number,
            issue_date=ctx.on,
            due_date=due,
            kid=numbering.kid_for(number, ctx.kid_method),
        )
        document = services.compose_document(
            invoice,
            _stored_lines(proposal),
            tenant=ctx.tenant,
            customer=contract.customer,
            order_reference=contract.reference,
        )
        numbers.append(number)
        rows.append(
            {
                "tenant_id": ctx.tenant.pk,
                "kind": InvoiceKind.INVOICE,
                "status": InvoiceStatus.DRAFT,
                "customer_id": proposal.customer_id,
                "contract_id": proposal.contract_id,
                "period_start": proposal.period.start,
                "period_end": proposal.period.end,
                "series": ctx.series,
                "number": None,  # a draft has none (check constraint); given by the UPDATE below
                "issue_date": ctx.on,
                "due_date": due,
                "kid": invoice.kid,
                "currency": proposal.currency,
                "net": document.net_total,
                "vat": document.vat_total,
                "total": document.total,
                "buyer_reference": proposal.buyer_reference,
                "document": services.document_snapshot(document),
                "billing_run_date": ctx.on,
                "supplementary": proposal.supplementary,
            }
        )
    ids = _insert(Invoice, rows, returning=True)
    # Lines go in under drafts: PostgreSQL refuses lines under an issued invoice.
    _insert(
        InvoiceLine,
        [
            {
                "tenant_id": ctx.tenant.pk,
                "invoice_id": invoice_id,
                "position": i,
                "code": line.code,
                "description": line.description[:300],
                "description_en": line.description_en[:300],
                "explanation_nb": line.explanation_nb,
                "explanation_en": line.explanation_en,
                "quantity": line.quantity,
                "unit_code": line.unit_code,
                "unit_price": line.unit_price,
                "net": line.net,
                "vat_category": line.vat_category,
                "vat_rate": line.vat_rate,
                "period_start": line.period_start,
                "period_end": line.period_end,
            }
            for invoice_id, proposal in zip(ids, proposals, strict=True)
            for i, line in enumerate(proposal.lines, start=1)
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_invoice AS i SET status = 'issued', number = v.number "
            "FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, number bigint) "
            "WHERE i.id = v.id AND i.status = 'draft'",
            [json.dumps([{"id": pk, "number": n} for pk, n in zip(ids, numbers, strict=True)])],
        )
    events = []
    for invoice_id, number, row in zip(ids, numbers, rows, strict=True):
        row.update(id=invoice_id, number=number, status=InvoiceStatus.ISSUED, created_at=None)
        events.append(
            {
                "tenant_id": ctx.tenant.pk,
                "actor_kind": ctx.actor.kind,
                "actor_user_id": ctx.actor.user.pk if ctx.actor.user else None,
                "actor_api_key_id": ctx.actor.api_key.pk if ctx.actor.api_key else None,
                "actor_label": ctx.actor.label[:200],
                "action": "invoice.issue",
                "object_type": "invoice",
                "object_id": str(invoice_id),
                "object_repr": f"Faktura {number}",
                "changes": _issue_changes(row),
            }
        )
    _insert(AuditEvent, events)
    _bill_items(ctx, ids, proposals)
    return len(ids)


def _bill_items(ctx: _Context, invoice_ids: list[int], proposals: list[generator.ProposedInvoice]) -> None:
    """Set ``invoice`` on the time entries and charges the invoices bill; create the amendments' charges."""
    entries, charges, new = {}, {}, []
    for invoice_id, proposal in zip(invoice_ids, proposals, strict=True):
        entries.update(dict.fromkeys(proposal.time_entry_ids, invoice_id))
        charges.update(dict.fromkeys(proposal.charge_ids, invoice_id))
        new += [
            c.as_row(invoice_id=invoice_id, created_by=ctx.actor.label, tenant_id=ctx.tenant.pk)
            for c in proposal.new_charges
        ]
    if entries:
        TimeEntry.objects.filter(pk__in=entries, invoice__isnull=True).update(
            invoice_id=Case(*[When(pk=k, then=Value(v)) for k, v in entries.items()])
        )
    if charges:
        Charge.objects.filter(pk__in=charges, invoice__isnull=True).update(
            invoice_id=Case(*[When(pk=k, then=Value(v)) for k, v in charges.items()])
        )
    if new:
        Charge.objects.bulk_create(new, batch_size=BATCH)


def _credit(ctx: _Context, credit: generator.ProposedCredit, result: RunResult) -> None:
    """Issue a credit note for credits that would make an invoice negative (or report why not)."""
    invoice = None
    if credit.invoice_id:
        invoice = Invoice.objects.filter(pk=credit.invoice_id).first()
    if invoice is None:
        invoice = (
            Invoice.objects.filter(contract_id=credit.contract_id, kind=InvoiceKind.INVOICE)
            .exclude(status=InvoiceStatus.DRAFT)
            .order_by("-issue_date", "-number")
            .first()
        )
    if invoice is None:
        result.problems.append(
            generator.Problem(credit.contract_id, credit.contract_reference, "A credit with no invoice to credit.")
        )
        return
    try:
        with transaction.atomic():
            new = [
                c.as_row(invoice_id=None, created_by=ctx.actor.label, tenant_id=ctx.tenant.pk)
                for c in credit.new_charges
            ]
            Charge.objects.bulk_create(new)
            charges = list(Charge.objects.filter(pk__in=[*credit.charge_ids, *(c.pk for c in new)]).order_by("pk"))
            services.charges_credit_note_create(actor=ctx.actor, invoice=invoice, on=ctx.on, charges=charges)
    except ValidationError as error:
        messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
        result.problems.append(generator.Problem(credit.contract_id, credit.contract_reference, messages))
        return
    result.credit_notes += 1


def _issue_chunk(ctx: _Context, chunk: generator.Chunk, pricer: generator.Pricer, result: RunResult) -> int:
    planned = [generator.plan_contract(chunk, pricer, contract) for contract in chunk.contracts]
    by_contract = {c.pk: c for c in chunk.contracts}
    proposals = [p for plan in planned for p in plan.invoices if p.lines]
    for plan in planned:
        result.problems += plan.problems
    try:
        with transaction.atomic():
            issued = _write(ctx, proposals, by_contract)
    except IntegrityError:  # a period invoiced meanwhile: one savepoint per invoice, skipping duplicates
        issued = 0
        for proposal in proposals:
            try:
                with transaction.atomic():
                    issued += _write(ctx, [proposal], by_contract)
            except IntegrityError:
                result.skipped += 1
    for plan in planned:
        for credit in plan.credits:
            _credit(ctx, credit, result)
    return issued


def run_tenant(on: dt.date, *, actor: Actor | None = None, chunk_size: int = CHUNK_SIZE) -> RunResult:
    """Issue every invoice due on ``on`` for the current tenant (see the module's notes)."""
    actor = actor or Actor.job("billing_run")
    pause = float(os.environ.get("BILLING_RUN_CHUNK_PAUSE") or 0)
    result = RunResult(require_tenant().slug, on)
    pricer = generator.Pricer()
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
            tenant = Tenant.objects.get(pk=require_tenant().pk)
            settings = numbering.settings_for_tenant()
            ctx = _Context(actor, on, tenant, settings.kid_method, numbering.series_for(InvoiceKind.INVOICE, settings))
            _lock_series(ctx.series)  # before reading what is invoiced: every issuer waits for this chunk
            contracts = _load(ids)
            chunk = generator.chunk_for(contracts, on, lock=True)
            issued = _issue_chunk(ctx, chunk, pricer, result)
            result.contracts += len(contracts)
            result.invoices += issued
            row.last_contract_id = ids[-1]
            row.contracts_seen += len(ids)
            row.invoices_issued += issued
            if problems := [vars(p) for p in result.problems][:MAX_PROBLEMS_KEPT]:
                row.problems = problems
            row.save(update_fields=["last_contract_id", "contracts_seen", "invoices_issued", "problems"])
        pricer.trim()
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
