"""Invoicing late-payment interest and reminder fees (issue 11, item 2) for the current tenant.

:func:`interest_run` is the job: for every late invoice whose collection policy invoices interest it works out
what is due on ``on`` and issues **interest invoices** (``Invoice.purpose == "interest"``, supplementary, VAT
category O — late-payment interest and reminder fees are outside the scope of VAT), one per customer, contract
and currency per run, with one line per late invoice (its whole calculation from
:meth:`receivables.accrual.Accrual.explain` as the line's explanation) and one line per reminder fee not yet
invoiced. When, by ``CollectionPolicy.interest_invoicing``:

* ``on_payment`` — once the late invoice is paid in full (after its due date): all its interest to the last
  payment not yet charged, and its reminder fees;
* ``monthly`` — on every run in a month (in practice the first on or after the 1st): the interest accrued to
  the last day of the previous month not yet charged, for open and paid invoices, and the fees of reminders sent
  by then;
* ``never`` — nothing (the interest is still calculated and shown: :func:`interest_summary`).

Interest below ``CollectionPolicy.interest_minimum`` waits while the invoice is open (it grows); once the invoice
is paid nothing more accrues, so a rest below the minimum is final: it is not invoiced, now or later, and the run
says so (``InterestRunResult.below_minimum``). Nothing is invoiced for an invoice on hold (disputed).

Nothing is charged twice: each :class:`~receivables.models.InterestCharge` records the interest accrued to its
``through`` date and charges the total less what earlier charges took; a reminder's fee is invoiced once
(``Reminder.fee_invoice``). Each interest invoice is written in its own savepoint with its late invoices locked
(a failure is reported in ``problems`` and the other invoices go on); a dry run writes nothing and returns what
would be invoiced. An issued interest invoice is numbered, dated, given the tenant's payment terms and KID by
:func:`billing.services.invoice_issue` like any invoice, and queued in the outbox (:mod:`billing.delivery`).

Reads are bulk: one query for the candidates with their policy keys, one for the active holds, one for the
policies, then per batch of invoices one each for the invoices (with customer and contract), their payments,
their charges and their uninvoiced reminder fees.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Sum

from billing import services as billing_services
from billing.delivery import channel_for
from billing.document import NOT_SUBJECT_TO_VAT
from billing.models import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    past_due_q,
)
from pricing.engine.money import ZERO, format_amount
from receivables.accrual import Accrual, interest_on
from receivables.models import (
    CollectionPolicy,
    InterestCharge,
    InterestConvention,
    InterestInvoicing,
    InvoiceHold,
    Reminder,
)
from receivables.policies import PolicyCache
from tenants import audit
from tenants.audit import Actor
from tenants.jobs import OSLO

log = logging.getLogger(__name__)

JOB = "interest"
BATCH = 500
DAY = dt.timedelta(days=1)
NIL = Decimal("0.00")
PURPOSE = "interest"
NOTE_NB = "Forsinkelsesrente og purregebyr for sen betaling. Utenfor merverdiavgiftsområdet."

# Why a late invoice got nothing invoiced in a run: (Bokmål, English).
SKIP_REASONS = {
    "never": ("Renter faktureres ikke (innkrevingsreglene)", "Interest is not invoiced (collection policy)"),
    "on_hold": ("På vent (omtvistet)", "On hold (disputed)"),
    "not_paid_yet": ("Ikke betalt fullt ut ennå (renter faktureres ved betaling)", "Not paid in full yet"),
    "not_due": ("Ikke forfalt før månedens start", "Not past due before the start of the month"),
    "nothing_new": ("Ingen nye renter", "No new interest"),
    "waiting_minimum": ("Under minstebeløpet, venter", "Below the minimum, waiting"),
    "below_minimum_final": ("Under minstebeløpet, faktureres ikke", "Below the minimum, not invoiced"),
    "changed": ("Endret under kjøringen (samtidig kjøring)", "Changed during the run (a concurrent run)"),
}


def _date(day: dt.date, lang: str) -> str:
    return day.strftime("%d.%m.%Y") if lang == "nb" else day.isoformat()


def _kr(amount: Decimal, lang: str) -> str:
    return f"{format_amount(amount)} kr" if lang == "nb" else f"NOK {format_amount(amount, 'en')}"


def month_end_before(on: dt.date) -> dt.date:
    """The last day of the month before ``on``'s: what a monthly run on ``on`` invoices interest up to."""
    return on.replace(day=1) - DAY


