"""Invoices, credit notes, payments, the billing run and time entries in the back-office: thin views over
``billing.services`` (every change), ``billing.run`` (the preview) and ``billing.selectors`` (reads).

Objects are looked up through the tenant-scoped managers, so another tenant's id is "not found" (404).
Every form: bad input → 400 with a message per field, nothing saved.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing import run, selectors, services
from billing.files import invoice_file
from billing.forms import (
    BillingRunForm,
    BillingSettingsForm,
    CreditForm,
    InvoiceFilterForm,
    InvoiceLineRows,
    ManualInvoiceForm,
    PaymentForm,
    TimeEntryFilterForm,
    TimeEntryForm,
)
from billing.models import PAYABLE, Delivery, Invoice, InvoiceKind, InvoiceStatus, TimeEntry
from billing.numbering import settings_for_tenant
from billing.templatetags.billing_ui import invoice_label
from pricing.engine.money import ZERO
from pricing.templatetags.pricing_ui import money
from tenants.audit import Actor
from tenants.decorators import forbidden, staff_required
from tenants.forms import apply_errors
from tenants.permissions import has_permission

PER_PAGE = 25


def _url(request, name: str, *args) -> str:
    return reverse(f"billing_bo:{name}", args=[request.tenant.slug, *args])


def _actor(request) -> Actor:
    return Actor.for_user(request.user)


def _can(request, permission: str) -> bool:
    return has_permission(request.membership.role, permission)


def _today() -> dt.date:
    return timezone.localdate()


def _invoice(pk) -> Invoice:
    return get_object_or_404(selectors.invoice_details(), pk=pk)


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# ---------------------------------------------------------------- list


@staff_required("invoice.view")
def invoice_list(request, tenant_slug):
    form = InvoiceFilterForm(request.GET or None)
    queryset = selectors.filter_invoices(selectors.invoices(), **form.filters(), today=_today())
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    context = {"filter_form": form, "page": page, "query": _query_without_page(request), "today": _today()}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, "backoffice/billing/_invoice_results.html", context)
    return render(request, "backoffice/billing/invoice_list.html", context)


# ---------------------------------------------------------------- detail and downloads


def detail_context(invoice: Invoice, **extra) -> dict:
    document = services.invoice_document(invoice)
    files = {(f.format, f.language): f for f in invoice.files.all()}
    payable = invoice.kind == InvoiceKind.INVOICE and invoice.status in PAYABLE
    return {
        "invoice": invoice,
        "document": document,
        "lines": list(invoice.lines.all()),
        "payments": list(invoice.payments.all()),
        "credit_notes": list(invoice.credit_notes.all()),
        "deliveries": list(invoice.deliveries.all()),
        "files": {
            "pdf_nb": files.get(("pdf", "nb")),
            "pdf_en": files.get(("pdf", "en")),
            "ehf": files.get(("ehf", "")),
        },
        "payable": payable,
        "creditable": invoice.kind == InvoiceKind.INVOICE
        and invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.CREDITED),
        "sendable": invoice.status != InvoiceStatus.DRAFT,
        "payment_form": extra.pop("payment_form", None) or PaymentForm(initial={"paid_on": _today()}),
        "today": _today(),
        **extra,
    }


def _detail(request, invoice: Invoice, status: int = 200, **extra):
    return render(request, "backoffice/billing/invoice_detail.html", detail_context(invoice, **extra), status=status)


@staff_required("invoice.view")
def invoice_detail(request, tenant_slug, pk):
    return _detail(request, _invoice(pk))


@staff_required("invoice.view")
def invoice_download(request, tenant_slug, pk, fmt, language="nb"):
    invoice = get_object_or_404(Invoice.objects.select_related("customer", "credited_invoice", "contract"), pk=pk)
    try:
        rendered = invoice_file(invoice=invoice, fmt=fmt, language=language)
    except ValidationError as exc:
        return _detail(request, _invoice(pk), status=400, action_errors=exc.messages)
    response = HttpResponse(rendered.content, content_type=rendered.content_type)
    response["Content-Disposition"] = f'attachment; filename="{rendered.filename}"'
    response["X-Content-SHA256"] = rendered.sha256
    return response


# ---------------------------------------------------------------- actions


def _action_error(request, pk, error: ValidationError):
    return _detail(request, _invoice(pk), status=400, action_errors=error.messages)


@staff_required("invoice.edit")
@require_POST
def invoice_issue(request, tenant_slug, pk):
    invoice = _invoice(pk)
    try:
        invoice = services.invoice_issue(actor=_actor(request), invoice=invoice, on=_today())
    except ValidationError as exc:
        return _action_error(request, pk, exc)
    messages.success(
        request,
        _("Invoice %(number)s issued, due %(due)s.")
        % {"number": invoice.number, "due": date_format(invoice.due_date, "SHORT_DATE_FORMAT")},
    )
    return redirect(_url(request, "detail", invoice.pk))


@staff_required("invoice.edit")
@require_http_methods(["GET", "POST"])
def invoice_delete(request, tenant_slug, pk):
    """GET: confirm; POST: delete the draft (an issued invoice is refused: it is credited instead)."""
    invoice = _invoice(pk)
    error = ""
    if request.method == "POST":
        try:
            services.invoice_draft_delete(actor=_actor(request), invoice=invoice)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("The draft is deleted."))
            return redirect(_url(request, "list"))
    context = {
        "object": invoice,
        "cancel_url": _url(request, "detail", invoice.pk),
        "title": _("Delete the draft invoice to %(name)s?") % {"name": invoice.customer.name},
        "error": error,
    }
    return render(request, "backoffice/confirm_delete.html", context, status=400 if error else 200)


@staff_required("invoice.edit")
@require_http_methods(["GET", "POST"])
def invoice_credit(request, tenant_slug, pk):
    """GET: the form; POST "preview": what the credit note will be; POST "confirm": the credit note."""
    invoice = _invoice(pk)
    form = CreditForm(request.POST or None, initial={"mode": "full"})
    context = {"invoice": invoice, "preview": None}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            amount = form.service_amount()
            if request.POST.get("action") == "confirm":
                try:
                    note = services.credit_note_create(
                        actor=_actor(request),
                        invoice=invoice,
                        on=_today(),
                        reason=form.cleaned_data["reason"],
                        net_amount=amount,
                    )
                except ValidationError as exc:
                    apply_errors(form, exc)
                else:
                    messages.success(
                        request,
                        _("Credit note %(note)s issued for invoice %(number)s: %(total)s incl. VAT.")
                        % {"note": note.number, "number": invoice.number, "total": money(note.total, note.currency)},
                    )
                    return redirect(_url(request, "detail", note.pk))
            else:
                try:
                    context["preview"] = services.credit_note_preview(invoice=invoice, net_amount=amount)
                except ValidationError as exc:
                    apply_errors(form, exc)
        if form.errors:
            status = 400
    context["form"] = form
    return render(request, "backoffice/billing/credit.html", context, status=status)


@staff_required("payment.register")
@require_POST
def payment_register(request, tenant_slug, pk):
    invoice = _invoice(pk)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            payment = services.payment_register(
                actor=_actor(request),
                invoice=invoice,
                amount=form.cleaned_data["amount"],
                paid_on=form.cleaned_data["paid_on"],
                reference=form.cleaned_data["reference"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "invoice" in exc.error_dict:
                return _action_error(request, pk, exc)
            else:
                apply_errors(form, exc)
        else:
            messages.success(
                request, _("Payment of %(amount)s registered.") % {"amount": money(payment.amount, invoice.currency)}
            )
            return redirect(_url(request, "detail", invoice.pk))
    return _detail(request, _invoice(pk), status=400, payment_form=form, payment_open=True)


@staff_required("delivery.manage")
@require_POST
def invoice_send(request, tenant_slug, pk):
    from billing.delivery import invoice_send as send  # written alongside; imported here so this module loads

    invoice = _invoice(pk)
    try:
        delivery = send(actor=_actor(request), invoice=invoice)
    except ValidationError as exc:
        return _action_error(request, pk, exc)
    if delivery.status == "sent":
        messages.success(
            request, _("%(what)s sent to %(to)s.") % {"what": invoice_label(invoice), "to": delivery.recipient}
        )
    else:
        messages.warning(
            request,
            _("%(what)s is queued for %(to)s: %(error)s")
            % {"what": invoice_label(invoice), "to": delivery.recipient, "error": delivery.last_error or "—"},
        )
    return redirect(_url(request, "detail", invoice.pk))


@staff_required("delivery.manage")
@require_POST
def delivery_retry(request, tenant_slug, pk, delivery_pk):
    from billing.delivery import delivery_retry as retry

    invoice = _invoice(pk)
    delivery = get_object_or_404(Delivery, pk=delivery_pk, invoice=invoice)
    try:
        delivery = retry(actor=_actor(request), delivery=delivery)
    except ValidationError as exc:
        return _action_error(request, pk, exc)
    if delivery.status == "sent":
        messages.success(request, _("Delivered to %(to)s.") % {"to": delivery.recipient})
    else:
        messages.warning(request, _("Still not delivered: %(error)s") % {"error": delivery.last_error or "—"})
    return redirect(_url(request, "detail", invoice.pk))


# ---------------------------------------------------------------- a manual invoice (a draft)


@staff_required("invoice.edit")
@require_http_methods(["GET", "POST"])
def invoice_create(request, tenant_slug):
    initial = {}
    if (request.GET.get("customer") or "").isdigit():
        initial["customer"] = request.GET["customer"]
    if (request.GET.get("contract") or "").isdigit():
        initial["contract"] = request.GET["contract"]
    if request.method != "POST":
        form, rows = ManualInvoiceForm(initial=initial), InvoiceLineRows()
        return render(request, "backoffice/billing/invoice_form.html", {"form": form, "rows": rows})
    rows = InvoiceLineRows(request.POST)
    action = request.POST.get("action", "save")
    if action != "save" and rows.apply(action):
        # Another or one row less: show what was typed without judging it yet.
        form = ManualInvoiceForm(initial={name: request.POST.get(name, "") for name in ManualInvoiceForm.base_fields})
        return render(request, "backoffice/billing/invoice_form.html", {"form": form, "rows": rows, "focus": action})
    form = ManualInvoiceForm(request.POST)
    lines, line_rows = rows.service_lines()
    if form.is_valid():
        try:
            invoice = services.invoice_manual_draft_create(
                actor=_actor(request),
                customer=form.cleaned_data["customer"],
                contract=form.cleaned_data["contract"],
                lines=lines,
                buyer_reference=form.cleaned_data["buyer_reference"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _line_errors(form, rows, line_rows, exc)
        else:
            messages.success(request, _("Draft saved. Check it and issue it."))
            return redirect(_url(request, "detail", invoice.pk))
    return render(request, "backoffice/billing/invoice_form.html", {"form": form, "rows": rows}, status=400)


def _line_errors(form, rows: InvoiceLineRows, line_rows: list[int], error: ValidationError) -> None:
    """``lines[i].field`` errors on the UI row they name, ``lines`` above the rows, the rest on the form."""
    rest = {}
    for key, msgs in error.message_dict.items():
        if key.startswith("lines[") and "]" in key:
            index = key[len("lines[") : key.index("]")]
            if index.isdigit() and 0 < int(index) <= len(line_rows):
                rows.rows[line_rows[int(index) - 1]].errors.extend(msgs)
                continue
        if key in ("lines", "line"):
            rows.errors.extend(msgs)
            continue
        rest[key] = msgs
    if rest:
        apply_errors(form, ValidationError(rest))


# ---------------------------------------------------------------- the billing run


@staff_required("invoice.view")
@require_http_methods(["GET", "POST"])
def billing_run(request, tenant_slug):
    """GET: the date and the past runs; POST "preview": what would be invoiced (writes nothing);
    POST "start" (invoice.edit): the Celery task for this tenant (eager without a broker)."""
    form = BillingRunForm(request.POST or None, initial={"as_of": _today()})
    context = {"preview": None, "started": None}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "preview")
        if action == "start" and not _can(request, "invoice.edit"):
            return forbidden(request)
        if form.is_valid():
            as_of = form.cleaned_data["as_of"]
            if action == "start":
                from billing.tasks import billing_run as task

                result = task.apply_async(kwargs={"as_of": as_of.isoformat(), "tenant_slug": request.tenant.slug})
                if result.ready():
                    counts = (result.get() or {}).get(request.tenant.slug, {})
                    messages.success(
                        request,
                        _("Billing run for %(date)s done: %(contracts)s contract(s), %(invoices)s invoice(s) issued.")
                        % {
                            "date": as_of,
                            "contracts": counts.get("contracts", 0),
                            "invoices": counts.get("invoices", 0),
                        },
                    )
                else:
                    messages.info(request, _("Billing run for %(date)s started; refresh to see it.") % {"date": as_of})
                return redirect(_url(request, "run") + f"?as_of={as_of.isoformat()}")
            context["preview"] = _preview(as_of)
        else:
            status = 400
    elif request.GET.get("as_of"):
        form = BillingRunForm(initial={"as_of": request.GET["as_of"]})
    runs = list(selectors.billing_runs()[:20])
    issued = {}
    if runs:
        dates = [r.as_of for r in runs]
        issued = dict(
            Invoice.objects.filter(billing_run_date__in=dates)
            .values_list("billing_run_date")
            .annotate(total=Sum("total"))
            .values_list("billing_run_date", "total")
        )
    for r in runs:
        r.total_issued = issued.get(r.as_of)
    context.update(form=form, runs=runs)
    return render(request, "backoffice/billing/run.html", context, status=status)


def _preview(as_of: dt.date) -> dict:
    result = run.preview(as_of)
    proposals = sorted(result.proposals, key=lambda p: (p.customer_name, p.contract_reference, p.period.start))
    return {
        "as_of": as_of,
        "contracts": result.contracts,
        "proposals": proposals,
        "problems": result.problems,
        "net": sum((p.net for p in proposals), ZERO),
        "vat": sum((p.vat for p in proposals), ZERO),
        "total": sum((p.total for p in proposals), ZERO),
    }


# ---------------------------------------------------------------- time entries


@staff_required("invoice.view")
@require_http_methods(["GET", "POST"])
def time_entries(request, tenant_slug):
    filter_form = TimeEntryFilterForm(request.GET or None)
    entries = selectors.time_entries().order_by("-worked_on", "-id")
    if filter_form.is_valid():
        if filter_form.cleaned_data["contract"]:
            entries = entries.filter(contract=filter_form.cleaned_data["contract"])
        if filter_form.cleaned_data["billed"] == "yes":
            entries = entries.filter(invoice__isnull=False)
        elif filter_form.cleaned_data["billed"] == "no":
            entries = entries.filter(invoice__isnull=True)
    form = None
    status = 200
    if request.method == "POST":
        if not _can(request, "time.record"):
            return forbidden(request)
        form = TimeEntryForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry = services.time_entry_create(
                    actor=_actor(request),
                    contract=data["contract"],
                    service=data["service"],
                    worked_on=data["worked_on"],
                    description=data["description"],
                    hours=data["hours"] or 0,
                    travel_hours=data["travel_hours"] or 0,
                    expenses=data["expenses"] or 0,
                    expenses_description=data["expenses_description"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Time recorded on %(ref)s; it is billed on the next invoice.")
                    % {"ref": entry.contract.reference},
                )
                return redirect(_url(request, "time"))
        status = 400
    elif _can(request, "time.record"):
        initial = {"worked_on": _today()}
        if (request.GET.get("contract") or "").isdigit():
            initial["contract"] = request.GET["contract"]
        form = TimeEntryForm(initial=initial)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    context = {"filter_form": filter_form, "form": form, "page": page, "query": _query_without_page(request)}
    return render(request, "backoffice/billing/time_entries.html", context, status=status)


@staff_required("time.record")
@require_POST
def time_entry_delete(request, tenant_slug, pk):
    entry = get_object_or_404(TimeEntry, pk=pk)
    try:
        services.time_entry_delete(actor=_actor(request), entry=entry)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_url(request, "time"))
    messages.success(request, _("Time entry deleted."))
    return redirect(_url(request, "time"))


# ---------------------------------------------------------------- the tenant's invoicing choices


@staff_required("invoice.view")
@require_http_methods(["GET", "POST"])
def billing_settings(request, tenant_slug):
    current = settings_for_tenant()
    credit_notes_issued = Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exclude(status=InvoiceStatus.DRAFT)
    initial = {"credit_notes_own_series": current.credit_notes_own_series, "kid_method": current.kid_method}
    status = 200
    if request.method == "POST":
        if not _can(request, "tenant.edit"):
            return forbidden(request)
        form = BillingSettingsForm(request.POST, initial=initial)
        if form.is_valid():
            try:
                services.billing_settings_update(
                    actor=_actor(request),
                    credit_notes_own_series=form.cleaned_data["credit_notes_own_series"],
                    kid_method=form.cleaned_data["kid_method"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Invoicing settings saved."))
                return redirect(_url(request, "settings"))
        status = 400
    else:
        form = BillingSettingsForm(initial=initial)
    context = {
        "form": form,
        "payment_terms_days": request.tenant.payment_terms_days,
        "series_locked": credit_notes_issued.exists(),
    }
    return render(request, "backoffice/billing/settings.html", context, status=status)
