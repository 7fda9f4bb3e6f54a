"""Payments from the bank, booked by KID (issue 11, item 1): the database side of :mod:`billing.bankfiles`.

:func:`bank_file_import` reads a camt.054 or Nets OCR giro file and, in one transaction, records every
payment as an :class:`IncomingPayment` and books what it can through the one payment service
(:func:`billing.services.payment_register`):

1. by KID: the issued invoice of this tenant with exactly that KID;
2. else (no KID, or a KID no invoice has) by amount and payer: an open invoice whose outstanding amount
   equals the payment and whose customer has the payer's name or paid from the payer's account before
   (the oldest due first when several fit).

A partial payment is booked as it is; an over-payment books the outstanding amount and keeps the surplus
in ``unapplied`` for staff. A payment to a credited or already paid invoice, in another currency, or that
fits no invoice is left unmatched with the reason in words, for staff to match
(:func:`incoming_payment_match`) or resolve as refunded or kept as credit
(:func:`incoming_payment_resolve`).

A file is imported once per tenant (SHA-256); a payment once per tenant (the bank's reference), so a file
delivered again, whole or in part, books nothing twice. Imports of one tenant take turns (an advisory
lock), so two at once cannot race on those checks. The payment date booked is the bank's booking date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import DecimalField, ExpressionWrapper, F, Func, Q, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower, Trim
from django.utils.translation import gettext as _

from billing import services
from billing.bankfiles import BankFileError, BankPayment, parse_bank_file
from billing.models import (
    PAYABLE,
    BankImport,
    IncomingPayment,
    IncomingPaymentStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
)
from tenants import audit
from tenants.audit import Actor
from tenants.bulk import insert_rows, plain
from tenants.models import AuditEvent
from tenants.tenancy import require_tenant

LOCK_NAMESPACE = 0x42A1  # pg_advisory_xact_lock(namespace, tenant id): one bank import at a time per tenant
ZERO = Decimal("0.00")
MATCHED_STATUSES = (IncomingPaymentStatus.MATCHED, IncomingPaymentStatus.MATCHED_BY_STAFF)
RESOLUTIONS = {"refund": IncomingPaymentStatus.RESOLVED_REFUND, "credit": IncomingPaymentStatus.RESOLVED_CREDIT}


@dataclasses.dataclass(frozen=True)
class ImportResult:
    bank_import: BankImport
    already_imported: bool  # the same file (SHA-256) was imported before: nothing was booked now
    incoming: tuple[IncomingPayment, ...] = ()  # the payments recorded by this import (up to 1 000; query for more)

    @property
    def matched(self) -> int:
        return self.bank_import.matched

    @property
    def unmatched(self) -> int:
        return self.bank_import.unmatched


# ---------------------------------------------------------------- matching


def normalise_account(account: str) -> str:
    """A Norwegian account as its 11 digits (``NO93 8601 1117 947`` → ``86011117947``); others as written."""
    compact = re.sub(r"[\s.]", "", account or "").upper()
    if re.fullmatch(r"NO\d{13}", compact):
        return compact[4:]
    return compact


def _normalise_name(name: str) -> str:
    return " ".join((name or "").casefold().split())


def _open_invoices():
    return (
        Invoice.objects.filter(kind=InvoiceKind.INVOICE, status__in=PAYABLE)
        .annotate(
            open_amount=ExpressionWrapper(
                F("total") - F("credited_amount") - F("paid_amount"),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            )
        )
        .select_related("customer")
    )


def _kid_refusal(invoice: Invoice, payment: BankPayment) -> str:
    """Why a payment whose KID names ``invoice`` cannot be booked on it ("" when it can)."""
    values = {"n": invoice.number, "kid": invoice.kid}
    if invoice.status == InvoiceStatus.CREDITED:
        return _("Invoice %(n)s (KID %(kid)s) is credited; a payment to it is not booked.") % values
    if invoice.status == InvoiceStatus.PAID or invoice.outstanding <= 0:
        return _("Invoice %(n)s (KID %(kid)s) is already paid.") % values
    if invoice.currency != payment.currency:
        return _("The payment is in %(c)s; invoice %(n)s is in %(ic)s.") % {
            **values,
            "c": payment.currency,
            "ic": invoice.currency,
        }
    return ""


# What booking a payment reads and writes of an invoice (the rest, the document above all, is not loaded).
BOOKING_FIELDS = (
    "id",
    "kind",
    "kid",
    "number",
    "status",
    "currency",
    "total",
    "credited_amount",
    "paid_amount",
    "customer_id",
    "contract_id",
    "issue_date",
    "due_date",
)


def _name_key():
    """A customer's name as :func:`_normalise_name` makes it, in SQL (lower case, single spaces)."""
    return Trim(Func(Lower(F("customer__name")), Value(r"\s+"), Value(" "), Value("g"), function="regexp_replace"))