# ---------------------------------------------------------------- results


@dataclass
class PlannedLine:
    """One line of an interest invoice: a late invoice's interest (``kind="interest"``) or a reminder fee."""

    kind: str  # "interest" | "fee"
    late_invoice: Invoice
    amount: Decimal
    description_nb: str
    description_en: str
    explanation_nb: str
    explanation_en: str
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    through: dt.date | None = None  # interest: to and including
    total_to_date: Decimal = NIL  # interest: all accrued to ``through``
    charged_before: Decimal = NIL  # interest: what earlier charges took
    reminder: Reminder | None = None


@dataclass
class PlannedInterestInvoice:
    """An interest invoice the run issues (or would issue): one customer, contract and currency."""

    customer: object
    contract: object | None
    currency: str
    buyer_reference: str
    lines: list[PlannedLine] = field(default_factory=list)
    invoice: Invoice | None = None  # once issued

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), NIL)

    @property
    def interest(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind == "interest"), NIL)

    @property
    def fees(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind == "fee"), NIL)

    def label(self) -> str:
        contract = f", contract {self.contract.reference}" if self.contract is not None else ""
        return f"{self.customer.name}{contract}"


@dataclass
class BelowMinimum:
    """Interest on a paid invoice that is below the policy's minimum: final, so never invoiced."""

    late_invoice: Invoice
    amount: Decimal
    minimum: Decimal

    def explain(self, lang: str = "nb") -> str:
        if lang == "nb":
            return (
                f"Faktura {self.late_invoice.number}: forsinkelsesrente {_kr(self.amount, lang)} er under "
                f"minstebeløpet {_kr(self.minimum, lang)} og faktureres ikke (fakturaen er betalt)."
            )
        return (
            f"Invoice {self.late_invoice.number}: late-payment interest {_kr(self.amount, lang)} is below the "
            f"minimum {_kr(self.minimum, lang)} and is not invoiced (the invoice is paid)."
        )


@dataclass
class InterestRunResult:
    on: dt.date
    dry_run: bool = False
    planned: list[PlannedInterestInvoice] = field(default_factory=list)
    issued: list[Invoice] = field(default_factory=list)
    charges: list[InterestCharge] = field(default_factory=list)
    below_minimum: list[BelowMinimum] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.dry_run:
            parts = [f"would issue {len(self.planned)} interest invoice(s)"]
            done = self.planned
        else:
            parts = [f"issued {len(self.issued)} interest invoice(s)"]
            done = [p for p in self.planned if p.invoice is not None]
        interest = sum((p.interest for p in done), NIL)
        fees = sum((p.fees for p in done), NIL)
        if interest:
            parts.append(f"interest {interest}")
        if fees:
            parts.append(f"fees {fees}")
        if self.below_minimum:
            parts.append(f"{len(self.below_minimum)} below the minimum, not invoiced")
        if self.skipped:
            parts.append("skipped " + ", ".join(f"{k} {n}" for k, n in sorted(self.skipped.items())))
        if self.problems:
            parts.append(f"{len(self.problems)} problem(s)")
        return "; ".join(parts)

    def skipped_reasons(self, lang: str = "nb") -> list[tuple[str, int]]:
        return [(SKIP_REASONS[k][0 if lang == "nb" else 1], n) for k, n in sorted(self.skipped.items())]

    def as_dict(self) -> dict:
        return {
            "on": self.on.isoformat(),
            "dry_run": self.dry_run,
            "issued": [i.number for i in self.issued],
            "planned": [
                {
                    "customer": p.customer.name,
                    "contract": p.contract.reference if p.contract is not None else None,
                    "total": str(p.total),
                    "lines": [
                        {"kind": line.kind, "invoice": line.late_invoice.number, "amount": str(line.amount)}
                        for line in p.lines
                    ],
                }
                for p in self.planned
            ],
            "below_minimum": [
                {"invoice": b.late_invoice.number, "amount": str(b.amount), "minimum": str(b.minimum)}
                for b in self.below_minimum
            ],
            "skipped": dict(self.skipped),
            "problems": self.problems,
        }


# ---------------------------------------------------------------- what an invoice owes


