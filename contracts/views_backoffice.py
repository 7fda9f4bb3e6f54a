"""Contracts in the back-office: thin views over ``contracts.services`` (every change) and the ORM (reads).

Objects are looked up through the tenant-scoped managers, so another tenant's id is "not found" (404).
Every form: bad input → 400 with a message per field, nothing saved.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from contracts import documents, lifecycle, services
from contracts.forms import (
    AmendForm,
    ContractCreateForm,
    ContractFilterForm,
    ContractFromQuoteForm,
    ConvertForm,
    DpaForm,
    NoticeForm,
    PaperSignatureForm,
    PricedOnForm,
)
from contracts.models import Contract, Message
from tenants.audit import Actor
from tenants.decorators import staff_required
from tenants.forms import apply_errors
from tenants.models import Customer
from tenants.validation import normalise_org_number

PER_PAGE = 25
ENDS_SOON_DAYS = 90
NOTICE_SOON_DAYS = 60


def _url(request, name: str, *args) -> str:
    return reverse(f"contracts_bo:{name}", args=[request.tenant.slug, *args])


def _actor(request) -> Actor:
    return Actor.for_user(request.user)


def _today() -> dt.date:
    return timezone.localdate()


def _contract(pk) -> Contract:
    return get_object_or_404(Contract.objects.select_related("customer", "customer__parent", "plan", "product"), pk=pk)


def _render(request, template: str, context: dict, form=None, status: int | None = None):
    if status is None:
        status = 400 if form is not None and form.is_bound and form.errors else 200
    return render(request, template, {**context, "form": form}, status=status)


# ---------------------------------------------------------------- list and detail


def _filtered(form: ContractFilterForm):
    contracts = Contract.objects.select_related("customer", "product").order_by("-created_at", "-id")
    if not form.is_valid():
        return contracts
    q = form.cleaned_data["q"].strip()
    if q:
        condition = Q(reference__icontains=q) | Q(customer__name__icontains=q)
        digits = normalise_org_number(q)
        if digits.isdigit():
            condition |= Q(customer__org_number__contains=digits)
        contracts = contracts.filter(condition)
    if form.cleaned_data["state"]:
        contracts = contracts.filter(state=form.cleaned_data["state"])
    today = _today()
    if form.cleaned_data["soon"] == "ends":
        horizon = today + dt.timedelta(days=ENDS_SOON_DAYS)
        contracts = contracts.filter(
            Q(state=lifecycle.NOTICE_GIVEN, ends_on__gte=today, ends_on__lte=horizon)
            | Q(state=lifecycle.TRIAL, trial_ends_on__gte=today, trial_ends_on__lte=horizon)
            | Q(
                state__in=[lifecycle.ACTIVE, lifecycle.ACCEPTANCE],
                renewal_term_months__isnull=True,
                term_end__lte=horizon,
            )
        ).order_by("ends_on", "term_end")
    elif form.cleaned_data["soon"] == "notice":
        horizon = today + dt.timedelta(days=NOTICE_SOON_DAYS)
        contracts = contracts.filter(
            state__in=[lifecycle.ACTIVE, lifecycle.ACCEPTANCE], notice_deadline__gte=today, notice_deadline__lte=horizon
        ).order_by("notice_deadline")
    return contracts


@staff_required("contract.view")
def contract_list(request, tenant_slug):
    form = ContractFilterForm(request.GET or None)
    page = Paginator(_filtered(form), PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter_form": form, "page": page, "query": query.urlencode(), "today": _today()}
    return render(request, "backoffice/contracts/list.html", context)


def detail_context(contract: Contract) -> dict:
    priced_rows = list(contract.priced_on.all().order_by("-effective_from", "-id"))
    current = documents.current_priced_on(contract, _today()) or (priced_rows[-1] if priced_rows else None)
    controller = services.controller_of(contract.customer)
    return {
        "contract": contract,
        "allowed": set(lifecycle.allowed_events(contract.state)),
        "checklist": services.onboarding_checklist(contract),
        "terms": documents.describe_terms(contract, contract.tenant.name),
        "history": priced_rows,
        "current_rows": documents.priced_on_rows(current),
        "price": documents.price_for(contract, current),
        "signature": contract.signatures.first(),
        "notices": contract.notices.all(),
        "events": contract.events.all(),
        "messages_list": contract.messages.all()[:50],
        "document": documents.latest_document(contract),
        "controller": controller,
        "dpa": controller.dpas.first() if controller else None,
        **_collection_context(contract),
    }


def _collection_context(contract: Contract) -> dict:
    """The collection rules that apply to the contract (its own, its plan's or the tenant's) and the choices."""
    from receivables.policies import PolicyCache

    cache = PolicyCache()
    return {
        "collection_policy": cache.for_contract(contract),
        "collection_policy_own": contract.collection_policy_id is not None,
        "collection_policies": sorted(cache.by_id.values(), key=lambda p: (p.name, p.pk)),
    }


@staff_required("contract.view")
def contract_detail(request, tenant_slug, pk):
    contract = _contract(pk)
    return render(request, "backoffice/contracts/detail.html", detail_context(contract))


@staff_required("contract.view")
def contract_pdf(request, tenant_slug, pk):
    """The stored document (the one sent for signature), or a fresh one rendered and stored now."""
    contract = _contract(pk)
    document = documents.latest_document(contract)
    if document is None or request.GET.get("fresh") == "1":
        document = documents.store_contract_document(contract)
    response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{contract.reference}.pdf"'
    response["X-Content-SHA256"] = document.sha256
    return response


# ---------------------------------------------------------------- create


@staff_required("contract.edit")
@require_http_methods(["GET", "POST"])
def contract_create(request, tenant_slug):
    form = ContractCreateForm(request.POST or None, initial={"interval": "year"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            contract = services.contract_create(
                actor=_actor(request),
                customer=data["customer"],
                plan=data["plan"],
                interval=data["interval"],
                priced_on=form.priced_on(),
                terms_data=form.terms_data(),
                on=_today(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Contract %(ref)s created as a draft.") % {"ref": contract.reference})
            return redirect(_url(request, "detail", contract.pk))
    return _render(request, "backoffice/contracts/create.html", {"mode": "scratch"}, form)


@staff_required("contract.edit")
@require_http_methods(["GET", "POST"])
def contract_from_quote(request, tenant_slug):
    initial = {}
    if (request.GET.get("quote") or "").isdigit():
        initial["quote"] = request.GET["quote"]
    form = ContractFromQuoteForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_from_quote(
                actor=_actor(request), quote=form.cleaned_data["quote"], terms_data=form.terms_data(), on=_today()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Contract %(ref)s created from the quote.") % {"ref": contract.reference})
            return redirect(_url(request, "detail", contract.pk))
    return _render(request, "backoffice/contracts/create.html", {"mode": "quote"}, form)


# ---------------------------------------------------------------- signing and the DPA


def _action_error(request, contract: Contract, error: ValidationError):
    context = detail_context(contract)
    context["action_errors"] = error.messages
    return render(request, "backoffice/contracts/detail.html", context, status=400)


@staff_required("contract.edit")
@require_POST
def contract_send(request, tenant_slug, pk):
    contract = _contract(pk)
    try:
        contract = services.contract_send(actor=_actor(request), contract=contract, on=_today())
    except ValidationError as exc:
        return _action_error(request, contract, exc)
    document = documents.store_contract_document(contract)
    messages.success(
        request,
        _("Contract %(ref)s sent for signature; the customer can sign it in the portal (document %(sha)s…).")
        % {"ref": contract.reference, "sha": document.sha256[:12]},
    )
    return redirect(_url(request, "detail", contract.pk))


@staff_required("contract.edit")
@require_http_methods(["GET", "POST"])
def contract_sign_paper(request, tenant_slug, pk):
    contract = _contract(pk)
    form = PaperSignatureForm(request.POST or None, request.FILES or None, initial={"received_on": _today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        document = documents.latest_document(contract) or documents.store_contract_document(contract)
        signed_at = timezone.make_aware(dt.datetime.combine(data["signed_on"], dt.time(12, 0)))
        try:
            contract = services.contract_sign(
                actor=_actor(request),
                contract=contract,
                name=data["name"],
                title=data["title"],
                signed_at=signed_at,
                received_on=data["received_on"],
                document_sha256=document.sha256,
                method="paper",
                paper_copy=data["paper_copy"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("Signed copy recorded: %(state)s.") % {"state": documents.state_label(contract.state)}
            )
            return redirect(_url(request, "detail", contract.pk))
    return _render(request, "backoffice/contracts/sign_paper.html", {"contract": contract}, form)


@staff_required("contract.edit")
@require_http_methods(["GET", "POST"])
def dpa_record(request, tenant_slug, pk):
    """Record the DPA signed by the contract customer's controller (the school owner)."""
    contract = _contract(pk)
    controller = services.controller_of(contract.customer)
    form = DpaForm(request.POST or None, initial={"signed_on": _today()})
    if request.method == "POST" and form.is_valid():
        try:
            if controller is None:
                raise ValidationError(
                    {
                        "signer_name": _("%(name)s has no kommune or fylkeskommune as owner to sign the DPA.")
                        % {"name": contract.customer.name}
                    }
                )
            services.dpa_sign(actor=_actor(request), controller=controller, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Data processing agreement recorded for %(name)s.") % {"name": controller.name})
            return redirect(_url(request, "detail", contract.pk))
    return _render(request, "backoffice/contracts/dpa.html", {"contract": contract, "controller": controller}, form)


@staff_required("onboarding.tick")
@require_POST
def onboarding_tick(request, tenant_slug, pk):
    contract = _contract(pk)
    try:
        services.onboarding_tick(
            actor=_actor(request), contract=contract, code=request.POST.get("code", ""), on=_today()
        )
    except ValidationError as exc:
        return _action_error(request, contract, exc)
    messages.success(request, _("Ticked: %(step)s.") % {"step": documents.step_label(request.POST.get("code"))})
    return redirect(_url(request, "detail", contract.pk))


# ---------------------------------------------------------------- notice (with a preview step)


def notice_flow(request, contract: Contract, *, given_by: str, received_on_from_form: bool):
    """Shared by both faces: GET → form; POST "preview" → the effect; POST "confirm" → the notice.

    Returns (status, context, notice or None).
    """
    form = NoticeForm(request.POST or None, initial={"received_on": _today()}) if received_on_from_form else None
    context = {"contract": contract, "notice_form": form, "preview": None}
    if request.method != "POST":
        try:
            services.notice_preview(contract, _today())
        except ValidationError as exc:
            context["blocked"] = exc.messages
        return 200, context, None
    if form is not None and not form.is_valid():
        return 400, context, None
    received_on = form.cleaned_data["received_on"] if form is not None else _today()
    try:
        preview = services.notice_preview(contract, received_on)
    except ValidationError as exc:
        context["blocked"] = exc.messages
        return 400, context, None
    context["preview"] = preview
    if request.POST.get("action") != "confirm":
        return 200, context, None
    try:
        notice = services.notice_give(
            actor=Actor.for_user(request.user), contract=contract, given_by=given_by, received_on=received_on
        )
    except ValidationError as exc:
        context["blocked"] = exc.messages
        return 400, context, None
    return 200, context, notice


@staff_required("contract.notice")
@require_http_methods(["GET", "POST"])
def contract_notice(request, tenant_slug, pk):
    contract = _contract(pk)
    status, context, notice = notice_flow(request, contract, given_by="vendor", received_on_from_form=True)
    if notice is not None:
        messages.success(
            request,
            _("Notice recorded. %(effect)s")
            % {"effect": notice_sentence(notice.ends_on, notice.late, notice.deadline)},
        )
        return redirect(_url(request, "detail", contract.pk))
    return render(request, "backoffice/contracts/notice.html", context, status=status)


def notice_sentence(ends_on: dt.date, late: bool, deadline: dt.date) -> str:
    last = documents.show_last_day(ends_on)
    if late:
        return _(
            "The notice is late: the last day for notice was %(deadline)s, so it takes effect at the end of the "
            "next period. The agreement runs to and including %(last)s."
        ) % {"deadline": documents.show_date(deadline), "last": last}
    return _("The agreement runs to and including %(last)s.") % {"last": last}


# ---------------------------------------------------------------- trials


@staff_required("trial.manage")
@require_POST
def trial_extend(request, tenant_slug, pk):
    contract = _contract(pk)
    try:
        contract = services.trial_extend(actor=_actor(request), contract=contract, on=_today())
    except ValidationError as exc:
        return _action_error(request, contract, exc)
    messages.success(
        request,
        _("Trial extended by 7 days: it runs to and including %(last)s.")
        % {"last": documents.show_last_day(contract.trial_ends_on)},
    )
    return redirect(_url(request, "detail", contract.pk))


@staff_required("trial.manage")
@require_http_methods(["GET", "POST"])
def trial_convert(request, tenant_slug, pk):
    contract = _contract(pk)
    form = ConvertForm(request.POST or None, initial={"interval": "month"})
    if request.method == "POST" and form.is_valid():
        try:
            services.trial_convert(
                actor=_actor(request),
                contract=contract,
                interval=form.cleaned_data["interval"],
                priced_on={"quantities": {"active_users": form.cleaned_data["active_users"]}},
                on=_today(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Converted to a paid subscription."))
            return redirect(_url(request, "detail", contract.pk))
    return _render(request, "backoffice/contracts/convert.html", {"contract": contract}, form)


@staff_required("trial.manage")
@require_POST
def contract_reactivate(request, tenant_slug, pk):
    contract = _contract(pk)
    try:
        services.contract_reactivate(actor=_actor(request), contract=contract, on=_today())
    except ValidationError as exc:
        return _action_error(request, contract, exc)
    messages.success(request, _("Account reactivated."))
    return redirect(_url(request, "detail", contract.pk))


# ---------------------------------------------------------------- amendments


@staff_required("contract.edit")
@require_http_methods(["GET", "POST"])
def contract_amend(request, tenant_slug, pk):
    contract = _contract(pk)
    current = documents.current_priced_on(contract)
    current_request = dict(current.request) if current else {}
    form = AmendForm(
        request.POST or None,
        initial={**PricedOnForm.initial_from(current_request), "effective_from": _today()},
    )
    if request.method == "POST" and form.is_valid():
        changes = form.changes(current_request)
        if not changes:
            form.add_error(None, _("Nothing is changed: change pupils, users, standards or concurrent users."))
        else:
            try:
                row = services.amendment_create(
                    actor=_actor(request),
                    contract=contract,
                    effective_from=form.cleaned_data["effective_from"],
                    changes=changes,
                    reason=form.cleaned_data["reason"],
                    on=_today(),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                delta = row.price_effect.get("delta_net")
                messages.success(
                    request,
                    _("Amendment recorded from %(date)s; price effect per period (net): %(delta)s.")
                    % {"date": documents.show_date(row.effective_from), "delta": delta if delta is not None else "—"},
                )
                return redirect(_url(request, "detail", contract.pk))
    return _render(request, "backoffice/contracts/amend.html", {"contract": contract}, form)


# ---------------------------------------------------------------- a customer's notice history


@staff_required("contract.view")
def customer_messages(request, tenant_slug, customer_pk):
    customer = get_object_or_404(Customer, pk=customer_pk)
    context = {
        "customer": customer,
        "messages_list": Message.objects.filter(customer=customer).select_related("contract"),
    }
    return render(request, "backoffice/contracts/customer_messages.html", context)