def _any_of(values) -> RawSQL:
    """``field__in=_any_of(values)``: the values as one array parameter (``unnest``), not one placeholder each
    — a bank file's 100 000 references or KIDs in one short statement."""
    return RawSQL("SELECT unnest(%s::text[])", [sorted(set(values))])


class _Matcher:
    """Every invoice a file's payments can be booked on, read and locked once (a fixed number of queries
    whatever the file's size), kept in memory as the payments are booked one after the other, so a second
    payment to the same invoice sees what the first left outstanding."""

    def __init__(self, payments: list[BankPayment]):
        kids = {p.kid for p in payments if p.kid}
        self.by_kid: dict[str, Invoice] = {}
        if kids:
            for invoice in (
                Invoice.objects.select_for_update(of=("self",))
                .filter(kind=InvoiceKind.INVOICE, kid__in=_any_of(kids))
                .exclude(status=InvoiceStatus.DRAFT)
                .only(*BOOKING_FIELDS)
                .order_by("-issue_date", "-number", "-id")  # the newest invoice with a KID, as Invoice's ordering
            ):
                self.by_kid.setdefault(invoice.kid, invoice)
        self.payments = payments
        self._by_amount: dict[tuple[Decimal, str], list[Invoice]] | None = None
        self._accounts: dict[str, set[int]] | None = None

    def _fallback_data(self) -> None:
        """Open invoices whose outstanding amount equals a payment's that needs the fallback and whose customer
        is that payment's payer (by name, or by an account an earlier payment came from), read once."""
        needy = [p for p in self.payments if not p.kid or p.kid not in self.by_kid]
        accounts = {normalise_account(p.payer_account) for p in needy if p.payer_account}
        self._accounts = {}
        if accounts:
            for customer_id, payer_account in IncomingPayment.objects.filter(
                status__in=MATCHED_STATUSES, invoice__isnull=False, payer_account__gt=""
            ).values_list("invoice__customer_id", "payer_account"):
                account = normalise_account(payer_account)
                if account in accounts:
                    self._accounts.setdefault(account, set()).add(customer_id)
        amounts = {p.amount for p in needy}
        names = {_normalise_name(p.payer_name) for p in needy} - {""}
        customers = set().union(*self._accounts.values()) if self._accounts else set()
        self._by_amount = {}
        if amounts and (names or customers):
            shared = {invoice.pk: invoice for invoice in self.by_kid.values()}  # one object per invoice
            for invoice in (
                _open_invoices()
                .select_for_update(of=("self",))
                .annotate(name_key=_name_key())
                .filter(Q(name_key__in=names) | Q(customer_id__in=customers), open_amount__in=amounts)
                .only(*BOOKING_FIELDS, "customer__name")
                .order_by("due_date", "number", "id")
            ):
                invoice = shared.get(invoice.pk, invoice)
                self._by_amount.setdefault((invoice.outstanding, invoice.currency), []).append(invoice)

    def _by_amount_and_payer(self, payment: BankPayment) -> Invoice | None:
        if self._by_amount is None:
            self._fallback_data()
        name = _normalise_name(payment.payer_name)
        account_customers = self._accounts.get(normalise_account(payment.payer_account), set())
        if not name and not account_customers:
            return None
        for invoice in self._by_amount.get((payment.amount, payment.currency), ()):
            if (
                invoice.status in PAYABLE
                and invoice.outstanding == payment.amount  # not since paid in part by an earlier line
                and (
                    invoice.customer_id in account_customers
                    or (name and _normalise_name(invoice.customer.name) == name)
                )
            ):
                return invoice
        return None

    def booked(self, invoice: Invoice, before: Decimal) -> None:
        """``invoice`` had ``before`` outstanding and was paid in part: file it under what is left now."""
        if self._by_amount is None or invoice.outstanding <= 0:
            return
        old = self._by_amount.get((before, invoice.currency))
        if old is not None and invoice in old:
            old.remove(invoice)
            bucket = self._by_amount.setdefault((invoice.outstanding, invoice.currency), [])
            bucket.append(invoice)
            bucket.sort(key=lambda i: (i.due_date or dt.date.max, i.number or 0, i.pk))

    def match(self, payment: BankPayment) -> tuple[Invoice | None, str]:
        """The invoice to book ``payment`` on, or None and the reason in words."""
        if payment.kid:
            invoice = self.by_kid.get(payment.kid)
            if invoice is not None:
                refusal = _kid_refusal(invoice, payment)
                return (None, refusal) if refusal else (invoice, "")
        invoice = self._by_amount_and_payer(payment)
        if invoice is not None:
            return invoice, ""
        if payment.kid:
            reason = _("No issued invoice has KID %(kid)s") % {"kid": payment.kid}
            if not payment.kid_valid:
                reason += _(" (its check digit is wrong)")
        else:
            reason = _("No KID")
        payer = payment.payer_name or payment.payer_account or _("an unknown payer")
        return None, reason + _(", and no open invoice of %(a)s %(c)s fits the payer %(p)s.") % {
            "a": payment.amount,
            "c": payment.currency,
            "p": payer,
        }


