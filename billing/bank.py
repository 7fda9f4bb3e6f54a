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
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import DecimalField, ExpressionWrapper, F
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
)
from tenants import audit
from tenants.audit import Actor
from tenants.tenancy import require_tenant

LOCK_NAMESPACE = 0x42A1  # pg_advisory_xact_lock(namespace, tenant id): one bank import at a time per tenant
ZERO = Decimal("0.00")
MATCHED_STATUSES = (IncomingPaymentStatus.MATCHED, IncomingPaymentStatus.MATCHED_BY_STAFF)
RESOLUTIONS = {"refund": IncomingPaymentStatus.RESOLVED_REFUND, "credit": IncomingPaymentStatus.RESOLVED_CREDIT}


@dataclasses.dataclass(frozen=True)
class ImportResult:
    bank_import: BankImport
    already_imported: bool  # the same file (SHA-256) was imported before: nothing was booked now
    incoming: tuple[IncomingPayment, ...] = ()  # the payments recorded by this import

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


def _customers_paying_from(account: str) -> set[int]:
    """Customers an earlier matched payment from ``account`` went to."""
    if not account:
        return set()
    return {
        customer_id
        for customer_id, payer_account in IncomingPayment.objects.filter(
            status__in=MATCHED_STATUSES, invoice__isnull=False
        ).values_list("invoice__customer_id", "payer_account")
        if normalise_account(payer_account) == account
    }


def _by_amount_and_payer(payment: BankPayment) -> Invoice | None:
    name = _normalise_name(payment.payer_name)
    account_customers = _customers_paying_from(normalise_account(payment.payer_account))
    if not name and not account_customers:
        return None
    candidates = [
        invoice
        for invoice in _open_invoices()
        .filter(open_amount=payment.amount, currency=payment.currency)
        .order_by("due_date", "number", "id")
        if invoice.customer_id in account_customers or (name and _normalise_name(invoice.customer.name) == name)
    ]
    return candidates[0] if candidates else None


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


def _match(payment: BankPayment) -> tuple[Invoice | None, str]:
    """The invoice to book ``payment`` on, or None and the reason in words."""
    if payment.kid:
        by_kid = Invoice.objects.filter(kind=InvoiceKind.INVOICE, kid=payment.kid).exclude(status=InvoiceStatus.DRAFT)
        invoice = by_kid.first()
        if invoice is not None:
            refusal = _kid_refusal(invoice, payment)
            return (None, refusal) if refusal else (invoice, "")
    invoice = _by_amount_and_payer(payment)
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


@transaction.atomic
def bank_file_import(*, actor: Actor, data: bytes, file_name: str, on: dt.date) -> ImportResult:
    """Import one bank file for the current tenant (see the module). A malformed file raises
    ``ValidationError`` naming the line and the reason, and nothing is written; a file imported before
    returns that import with ``already_imported`` and books nothing."""
    try:
        parsed = parse_bank_file(data)
    except BankFileError as error:
        raise ValidationError(
            {
                "file": _("%(f)s is not a valid bank file: %(w)s: %(r)s")
                % {"f": file_name, "w": error.where, "r": error.reason}
            }
        ) from error
    tenant = require_tenant()
    _lock_tenant_imports(tenant.pk)
    earlier = BankImport.objects.filter(sha256=parsed.sha256).first()
    if earlier is not None:
        return ImportResult(bank_import=earlier, already_imported=True)
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
        IncomingPayment.objects.filter(reference__in=[p.reference for p in parsed.payments]).values_list(
            "reference", flat=True
        )
    )
    recorded = []
    for payment in parsed.payments:
        if payment.reference in known:
            bank_import.already_known += 1
            continue
        incoming = IncomingPayment(
            bank_import=bank_import,
            amount=payment.amount,
            currency=payment.currency,
            kid=payment.kid or "",
            kid_valid=payment.kid_valid,
            booked_on=payment.booked_on,
            value_date=payment.value_date,
            reference=payment.reference[:140],
            payer_name=payment.payer_name[:200],
            payer_account=payment.payer_account[:50],
            to_account=payment.to_account[:50],
            message=payment.message,
            source_line=payment.source_line,
            status=IncomingPaymentStatus.UNMATCHED,
        )
        invoice, reason = _match(payment)
        if invoice is not None:
            invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
            if refusal := _kid_refusal(invoice, payment):  # changed since it was read
                invoice, reason = None, refusal
        if invoice is not None:
            _book(actor=actor, incoming=incoming, invoice=invoice, status=IncomingPaymentStatus.MATCHED)
            bank_import.matched += 1
        else:
            incoming.reason = reason[:300]
            bank_import.unmatched += 1
        incoming.reason = incoming.reason[:300]
        incoming.save()
        audit.record(actor, f"incoming_payment.{incoming.status}", incoming, after=audit.snapshot(incoming))
        recorded.append(incoming)
        known.add(payment.reference)
    bank_import.save(update_fields=["matched", "unmatched", "already_known"])
    audit.record(actor, "bank_import.create", bank_import, after=audit.snapshot(bank_import))
    return ImportResult(bank_import=bank_import, already_imported=False, incoming=tuple(recorded))


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
