"""The outbox: getting issued invoices and credit notes to the customer (issue 5 §4, RULES §10).

Channel: EHF through the Peppol access point (:mod:`billing.peppol`) to a customer with a Peppol
endpoint, otherwise the PDF by e-mail to its invoice address. What is sent is the stored document
(:func:`billing.files.invoice_file`), so its SHA-256 is the one on record.

A :class:`~billing.models.Delivery` goes pending → sent, or → failed (tried again after
:data:`BACKOFF`) → gave_up after :data:`MAX_ATTEMPTS`; a permanent refusal by the access point goes
straight to gave_up. ``last_error`` says in words what went wrong and what to do.

Sending happens outside long transactions, in three steps:

1. *claim* (one short transaction): ``SELECT … FOR UPDATE SKIP LOCKED`` on due deliveries, count the
   attempt and push ``next_attempt_at`` to the retry time — a second worker neither waits nor sees it
   due, so two workers never send the same delivery; a worker that dies mid-send leaves it due again at
   the retry time;
2. *send* (no transaction held): to the access point or the mail server;
3. *record* (one short transaction): sent / failed / gave_up, audited; the invoice moves issued → sent.

A crash between 2 and 3 cannot send an EHF twice without noticing: every send of a delivery carries the
same ``Idempotency-Key`` (:func:`idempotency_key`), and the access point answers a repeat with the first
message id instead of sending again. E-mail has no such receipt; its ``Message-ID`` is fixed per
delivery, so mail clients show a repeat as the same message.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from billing import peppol
from billing.ehf import EhfError, endpoint
from billing.files import LANGUAGES, invoice_file
from billing.models import Delivery, DeliveryChannel, DeliveryStatus, Invoice, InvoiceKind, InvoiceStatus
from billing.services import invoice_document
from tenants import audit
from tenants.audit import Actor
from tenants.jobs import OSLO
from tenants.tenancy import require_tenant
from tenants.validation import format_bank_account

logger = logging.getLogger(__name__)

# Wait after the 1st, 2nd, 3rd and 4th failed attempt; the 5th failure gives up.
BACKOFF = (dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=2), dt.timedelta(hours=12))
MAX_ATTEMPTS = len(BACKOFF) + 1
OPEN = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
CLAIM_BATCH = 50


def idempotency_key(delivery: Delivery) -> str:
    """The same for every attempt of one delivery, different for a new delivery (a deliberate resend)."""
    return f"avtale-{delivery.tenant_id}-delivery-{delivery.pk}"


def language_for(customer) -> str:
    """The customer's language: its own setting if it has one, else by country as the contract notices do
    (Bokmål in Norway, English abroad)."""
    language = getattr(customer, "language", "")
    if language in LANGUAGES:
        return language
    return "nb" if (customer.country or "NO") == "NO" else "en"


def _label(invoice: Invoice) -> str:
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return _("Credit note %(n)s") % {"n": invoice.number}
    return _("Invoice %(n)s") % {"n": invoice.number}


# ---------------------------------------------------------------- channel


def channel_for(invoice: Invoice) -> tuple[str, str]:
    """(channel, recipient) for an issued invoice or credit note; ``ValidationError`` saying what to fix
    when it cannot be delivered. Writes nothing (the EHF check renders without storing)."""
    if invoice.status == InvoiceStatus.DRAFT:
        raise ValidationError({"invoice": _("A draft cannot be sent; issue it first.")})
    customer = invoice.customer
    if customer.peppol_endpoint:
        if not customer.org_number:
            raise ValidationError(
                {
                    "customer": _(
                        "%(customer)s has a Peppol endpoint but no organisation number, which an EHF needs for "
                        "the buyer. Add the organisation number on the customer, or remove the Peppol endpoint "
                        "to send the PDF by e-mail."
                    )
                    % {"customer": customer.name}
                }
            )
        try:
            scheme, value = endpoint(invoice_document(invoice).buyer)
        except EhfError as error:
            raise ValidationError({"customer": str(error)}) from error
        return DeliveryChannel.EHF, f"{scheme}:{value}"
    if customer.invoice_email:
        return DeliveryChannel.EMAIL, customer.invoice_email
    raise ValidationError(
        {
            "customer": _(
                "%(customer)s has neither a Peppol endpoint (for EHF) nor an invoice e-mail address. "
                "Add one on the customer, then send again."
            )
            % {"customer": customer.name}
        }
    )


# ---------------------------------------------------------------- creating deliveries


def _open_delivery_error(invoice: Invoice) -> ValidationError:
    return ValidationError(
        {
            "invoice": _("%(label)s is already waiting to be sent; retry that delivery instead.")
            % {"label": _label(invoice)}
        }
    )


def _delivery_create(*, actor: Actor, invoice: Invoice, channel: str, recipient: str, due_at: dt.datetime) -> Delivery:
    if Delivery.objects.filter(invoice=invoice, status__in=OPEN).exists():
        raise _open_delivery_error(invoice)
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                invoice=invoice, channel=channel, recipient=recipient[:254], next_attempt_at=due_at
            )
    except IntegrityError as error:  # a concurrent send of the same invoice won
        raise _open_delivery_error(invoice) from error
    audit.record(actor, "delivery.create", delivery, after=audit.snapshot(delivery))
    return delivery


def invoice_send(*, actor: Actor, invoice: Invoice, now: dt.datetime | None = None) -> Delivery:
    """Queue the issued invoice or credit note for delivery and try it at once (see the module docstring).

    ``ValidationError`` (nothing written) for a draft, a customer with no channel, an EHF that cannot be
    made (e.g. a buyer without organisation number) or a delivery of it already waiting. Sending an
    invoice already sent makes a new delivery (sent again, on purpose)."""
    now = now or timezone.now()
    invoice = Invoice.objects.select_related("customer", "credited_invoice").get(pk=invoice.pk)
    channel, recipient = channel_for(invoice)
    if Delivery.objects.filter(invoice=invoice, status__in=OPEN).exists():
        raise _open_delivery_error(invoice)
    # Render (and store) the document now: an EHF the rules refuse is an error to show, not to retry.
    invoice_file(
        invoice=invoice, fmt="ehf" if channel == DeliveryChannel.EHF else "pdf", language=_file_language(invoice)
    )
    with transaction.atomic():
        delivery = _delivery_create(actor=actor, invoice=invoice, channel=channel, recipient=recipient, due_at=now)
    return _try(delivery.pk, actor=actor, now=now) or Delivery.objects.get(pk=delivery.pk)


def delivery_retry(*, actor: Actor, delivery: Delivery, now: dt.datetime | None = None) -> Delivery:
    """Try a failed or given-up delivery again now (a given-up one gets a fresh round of attempts).

    The channel and address are the customer's as they are now: when staff have corrected them (an
    e-mail address added, a Peppol endpoint changed), this delivery is closed as replaced and a new one
    — with its own idempotency key — is sent instead, and returned."""
    now = now or timezone.now()
    delivery = Delivery.objects.select_related("invoice__customer", "invoice__credited_invoice").get(pk=delivery.pk)
    if delivery.status == DeliveryStatus.SENT:
        raise ValidationError({"delivery": _("This delivery is already sent; send the invoice again instead.")})
    invoice = delivery.invoice
    channel, recipient = channel_for(invoice)
    invoice_file(
        invoice=invoice, fmt="ehf" if channel == DeliveryChannel.EHF else "pdf", language=_file_language(invoice)
    )
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status == DeliveryStatus.SENT:
            raise ValidationError({"delivery": _("This delivery is already sent; send the invoice again instead.")})
        before = audit.snapshot(delivery)
        if (channel, recipient) != (delivery.channel, delivery.recipient):
            delivery.status = DeliveryStatus.GAVE_UP
            delivery.next_attempt_at = None
            delivery.last_error = (delivery.last_error + " " if delivery.last_error else "") + _(
                "Replaced by a new delivery to %(to)s."
            ) % {"to": recipient}
            delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
            audit.record(actor, "delivery.replaced", delivery, before=before, after=audit.snapshot(delivery))
            delivery = _delivery_create(actor=actor, invoice=invoice, channel=channel, recipient=recipient, due_at=now)
        elif delivery.status == DeliveryStatus.GAVE_UP:
            if Delivery.objects.filter(invoice_id=delivery.invoice_id, status__in=OPEN).exists():
                raise _open_delivery_error(invoice)
            delivery.status = DeliveryStatus.FAILED
            delivery.attempts = 0
            delivery.save(update_fields=["status", "attempts"])
            audit.record(actor, "delivery.retry", delivery, before=before, after=audit.snapshot(delivery))
    return _try(delivery.pk, actor=actor, now=now) or Delivery.objects.get(pk=delivery.pk)


def _file_language(invoice: Invoice) -> str:
    return language_for(invoice.customer)


def _start_of(on: dt.date) -> dt.datetime:
    return dt.datetime.combine(on, dt.time(0, 0), tzinfo=OSLO)


def deliveries_enqueue(*, on: dt.date) -> int:
    """A delivery for every issued invoice and credit note (issued on or before ``on``) that has none yet.

    One that cannot be delivered (no channel, no organisation number for EHF) gets a delivery that has
    given up at once, with the reason as its error, so it shows in the outbox for staff to fix."""
    actor = Actor.job(f"deliveries_enqueue {on.isoformat()}")
    due_at = _start_of(on)
    count = 0
    waiting = (
        Invoice.objects.filter(status=InvoiceStatus.ISSUED, issue_date__lte=on, deliveries__isnull=True)
        .select_related("customer", "credited_invoice")
        .order_by("pk")
    )
    for invoice in waiting:
        with transaction.atomic():
            try:
                channel, recipient = channel_for(invoice)
            except ValidationError as error:
                delivery = Delivery.objects.create(
                    invoice=invoice,
                    channel=DeliveryChannel.EMAIL,
                    recipient="",
                    status=DeliveryStatus.GAVE_UP,
                    last_error=_message(error),
                )
                audit.record(actor, "delivery.create", delivery, after=audit.snapshot(delivery))
                continue
            try:
                _delivery_create(actor=actor, invoice=invoice, channel=channel, recipient=recipient, due_at=due_at)
            except ValidationError:  # enqueued meanwhile by a concurrent job or a user
                continue
        count += 1
    return count


# ---------------------------------------------------------------- sending


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message_id: str = ""
    error: str = ""
    permanent: bool = False


def _message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return " ".join(m for messages in error.message_dict.values() for m in messages)
    return " ".join(error.messages)


def _claim(now: dt.datetime, *, pk: int | None = None, limit: int = CLAIM_BATCH) -> list[int]:
    """Take due deliveries (or the one ``pk``, due or not) for this worker: count the attempt and move
    ``next_attempt_at`` to the retry time, in one short transaction. Locked ones are skipped."""
    with transaction.atomic():
        rows = Delivery.objects.select_for_update(skip_locked=True).filter(status__in=OPEN)
        rows = rows.filter(pk=pk) if pk is not None else rows.filter(next_attempt_at__lte=now)
        claimed = list(rows.order_by("next_attempt_at", "pk")[:limit])
        for delivery in claimed:
            delivery.attempts += 1
            delivery.next_attempt_at = now + BACKOFF[min(delivery.attempts, len(BACKOFF)) - 1]
            delivery.save(update_fields=["attempts", "next_attempt_at"])
    return [d.pk for d in claimed]


def _email(delivery: Delivery, invoice: Invoice) -> EmailMessage:
    language = language_for(invoice.customer)
    rendered = invoice_file(invoice=invoice, fmt="pdf", language=language)
    tenant = require_tenant()
    kind = "credit_note" if invoice.kind == InvoiceKind.CREDIT_NOTE else "invoice"
    with translation.override(language):
        context = {
            "invoice": invoice,
            "customer": invoice.customer,
            "tenant": tenant,
            "number": str(invoice.number),
            "credited_number": str(invoice.credited_invoice.number) if invoice.credited_invoice_id else "",
            "total": formats.number_format(invoice.total, 2, use_l10n=True, force_grouping=True),
            "due_date": formats.date_format(invoice.due_date, "SHORT_DATE_FORMAT") if invoice.due_date else "",
            "account": format_bank_account(tenant.bank_account),
        }
        subject = " ".join(render_to_string(f"emails/{kind}.subject.txt", context).split())
        body = render_to_string(f"emails/{kind}.body.txt", context)
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "avtale.example"
    message = EmailMessage(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        [delivery.recipient],
        reply_to=[tenant.email] if tenant.email else None,
        headers={"Message-ID": f"<{idempotency_key(delivery)}@{domain}>"},
    )
    message.attach(rendered.filename, rendered.content, rendered.content_type)
    return message


def _send(delivery: Delivery) -> Outcome:
    """Step 2: hand the stored document over. No transaction is held here."""
    invoice = Invoice.objects.select_related("customer", "credited_invoice").get(pk=delivery.invoice_id)
    try:
        if delivery.channel == DeliveryChannel.EHF:
            rendered = invoice_file(invoice=invoice, fmt="ehf")
            scheme, value = endpoint(invoice_document(invoice).seller)
            message_id = peppol.access_point().send(
                rendered.content,
                sender_id=f"{scheme}:{value}",
                receiver_id=delivery.recipient,
                document_type=peppol.document_type_for(invoice.kind),
                idempotency_key=idempotency_key(delivery),
            )
            return Outcome(ok=True, message_id=message_id)
        _email(delivery, invoice).send(fail_silently=False)
        return Outcome(ok=True)
    except peppol.PermanentRejection as error:
        return Outcome(
            ok=False,
            permanent=True,
            error=_("The access point refused the EHF: %(errors)s. Correct the customer or the invoice, then retry.")
            % {"errors": "; ".join(error.errors) or str(error)},
        )
    except peppol.TemporaryFailure as error:
        return Outcome(ok=False, error=_("The access point could not take the EHF now: %(e)s") % {"e": error})
    except (ValidationError, EhfError) as error:
        text = _message(error) if isinstance(error, ValidationError) else str(error)
        return Outcome(ok=False, permanent=True, error=_("The document cannot be made: %(e)s") % {"e": text})
    except smtplib.SMTPRecipientsRefused:
        return Outcome(
            ok=False,
            permanent=True,
            error=_("The mail server refused the address %(to)s. Correct the customer's invoice e-mail, then retry.")
            % {"to": delivery.recipient},
        )
    except (smtplib.SMTPException, OSError) as error:
        return Outcome(ok=False, error=_("The e-mail could not be sent now (%(e)s).") % {"e": error.__class__.__name__})
    except Exception as error:  # noqa: BLE001 - one broken delivery must not stop the others
        logger.exception("delivery %s failed unexpectedly", delivery.pk)
        return Outcome(ok=False, error=_("Unexpected error while sending (%(e)s).") % {"e": error.__class__.__name__})


def _record(pk: int, outcome: Outcome, *, actor: Actor, now: dt.datetime) -> Delivery:
    """Step 3: the outcome, the invoice's status, the audit rows (one short transaction)."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=pk)
        before = audit.snapshot(delivery)
        if outcome.ok:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = now
            delivery.next_attempt_at = None
            delivery.last_error = ""
            delivery.external_id = outcome.message_id[:200]
        elif outcome.permanent or delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.GAVE_UP
            delivery.next_attempt_at = None
            delivery.last_error = outcome.error
            if not outcome.permanent:
                delivery.last_error += " " + _("No more automatic attempts after %(n)s; retry by hand.") % {
                    "n": delivery.attempts
                }
        else:
            delivery.status = DeliveryStatus.FAILED  # next_attempt_at was set when claimed
            delivery.last_error = (
                outcome.error
                + " "
                + _("Next attempt at %(at)s.")
                % {"at": formats.date_format(timezone.localtime(delivery.next_attempt_at), "SHORT_DATETIME_FORMAT")}
            )
        delivery.save(update_fields=["status", "sent_at", "next_attempt_at", "last_error", "external_id"])
        audit.record(actor, f"delivery.{delivery.status}", delivery, before=before, after=audit.snapshot(delivery))
        if outcome.ok:
            _invoice_mark_sent(actor=actor, invoice_id=delivery.invoice_id, now=now)
    return delivery


