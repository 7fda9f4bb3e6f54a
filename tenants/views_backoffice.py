"""The tenant's back-office: thin views over ``tenants.services`` (every change) and the ORM (reads).

Every view runs inside the tenant named in the URL (``tenants.middleware``) and behind
``staff_required``; objects are looked up through the tenant-scoped managers, so another
tenant's id is simply "not found" (404).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tenants import brreg, services
from tenants.audit import Actor
from tenants.decorators import forbidden, staff_required
from tenants.forms import (
    ApiKeyForm,
    AuditFilterForm,
    ContactForm,
    CustomerFilterForm,
    CustomerForm,
    PortalUserForm,
    RoleForm,
    StaffAddForm,
    TenantForm,
    apply_errors,
)
from tenants.models import (
    ApiKey,
    AuditEvent,
    Contact,
    Customer,
    CustomerKind,
    Membership,
    PortalUser,
    Verification,
)
from tenants.permissions import Role, permission_table
from tenants.validation import normalise_org_number
from tenants.views_auth import send_password_link

CUSTOMERS_PER_PAGE = 25
AUDIT_PER_PAGE = 50


def _url(request, name: str, *args) -> str:
    return reverse(f"backoffice:{name}", args=[request.tenant.slug, *args])


def _actor(request) -> Actor:
    return Actor.for_user(request.user)


def _render_form(request, template: str, context: dict, form) -> object:
    """Render a form page: 400 when it was submitted with errors, 200 otherwise."""
    status = 400 if form.is_bound and form.errors else 200
    return render(request, template, {**context, "form": form}, status=status)


# ---------------------------------------------------------------- dashboard


@staff_required("dashboard.view")
def dashboard(request, tenant_slug):
    by_kind = dict(Customer.objects.values_list("kind").annotate(n=Count("id")))
    kinds = [(label, by_kind.get(value, 0), value) for value, label in CustomerKind.choices]
    unverified = Customer.objects.filter(verification__in=[Verification.NOT_VERIFIED, Verification.NOT_FOUND])
    context = {
        "kinds": kinds,
        "customer_total": sum(by_kind.values()),
        "contact_total": Contact.objects.count(),
        "portal_user_total": PortalUser.objects.filter(is_active=True).count(),
        "staff_total": Membership.objects.filter(is_active=True).count(),
        "api_key_total": ApiKey.objects.filter(revoked_at__isnull=True).count(),
        "unverified_total": unverified.count(),
        "unverified": unverified.order_by("name")[:5],
        "recent_events": AuditEvent.objects.select_related("actor_user")[:8],
    }
    return render(request, "backoffice/dashboard.html", context)


# ---------------------------------------------------------------- customers


def _customer_queryset(form: CustomerFilterForm):
    customers = Customer.objects.select_related("parent").order_by("name")
    if not form.is_valid():
        return customers
    q = form.cleaned_data["q"].strip()
    if q:
        condition = Q(name__icontains=q)
        digits = normalise_org_number(q)
        if digits.isdigit():
            condition |= Q(org_number__contains=digits)
        customers = customers.filter(condition)
    if form.cleaned_data["kind"]:
        customers = customers.filter(kind=form.cleaned_data["kind"])
    if form.cleaned_data["verification"]:
        customers = customers.filter(verification=form.cleaned_data["verification"])
    return customers


@staff_required("customer.view")
def customer_list(request, tenant_slug):
    form = CustomerFilterForm(request.GET or None)
    page = Paginator(_customer_queryset(form), CUSTOMERS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter_form": form, "page": page, "query": query.urlencode()}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, "backoffice/_customer_results.html", context)
    return render(request, "backoffice/customer_list.html", context)


@staff_required("customer.view")
def customer_detail(request, tenant_slug, pk):
    customer = get_object_or_404(Customer.objects.select_related("parent"), pk=pk)
    contact_ids = [str(pk) for pk in customer.contacts.values_list("pk", flat=True)]
    portal_user_ids = [str(pk) for pk in customer.portal_users.values_list("pk", flat=True)]
    # Events about the customer itself, its contacts and portal logins (also removed ones: their
    # snapshot names the customer).
    events = AuditEvent.objects.filter(
        Q(object_type="customer", object_id=str(customer.pk))
        | Q(object_type="contact", object_id__in=contact_ids)
        | Q(object_type="portaluser", object_id__in=portal_user_ids)
        | Q(object_type__in=["contact", "portaluser"], changes__customer__contains=[customer.pk])
    )[:10]
    context = {
        "customer": customer,
        "children": customer.children.order_by("name"),
        "contacts": customer.contacts.order_by("name"),
        "portal_users": customer.portal_users.select_related("user").order_by("user__email"),
        "registry": customer.registry or {},
        "events": events,
    }
    return render(request, "backoffice/customer_detail.html", context)


def _prefill_from_registry(form_data: dict) -> tuple[dict, str, str]:
    """Registry fields for the org number in ``form_data``: (initial data, message level, message)."""
    data = dict(form_data)
    org_number = normalise_org_number(data.get("org_number", ""))
    if not org_number:
        return data, "error", _("Type the organisation number first.")
    try:
        info = brreg.lookup(org_number)
    except brreg.OrgNotFound:
        msg = _("%(org)s is not registered in Brønnøysund (Enhetsregisteret). Check the number.")
        return data, "error", msg % {"org": org_number}
    except brreg.RegistryUnavailable:
        return (
            data,
            "warning",
            _(
                "Brønnøysund is not answering right now. You can fill in the form yourself and save: "
                "the customer will be saved as not verified and can be checked again later."
            ),
        )
    data.update(
        org_number=info.org_number,
        name=info.name,
        address_line=info.address_line,
        postal_code=info.postal_code,
        city=info.city,
        country=info.country or "NO",
        kind=info.suggested_kind,
    )
    flags = _registry_flags(info.as_dict())
    if flags:
        message = _("Found in Brønnøysund: %(name)s. Note: %(flags)s.") % {"name": info.name, "flags": ", ".join(flags)}
        return data, "warning", message
    return data, "success", _("Found in Brønnøysund: %(name)s. Check the details and save.") % {"name": info.name}


def _registry_flags(registry: dict) -> list[str]:
    flags = []
    if registry.get("bankrupt"):
        flags.append(_("bankrupt (konkurs)"))
    if registry.get("under_liquidation"):
        flags.append(_("under liquidation"))
    if registry.get("under_forced_liquidation"):
        flags.append(_("under forced liquidation"))
    if registry.get("deleted"):
        flags.append(_("deleted from the registry"))
    return flags


@staff_required("customer.edit")
@require_http_methods(["GET", "POST"])
@never_cache
def customer_lookup(request, tenant_slug):
    """Fill the customer form from Brønnøysund.

    htmx GETs it and swaps the fields in; without JavaScript the button posts the form here
    (``formaction``) and the whole page comes back filled in. Nothing is saved.
    """
    pk = (request.POST if request.method == "POST" else request.GET).get("customer", "")
    customer = get_object_or_404(Customer, pk=pk) if pk and pk.isdigit() else None
    source = request.POST if request.method == "POST" else request.GET
    posted = {name: source.get(name, "") for name in CustomerForm.field_names if name in source}
    posted["is_active"] = source.get("is_active") == "on"
    initial, level, message = _prefill_from_registry(posted)
    form = CustomerForm(initial=initial)
    context = {"form": form, "customer": customer, "lookup": {"level": level, "message": message}}
    if request.headers.get("HX-Request"):
        return render(request, "backoffice/_customer_lookup.html", context)
    return render(request, "backoffice/customer_form.html", context)


@staff_required("customer.edit")
@require_http_methods(["GET", "POST"])
def customer_create(request, tenant_slug):
    form = CustomerForm(request.POST or None, initial={"is_active": True, "country": "NO"})
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(actor=_actor(request), data=form.service_data())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            _announce_saved(request, customer, _("Customer %(name)s created.") % {"name": customer.name})
            return redirect(_url(request, "customer_detail", customer.pk))
    return _render_form(request, "backoffice/customer_form.html", {"customer": None}, form)


def _announce_saved(request, customer: Customer, text: str) -> None:
    messages.success(request, text)
    if customer.verification == Verification.NOT_VERIFIED and customer.org_number:
        messages.warning(request, _("Brønnøysund did not answer, so the organisation number is saved as not verified."))


@staff_required("customer.edit")
@require_http_methods(["GET", "POST"])
def customer_edit(request, tenant_slug, pk):
    customer = get_object_or_404(Customer, pk=pk)
    initial = {name: getattr(customer, name) for name in CustomerForm.field_names}
    form = CustomerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_update(actor=_actor(request), customer=customer, data=form.service_data())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            _announce_saved(request, customer, _("Customer %(name)s saved.") % {"name": customer.name})
            return redirect(_url(request, "customer_detail", customer.pk))
    form.fields["parent"].queryset = form.fields["parent"].queryset.exclude(pk=customer.pk)
    return _render_form(request, "backoffice/customer_form.html", {"customer": customer}, form)


@staff_required("customer.edit")
@require_POST
def customer_verify(request, tenant_slug, pk):
    customer = get_object_or_404(Customer, pk=pk)
    customer = services.customer_verify(actor=_actor(request), customer=customer)
    messages.info(request, _("Registry check: %(result)s.") % {"result": customer.get_verification_display()})
    return redirect(_url(request, "customer_detail", customer.pk))


@staff_required("customer.edit")
@require_http_methods(["GET", "POST"])
def customer_delete(request, tenant_slug, pk):
    customer = get_object_or_404(Customer, pk=pk)
    error = ""
    if request.method == "POST":
        try:
            services.customer_delete(actor=_actor(request), customer=customer)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Customer %(name)s deleted.") % {"name": customer.name})
            return redirect(_url(request, "customer_list"))
    context = {
        "object": customer,
        "cancel_url": _url(request, "customer_detail", customer.pk),
        "title": _("Delete customer %(name)s?") % {"name": customer.name},
        "error": error,
    }
    return render(request, "backoffice/confirm_delete.html", context, status=400 if error else 200)


# ---------------------------------------------------------------- contacts and portal users


@staff_required("customer.edit")
@require_http_methods(["GET", "POST"])
def contact_create(request, tenant_slug, customer_pk):
    customer = get_object_or_404(Customer, pk=customer_pk)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(actor=_actor(request), customer=customer, data=form.service_data())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Contact %(name)s added.") % {"name": contact.name})
            return redirect(_url(request, "customer_detail", customer.pk))
    return _render_form(request, "backoffice/contact_form.html", {"customer": customer, "contact": None}, form)


@staff_required("customer.edit")
@require_http_methods(["GET", "POST"])
def contact_edit(request, tenant_slug, pk):
    contact = get_object_or_404(Contact.objects.select_related("customer"), pk=pk)
    initial = {name: getattr(contact, name) for name in ContactForm.field_names}
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_update(actor=_actor(request), contact=contact, data=form.service_data())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Contact %(name)s saved.") % {"name": contact.name})
            return redirect(_url(request, "customer_detail", contact.customer_id))
    context = {"customer": contact.customer, "contact": contact}
    return _render_form(request, "backoffice/contact_form.html", context, form)


@staff_required("customer.edit")
@require_http_methods(["GET", "POST"])
def contact_delete(request, tenant_slug, pk):
    contact = get_object_or_404(Contact.objects.select_related("customer"), pk=pk)
    if request.method == "POST":
        services.contact_delete(actor=_actor(request), contact=contact)
        messages.success(request, _("Contact %(name)s removed.") % {"name": contact.name})
        return redirect(_url(request, "customer_detail", contact.customer_id))
    context = {
        "object": contact,
        "cancel_url": _url(request, "customer_detail", contact.customer_id),
        "title": _("Remove contact %(name)s?") % {"name": contact.name},
    }
    return render(request, "backoffice/confirm_delete.html", context)


@staff_required("portal_user.manage")
@require_http_methods(["GET", "POST"])
def portal_user_create(request, tenant_slug, customer_pk):
    """Give someone at the customer a portal login; they get an e-mail with a link to set their password."""
    customer = get_object_or_404(Customer, pk=customer_pk)
    initial = {}
    contact_pk = request.GET.get("contact", "")
    if contact_pk.isdigit():
        contact = get_object_or_404(Contact, pk=contact_pk, customer=customer)
        initial = {"email": contact.email, "full_name": contact.name}
    form = PortalUserForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            portal_user = services.portal_user_create(
                actor=_actor(request),
                customer=customer,
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            send_password_link(request, portal_user.user, "portal", invite=True)
            messages.success(
                request,
                _("%(email)s can now log into the portal; we sent an e-mail with a link to choose a password.")
                % {"email": portal_user.user.email},
            )
            return redirect(_url(request, "customer_detail", customer.pk))
    return _render_form(request, "backoffice/portal_user_form.html", {"customer": customer}, form)


@staff_required("portal_user.manage")
@require_POST
def portal_user_deactivate(request, tenant_slug, pk):
    portal_user = get_object_or_404(PortalUser.objects.select_related("user"), pk=pk)
    services.portal_user_deactivate(actor=_actor(request), portal_user=portal_user)
    messages.success(request, _("Portal login for %(email)s turned off.") % {"email": portal_user.user.email})
    return redirect(_url(request, "customer_detail", portal_user.customer_id))


# ---------------------------------------------------------------- staff and roles


def _staff_page(request, *, add_form=None, row_errors=None, status=200):
    memberships = Membership.objects.select_related("user").order_by("user__email")
    rows = [(m, RoleForm(initial={"role": m.role}, prefix=f"m{m.pk}")) for m in memberships]
    context = {
        "rows": rows,
        "add_form": add_form or StaffAddForm(),
        "row_errors": row_errors or {},
        "roles": Role.choices,
        "permission_rows": permission_table(),
    }
    return render(request, "backoffice/staff.html", context, status=status)


@staff_required("staff.view")
def staff_list(request, tenant_slug):
    return _staff_page(request)


@staff_required("staff.manage")
@require_POST
def staff_add(request, tenant_slug):
    form = StaffAddForm(request.POST)
    if form.is_valid():
        try:
            membership = services.staff_add(actor=_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied as exc:
            return forbidden(request, str(exc))
        else:
            if not membership.user.has_usable_password():
                send_password_link(request, membership.user, "backoffice", invite=True)
            messages.success(request, _("%(email)s added to the staff.") % {"email": membership.user.email})
            return redirect(_url(request, "staff"))
    return _staff_page(request, add_form=form, status=400)


@staff_required("staff.manage")
@require_POST
def staff_set_role(request, tenant_slug, pk):
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk)
    form = RoleForm(request.POST, prefix=f"m{membership.pk}")
    if form.is_valid():
        try:
            services.membership_set_role(actor=_actor(request), membership=membership, role=form.cleaned_data["role"])
        except ValidationError as exc:
            return _staff_page(request, row_errors={membership.pk: exc.messages}, status=400)
        except PermissionDenied as exc:
            return forbidden(request, str(exc))
        messages.success(request, _("Role of %(email)s changed.") % {"email": membership.user.email})
        return redirect(_url(request, "staff"))
    errors = [str(e) for e in form.errors.get("role", [])]
    return _staff_page(request, row_errors={membership.pk: errors}, status=400)


@staff_required("staff.manage")
@require_POST
def staff_remove(request, tenant_slug, pk):
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk)
    try:
        services.membership_remove(actor=_actor(request), membership=membership)
    except ValidationError as exc:
        return _staff_page(request, row_errors={membership.pk: exc.messages}, status=400)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    messages.success(request, _("%(email)s removed from the staff.") % {"email": membership.user.email})
    return redirect(_url(request, "staff"))


# ---------------------------------------------------------------- API keys


def _api_keys_page(request, form=None, status=200):
    context = {"keys": ApiKey.objects.select_related("created_by"), "form": form or ApiKeyForm()}
    return render(request, "backoffice/api_keys.html", context, status=status)


@staff_required("apikey.manage")
@require_http_methods(["GET", "POST"])
def api_keys(request, tenant_slug):
    if request.method == "GET":
        return _api_keys_page(request)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            key, raw_key = services.api_key_create(actor=_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            # The raw key is in this response only: never stored, never shown again.
            response = render(request, "backoffice/api_key_created.html", {"key": key, "raw_key": raw_key})
            response["Cache-Control"] = "no-store"
            return response
    return _api_keys_page(request, form, status=400)


@staff_required("apikey.manage")
@require_POST
def api_key_revoke(request, tenant_slug, pk):
    key = get_object_or_404(ApiKey, pk=pk)
    services.api_key_revoke(actor=_actor(request), key=key)
    messages.success(request, _("Key %(name)s revoked; it no longer works.") % {"name": key.name})
    return redirect(_url(request, "api_keys"))


# ---------------------------------------------------------------- audit log and vendor profile


@staff_required("audit.view")
def audit_log(request, tenant_slug):
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.all()
    if form.is_valid():
        if form.cleaned_data["object_type"]:
            events = events.filter(object_type=form.cleaned_data["object_type"])
        if form.cleaned_data["actor"].strip():
            events = events.filter(actor_label__icontains=form.cleaned_data["actor"].strip())
        if form.cleaned_data["actor_kind"]:
            events = events.filter(actor_kind=form.cleaned_data["actor_kind"])
    page = Paginator(events, AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    status = 400 if form.is_bound and form.errors else 200
    context = {"filter_form": form, "page": page, "query": query.urlencode()}
    return render(request, "backoffice/audit_log.html", context, status=status)


@staff_required("tenant.edit")
@require_http_methods(["GET", "POST"])
def tenant_edit(request, tenant_slug):
    tenant = request.tenant
    initial = {name: getattr(tenant, name) for name in TenantForm.field_names}
    form = TenantForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.tenant_update(actor=_actor(request), tenant=tenant, data=form.service_data())
        except ValidationError as exc:
            tenant.refresh_from_db()
            apply_errors(form, exc)
        else:
            messages.success(request, _("Vendor profile saved."))
            return redirect(_url(request, "tenant_edit"))
    return _render_form(request, "backoffice/tenant_form.html", {}, form)
