"""Collections in the back-office (issue 11, item 6): what is owed and how late, reminders due, the unmatched
payments, customers at risk of suspension or pause, one customer's ledger, bank-file import and payment-default
cases. Thin views over ``receivables.selectors`` (reads), ``receivables.dunning`` / ``receivables.default`` and
``billing.bank`` (every change).

Objects are looked up through the tenant-scoped managers, so another tenant's customer, reminder, import, payment
or case is "not found" (404). Every form: bad input → the page again with the message (400), nothing saved. The
business date is Oslo's today (``tenants.jobs.business_today``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing import bank
from billing.models import BankImport, IncomingPayment, IncomingPaymentStatus, Invoice, InvoiceKind, Payment
from billing.selectors import customer_family_q
from pricing.templatetags.pricing_ui import money
from receivables import selectors
from receivables.accrual import interest_on
from receivables.forms import BankFileForm, CloseCaseForm, HoldForm, MatchForm, ReleaseForm, ResolveForm
from receivables.models import DefaultCase, DefaultStatus, InterestCharge, InvoiceHold, Reminder
from receivables.policies import PolicyCache
from tenants.audit import Actor
from tenants.decorators import staff_required
from tenants.forms import apply_errors
from tenants.jobs import business_today
from tenants.models import Customer

PER_PAGE = 25
LEDGER_LIMIT = 300
ZERO = Decimal("0.00")
HAS_PDF = ExpressionWrapper(Q(pdf__isnull=False), output_field=BooleanField())


def _url(request, name: str, *args) -> str:
    return reverse(f"receivables_bo:{name}", args=[request.tenant.slug, *args])


def _actor(request) -> Actor:
    return Actor.for_user(request.user)


def _today() -> dt.date:
    return business_today()


def _day(value: dt.date | None) -> str:
    return date_format(value, "SHORT_DATE_FORMAT") if value else "—"


def _en() -> bool:
    return (get_language() or "nb").startswith("en")


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _bucket_label(bucket) -> str:
    return bucket.label_en if _en() else bucket.label_nb


def _kind_label(kind: str) -> str:
    pair = selectors.REMINDER_KINDS.get(kind)
    if pair is None:
        return kind
    return pair[1] if _en() else pair[0]


def _errors(error: ValidationError) -> list[str]:
    return list(error.messages)


# ---------------------------------------------------------------- overview


@staff_required("collections.view")
def overview(request, tenant_slug):
    today = _today()
    bucket = request.GET.get("bucket", "")
    if bucket and bucket not in {key for key, *_ in selectors.BUCKETS}:
        bucket = ""
    aging = selectors.aging(today)
    buckets = [
        {"key": b.key, "label": _bucket_label(b), "count": b.count, "amount": b.amount, "current": b.key == bucket}
        for b in aging.buckets
    ]
    page = Paginator(selectors.overdue_invoices(today, bucket), PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    last_reminders = {
        r.invoice_id: r
        for r in Reminder.objects.filter(invoice_id__in=[i.pk for i in rows])
        .order_by("invoice_id", "-sent_on", "-step", "-id")
        .distinct("invoice_id")
        .only("id", "invoice_id", "kind", "sent_on", "pay_by", "step")
    }
    overdue = [
        {
            "invoice": i,
            "days": selectors.days_past_due(i, today),
            "last_reminder": last_reminders.get(i.pk),
            "last_reminder_kind": _kind_label(last_reminders[i.pk].kind) if i.pk in last_reminders else "",
        }
        for i in rows
    ]
    from receivables.default import at_risk
    from receivables.dunning import due_reminders

    due = due_reminders(today)
    risk = at_risk(today)
    context = {
        "today": today,
        "aging": aging,
        "buckets": buckets,
        "bucket": bucket,
        "bucket_label": next((b["label"] for b in buckets if b["current"]), ""),
        "page": page,
        "overdue": overdue,
        "query": _query_without_page(request),
        "due": [{"due": r, "kind": _kind_label(r.kind)} for r in due[:50]],
        "due_count": len(due),
        "due_total": sum((r.total_to_pay for r in due), ZERO),
        "unmatched_count": selectors.unmatched_payments().count(),
        "at_risk": [_risk_row(r, today) for r in risk],
        "awaiting_count": sum(1 for r in risk if r.case and r.case.status == DefaultStatus.AWAITING_CONFIRMATION),
        "last_import": BankImport.objects.only("id", "file_name", "imported_on", "payments").first(),
    }
    return render(request, "backoffice/receivables/overview.html", context)


def _risk_row(risk, today: dt.date) -> dict:
    """What happens to a contract at risk, in words, and on which date."""
    case = risk.case
    day = _day(risk.action_on)
    if case is None:
        if risk.action == "pause":
            what = _("The account is paused on %(day)s unless the invoice is paid.") % {"day": day}
        else:
            what = _("A notice of suspension goes out on %(day)s unless the invoice is paid.") % {"day": day}
    elif case.status == DefaultStatus.NOTICE:
        what = _("Notice sent %(sent)s: service stops on %(day)s unless paid in full.") % {
            "sent": _day(case.notice_sent_on),
            "day": day,
        }
    elif case.status == DefaultStatus.AWAITING_CONFIRMATION:
        what = _("The notice ran out on %(day)s: waiting for staff to suspend.") % {"day": day}
    elif case.status == DefaultStatus.SUSPENDED:
        what = _("Suspended since %(day)s: service comes back when the arrears are paid.") % {"day": day}
    else:
        deletion = risk.contract.deletion_due_on
        what = _("Paused since %(day)s; the customer's data is deleted on %(deletion)s unless paid.") % {
            "day": day,
            "deletion": _day(deletion),
        }
    return {
        "risk": risk,
        "what": what,
        "past": risk.action_on <= today,
        "breach": bool(case and case.material_breach_on),
    }


# ---------------------------------------------------------------- customer ledger


def _customer(pk) -> Customer:
    return get_object_or_404(Customer.objects.select_related("parent"), pk=pk)


def _entry_text(entry, reminders: dict) -> str:
    n = entry.invoice_number
    if entry.kind == "invoice":
        return _("Invoice %(n)s") % {"n": n}
    if entry.kind == "interest":
        return _("Interest invoice %(n)s") % {"n": n}
    if entry.kind == "credit_note":
        return _("Credit note %(n)s") % {"n": n}
    if entry.kind == "payment":
        return _("Payment of invoice %(n)s") % {"n": n}
    if entry.kind == "reminder":
        r = reminders.get(entry.reminder_id)
        if r is None:
            return entry.text("en" if _en() else "nb")
        text = _("%(kind)s for invoice %(n)s, pay by %(day)s") % {
            "kind": _kind_label(r.kind),
            "n": n,
            "day": _day(r.pay_by),
        }
        if r.fee:
            text += ", " + _("fee %(fee)s") % {"fee": money(r.fee)}
        return text
    if entry.kind == "hold":
        return _("Invoice %(n)s put on hold") % {"n": n}
    if entry.kind == "release":
        return _("Invoice %(n)s no longer on hold") % {"n": n}
    return entry.text("en" if _en() else "nb")


def ledger_context(request, customer: Customer, **extra) -> dict:
    today = _today()
    family = customer_family_q(customer)
    owed = selectors.outstanding(family, today)
    ledger = selectors.customer_ledger(family)
    reminders = {
        r.pk: r
        for r in Reminder.objects.filter(invoice__in=Invoice.objects.filter(family))
        .select_related("invoice")
        .defer("pdf")
        .annotate(has_pdf=HAS_PDF)
        .order_by("-sent_on", "-id")
    }
    holds = list(InvoiceHold.objects.filter(invoice__in=Invoice.objects.filter(family)).select_related("invoice"))
    active_holds = {h.invoice_id: h for h in holds if h.released_on is None}
    open_rows = list(
        selectors.open_invoices()
        .filter(family)
        .select_related("customer", "contract")
        .defer("document", "customer__registry")
        .order_by("due_date", "number", "id")
    )
    payments: dict[int, list] = defaultdict(list)
    for invoice_id, paid_on, amount in Payment.objects.filter(invoice_id__in=[i.pk for i in open_rows]).values_list(
        "invoice_id", "paid_on", "amount"
    ):
        payments[invoice_id].append((paid_on, amount))
    charged = dict(
        InterestCharge.objects.filter(late_invoice_id__in=[i.pk for i in open_rows])
        .values_list("late_invoice_id")
        .annotate(total=Sum("amount"))
    )
    policies = PolicyCache()
    lang = "en" if _en() else "nb"
    open_invoices = []
    interest_total = ZERO
    for invoice in open_rows:
        late = invoice.due_date is not None and invoice.due_date < today
        accrual = (
            interest_on(invoice, today, policies.for_invoice(invoice), payments=payments[invoice.pk]) if late else None
        )
        interest = accrual.amount if accrual else ZERO
        interest_total += interest
        open_invoices.append(
            {
                "invoice": invoice,
                "late": late,
                "days": selectors.days_past_due(invoice, today),
                "interest": interest,
                "interest_charged": charged.get(invoice.pk, ZERO),
                "interest_left": max(interest - charged.get(invoice.pk, ZERO), ZERO),
                "explanation": accrual.explain(lang) if accrual else "",
                "hold": active_holds.get(invoice.pk),
                "hold_form": HoldForm(prefix=f"hold{invoice.pk}"),
            }
        )
    entries = [
        {
            "entry": e,
            "text": _entry_text(e, reminders),
            "pdf": bool(e.reminder_id and e.reminder_id in reminders and reminders[e.reminder_id].has_pdf),
        }
        for e in ledger.entries[-LEDGER_LIMIT:]
    ]
    entries.reverse()  # newest first
    context = {
        "customer": customer,
        "today": today,
        "owed": owed,
        "ledger": ledger,
        "entries": entries,
        "truncated": len(ledger.entries) > LEDGER_LIMIT,
        "open_invoices": open_invoices,
        "interest_total": interest_total,
        "reminders": [{"reminder": r, "kind": _kind_label(r.kind)} for r in reminders.values()],
        "holds": holds,
        "release_form": ReleaseForm(),
        "cases": list(
            DefaultCase.objects.filter(customer=customer).select_related("contract", "invoice").order_by("-opened_on")
        ),
        **extra,
    }
    return context


@staff_required("collections.view")
def customer_ledger(request, tenant_slug, customer_pk):
    customer = _customer(customer_pk)
    return render(request, "backoffice/receivables/ledger.html", ledger_context(request, customer))


@staff_required("collections.manage")
@require_POST
def hold_create(request, tenant_slug, invoice_pk):
    invoice = get_object_or_404(
        Invoice.objects.filter(kind=InvoiceKind.INVOICE).select_related("customer"), pk=invoice_pk
    )
    customer = invoice.customer
    form = HoldForm(request.POST, prefix=f"hold{invoice.pk}")
    if form.is_valid():
        from receivables.dunning import invoice_hold

        try:
            invoice_hold(actor=_actor(request), invoice=invoice, reason=form.cleaned_data["reason"], on=_today())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Invoice %(n)s is on hold.") % {"n": invoice.number})
            return redirect(_url(request, "ledger", customer.pk))
    context = ledger_context(request, customer)
    for row in context["open_invoices"]:
        if row["invoice"].pk == invoice.pk:
            row["hold_form"] = form
    context["action_errors"] = [e for errors in form.errors.values() for e in errors]
    return render(request, "backoffice/receivables/ledger.html", context, status=400)


@staff_required("collections.manage")
@require_POST
def hold_release(request, tenant_slug, pk):
    hold = get_object_or_404(InvoiceHold.objects.select_related("invoice"), pk=pk)
    customer = hold.invoice.customer
    form = ReleaseForm(request.POST)
    if form.is_valid():
        try:
            from receivables.dunning import invoice_hold_release

            invoice_hold_release(actor=_actor(request), hold=hold, on=_today(), note=form.cleaned_data["note"])
        except ValidationError as exc:
            context = ledger_context(request, customer, action_errors=_errors(exc))
            return render(request, "backoffice/receivables/ledger.html", context, status=400)
        messages.success(request, _("Invoice %(n)s is no longer on hold.") % {"n": hold.invoice.number})
    return redirect(_url(request, "ledger", customer.pk))


@staff_required("collections.view")
def reminder_pdf(request, tenant_slug, pk):
    reminder = get_object_or_404(Reminder.objects.select_related("invoice"), pk=pk)
    return reminder_response(reminder)


def reminder_response(reminder: Reminder) -> HttpResponse:
    if not reminder.pdf:
        raise Http404("This reminder has no PDF")
    response = HttpResponse(bytes(reminder.pdf), content_type="application/pdf")
    name = f"purring-{reminder.invoice.number}-{reminder.step}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    if reminder.sha256:
        response["X-Content-SHA256"] = reminder.sha256
    return response


# ---------------------------------------------------------------- bank files


def _imports_page(request):
    return Paginator(BankImport.objects.all(), PER_PAGE).get_page(request.GET.get("page"))


@staff_required("collections.view")
@require_http_methods(["GET", "POST"])
def bank_import(request, tenant_slug):
    if request.method == "POST":
        return _bank_import_post(request)
    context = {"form": BankFileForm(), "page": _imports_page(request), "query": _query_without_page(request)}
    return render(request, "backoffice/receivables/bank_import.html", context)


@staff_required("collections.manage")
def _bank_import_post(request):
    form = BankFileForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = bank.bank_file_import(
                actor=_actor(request), data=upload.read(), file_name=upload.name, on=_today()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            done = result.bank_import
            if result.already_imported:
                messages.warning(
                    request,
                    _("%(name)s was imported before, on %(day)s (as %(first)s). Nothing was booked now.")
                    % {"name": upload.name, "day": _day(done.imported_on), "first": done.file_name},
                )
            else:
                messages.success(
                    request,
                    _("%(name)s imported: %(n)s payments, %(m)s matched, %(u)s to resolve.")
                    % {"name": done.file_name, "n": done.payments, "m": done.matched, "u": done.unmatched},
                )
            return redirect(_url(request, "bank_detail", done.pk))
    context = {"form": form, "page": _imports_page(request), "query": ""}
    return render(request, "backoffice/receivables/bank_import.html", context, status=400)


@staff_required("collections.view")
def bank_import_detail(request, tenant_slug, pk):
    done = get_object_or_404(BankImport.objects.all(), pk=pk)
    payments = IncomingPayment.objects.filter(bank_import=done).select_related("invoice").order_by("source_line", "id")
    page = Paginator(payments, 50).get_page(request.GET.get("page"))
    counts = dict(payments.order_by().values_list("status").annotate(n=Count("id")))
    context = {
        "import": done,
        "page": page,
        "query": "",
        "resolved": counts.get(IncomingPaymentStatus.RESOLVED_CREDIT, 0)
        + counts.get(IncomingPaymentStatus.RESOLVED_REFUND, 0),
        "still_unmatched": counts.get(IncomingPaymentStatus.UNMATCHED, 0),
    }
    return render(request, "backoffice/receivables/bank_import_detail.html", context)


# ---------------------------------------------------------------- the unmatched queue


def _queue_context(request, forms_for: dict | None = None, **extra) -> dict:
    page = Paginator(selectors.unmatched_payments(), PER_PAGE).get_page(request.GET.get("page"))
    forms_for = forms_for or {}
    rows = []
    for incoming in page.object_list:
        match_form, resolve_form = forms_for.get(incoming.pk, (None, None))
        rows.append(
            {
                "incoming": incoming,
                "surplus": incoming.status != IncomingPaymentStatus.UNMATCHED,
                "match_form": match_form or MatchForm(prefix=f"m{incoming.pk}"),
                "resolve_form": resolve_form or ResolveForm(prefix=f"r{incoming.pk}"),
            }
        )
    total = selectors.unmatched_payments().aggregate(n=Count("id"))["n"]
    return {"page": page, "rows": rows, "total": total, "query": _query_without_page(request), **extra}


@staff_required("collections.view")
def unmatched(request, tenant_slug):
    return render(request, "backoffice/receivables/unmatched.html", _queue_context(request))


def _incoming(pk) -> IncomingPayment:
    return get_object_or_404(IncomingPayment.objects.select_related("bank_import", "invoice"), pk=pk)


@staff_required("collections.manage")
@require_POST
def incoming_match(request, tenant_slug, pk):
    incoming = _incoming(pk)
    form = MatchForm(request.POST, prefix=f"m{incoming.pk}")
    if form.is_valid():
        invoice = (
            Invoice.objects.filter(kind=InvoiceKind.INVOICE, number=form.cleaned_data["invoice_number"])
            .exclude(number__isnull=True)
            .first()
        )
        if invoice is None:
            form.add_error("invoice_number", _("There is no issued invoice with that number."))
        else:
            try:
                bank.incoming_payment_match(
                    actor=_actor(request),
                    incoming=incoming,
                    invoice=invoice,
                    on=_today(),
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(amount)s booked on invoice %(n)s (%(customer)s).")
                    % {
                        "amount": money(incoming.amount, incoming.currency),
                        "n": invoice.number,
                        "customer": invoice.customer.name,
                    },
                )
                return redirect(_url(request, "unmatched"))
    context = _queue_context(request, {incoming.pk: (form, None)}, failed=incoming.pk)
    return render(request, "backoffice/receivables/unmatched.html", context, status=400)


@staff_required("collections.manage")
@require_POST
def incoming_resolve(request, tenant_slug, pk):
    incoming = _incoming(pk)
    form = ResolveForm(request.POST, prefix=f"r{incoming.pk}")
    if form.is_valid():
        try:
            bank.incoming_payment_resolve(
                actor=_actor(request),
                incoming=incoming,
                how=form.cleaned_data["how"],
                note=form.cleaned_data["note"],
                on=_today(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if form.cleaned_data["how"] == "refund":
                text = _("%(amount)s from %(payer)s marked as refunded.")
            else:
                text = _("%(amount)s from %(payer)s kept as credit on account.")
            messages.success(
                request,
                text % {"amount": money(incoming.amount, incoming.currency), "payer": incoming.payer_name or "—"},
            )
            return redirect(_url(request, "unmatched"))
    context = _queue_context(request, {incoming.pk: (None, form)}, failed=incoming.pk)
    return render(request, "backoffice/receivables/unmatched.html", context, status=400)


# ---------------------------------------------------------------- payment-default cases

STATUS_BADGES = {
    DefaultStatus.NOTICE: "badge--warn",
    DefaultStatus.AWAITING_CONFIRMATION: "badge--danger",
    DefaultStatus.SUSPENDED: "badge--danger",
    DefaultStatus.PAUSED: "badge--warn",
    DefaultStatus.CLOSED: "badge--neutral",
}


def _cases_context(request, forms_for: dict | None = None, **extra) -> dict:
    show = request.GET.get("show", "open")
    cases = DefaultCase.objects.select_related("contract", "customer", "invoice").order_by("-opened_on", "-id")
    if show != "all":
        cases = cases.exclude(status=DefaultStatus.CLOSED)
    page = Paginator(cases, PER_PAGE).get_page(request.GET.get("page"))
    forms_for = forms_for or {}
    rows = [
        {
            "case": case,
            "badge": STATUS_BADGES.get(case.status, "badge--neutral"),
            "close_form": forms_for.get(case.pk) or CloseCaseForm(prefix=f"c{case.pk}"),
        }
        for case in page.object_list
    ]
    return {"page": page, "rows": rows, "show": show, "query": _query_without_page(request), **extra}


@staff_required("collections.view")
def default_cases(request, tenant_slug):
    return render(request, "backoffice/receivables/defaults.html", _cases_context(request))


@staff_required("collections.manage")
@require_POST
def default_suspend(request, tenant_slug, pk):
    case = get_object_or_404(DefaultCase.objects.select_related("contract", "customer"), pk=pk)
    from receivables.default import default_case_suspend

    try:
        default_case_suspend(actor=_actor(request), case=case, on=_today())
    except ValidationError as exc:
        context = _cases_context(request, action_errors=_errors(exc))
        return render(request, "backoffice/receivables/defaults.html", context, status=400)
    messages.success(
        request,
        _("%(customer)s's contract %(ref)s is suspended.")
        % {"customer": case.customer.name, "ref": case.contract.reference},
    )
    return redirect(_url(request, "defaults"))


@staff_required("collections.manage")
@require_POST
def default_close(request, tenant_slug, pk):
    case = get_object_or_404(DefaultCase.objects.select_related("contract", "customer"), pk=pk)
    form = CloseCaseForm(request.POST, prefix=f"c{case.pk}")
    if form.is_valid():
        from receivables.default import default_case_close

        try:
            default_case_close(actor=_actor(request), case=case, on=_today(), reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("The case for %(customer)s (%(ref)s) is closed.")
                % {"customer": case.customer.name, "ref": case.contract.reference},
            )
            return redirect(_url(request, "defaults"))
    context = _cases_context(request, {case.pk: form}, failed=case.pk)
    return render(request, "backoffice/receivables/defaults.html", context, status=400)


@staff_required("collections.policy")
@require_POST
def contract_policy(request, tenant_slug, contract_pk):
    """The per-contract switch: this contract's own collection rules, or back to its plan's."""
    from contracts.models import Contract
    from receivables.models import CollectionPolicy
    from receivables.services import contract_collection_policy_set

    contract = get_object_or_404(Contract, pk=contract_pk)
    raw = (request.POST.get("policy") or "").strip()
    policy = None
    if raw:
        policy = CollectionPolicy.objects.filter(pk=int(raw) if raw.isdigit() else 0).first()
        if policy is None:
            messages.error(request, _("Choose one of the collection rules in the list."))
            return redirect("contracts_bo:detail", tenant_slug, contract.pk)
    contract_collection_policy_set(actor=_actor(request), contract=contract, policy=policy)
    messages.success(request, _("The contract's collection rules are saved."))
    return redirect("contracts_bo:detail", tenant_slug, contract.pk)