def _invoice_mark_sent(*, actor: Actor, invoice_id: int, now: dt.datetime) -> None:
    """issued → sent with ``sent_at``. Only ``status`` and ``sent_at`` are written (queryset updates): the
    database refuses any other change to an issued invoice."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    before = {"status": invoice.status, "sent_at": invoice.sent_at}
    if invoice.status == InvoiceStatus.ISSUED:
        Invoice.objects.filter(pk=invoice_id).update(status=InvoiceStatus.SENT, sent_at=now)
        after = {"status": InvoiceStatus.SENT, "sent_at": now}
    elif invoice.sent_at is None:  # e.g. already overdue or paid when it finally went out
        Invoice.objects.filter(pk=invoice_id).update(sent_at=now)
        after = {"status": invoice.status, "sent_at": now}
    else:
        return
    audit.record(actor, f"{invoice.kind}.sent", invoice, before=audit_json(before), after=audit_json(after))


def audit_json(values: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in values.items()}


ADVISORY_LOCK_CLASS = 0x4156  # the first key of the two-key advisory lock: "deliveries" ("AV")


def _advisory(function: str, pk: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [ADVISORY_LOCK_CLASS, pk % 2**31])
        return bool(cursor.fetchone()[0])


def _send_claimed(pk: int, *, actor: Actor, now: dt.datetime) -> Delivery | None:
    """Send one claimed delivery and record the outcome, holding a session advisory lock on it meanwhile.

    The claim keeps the nightly workers apart; the lock also keeps a user's "send now" or "retry" off a
    delivery a worker is sending at that moment (None then). The status is read again under the lock, so
    a delivery recorded as sent meanwhile is not sent again. A crashed worker's lock goes with its
    connection."""
    if not _advisory("pg_try_advisory_lock", pk):
        return None
    try:
        delivery = Delivery.objects.get(pk=pk)
        if delivery.status not in OPEN:
            return None
        return _record(pk, _send(delivery), actor=actor, now=now)
    finally:
        _advisory("pg_advisory_unlock", pk)


def _try(pk: int, *, actor: Actor, now: dt.datetime) -> Delivery | None:
    """Claim one delivery, send it, record the outcome; None when another worker holds it."""
    if not _claim(now, pk=pk):
        return None
    return _send_claimed(pk, actor=actor, now=now)


def deliveries_send_due(*, now: dt.datetime) -> dict[str, int]:
    """Send every delivery due at ``now`` (pending, or failed and past its retry time), in batches.

    ``{"sent": …, "failed": …, "gave_up": …}``. Safe to run on many workers at once."""
    actor = Actor.job(f"deliveries_send_due {timezone.localtime(now).isoformat(timespec='minutes')}")
    result = {DeliveryStatus.SENT.value: 0, DeliveryStatus.FAILED.value: 0, DeliveryStatus.GAVE_UP.value: 0}
    while True:
        claimed = _claim(now)
        if not claimed:
            return result
        for pk in claimed:
            delivery = _send_claimed(pk, actor=actor, now=now)
            if delivery is not None:
                result[delivery.status] += 1
