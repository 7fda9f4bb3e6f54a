"""Reminders (dunning, issue 11 item 3) for the current tenant: what is due, the job that sends it, and holds.

:func:`due_reminders` says what the job would send on a day; :func:`dunning_run` sends it: for each invoice
past due whose next reminder step (:func:`receivables.rules.next_step`, the steps of its collection policy)
has come due, one :class:`~receivables.models.Reminder` row with the fee allowed on its date
(:func:`receivables.rules.fee_for`), its PDF (``templates/documents/reminder.html``, in the customer's
language) and the e-mail with the PDF attached (:func:`contracts.notify.send`, kind ``payment_reminder``).

Never for an invoice that is paid, credited, a credit note, a draft, an interest invoice (its fees are not
reminded on again), on hold (disputed) or without a due date. ``(invoice, step)`` is unique, so a second run
on the same day sends nothing; each reminder is written in its own savepoint, so one failure is reported and
the others go out. The fee is recorded on the reminder; it is invoiced by the interest invoicing
(``Reminder.fee_invoice``), not here.

Reads are bulk: one query for the candidates (with their contracts' policy keys), one for the active holds,
one for the reminders already sent, one for the policies; the invoices that need a reminder are then loaded
in batches with their customer, contract and payments. An invoice that needs nothing costs no query.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from billing.models import PAYABLE, Invoice, InvoiceKind, InvoiceStatus, Payment, past_due_q
from billing.pdf import pdf_sha256, show_account, show_date, show_org_number
from contracts import notify
from pricing.engine.money import ZERO, format_amount, round_money
from receivables import rules
from receivables.accrual import Accrual, interest_on
from receivables.fees import load_fee_caps
from receivables.models import CollectionPolicy, InterestInvoicing, InvoiceHold, Reminder
from receivables.policies import PolicyCache
from tenants import audit
from tenants.audit import Actor
from tenants.bulk import insert_rows
from tenants.models import AuditEvent
from tenants.tenancy import require_tenant

log = logging.getLogger(__name__)

JOB = "dunning"
BATCH = 1000  # due reminders loaded in full at a time
LOOKUP_CHUNK = 5000  # invoice ids per query for the reminders already sent
NIL = Decimal("0.00")

# Why an invoice past due got no reminder in a run: (Bokmål, English).
SKIP_REASONS = {
    "not_due_yet": ("Neste purring er ikke forfalt ennå", "Next reminder not due yet"),
    "all_sent": ("Alle purretrinn er sendt", "All reminder steps sent"),
    "on_hold": ("På vent (omtvistet)", "On hold (disputed)"),
    "no_due_date": ("Mangler forfallsdato", "No due date"),
    "not_payable": ("Betalt, kreditert eller ikke en faktura", "Paid, credited or not an invoice"),
    "interest_invoice": ("Rente- og gebyrfaktura", "Interest and fee invoice"),
    "no_steps": ("Ingen purretrinn i innkrevingsreglene", "No reminder steps in the collection policy"),
    "bad_policy": ("Ugyldige purretrinn i innkrevingsreglene", "Invalid reminder steps in the collection policy"),
    "already_sent": ("Allerede sendt (samtidig kjøring)", "Already sent (a concurrent run)"),
    "failed": ("Feilet, venter på neste kjøring", "Failed, waiting for the next run"),
    "withdrawn": ("Trukket tilbake før sending", "Withdrawn before sending"),
}


@dataclass
class DueReminder:
    """A reminder the job sends (or would send) on ``on``."""

    invoice: Invoice
    customer: object
    contract: object | None
    policy: CollectionPolicy
    step: int  # 1-based, as Reminder.step
    kind: str  # ReminderKind
    rule: rules.Step
    on: dt.date
    due_on: dt.date  # when the step came due
    pay_by: dt.date
    skipped_steps: tuple[int, ...]
    fee: Decimal
    fee_explanation_nb: str
    fee_explanation_en: str
    outstanding: Decimal
    interest: Decimal
    accrual: Accrual | None = None  # the interest so far, with its calculation
    interest_claimed: bool = True  # False: the policy shows interest but does not invoice it

    @property
    def interest_explanation_nb(self) -> str:
        return self.accrual.explain("nb") if self.accrual else ""

    @property
    def interest_explanation_en(self) -> str:
        return self.accrual.explain("en") if self.accrual else ""

    @property
    def total_to_pay(self) -> Decimal:
        return self.outstanding + self.fee + (self.interest if self.interest_claimed else NIL)

    def kind_name(self, lang: str = "nb") -> str:
        return self.rule.name(lang)

    def fee_explanation(self, lang: str = "nb") -> str:
        return self.fee_explanation_nb if lang == "nb" else self.fee_explanation_en

    def interest_explanation(self, lang: str = "nb") -> str:
        return self.interest_explanation_nb if lang == "nb" else self.interest_explanation_en


@dataclass
class DunningResult:
    on: dt.date
    dry_run: bool = False
    sent: list[Reminder] = field(default_factory=list)
    planned: list[DueReminder] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # sent, but not e-mailed (no address): staff send it
    recorded: int = 0  # recorded this run (sent at once, or waiting for reminders_send)

    def summary(self) -> str:
        done = len(self.planned) if self.dry_run else len(self.sent)
        verb = "would send" if self.dry_run else "sent"
        parts = [f"{verb} {done} reminder(s)"]
        if not self.dry_run and self.recorded > done:
            parts.append(f"{self.recorded - done} recorded, waiting to be sent")
        fees = sum((r.fee for r in self.planned), NIL)
        if fees:
            parts.append(f"fees {fees}")
        if self.skipped:
            parts.append("skipped " + ", ".join(f"{k} {n}" for k, n in sorted(self.skipped.items())))
        if self.problems:
            parts.append(f"{len(self.problems)} problem(s)")
        if self.warnings:
            parts.append(f"{len(self.warnings)} not e-mailed (no address)")
        return "; ".join(parts)

    def skipped_reasons(self, lang: str = "nb") -> list[tuple[str, int]]:
        return [(SKIP_REASONS[k][0 if lang == "nb" else 1], n) for k, n in sorted(self.skipped.items())]

    def as_dict(self) -> dict:
        return {
            "on": self.on.isoformat(),
            "dry_run": self.dry_run,
            "sent": [r.pk for r in self.sent],
            "planned": [
                {"invoice": r.invoice.number, "step": r.step, "kind": r.kind, "fee": str(r.fee)} for r in self.planned
            ],
            "skipped": dict(self.skipped),
            "problems": self.problems,
            "warnings": self.warnings,
        }


# ---------------------------------------------------------------- what is due


class _Policies:
    """The tenant's policies, with their steps parsed once each."""

    def __init__(self):
        self.cache = PolicyCache()
        self.steps: dict[int, tuple[rules.Step, ...] | rules.StepsError] = {}

    def for_keys(self, contract_id, collection_policy_id, plan_id) -> CollectionPolicy:
        if contract_id is None:
            return self.cache.for_contract(None)
        return self.cache.for_contract(SimpleNamespace(collection_policy_id=collection_policy_id, plan_id=plan_id))

    def steps_of(self, policy: CollectionPolicy):
        key = id(policy)
        if key not in self.steps:
            try:
                self.steps[key] = rules.parse_steps(policy.dunning_steps)
            except rules.StepsError as error:
                self.steps[key] = error
        return self.steps[key]