@dataclass(frozen=True)
class InterestSummary:
    """Interest on one invoice on a date, for the faces: accrued so far, charged on interest invoices so far,
    not yet charged, and from which day the rate is not known yet (``waiting_from``)."""

    accrued: Decimal
    charged: Decimal
    not_charged: Decimal
    through: dt.date | None
    waiting_from: dt.date | None
    convention: str  # InterestConvention
    invoicing: str  # InterestInvoicing
    accrual: Accrual | None = None

    def explain(self, lang: str = "nb") -> str:
        return self.accrual.explain(lang) if self.accrual is not None else ""

    def as_dict(self) -> dict:
        return {
            "accrued": str(self.accrued),
            "charged": str(self.charged),
            "not_charged": str(self.not_charged),
            "through": self.through.isoformat() if self.through else None,
            "waiting_from": self.waiting_from.isoformat() if self.waiting_from else None,
            "convention": self.convention,
            "invoicing": self.invoicing,
            "explanation_nb": self.explain("nb"),
            "explanation_en": self.explain("en"),
        }


def interest_summary(invoice: Invoice, on: dt.date, *, policy: CollectionPolicy | None = None) -> InterestSummary:
    """Interest accrued on ``invoice`` by ``on`` under its collection policy, and what of it is charged."""
    policy = policy or PolicyCache().for_invoice(invoice)
    accrual = interest_on(invoice, on, policy)
    charged = InterestCharge.objects.filter(late_invoice=invoice).aggregate(total=Sum("amount"))["total"] or NIL
    accrued = accrual.amount if accrual is not None else NIL
    return InterestSummary(
        accrued=accrued,
        charged=charged,
        not_charged=max(accrued - charged, NIL),
        through=accrual.through if accrual is not None else None,
        waiting_from=accrual.waiting_from if accrual is not None else None,
        convention=policy.interest,
        invoicing=policy.interest_invoicing,
        accrual=accrual,
    )


# ---------------------------------------------------------------- planning


def _candidates(on: dt.date):
    """Late invoices that may owe interest or fees: past due and open, or paid in full after the due date and
    not yet charged to the last payment."""
    late_payment = Payment.objects.filter(invoice_id=OuterRef("pk"), paid_on__gt=OuterRef("due_date"))
    last_payment = Payment.objects.filter(invoice_id=OuterRef("pk")).order_by("-paid_on").values("paid_on")[:1]
    charged_to_the_end = InterestCharge.objects.filter(
        late_invoice_id=OuterRef("pk"), through__gte=Subquery(last_payment)
    )
    paid_late = Q(status=InvoiceStatus.PAID) & Exists(late_payment) & ~Exists(charged_to_the_end)
    return (
        Invoice.objects.filter(kind=InvoiceKind.INVOICE, due_date__isnull=False, due_date__lt=on)
        .exclude(status__in=(InvoiceStatus.DRAFT, InvoiceStatus.CREDITED))
        .exclude(purpose=PURPOSE)
        .filter(past_due_q(on) | paid_late)
    )


def _held(on: dt.date) -> set[int]:
    return set(
        InvoiceHold.objects.filter(Q(released_on__isnull=True) | Q(released_on__gt=on), held_on__lte=on).values_list(
            "invoice_id", flat=True
        )
    )


def _convention_text(policy: CollectionPolicy, lang: str) -> str:
    if policy.interest == InterestConvention.SSAL:
        if lang == "nb":
            return "forsinkelsesrenteloven, SSA-L: renter per 31.12 legges til hovedstolen"
        return "Late Payment Interest Act, SSA-L: interest accrued by 31 December added to the principal"
    return "forsinkelsesrenteloven" if lang == "nb" else "Late Payment Interest Act"