def _book(*, actor: Actor, incoming: IncomingPayment, invoice: Invoice, status: str) -> IncomingPayment:
    """Book ``incoming`` on ``invoice`` through the payment service: what is paid, up to what is outstanding;
    the rest stays ``unapplied``. The invoice is locked first, so what is outstanding cannot move meanwhile."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    outstanding = invoice.outstanding
    applied = min(incoming.amount, outstanding)
    incoming.payment = services.payment_register(
        actor=actor, invoice=invoice, amount=applied, paid_on=incoming.booked_on, reference=incoming.reference
    )
    incoming.invoice = invoice
    incoming.status = status
    incoming.unapplied = incoming.amount - applied
    if incoming.unapplied:
        incoming.reason = _("Over-payment: %(s)s %(c)s more than was outstanding on invoice %(n)s, not applied.") % {
            "s": incoming.unapplied,
            "c": incoming.currency,
            "n": invoice.number,
        }
    return incoming


# ---------------------------------------------------------------- import


def _lock_tenant_imports(tenant_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, tenant_id])


def _audit_row(tenant_id: int, actor: Actor, action: str, object_type: str, object_id: int, label: str, changes):
    return {
        "tenant_id": tenant_id,
        "actor_kind": actor.kind,
        "actor_user_id": actor.user.pk if actor.user else None,
        "actor_api_key_id": actor.api_key.pk if actor.api_key else None,
        "actor_label": actor.label[:200],
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "object_repr": label[:200],
        "changes": changes,
    }


def _lift_defaults(*, actor: Actor, touched: dict[int, Invoice], paid_on: dict[int, dt.date]) -> None:
    """A payment that clears a contract's arrears lifts its suspension or pause at once (receivables.default)."""
    contract_ids = {invoice.contract_id for invoice in touched.values() if invoice.contract_id}
    if not contract_ids:
        return
    from receivables.models import DefaultCase, DefaultStatus

    # The open cases are few: read them all and keep the contracts this file paid.
    open_cases = contract_ids & set(
        DefaultCase.objects.exclude(status=DefaultStatus.CLOSED).values_list("contract_id", flat=True)
    )
    if not open_cases:
        return
    from receivables.default import on_payment

    for invoice_id, invoice in touched.items():
        if invoice.contract_id in open_cases:
            on_payment(Invoice.objects.get(pk=invoice_id), paid_on[invoice_id], actor)