def _candidates(on: dt.date) -> QuerySet[Invoice]:
    return Invoice.objects.filter(past_due_q(on))


def _plan(on: dt.date, skipped: Counter, problems: list[str]) -> list[tuple[int, CollectionPolicy, rules.DueStep]]:
    """(invoice id, policy, step due, reminders sent) for every invoice that needs a reminder on ``on``: one query
    for the candidates, one for the holds, one for the policies and one per :data:`LOOKUP_CHUNK` candidates for the
    reminders already sent (by invoice id, so the plan does not depend on fresh table statistics)."""
    rows = (
        _candidates(on)
        .order_by()
        .values_list(
            "pk",
            "kind",
            "status",
            "purpose",
            "due_date",
            "total",
            "paid_amount",
            "credited_amount",
            "contract_id",
            "contract__collection_policy",
            "contract__plan",
        )
    )
    held = set(
        InvoiceHold.objects.filter(Q(released_on__isnull=True) | Q(released_on__gt=on), held_on__lte=on)
        .order_by()
        .values_list("invoice_id", flat=True)
    )
    policies = _Policies()
    reported: set[int] = set()
    eligible = []
    for pk, kind, status, purpose, due_date, total, paid, credited, contract_id, policy_id, plan_id in rows:
        if kind != InvoiceKind.INVOICE or status not in PAYABLE or total - paid - credited <= 0:
            skipped["not_payable"] += 1
            continue
        if purpose == "interest":
            skipped["interest_invoice"] += 1
            continue
        if due_date is None:
            skipped["no_due_date"] += 1
            continue
        if pk in held:
            skipped["on_hold"] += 1
            continue
        policy = policies.for_keys(contract_id, policy_id, plan_id)
        steps = policies.steps_of(policy)
        if isinstance(steps, rules.StepsError):
            skipped["bad_policy"] += 1
            if id(policy) not in reported:
                reported.add(id(policy))
                problems.append(f"Collection policy {policy.name!r}: {steps}")
            continue
        if not steps:
            skipped["no_steps"] += 1
            continue
        eligible.append((pk, due_date, policy, steps))
    sent: dict[int, list[rules.Sent]] = defaultdict(list)
    for start in range(0, len(eligible), LOOKUP_CHUNK):
        ids = [pk for pk, *_ in eligible[start : start + LOOKUP_CHUNK]]
        for invoice_id, step, sent_on, pay_by, fee in (
            Reminder.objects.filter(invoice_id__in=ids)
            .order_by()
            .values_list("invoice_id", "step", "sent_on", "pay_by", "fee")
        ):
            sent[invoice_id].append(rules.Sent(step, sent_on, pay_by, fee))
    due = []
    for pk, due_date, policy, steps in eligible:
        done = sent.get(pk, [])
        found = rules.next_step(steps, due_date, done, on)
        if found is None:
            last = max((s.step for s in done), default=0)
            skipped["all_sent" if last >= len(steps) else "not_due_yet"] += 1
            continue
        due.append((pk, policy, found, done))
    return due