def _interest_line(
    invoice: Invoice, policy: CollectionPolicy, accrual: Accrual, charged: Decimal, last_through: dt.date | None
) -> PlannedLine:
    amount = accrual.amount - charged
    start = last_through + DAY if last_through else invoice.due_date + DAY
    end = accrual.through
    principal = invoice.total - invoice.credited_amount
    texts = {}
    for lang in ("nb", "en"):
        if lang == "nb":
            description = f"Forsinkelsesrente faktura {invoice.number}, {_date(start, lang)}–{_date(end, lang)}"
            head = (
                f"Forsinkelsesrente på faktura {invoice.number} (forfall {_date(invoice.due_date, lang)}, "
                f"{_kr(principal, lang)}; {_convention_text(policy, lang)}):"
            )
            tail = (
                f"Påløpt til og med {_date(end, lang)}: {_kr(accrual.amount, lang)}; fakturert tidligere: "
                f"{_kr(charged, lang)}; på denne fakturaen: {_kr(amount, lang)}"
            )
        else:
            description = f"Late-payment interest invoice {invoice.number}, {_date(start, lang)} to {_date(end, lang)}"
            head = (
                f"Late-payment interest on invoice {invoice.number} (due {_date(invoice.due_date, lang)}, "
                f"{_kr(principal, lang)}; {_convention_text(policy, lang)}):"
            )
            tail = (
                f"Accrued to and including {_date(end, lang)}: {_kr(accrual.amount, lang)}; invoiced before: "
                f"{_kr(charged, lang)}; on this invoice: {_kr(amount, lang)}"
            )
        lines = [head, accrual.explain(lang)]
        if charged:
            lines.append(tail)
        texts[lang] = (description[:300], "\n".join(lines))
    return PlannedLine(
        kind="interest",
        late_invoice=invoice,
        amount=amount,
        description_nb=texts["nb"][0],
        description_en=texts["en"][0],
        explanation_nb=texts["nb"][1],
        explanation_en=texts["en"][1],
        period_start=start,
        period_end=end,
        through=end,
        total_to_date=accrual.amount,
        charged_before=charged,
    )


def _fee_line(invoice: Invoice, reminder: Reminder) -> PlannedLine:
    nb = f"Purregebyr faktura {invoice.number}, purring {_date(reminder.sent_on, 'nb')}"
    en = f"Reminder fee invoice {invoice.number}, reminder of {_date(reminder.sent_on, 'en')}"
    return PlannedLine(
        kind="fee",
        late_invoice=invoice,
        amount=reminder.fee,
        description_nb=nb,
        description_en=en,
        explanation_nb=reminder.fee_explanation_nb or f"Purregebyr {_kr(reminder.fee, 'nb')}",
        explanation_en=reminder.fee_explanation_en or reminder.fee_explanation_nb or f"Reminder fee NOK {reminder.fee}",
        reminder=reminder,
    )


class _Policies:
    def __init__(self):
        self.cache = PolicyCache()

    def for_keys(self, contract_id, collection_policy_id, plan_id) -> CollectionPolicy:
        if contract_id is None:
            return self.cache.for_contract(None)
        return self.cache.for_contract(SimpleNamespace(collection_policy_id=collection_policy_id, plan_id=plan_id))


def _plan_invoice(
    invoice: Invoice,
    policy: CollectionPolicy,
    on: dt.date,
    payments: list[tuple[dt.date, Decimal]],
    charges: list[tuple[dt.date, Decimal]],
    reminders: list[Reminder],
    result: InterestRunResult,
) -> list[PlannedLine]:
    """The lines one late invoice puts on this run's interest invoice (none: the reason is counted)."""
    principal = invoice.total - invoice.credited_amount
    paid_by = sum((amount for day, amount in payments if day <= on), ZERO)
    paid_in_full = principal > 0 and paid_by >= principal
    if policy.interest_invoicing == InterestInvoicing.ON_PAYMENT:
        if not paid_in_full:
            result.skipped["not_paid_yet"] += 1
            return []
        statement, fees = on, list(reminders)
    else:  # monthly
        statement = month_end_before(on)
        if invoice.due_date >= statement:
            result.skipped["not_due"] += 1
            return []
        fees = [r for r in reminders if r.sent_on <= statement]
        paid_in_full = principal > 0 and sum((a for d, a in payments if d <= statement), ZERO) >= principal

    lines: list[PlannedLine] = []
    accrual = interest_on(invoice, statement, policy, payments=payments)
    charged = sum((amount for _, amount in charges), NIL)
    last_through = max((day for day, _ in charges), default=None)
    new = (accrual.amount - charged) if accrual is not None else NIL
    if accrual is None or new <= 0 or (last_through is not None and accrual.through <= last_through):
        if not fees:
            result.skipped["nothing_new"] += 1
    elif new < policy.interest_minimum:
        if paid_in_full and accrual.waiting_from is None:
            result.below_minimum.append(BelowMinimum(invoice, new, policy.interest_minimum))
            result.skipped["below_minimum_final"] += 1
        else:
            result.skipped["waiting_minimum"] += 1
    else:
        lines.append(_interest_line(invoice, policy, accrual, charged, last_through))
    lines += [_fee_line(invoice, reminder) for reminder in sorted(fees, key=lambda r: (r.sent_on, r.pk))]
    return lines


