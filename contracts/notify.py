"""Notices to customers (and the vendor's staff) by e-mail, from templates in Norwegian and English.

Every notice is kept as a :class:`Message` (the history shown in the portal and back-office);
``(contract, kind, key)`` is unique, so a job that runs twice sends nothing the second time.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation

from contracts.models import Contract, Message
from tenants.models import ContactRole
from tenants.tenancy import require_tenant

KINDS = {
    "notice_reminder",
    "trial_paused",
    "deletion_60_days_left",
    "deletion_30_days_left",
    "deletion_7_days_left",
    "data_deleted",
    "renewed",
    "notice_confirmed",
    "price_change",
    # Collections (receivables): reminders, the suspension notice and its outcome, pauses for unpaid invoices.
    "payment_reminder",
    "suspension_notice",
    "suspended",
    "resumed",
    "paused_unpaid",
    "reactivated",
    "material_breach",
}


def language_for(contract: Contract | None, customer=None) -> str:
    customer = contract.customer if contract is not None else customer
    return "nb" if customer.country == "NO" else "en"


def recipients_for(contract: Contract | None, *, staff: bool, customer=None) -> list[str]:
    customer = contract.customer if contract is not None else customer
    emails = [customer.invoice_email] if customer.invoice_email else []
    emails += [
        c.email
        for c in customer.contacts.filter(role__in=[ContactRole.ORDERER, ContactRole.INVOICE_CONTACT])
        if c.email
    ]
    tenant = require_tenant()
    if staff and tenant.email:
        emails.append(tenant.email)
    return sorted(set(emails))


def send(
    contract: Contract | None,
    kind: str,
    key: str,
    on: dt.date,
    *,
    customer=None,
    staff: bool = False,
    attachments: list[tuple[str, bytes, str]] | None = None,
    **context,
) -> Message | None:
    """Render, record and send one notice; None when this (kind, key) was already sent for the contract.
    ``attachments``: (file name, content, MIME type), e.g. the PDF letter of a price change.
    A notice about no one contract (a reminder for an invoice without one) passes ``contract=None`` and the
    ``customer``; the caller then keeps it once (e.g. one reminder per invoice and step)."""
    if kind not in KINDS:
        raise ValueError(f"Unknown notice kind {kind}")
    if contract is not None:
        customer = contract.customer
    if customer is None:
        raise ValueError("A notice needs a contract or a customer")
    lang = language_for(contract, customer)
    with translation.override(lang):
        ctx = {"contract": contract, "customer": customer, "tenant": require_tenant(), "on": on, **context}
        subject = render_to_string(f"emails/{kind}.subject.txt", ctx).strip()
        body = render_to_string(f"emails/{kind}.body.txt", ctx)
    to = recipients_for(contract, staff=staff, customer=customer)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                customer=customer,
                contract=contract,
                kind=kind,
                key=key,
                language=lang,
                recipients=to,
                subject=subject,
                body=body,
                on=on,
            )
    except IntegrityError:
        return None
    if to:
        email = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to)
        for name, content, mimetype in attachments or ():
            email.attach(name, content, mimetype)
        # Sent after the transaction commits, so a rolled-back job sends nothing.
        transaction.on_commit(lambda: email.send(fail_silently=False))
    return message