def _build(on: dt.date, planned) -> list[DueReminder]:
    """The due reminders in full: invoices with customer and contract, payments and interest, the fee."""
    table = load_fee_caps()
    result = []
    for start in range(0, len(planned), BATCH):
        batch = planned[start : start + BATCH]
        ids = [pk for pk, *_ in batch]
        invoices = Invoice.objects.select_related("customer", "contract").defer("document").in_bulk(ids)
        payments: dict[int, list] = defaultdict(list)
        for invoice_id, paid_on, amount in (
            Payment.objects.filter(invoice_id__in=ids).order_by().values_list("invoice_id", "paid_on", "amount")
        ):
            payments[invoice_id].append((paid_on, amount))
        for pk, policy, found, sent in batch:
            invoice = invoices[pk]
            fee = rules.fee_for(found.step, due_date=invoice.due_date, on=on, table=table, sent=sent)
            accrual = interest_on(invoice, on, policy, payments=payments.get(pk, []))
            result.append(
                DueReminder(
                    invoice=invoice,
                    customer=invoice.customer,
                    contract=invoice.contract,
                    policy=policy,
                    step=found.step.number,
                    kind=found.step.kind,
                    rule=found.step,
                    on=on,
                    due_on=found.due_on,
                    pay_by=found.pay_by,
                    skipped_steps=found.skipped,
                    fee=fee.amount,
                    fee_explanation_nb=fee.explanation_nb,
                    fee_explanation_en=fee.explanation_en,
                    outstanding=round_money(invoice.outstanding),
                    interest=accrual.amount if accrual else NIL,
                    accrual=accrual,
                    interest_claimed=policy.interest_invoicing != InterestInvoicing.NEVER,
                )
            )
    return result


def due_reminders(on: dt.date) -> list[DueReminder]:
    """The reminders the job would send on ``on`` (the back-office's "reminders due"), oldest due first."""
    skipped: Counter = Counter()
    due = _build(on, _plan(on, skipped, []))
    due.sort(key=lambda r: (r.invoice.due_date, r.invoice.number or 0))
    return due


# ---------------------------------------------------------------- the document and the e-mail