@transaction.atomic
def bank_file_import(*, actor: Actor, data: bytes, file_name: str, on: dt.date) -> ImportResult:
    """Import one bank file for the current tenant (see the module). A malformed file raises
    ``ValidationError`` naming the line and the reason, and nothing is written; a file imported before
    returns that import with ``already_imported`` and books nothing.

    Written in bulk: the invoices the file pays are read and locked once, the payments booked in memory one
    after the other (in file order), then the payments, incoming payments, invoice updates and audit rows go
    in with one statement per batch — a file of 100 000 payments takes a fixed number of queries per batch."""
    tenant = require_tenant()
    _lock_tenant_imports(tenant.pk)
    earlier = BankImport.objects.filter(sha256=hashlib.sha256(data).hexdigest()).first()
    if earlier is not None:  # known before it is read again (a file imported was a valid file)
        return ImportResult(bank_import=earlier, already_imported=True)
    try:
        parsed = parse_bank_file(data)
    except BankFileError as error:
        raise ValidationError(
            {
                "file": _("%(f)s is not a valid bank file: %(w)s: %(r)s")
                % {"f": file_name, "w": error.where, "r": error.reason}
            }
        ) from error
    bank_import = BankImport.objects.create(
        file_name=(file_name or "")[:255],
        format=parsed.format,
        file_id=parsed.file_id[:100],
        sha256=parsed.sha256,
        imported_on=on,
        imported_by=actor.label[:200],
        payments=len(parsed.payments),
        total_amount=parsed.total,
    )
    known = set(
        IncomingPayment.objects.filter(reference__in=_any_of(p.reference[:140] for p in parsed.payments)).values_list(
            "reference", flat=True
        )
    )
    fresh: list[BankPayment] = []
    for payment in parsed.payments:
        if payment.reference[:140] in known:
            bank_import.already_known += 1
            continue
        known.add(payment.reference[:140])
        fresh.append(payment)

    matcher = _Matcher(fresh)
    incoming_rows: list[dict] = []
    payment_rows: list[dict] = []  # parallel to the matched incoming rows (``payment_index``)
    invoice_after: list[tuple[Invoice, Decimal, str]] = []  # the invoice, its paid amount and status after each
    touched: dict[int, Invoice] = {}
    paid_on: dict[int, dt.date] = {}
    for payment in fresh:
        row = {
            "tenant_id": tenant.pk,
            "bank_import_id": bank_import.pk,
            "amount": payment.amount,
            "currency": payment.currency,
            "kid": payment.kid or "",
            "kid_valid": payment.kid_valid,
            "booked_on": payment.booked_on,
            "value_date": payment.value_date,
            "reference": payment.reference[:140],
            "payer_name": payment.payer_name[:200],
            "payer_account": payment.payer_account[:50],
            "to_account": payment.to_account[:50],
            "message": payment.message,
            "source_line": payment.source_line,
            "status": IncomingPaymentStatus.UNMATCHED,
            "invoice_id": None,
            "payment_id": None,
            "unapplied": ZERO,
            "reason": "",
        }
        invoice, reason = matcher.match(payment)
        if invoice is None:
            row["reason"] = reason[:300]
            bank_import.unmatched += 1
        else:
            outstanding = invoice.outstanding
            applied = min(payment.amount, outstanding)
            invoice.paid_amount += applied
            matcher.booked(invoice, outstanding)
            invoice.status = InvoiceStatus.PAID if invoice.outstanding <= 0 else InvoiceStatus.PARTLY_PAID
            touched[invoice.pk] = invoice
            paid_on[invoice.pk] = max(paid_on.get(invoice.pk, payment.booked_on), payment.booked_on)
            row.update(
                status=IncomingPaymentStatus.MATCHED,
                invoice_id=invoice.pk,
                unapplied=payment.amount - applied,
                payment_index=len(payment_rows),
            )
            if row["unapplied"]:
                row["reason"] = (
                    _("Over-payment: %(s)s %(c)s more than was outstanding on invoice %(n)s, not applied.")
                    % {"s": row["unapplied"], "c": payment.currency, "n": invoice.number}
                )[:300]
            payment_rows.append(
                {
                    "tenant_id": tenant.pk,
                    "invoice_id": invoice.pk,
                    "amount": applied,
                    "paid_on": payment.booked_on,
                    "reference": payment.reference[:100],
                    "recorded_by": actor.label[:200],
                }
            )
            invoice_after.append((invoice, invoice.paid_amount, invoice.status))
            bank_import.matched += 1
        incoming_rows.append(row)

    payment_ids = insert_rows(Payment, [dict(r) for r in payment_rows], returning=True)
    for row in incoming_rows:
        index = row.pop("payment_index", None)
        if index is not None:
            row["payment_id"] = payment_ids[index]
    incoming_ids = insert_rows(IncomingPayment, [dict(r) for r in incoming_rows], returning=True)
    if touched:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE billing_invoice AS i SET paid_amount = v.paid_amount, status = v.status "
                "FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, paid_amount numeric, status text) "
                "WHERE i.id = v.id",
                [
                    json.dumps(
                        [{"id": pk, "paid_amount": str(i.paid_amount), "status": i.status} for pk, i in touched.items()]
                    )
                ],
            )
    # One audit row per payment booked (as for a payment registered by hand, with the bank's reference and
    # the invoice's paid amount and status after it) and one per payment left for staff; the import's own row
    # below. The incoming payments themselves keep every detail of the file.
    events = []
    file_label = f"{bank_import.file_name} ({bank_import.pk})"
    for payment_id, row, (invoice, paid_after, status_after) in zip(
        payment_ids, payment_rows, invoice_after, strict=True
    ):
        changes = {
            "invoice": [None, invoice.number],
            "amount": [None, plain(row["amount"])],
            "paid_on": [None, row["paid_on"].isoformat()],
            "reference": [None, row["reference"]],
            "bank_file": [None, file_label],
            "invoice_paid_amount": [None, plain(paid_after)],
            "invoice_status": [None, status_after],
        }
        label = f"Betaling {row['amount']} ({row['paid_on'].isoformat()})"
        events.append(_audit_row(tenant.pk, actor, "payment.register", "payment", payment_id, label, changes))
    for incoming_id, row in zip(incoming_ids, incoming_rows, strict=True):
        if row["status"] != IncomingPaymentStatus.UNMATCHED:
            continue
        label = f"Innbetaling {row['amount']} {row['currency']} ({row['reference']})"
        changes = {
            "amount": [None, plain(row["amount"])],
            "kid": [None, row["kid"]],
            "reference": [None, row["reference"]],
            "bank_file": [None, file_label],
            "reason": [None, row["reason"]],
        }
        events.append(
            _audit_row(tenant.pk, actor, "incoming_payment.unmatched", "incomingpayment", incoming_id, label, changes)
        )
    insert_rows(AuditEvent, events)
    bank_import.save(update_fields=["matched", "unmatched", "already_known"])
    audit.record(actor, "bank_import.create", bank_import, after=audit.snapshot(bank_import))
    _lift_defaults(actor=actor, touched=touched, paid_on=paid_on)
    recorded = (
        tuple(IncomingPayment.objects.filter(pk__in=incoming_ids).order_by("pk")) if len(incoming_ids) <= 1000 else ()
    )
    return ImportResult(bank_import=bank_import, already_imported=False, incoming=recorded)


