"""Contracts in the customer portal, the order form and the trial sign-up.

A portal user sees the contracts of their own organisation (and, for a kommune or fylkeskommune,
those of its schools); anything else is "not found" (404). Changes go through ``contracts.services``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from contracts import documents, lifecycle, ordering, services
from contracts.forms import ConvertForm, OrderForm, PortalDpaForm, PortalSignForm, SchoolFormSet, SignupForm
from contracts.models import Contract, DataProcessingAgreement, Message
from contracts.views_backoffice import notice_flow, notice_sentence
from tenants.audit import Actor
from tenants.decorators import portal_required
from tenants.forms import apply_errors
from tenants.models import OWNER_KINDS, PortalUser
from tenants.views_auth import send_password_link

HIDDEN_STATES = (lifecycle.DRAFT, lifecycle.CANCELLED)


def _url(request, name: str, *args) -> str:
    return reverse(f"contracts_portal:{name}", args=[request.tenant.slug, *args])


def _today() -> dt.date:
    return timezone.localdate()


def _visible(request):
    customer = request.customer
    own = Q(customer=customer)
    if customer.kind in OWNER_KINDS:
        own |= Q(customer__parent=customer)
    return (
        Contract.objects.filter(own)
        .exclude(state__in=HIDDEN_STATES)
        .select_related("customer", "customer__parent", "product", "plan")
    )


def _contract(request, pk) -> Contract:
    return get_object_or_404(_visible(request), pk=pk)


def _own_contract(request, pk) -> Contract:
    """A contract the logged-in customer itself is party to (sign, give notice, convert)."""
    contract = _contract(request, pk)
    if contract.customer_id != request.customer.pk:
        raise Http404("Not this customer's own contract")
    return contract


def _dpa_status(customer) -> dict:
    controller = services.controller_of(customer)
    return {
        "controller": controller,
        "dpa": DataProcessingAgreement.objects.filter(controller=controller).first() if controller else None,
        "is_controller": controller is not None and controller.pk == customer.pk,
    }


@portal_required
def contract_list(request, tenant_slug):
    contracts = list(_visible(request).order_by("-created_at"))
    needs_dpa = any(c.dpa_required for c in contracts)
    context = {"contracts": contracts, "needs_dpa": needs_dpa, **_dpa_status(request.customer)}
    return render(request, "portal/contracts/list.html", context)


@portal_required
def contract_detail(request, tenant_slug, pk):
    contract = _contract(request, pk)
    current = documents.current_priced_on(contract)
    context = {
        "contract": contract,
        "own": contract.customer_id == request.customer.pk,
        "allowed": set(lifecycle.allowed_events(contract.state)),
        "terms": documents.describe_terms(contract, request.tenant.name),
        "rows": documents.priced_on_rows(current),
        "price": documents.price_for(contract, current),
        "signature": contract.signatures.first(),
        "notices": contract.notices.all(),
        "checklist": services.onboarding_checklist(contract),
        "messages_list": contract.messages.all()[:20],
        **_dpa_status(contract.customer),
    }
    return render(request, "portal/contracts/detail.html", context)


@portal_required
def contract_pdf(request, tenant_slug, pk):
    contract = _contract(request, pk)
    document = documents.latest_document(contract) or documents.store_contract_document(contract)
    response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{contract.reference}.pdf"'
    return response


@portal_required
@require_http_methods(["GET", "POST"])
def contract_sign(request, tenant_slug, pk):
    contract = _own_contract(request, pk)
    document = documents.latest_document(contract)
    if document is None and contract.state == lifecycle.SENT:
        document = documents.store_contract_document(contract)
    initial = {"name": request.user.full_name, "document": document.sha256 if document else ""}
    form = PortalSignForm(request.POST or None, initial=initial)
    blocked = []
    if contract.state != lifecycle.SENT:
        blocked = [
            _("This contract is not waiting for your signature (%(state)s).")
            % {"state": documents.state_label(contract.state)}
        ]
    if request.method == "POST":
        if blocked:
            form.is_valid()
            form.add_error(None, blocked[0])
        elif form.is_valid():
            if document is None or form.cleaned_data["document"] != document.sha256:
                form.add_error(
                    None, _("The contract document has changed since you opened it; read it again and sign.")
                )
            else:
                now = timezone.now()
                try:
                    contract = services.contract_sign(
                        actor=Actor.for_user(request.user),
                        contract=contract,
                        name=form.cleaned_data["name"],
                        title=form.cleaned_data["title"],
                        signed_at=now,
                        received_on=timezone.localdate(now),
                        document_sha256=document.sha256,
                        method="portal",
                        ip_address=request.META.get("REMOTE_ADDR") or None,
                    )
                except ValidationError as exc:
                    apply_errors(form, exc)
                else:
                    if contract.state == lifecycle.AWAITING_DPA:
                        controller = services.controller_of(contract.customer)
                        messages.success(
                            request,
                            _(
                                "Thank you, the contract is signed. Access is given when %(owner)s has signed the data "
                                "processing agreement."
                            )
                            % {"owner": controller.name if controller else _("the school owner")},
                        )
                    else:
                        messages.success(request, _("Thank you, the contract is signed."))
                    return redirect(_url(request, "detail", contract.pk))
    status = 400 if request.method == "POST" else 200
    context = {"contract": contract, "form": form, "document": document, "blocked": blocked}
    return render(request, "portal/contracts/sign.html", context, status=status)


@portal_required
@require_http_methods(["GET", "POST"])
def dpa_sign(request, tenant_slug):
    """The school owner signs the DPA once for all its schools; a school is told its owner must sign."""
    customer = request.customer
    status_info = _dpa_status(customer)
    form = PortalDpaForm(request.POST or None, initial={"signer_name": request.user.full_name})
    if request.method == "POST" and form.is_valid():
        try:
            services.dpa_sign(
                actor=Actor.for_user(request.user),
                controller=customer,
                signed_on=_today(),
                signer_name=form.cleaned_data["signer_name"],
                signer_title=form.cleaned_data["signer_title"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "controller" in exc.error_dict:
                form.add_error(None, exc.error_dict["controller"])
            else:
                apply_errors(form, exc)
        else:
            messages.success(request, _("Thank you, the data processing agreement is signed for all your schools."))
            return redirect(_url(request, "list"))
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "portal/contracts/dpa.html", {"form": form, **status_info}, status=status)


@portal_required
@require_http_methods(["GET", "POST"])
def contract_notice(request, tenant_slug, pk):
    contract = _own_contract(request, pk)
    status, context, notice = notice_flow(request, contract, given_by="customer", received_on_from_form=False)
    if notice is not None:
        messages.success(
            request,
            _("Your notice is registered. %(effect)s")
            % {"effect": notice_sentence(notice.ends_on, notice.late, notice.deadline)},
        )
        return redirect(_url(request, "detail", contract.pk))
    if request.method == "GET" and not context.get("blocked"):
        context["preview"] = services.notice_preview(contract, _today())
    return render(request, "portal/contracts/notice.html", context, status=status)


@portal_required
@require_http_methods(["GET", "POST"])
def trial_convert(request, tenant_slug, pk):
    """The customer confirms the trial: monthly or annual, with the number of active users; price from the engine."""
    contract = _own_contract(request, pk)
    if contract.state not in (lifecycle.TRIAL,):
        raise Http404("Not a trial")
    form = ConvertForm(request.POST or None, initial={"interval": "month", "active_users": 5})
    price = None
    if request.method == "POST" and form.is_valid():
        request_body = {
            "plan": contract.plan.code,
            "interval": form.cleaned_data["interval"],
            "quantities": {"active_users": form.cleaned_data["active_users"]},
            "customer": contract.customer_id,
        }
        try:
            from pricing.services import quote_compute

            price = quote_compute(request=request_body, on=_today())[0].as_dict()
            if request.POST.get("action") == "confirm":
                services.trial_convert(
                    actor=Actor.for_user(request.user),
                    contract=contract,
                    interval=form.cleaned_data["interval"],
                    priced_on={"quantities": {"active_users": form.cleaned_data["active_users"]}},
                    on=_today(),
                )
                messages.success(request, _("Thank you! Your subscription is confirmed."))
                return redirect(_url(request, "detail", contract.pk))
        except ValidationError as exc:
            apply_errors(form, exc)
            price = None
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "portal/contracts/convert.html", {"contract": contract, "form": form, "price": price}, status=status
    )


@portal_required
@require_POST
def contract_reactivate(request, tenant_slug, pk):
    contract = _own_contract(request, pk)
    try:
        services.contract_reactivate(actor=Actor.for_user(request.user), contract=contract, on=_today())
    except ValidationError as exc:
        return render(
            request,
            "portal/contracts/error.html",
            {"contract": contract, "errors": exc.messages},
            status=400,
        )
    messages.success(request, _("Welcome back: your account is active again."))
    return redirect(_url(request, "detail", contract.pk))


@portal_required
def message_list(request, tenant_slug):
    context = {"messages_list": Message.objects.filter(customer=request.customer).select_related("contract")}
    return render(request, "portal/contracts/messages.html", context)


# ---------------------------------------------------------------- ordering and sign-up


def _optional_portal_user(request):
    """Set ``request.customer`` when a portal user of this tenant is logged in (ordering works for both)."""
    if request.user.is_authenticated:
        portal_user = (
            PortalUser.objects.select_related("customer", "customer__parent", "user")
            .filter(user=request.user, is_active=True, customer__is_active=True)
            .first()
        )
        if portal_user is not None:
            request.portal_user = portal_user
            request.customer = portal_user.customer
            return portal_user
    return None


def _school_errors(formset, error: ValidationError, form) -> None:
    """Put ``school-<i>-<field>`` errors on the right school row, the rest on the order form."""
    rest = {}
    for key, errors in error.message_dict.items():
        if key.startswith("school-"):
            _prefix, index, field = key.split("-", 2)
            row = formset.forms[int(index)]
            row.add_error(field if field in row.fields else None, errors)
        else:
            rest[key] = errors
    if rest:
        apply_errors(form, ValidationError(rest))


@require_http_methods(["GET", "POST"])
def order(request, tenant_slug):
    portal_user = _optional_portal_user(request)
    plan = ordering.order_plan(_today())
    if plan is None:
        raise Http404("This vendor takes no school orders")
    initial = {"bill_to": "owner"}
    if portal_user is not None:
        customer = portal_user.customer
        owner = customer if customer.kind in OWNER_KINDS else customer.parent
        if owner is not None:
            initial.update(owner_org_number=owner.org_number, owner_name=owner.name)
        initial.update(
            address_line=customer.address_line,
            postal_code=customer.postal_code,
            city=customer.city,
            invoice_reference=customer.invoice_reference,
            orderer_name=request.user.full_name,
            orderer_email=request.user.email,
        )
    data = request.POST.copy() if request.method == "POST" else None
    adding = data is not None and data.get("action") == "add_school"
    if adding:
        # Another school row: show what was typed, without judging it yet (nothing is validated or saved).
        form = OrderForm(initial={**initial, **{name: data.get(name, "") for name in OrderForm.base_fields}})
        total = min(
            int(data.get("school-TOTAL_FORMS") or 1) if (data.get("school-TOTAL_FORMS") or "").isdigit() else 1, 29
        )
        rows = [
            {name: data.get(f"school-{i}-{name}", "") for name in SchoolFormSet.form.base_fields} for i in range(total)
        ]
        formset = SchoolFormSet(prefix="school", initial=[*rows, {}])
        data = None
    else:
        form = OrderForm(data, initial=initial)
        formset = SchoolFormSet(data, prefix="school")
    status = 200
    if data is not None and not adding:
        form_ok, formset_ok = form.is_valid(), formset.is_valid()
        if form_ok and formset_ok:
            schools = [f.cleaned_data for f in formset.forms if f.cleaned_data]
            actor = (
                Actor.for_user(request.user)
                if portal_user
                else Actor.system(f"portal order form ({form.cleaned_data['orderer_email']})"[:200])
            )
            try:
                result = ordering.order_submit(
                    actor=actor,
                    plan=plan,
                    order=form.cleaned_data,
                    schools=schools,
                    on=_today(),
                    logged_in_as=portal_user.customer if portal_user else None,
                )
            except ValidationError as exc:
                _school_errors(formset, exc, form)
            else:
                if result.portal_user is not None:
                    send_password_link(request, result.portal_user.user, "portal", invite=True)
                request.session["order_done"] = {
                    "reference": result.contract.reference,
                    "schools": len(schools),
                    "login_sent": result.portal_user is not None,
                    "email": form.cleaned_data["orderer_email"],
                    "unverified": result.unverified,
                }
                return redirect(_url(request, "order_done"))
        status = 400
    context = {"form": form, "formset": formset, "plan": plan, "logged_in": portal_user is not None}
    return render(request, "portal/contracts/order.html", context, status=status)


def order_done(request, tenant_slug):
    portal_user = _optional_portal_user(request)
    done = request.session.get("order_done")
    if not done:
        return redirect(_url(request, "order"))
    return render(request, "portal/contracts/order_done.html", {"done": done, "logged_in": portal_user is not None})


@require_http_methods(["GET", "POST"])
def signup(request, tenant_slug):
    portal_user = _optional_portal_user(request)
    plan = ordering.trial_plan(_today())
    if plan is None:
        raise Http404("This vendor has no self sign-up trial")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            contract, new_user = ordering.trial_signup(
                actor=Actor.system(f"portal sign-up ({data['email']})"[:200]),
                plan=plan,
                org_number=data["org_number"],
                full_name=data["full_name"],
                email=data["email"],
                on=_today(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            send_password_link(request, new_user.user, "portal", invite=True)
            request.session["signup_done"] = {
                "name": contract.customer.name,
                "trial_ends_on": contract.trial_ends_on.isoformat(),
                "email": data["email"],
            }
            return redirect(_url(request, "signup_done"))
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "plan": plan, "logged_in": portal_user is not None}
    return render(request, "portal/contracts/signup.html", context, status=status)


def signup_done(request, tenant_slug):
    portal_user = _optional_portal_user(request)
    done = request.session.get("signup_done")
    if not done:
        return redirect(_url(request, "signup"))
    done = {**done, "trial_ends_on": dt.date.fromisoformat(done["trial_ends_on"])}
    return render(request, "portal/contracts/signup_done.html", {"done": done, "logged_in": portal_user is not None})