LABELS = {
    "nb": {
        "org_no": "Org.nr.",
        "date": "Dato",
        "invoice_number": "Fakturanr.",
        "invoice_date": "Fakturadato",
        "due_date": "Forfallsdato",
        "outstanding": "Utestående på fakturaen",
        "interest": "Forsinkelsesrente hittil",
        "interest_shown": "Forsinkelsesrente hittil (vises, kreves ikke)",
        "fee": "Gebyr",
        "total": "Sum å betale",
        "pay_by": "Betales innen",
        "account": "Konto",
        "kid": "KID",
        "how_interest": "Slik er renten beregnet",
        "separately": "Betal fakturabeløpet med KID-en over. Rente og gebyr kommer på en egen faktura.",
        "crossed": "Har betalingen krysset dette brevet, kan du se bort fra det.",
        "regards": "Med vennlig hilsen",
        "step": "Trinn %(n)s",
    },
    "en": {
        "org_no": "Org. no.",
        "date": "Date",
        "invoice_number": "Invoice no.",
        "invoice_date": "Invoice date",
        "due_date": "Due date",
        "outstanding": "Outstanding on the invoice",
        "interest": "Late-payment interest so far",
        "interest_shown": "Late-payment interest so far (shown, not claimed)",
        "fee": "Fee",
        "total": "Total to pay",
        "pay_by": "Pay by",
        "account": "Account",
        "kid": "KID (payment reference)",
        "how_interest": "How the interest is calculated",
        "separately": "Please pay the invoice amount with the KID above. Interest and the fee come on an invoice "
        "of their own.",
        "crossed": "If your payment has crossed this letter, please disregard it.",
        "regards": "Best regards",
        "step": "Step %(n)s",
    },
}


def _intro(due: DueReminder, lang: str) -> str:
    number, days = due.invoice.number, due.rule.days_to_pay
    pay_by = show_date(due.pay_by, lang)
    if due.kind == "warning":
        if lang == "nb":
            return (
                f"Dette er et skriftlig varsel etter inkassoloven § 9 for faktura {number}. Kravet må betales innen "
                f"{days} dager, senest {pay_by}. Betales det ikke innen fristen, kan kravet bli sendt til inkasso, "
                "og det kan påløpe ytterligere kostnader som du må dekke. Har du innsigelser mot kravet, ber vi deg "
                "si fra innen samme frist."
            )
        return (
            f"This is a written reminder under section 9 of the Norwegian Debt Collection Act (inkassoloven § 9) "
            f"for invoice {number}. The claim must be paid within {days} days, by {pay_by} at the latest. If it is "
            "not paid by then, the claim may be passed to debt collection, and further costs may be added that you "
            "will have to cover. If you dispute the claim, please tell us within the same deadline."
        )
    if due.kind == "final":
        if lang == "nb":
            return (
                f"Betalingsoppfordring etter inkassoloven § 10 for faktura {number}. Kravet må betales innen {days} "
                f"dager, senest {pay_by}. Betales det ikke innen fristen, kan kravet bli inndrevet ved rettslige "
                "skritt uten nytt varsel, og det kan påløpe ytterligere kostnader. Har du innsigelser mot kravet, må "
                "du si fra innen fristen."
            )
        return (
            f"Demand for payment under section 10 of the Norwegian Debt Collection Act (inkassoloven § 10) for "
            f"invoice {number}. The claim must be paid within {days} days, by {pay_by} at the latest. If it is not "
            "paid by then, it may be enforced through legal proceedings without further notice, and further costs "
            "may be added. If you dispute the claim, you must tell us within the deadline."
        )
    if lang == "nb":
        return f"Vi kan ikke se å ha mottatt betaling for faktura {number}. Vennligst betal innen {pay_by}."
    return f"We have not received payment for invoice {number}. Please pay by {pay_by}."