def plan(on: dt.date, result: InterestRunResult | None = None) -> list[PlannedInterestInvoice]:
    """The interest invoices due on ``on`` (nothing written)."""
    result = result if result is not None else InterestRunResult(on=on, dry_run=True)
    rows = list(
        _candidates(on).order_by("pk").values_list("pk", "contract_id", "contract__collection_policy", "contract__plan")
    )
    if not rows:
        return []
    held = _held(on)
    policies = _Policies()
    wanted: dict[int, CollectionPolicy] = {}
    for pk, contract_id, policy_id, plan_id in rows:
        policy = policies.for_keys(contract_id, policy_id, plan_id)
        if policy.interest_invoicing == InterestInvoicing.NEVER:
            result.skipped["never"] += 1
        elif pk in held:
            result.skipped["on_hold"] += 1
        else:
            wanted[pk] = policy

    groups: dict[tuple, PlannedInterestInvoice] = {}
    ids = list(wanted)
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        invoices = Invoice.objects.filter(pk__in=batch).select_related("customer", "contract").order_by("pk")
        payments: dict[int, list] = defaultdict(list)
        for invoice_id, paid_on, amount in Payment.objects.filter(invoice_id__in=batch).values_list(
            "invoice_id", "paid_on", "amount"
        ):
            payments[invoice_id].append((paid_on, amount))
        charges: dict[int, list] = defaultdict(list)
        for invoice_id, through, amount in InterestCharge.objects.filter(late_invoice_id__in=batch).values_list(
            "late_invoice_id", "through", "amount"
        ):
            charges[invoice_id].append((through, amount))
        reminders: dict[int, list] = defaultdict(list)
        for reminder in Reminder.objects.filter(invoice_id__in=batch, fee__gt=0, fee_invoice__isnull=True):
            reminders[reminder.invoice_id].append(reminder)
        for invoice in invoices:
            try:
                lines = _plan_invoice(
                    invoice,
                    wanted[invoice.pk],
                    on,
                    payments[invoice.pk],
                    charges[invoice.pk],
                    reminders[invoice.pk],
                    result,
                )
            except Exception as error:  # e.g. a rate the table does not have: reported, the rest go on
                log.exception("interest for invoice %s on %s", invoice.number, on)
                result.problems.append(f"Invoice {invoice.number}: {error.__class__.__name__}: {error}")
                continue
            if not lines:
                continue
            key = (invoice.customer_id, invoice.contract_id, invoice.currency)
            group = groups.get(key)
            if group is None:
                group = groups[key] = PlannedInterestInvoice(
                    customer=invoice.customer,
                    contract=invoice.contract,
                    currency=invoice.currency,
                    buyer_reference=invoice.buyer_reference or invoice.customer.invoice_reference or "",
                )
            group.lines.extend(lines)
    return sorted(groups.values(), key=lambda g: (g.customer.name, g.customer.pk, g.contract.pk if g.contract else 0))


# ---------------------------------------------------------------- issuing


class _Changed(Exception):
    """What a planned interest invoice charges was charged meanwhile (a concurrent run)."""


def _check_unchanged(group: PlannedInterestInvoice) -> None:
    """Lock the late invoices and check that nothing was charged since the plan was made."""
    late_ids = sorted({line.late_invoice.pk for line in group.lines})
    list(Invoice.objects.select_for_update().filter(pk__in=late_ids).order_by("pk").values_list("pk", flat=True))
    now = dict(
        InterestCharge.objects.filter(late_invoice_id__in=late_ids)
        .values("late_invoice_id")
        .annotate(total=Sum("amount"))
        .values_list("late_invoice_id", "total")
    )
    for line in group.lines:
        if line.kind == "interest" and (now.get(line.late_invoice.pk) or NIL) != line.charged_before:
            raise _Changed(f"interest on invoice {line.late_invoice.number} was charged meanwhile")


def _queue_delivery(invoice: Invoice, *, actor: Actor, on: dt.date) -> Delivery:
    """Into the outbox, as the nightly delivery job queues every issued invoice (``deliveries_enqueue``); one that
    cannot be delivered gets a delivery that gave up at once, with the reason, for staff to fix."""
    invoice = Invoice.objects.select_related("customer", "credited_invoice").get(pk=invoice.pk)
    try:
        channel, recipient = channel_for(invoice)
    except ValidationError as error:
        delivery = Delivery.objects.create(
            invoice=invoice,
            channel=DeliveryChannel.EMAIL,
            recipient="",
            status=DeliveryStatus.GAVE_UP,
            last_error=" ".join(error.messages),
        )
    else:
        delivery = Delivery.objects.create(
            invoice=invoice,
            channel=channel,
            recipient=recipient[:254],
            next_attempt_at=dt.datetime.combine(on, dt.time(0, 0), tzinfo=OSLO),
        )
    audit.record(actor, "delivery.create", delivery, after=audit.snapshot(delivery))
    return delivery