# ---------------------------------------------------------------- the unmatched queue


def _locked_incoming(incoming: IncomingPayment) -> IncomingPayment:
    return IncomingPayment.objects.select_for_update().get(pk=incoming.pk)


@transaction.atomic
def incoming_payment_match(
    *, actor: Actor, incoming: IncomingPayment, invoice: Invoice, on: dt.date, note: str = ""
) -> IncomingPayment:
    """Staff book an unmatched payment on ``invoice`` (as the import would: up to what is outstanding, the
    rest ``unapplied``)."""
    incoming = _locked_incoming(incoming)
    if incoming.status != IncomingPaymentStatus.UNMATCHED:
        raise ValidationError(
            {
                "incoming": _("Only an unmatched payment can be matched; this one is %(s)s.")
                % {"s": incoming.get_status_display()}
            }
        )
    invoice = Invoice.objects.get(pk=invoice.pk)
    if invoice.kind == InvoiceKind.INVOICE and invoice.status in PAYABLE and invoice.currency != incoming.currency:
        raise ValidationError(
            {
                "invoice": _("The payment is in %(c)s; invoice %(n)s is in %(ic)s.")
                % {"c": incoming.currency, "n": invoice.number, "ic": invoice.currency}
            }
        )
    before = audit.snapshot(incoming)
    incoming.reason = ""
    _book(actor=actor, incoming=incoming, invoice=invoice, status=IncomingPaymentStatus.MATCHED_BY_STAFF)
    incoming.note = (note or "").strip()
    incoming.resolved_on = on
    incoming.resolved_by = actor.label[:200]
    incoming.reason = incoming.reason[:300]
    incoming.save()
    audit.record(actor, "incoming_payment.match", incoming, before=before, after=audit.snapshot(incoming))
    return incoming


@transaction.atomic
def incoming_payment_resolve(
    *, actor: Actor, incoming: IncomingPayment, how: str, note: str, on: dt.date
) -> IncomingPayment:
    """Staff settle a payment that is not (or not wholly) booked: an unmatched payment, or a matched one's
    unapplied surplus, was refunded to the payer (``how="refund"``) or is kept as the customer's credit
    (``"credit"``). The note says what was done. A booked payment stays booked."""
    incoming = _locked_incoming(incoming)
    errors = {}
    if how not in RESOLUTIONS:
        errors["how"] = _("Say whether the payment was refunded or kept as credit.")
    if not (note or "").strip():
        errors["note"] = _("Say what was done with the money.")
    open_surplus = incoming.status in MATCHED_STATUSES and incoming.unapplied > 0
    if incoming.status != IncomingPaymentStatus.UNMATCHED and not open_surplus:
        errors["incoming"] = _("Only an unmatched payment or an unapplied surplus can be resolved.")
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(incoming)
    incoming.status = RESOLUTIONS[how]
    incoming.note = note.strip()
    incoming.resolved_on = on
    incoming.resolved_by = actor.label[:200]
    incoming.save()
    audit.record(actor, f"incoming_payment.resolve_{how}", incoming, before=before, after=audit.snapshot(incoming))
    return incoming