def reminder_context(due: DueReminder, lang: str) -> dict:
    """Everything the PDF and the e-mail show, formatted for ``lang``."""
    tenant = require_tenant()
    invoice = due.invoice

    def money(amount: Decimal) -> str:
        return f"{invoice.currency} {format_amount(amount, lang)}"

    return {
        "lang": lang,
        "t": LABELS[lang],
        "tenant": tenant,
        "tenant_org": show_org_number(tenant.org_number),
        "customer": due.customer,
        "customer_org": show_org_number(due.customer.org_number),
        "invoice": invoice,
        "number": str(invoice.number),
        "title": due.kind_name(lang),
        "intro": _intro(due, lang),
        "statutory": due.kind in rules.STATUTORY_KINDS,
        "step_label": LABELS[lang]["step"] % {"n": due.step},
        "date": show_date(due.on, lang),
        "invoice_date": show_date(invoice.issue_date, lang),
        "due_date": show_date(invoice.due_date, lang),
        "pay_by": show_date(due.pay_by, lang),
        "outstanding": money(due.outstanding),
        "interest": money(due.interest) if due.interest else "",
        "interest_claimed": due.interest_claimed,
        "interest_explanation": due.interest_explanation(lang),
        "fee": money(due.fee) if due.fee else "",
        "fee_explanation": due.fee_explanation(lang),
        "total": money(due.total_to_pay),
        "separately": bool(due.fee or (due.interest and due.interest_claimed)),
        "account": show_account(tenant.bank_account),
        "kid": invoice.kid,
        "footer": f"{tenant.name} · {due.kind_name(lang)} · {invoice.number}".replace('"', "'"),
    }


_font_config = None


def render_reminder_pdf(due: DueReminder, lang: str) -> bytes:
    global _font_config
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    if _font_config is None:
        _font_config = FontConfiguration()
    with translation.override(lang):
        html = render_to_string("documents/reminder.html", reminder_context(due, lang))
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(font_config=_font_config)


def _language(customer) -> str:
    from billing.delivery import language_for

    return language_for(customer)


STALE_AFTER = dt.timedelta(days=2)  # a reminder recorded but not sent by then is withdrawn and planned afresh


def _record(planned: list[DueReminder], actor: Actor) -> dict[tuple[int, int], int]:
    """Record the due reminders in bulk, not yet sent (no PDF): (invoice id, step) → reminder id for those
    recorded now or waiting from an earlier run today. ``(invoice, step)`` is unique: a concurrent run's rows
    are left as they are."""
    tenant = require_tenant()
    label = actor.label[:200]
    insert_rows(
        Reminder,
        [
            {
                "tenant_id": tenant.pk,
                "invoice_id": due.invoice.pk,
                "customer_id": due.customer.pk,
                "step": due.step,
                "kind": due.kind,
                "sent_on": due.on,
                "pay_by": due.pay_by,
                "outstanding": due.outstanding,
                "interest": due.interest,
                "fee": due.fee,
                "fee_explanation_nb": due.fee_explanation_nb,
                "fee_explanation_en": due.fee_explanation_en,
                "created_by": label,
            }
            for due in planned
        ],
        skip_conflicts=True,
    )
    ids: dict[tuple[int, int], int] = {}
    invoice_ids = [due.invoice.pk for due in planned]
    for start in range(0, len(invoice_ids), LOOKUP_CHUNK):
        for pk, invoice_id, step in Reminder.objects.filter(
            invoice_id__in=invoice_ids[start : start + LOOKUP_CHUNK], pdf__isnull=True
        ).values_list("pk", "invoice_id", "step"):
            ids[(invoice_id, step)] = pk
    events = [
        {
            "tenant_id": tenant.pk,
            "actor_kind": actor.kind,
            "actor_user_id": actor.user.pk if actor.user else None,
            "actor_api_key_id": actor.api_key.pk if actor.api_key else None,
            "actor_label": label,
            "action": "reminder.record",
            "object_type": "reminder",
            "object_id": str(ids[(due.invoice.pk, due.step)]),
            "object_repr": f"{due.kind_name('nb')} faktura {due.invoice.number}"[:200],
            "changes": {
                "invoice": [None, due.invoice.number],
                "step": [None, due.step],
                "kind": [None, due.kind],
                "sent_on": [None, due.on.isoformat()],
                "pay_by": [None, due.pay_by.isoformat()],
                "outstanding": [None, str(due.outstanding)],
                "fee": [None, str(due.fee)],
            },
        }
        for due in planned
        if (due.invoice.pk, due.step) in ids
    ]
    insert_rows(AuditEvent, events)
    return ids


def _remindable(invoice: Invoice, on: dt.date) -> bool:
    """Still an open invoice, not on hold: a reminder recorded for it may go out."""
    if invoice.kind != InvoiceKind.INVOICE or invoice.status not in PAYABLE or invoice.outstanding <= ZERO:
        return False
    return not InvoiceHold.objects.filter(
        Q(released_on__isnull=True) | Q(released_on__gt=on), invoice=invoice, held_on__lte=on
    ).exists()


