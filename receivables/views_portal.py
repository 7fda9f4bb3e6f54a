"""Payments in the customer portal (issue 11, item 6): what the customer owes now and how to pay it, the
reminders it was sent, late-payment interest with its calculation, and — when a contract is paused or suspended
for non-payment — what happened, what to pay and the date its data will be deleted.

Scoped like the portal's invoices (``billing.selectors.customer_family_q``: a kommune sees its schools'); another
customer's reminder is "not found" (404).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Q, Sum
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language

from billing.models import Invoice, Payment
from billing.selectors import customer_family_q
from contracts import lifecycle
from contracts.models import Contract
from receivables import selectors
from receivables.accrual import interest_on
from receivables.models import DefaultCase, DefaultStatus, InterestCharge, Reminder
from receivables.policies import PolicyCache
from receivables.views_backoffice import HAS_PDF, reminder_response
from tenants.decorators import portal_required
from tenants.jobs import business_today

ZERO = Decimal("0.00")


def _lang() -> str:
    return "en" if (get_language() or "nb").startswith("en") else "nb"


def _reminders(customer):
    return Reminder.objects.filter(invoice__in=Invoice.objects.filter(customer_family_q(customer)))


def _kind_label(kind: str) -> str:
    pair = selectors.REMINDER_KINDS.get(kind, (kind, kind))
    return pair[1] if _lang() == "en" else pair[0]


@portal_required
def payments(request, tenant_slug):
    today = business_today()
    customer = request.customer
    family = customer_family_q(customer)
    owed = selectors.outstanding(family, today)
    open_rows = list(
        selectors.open_invoices()
        .filter(family)
        .select_related("customer", "contract")
        .defer("document", "customer__registry")
        .order_by("due_date", "number", "id")
    )
    paid: dict[int, list] = defaultdict(list)
    for invoice_id, paid_on, amount in Payment.objects.filter(invoice_id__in=[i.pk for i in open_rows]).values_list(
        "invoice_id", "paid_on", "amount"
    ):
        paid[invoice_id].append((paid_on, amount))
    charged = dict(
        InterestCharge.objects.filter(late_invoice_id__in=[i.pk for i in open_rows])
        .values_list("late_invoice_id")
        .annotate(total=Sum("amount"))
    )
    policies = PolicyCache()
    lang = _lang()
    invoices = []
    interest_rows = []
    waiting_from = None  # the first day with no statutory rate in the table yet, if a late invoice runs past it
    for invoice in open_rows:
        late = invoice.due_date is not None and invoice.due_date < today
        invoices.append({"invoice": invoice, "late": late, "days": selectors.days_past_due(invoice, today)})
        if not late:
            continue
        accrual = interest_on(invoice, today, policies.for_invoice(invoice), payments=paid[invoice.pk])
        if accrual is not None and accrual.waiting_from:
            waiting_from = min(filter(None, (waiting_from, accrual.waiting_from)))
        if accrual is None or accrual.amount <= ZERO:
            continue
        interest_rows.append(
            {
                "invoice": invoice,
                "amount": accrual.amount,
                "charged": charged.get(invoice.pk, ZERO),
                "explanation": accrual.explain(lang),
                "through": accrual.through,
            }
        )
    charges = list(selectors.interest_charges(family).order_by("-through", "-id")[:50])
    reminders = [
        {"reminder": r, "kind": _kind_label(r.kind)}
        for r in _reminders(customer)
        .select_related("invoice")
        .defer("pdf")
        .annotate(has_pdf=HAS_PDF)
        .order_by("-sent_on", "-id")[:50]
    ]
    context = {
        "today": today,
        "owed": owed,
        "invoices": invoices,
        "interest_rows": interest_rows,
        "interest_total": sum((r["amount"] - r["charged"] for r in interest_rows), ZERO),
        "charges": charges,
        "interest_waiting_from": waiting_from,
        "reminders": reminders,
        "stops": _stops(customer, today, owed),
    }
    return render(request, "portal/receivables/payments.html", context)


def _stops(customer, today: dt.date, owed) -> list[dict]:
    """The customer's contracts paused for an unpaid invoice, suspended, or under a notice of suspension."""
    family = customer_family_q(customer)
    cases = {
        case.contract_id: case
        for case in DefaultCase.objects.filter(family)
        .exclude(status=DefaultStatus.CLOSED)
        .select_related("invoice")
        .order_by("opened_on")
    }
    contracts = (
        Contract.objects.filter(family)
        .filter(Q(state=lifecycle.SUSPENDED) | Q(state=lifecycle.PAUSED, pause_reason="unpaid") | Q(pk__in=list(cases)))
        .select_related("customer", "product")
    )
    out = []
    for contract in contracts:
        case = cases.get(contract.pk)
        if contract.state == lifecycle.PAUSED:
            kind = "paused"
            since = contract.paused_on or (case.paused_on if case else None)
        elif contract.state == lifecycle.SUSPENDED:
            kind = "suspended"
            since = case.suspended_on if case else None
        elif case is not None and case.status in (DefaultStatus.NOTICE, DefaultStatus.AWAITING_CONFIRMATION):
            kind = "notice"
            since = case.notice_sent_on
        else:
            continue
        out.append(
            {
                "contract": contract,
                "case": case,
                "kind": kind,
                "since": since,
                "invoice": case.invoice if case else None,
                "stop_on": case.stop_on if case else None,
                "deletion_due_on": contract.deletion_due_on,
                "days_left": (contract.deletion_due_on - today).days if contract.deletion_due_on else None,
            }
        )
    return out


@portal_required
def reminder_pdf(request, tenant_slug, pk):
    reminder = get_object_or_404(_reminders(request.customer).select_related("invoice"), pk=pk)
    return reminder_response(reminder)