def _issue(group: PlannedInterestInvoice, *, on: dt.date, actor: Actor) -> tuple[Invoice, list[InterestCharge]]:
    """One interest invoice for ``group``: draft, issue, charges, fees, outbox. Call inside a transaction."""
    _check_unchanged(group)
    periods = [line for line in group.lines if line.period_start is not None]
    invoice = Invoice.objects.create(
        kind=InvoiceKind.INVOICE,
        customer=group.customer,
        contract=group.contract,
        supplementary=True,
        purpose=PURPOSE,
        currency=group.currency,
        buyer_reference=group.buyer_reference[:100],
        reason=NOTE_NB,
        period_start=min((line.period_start for line in periods), default=None),
        period_end=max((line.period_end for line in periods), default=None),
    )
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                tenant_id=invoice.tenant_id,
                position=i,
                code="interest" if line.kind == "interest" else "reminder_fee",
                description=line.description_nb,
                description_en=line.description_en,
                explanation_nb=line.explanation_nb,
                explanation_en=line.explanation_en,
                quantity=Decimal("1"),
                unit_code="EA",
                unit_price=line.amount,
                net=line.amount,
                vat_category=NOT_SUBJECT_TO_VAT,
                vat_rate=Decimal("0"),
                period_start=line.period_start,
                period_end=line.period_end,
            )
            for i, line in enumerate(group.lines, start=1)
        ]
    )
    audit.record(actor, "invoice.draft", invoice, after=audit.snapshot(invoice))
    invoice = billing_services.invoice_issue(actor=actor, invoice=invoice, on=on)
    charges = InterestCharge.objects.bulk_create(
        [
            InterestCharge(
                tenant_id=invoice.tenant_id,
                late_invoice=line.late_invoice,
                interest_invoice=invoice,
                through=line.through,
                amount=line.amount,
                total_to_date=line.total_to_date,
                explanation_nb=line.explanation_nb,
                explanation_en=line.explanation_en,
            )
            for line in group.lines
            if line.kind == "interest"
        ]
    )
    for charge in charges:
        audit.record(actor, "interest_charge.create", charge, after=audit.snapshot(charge))
    fee_ids = [line.reminder.pk for line in group.lines if line.kind == "fee"]
    if fee_ids:
        updated = Reminder.objects.filter(pk__in=fee_ids, fee_invoice__isnull=True).update(fee_invoice=invoice)
        if updated != len(fee_ids):
            raise _Changed("a reminder fee was invoiced meanwhile")
        for line in group.lines:
            if line.kind == "fee":
                line.reminder.fee_invoice = invoice
                audit.record(
                    actor,
                    "reminder.fee_invoice",
                    line.reminder,
                    before={"fee_invoice": None},
                    after={"fee_invoice": invoice.pk},
                )
    _queue_delivery(invoice, actor=actor, on=on)
    return invoice, charges


def interest_run(*, on: dt.date, dry_run: bool = False, actor: Actor | None = None) -> InterestRunResult:
    """Issue the interest invoices due on ``on`` for the current tenant (``dry_run``: only say what they would
    be). Idempotent: a second run the same day, or any later day, charges nothing twice."""
    actor = actor or Actor.job(f"interest_run {on.isoformat()}")
    result = InterestRunResult(on=on, dry_run=dry_run)
    result.planned = plan(on, result)
    if dry_run:
        return result
    for group in result.planned:
        try:
            with transaction.atomic():
                invoice, charges = _issue(group, on=on, actor=actor)
        except _Changed as error:
            result.skipped["changed"] += 1
            result.problems.append(f"{group.label()}: {error}; not invoiced, the next run will")
            continue
        except Exception as error:  # one customer's failure never stops the others'
            log.exception("interest invoice for %s on %s", group.label(), on)
            result.problems.append(f"{group.label()}: {error.__class__.__name__}: {error}")
            continue
        group.invoice = invoice
        result.issued.append(invoice)
        result.charges.extend(charges)
    return result