def _due_from(reminder: Reminder, policies: _Policies) -> DueReminder | None:
    """The recorded reminder as the letter shows it (its step's rule and the interest on its date)."""
    invoice = reminder.invoice
    policy = policies.cache.for_invoice(invoice)
    steps = policies.steps_of(policy)
    if isinstance(steps, rules.StepsError) or not 1 <= reminder.step <= len(steps):
        return None
    accrual = interest_on(invoice, reminder.sent_on, policy)
    return DueReminder(
        invoice=invoice,
        customer=reminder.customer,
        contract=invoice.contract,
        policy=policy,
        step=reminder.step,
        kind=reminder.kind,
        rule=steps[reminder.step - 1],
        on=reminder.sent_on,
        due_on=reminder.sent_on,
        pay_by=reminder.pay_by,
        skipped_steps=(),
        fee=reminder.fee,
        fee_explanation_nb=reminder.fee_explanation_nb,
        fee_explanation_en=reminder.fee_explanation_en,
        outstanding=reminder.outstanding,
        interest=reminder.interest,
        accrual=accrual,
        interest_claimed=policy.interest_invoicing != InterestInvoicing.NEVER,
    )


def _withdraw(reminder: Reminder, actor: Actor, why: str) -> None:
    """A recorded reminder that was never sent and no longer should be (paid, credited, on hold, or stale)."""
    audit.record(actor, "reminder.withdraw", reminder, before={"invoice": reminder.invoice.number}, extra={"why": why})
    reminder.delete()


def _send(reminder: Reminder, due: DueReminder, actor: Actor) -> Reminder:
    """Render the recorded reminder's PDF and e-mail it (one transaction; a failure leaves it waiting)."""
    lang = _language(due.customer)
    pdf = render_reminder_pdf(due, lang)
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
        if reminder.pdf is not None:  # a concurrent send got there first
            return reminder
        reminder.pdf = pdf
        reminder.sha256 = pdf_sha256(pdf)
        name = f"{'purring' if lang == 'nb' else 'reminder'}-{due.invoice.number}-{due.step}.pdf"
        reminder.message = notify.send(
            due.contract,
            "payment_reminder",
            f"reminder-{due.invoice.pk}-{due.step}",
            due.on,
            customer=due.customer,
            attachments=[(name, pdf, "application/pdf")],
            r=reminder_context(due, lang),
        )
        reminder.save(update_fields=["pdf", "sha256", "message"])
        audit.record(actor, "reminder.send", reminder, after=audit.snapshot(reminder) | {"pdf": None})
    return reminder


@dataclass
class SendResult:
    sent: list[Reminder] = field(default_factory=list)
    withdrawn: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def reminders_send(*, on: dt.date, actor: Actor | None = None, only: list[int] | None = None) -> SendResult:
    """Send the recorded reminders that wait (no PDF yet) — each rendered, e-mailed and saved in its own
    transaction, so a failure leaves that one waiting for the next run and the others go out. One recorded
    more than :data:`STALE_AFTER` ago, or whose invoice was paid, credited or put on hold since, is withdrawn
    (never sent): the next run plans it afresh if it is still due. ``only``: these reminder ids."""
    actor = actor or Actor.job(JOB)
    result = SendResult()
    if only is not None and not only:
        return result
    waiting = (
        Reminder.objects.filter(pdf__isnull=True, sent_on__lte=on)
        .select_related("invoice", "invoice__contract", "customer")
        .defer("invoice__document", "customer__registry")
        .order_by("sent_on", "invoice__due_date", "invoice__number", "step")
    )
    if only is not None:
        waiting = waiting.filter(pk__in=only)
    policies = _Policies()
    for reminder in waiting:
        invoice = reminder.invoice
        if reminder.sent_on < on - STALE_AFTER or not _remindable(invoice, on):
            _withdraw(reminder, actor, "stale" if reminder.sent_on < on - STALE_AFTER else "not remindable")
            result.withdrawn += 1
            continue
        due = _due_from(reminder, policies)
        if due is None:
            _withdraw(reminder, actor, "the policy's steps changed")
            result.withdrawn += 1
            continue
        try:
            sent = _send(reminder, due, actor)
        except Exception as error:  # one invoice's failure never stops the others
            log.exception("reminder for invoice %s step %s failed", invoice.pk, reminder.step)
            result.problems.append(
                f"Invoice {invoice.number} step {reminder.step}: {error.__class__.__name__}: {error}"
            )
            continue
        result.sent.append(sent)
        if sent.message is None or not sent.message.recipients:
            result.warnings.append(
                f"Invoice {invoice.number} step {reminder.step}: {reminder.customer.name} has no e-mail address; the "
                "reminder is recorded with its PDF, send it another way."
            )
    return result


def dunning_run(*, on: dt.date, dry_run: bool = False, actor: Actor | None = None, send: bool = True) -> DunningResult:
    """Record every reminder due on ``on`` for the current tenant, in bulk, then (``send``) render and e-mail
    them with :func:`reminders_send` — the nightly job does both; ``send=False`` leaves the sending to a later
    :func:`reminders_send` (the bench measures the two apart). ``dry_run``: say what would be sent, write
    nothing."""
    actor = actor or Actor.job(JOB)
    result = DunningResult(on=on, dry_run=dry_run)
    result.planned = _build(on, _plan(on, result.skipped, result.problems))
    result.planned.sort(key=lambda r: (r.invoice.due_date, r.invoice.number or 0))
    if dry_run or not result.planned:
        return result
    with transaction.atomic():
        recorded = _record(result.planned, actor)
    result.recorded = len(recorded)
    if send:
        sent = reminders_send(on=on, actor=actor, only=list(recorded.values()))
        result.sent = sent.sent
        result.problems += sent.problems
        result.warnings += sent.warnings
        result.skipped["failed"] += len(sent.problems)
        result.skipped["withdrawn"] += sent.withdrawn
    return result


# ---------------------------------------------------------------- holds and reads


def customer_reminders(customer) -> QuerySet[Reminder]:
    """A customer's reminders, newest first, with their invoice (the PDF left out)."""
    return Reminder.objects.filter(customer=customer).select_related("invoice").defer("pdf").order_by("-sent_on", "-id")


def active_hold(invoice: Invoice) -> InvoiceHold | None:
    return InvoiceHold.objects.filter(invoice=invoice, released_on__isnull=True).first()


@transaction.atomic
def invoice_hold(*, actor: Actor, invoice: Invoice, reason: str, on: dt.date) -> InvoiceHold:
    """Put ``invoice`` on hold (disputed): no reminder, fee, interest invoice, suspension or pause for it
    until released."""
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = _("Say why the invoice is put on hold, e.g. what the customer disputes.")
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.kind != InvoiceKind.INVOICE or invoice.status not in PAYABLE or invoice.outstanding <= ZERO:
        if invoice.status == InvoiceStatus.DRAFT:
            errors["invoice"] = _("A draft cannot be put on hold; issue it first.")
        else:
            errors["invoice"] = _(
                "Only an issued invoice with an amount still to pay can be put on hold; this one is paid, credited "
                "or a credit note."
            )
    elif active_hold(invoice) is not None:
        errors["invoice"] = _("The invoice is already on hold; release that hold first to put it on hold again.")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            hold = InvoiceHold.objects.create(invoice=invoice, reason=reason, held_on=on, held_by=actor.label[:200])
    except IntegrityError:
        raise ValidationError({"invoice": _("The invoice is already on hold.")}) from None
    audit.record(actor, "invoice.hold", hold, after=audit.snapshot(hold))
    return hold


@transaction.atomic
def invoice_hold_release(*, actor: Actor, hold: InvoiceHold, on: dt.date, note: str = "") -> InvoiceHold:
    """Release a hold: reminders and the rest take up the invoice again from the next run."""
    hold = InvoiceHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_on is not None:
        raise ValidationError(
            {"hold": _("This hold was released on %(day)s already.") % {"day": hold.released_on.strftime("%d.%m.%Y")}}
        )
    if on < hold.held_on:
        raise ValidationError(
            {
                "on": _("The release date cannot be before the hold began (%(day)s).")
                % {"day": hold.held_on.strftime("%d.%m.%Y")}
            }
        )
    before = audit.snapshot(hold)
    hold.released_on = on
    hold.released_by = actor.label[:200]
    hold.release_note = (note or "").strip()
    hold.save(update_fields=["released_on", "released_by", "release_note"])
    audit.record(actor, "invoice.hold_release", hold, before=before, after=audit.snapshot(hold))
    return hold
