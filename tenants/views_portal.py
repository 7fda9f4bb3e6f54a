"""The customer's self-service portal: its own organisation and contacts, nothing else.

Every object is looked up through ``request.customer`` (set by ``portal_required``), so another
customer's contact id, even of the same vendor, is "not found" (404).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tenants import services
from tenants.audit import Actor
from tenants.decorators import portal_required
from tenants.forms import ContactForm, PortalInvoiceForm, apply_errors


def _url(request, name: str, *args) -> str:
    return reverse(f"portal:{name}", args=[request.tenant.slug, *args])


def _render_form(request, template: str, context: dict, form):
    status = 400 if form.is_bound and form.errors else 200
    return render(request, template, {**context, "form": form}, status=status)


@portal_required
def profile(request, tenant_slug):
    customer = request.customer
    context = {"customer": customer, "contacts": customer.contacts.order_by("name")}
    return render(request, "portal/profile.html", context)


@portal_required
@require_http_methods(["GET", "POST"])
def invoice_edit(request, tenant_slug):
    customer = request.customer
    initial = {name: getattr(customer, name) for name in PortalInvoiceForm.field_names}
    form = PortalInvoiceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(
                actor=Actor.for_user(request.user), customer=customer, data=form.service_data(), verify=False
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Invoice details saved."))
            return redirect(_url(request, "home"))
    return _render_form(request, "portal/invoice_form.html", {"customer": customer}, form)


@portal_required
def contact_list(request, tenant_slug):
    return render(request, "portal/contacts.html", {"contacts": request.customer.contacts.order_by("name")})


@portal_required
@require_http_methods(["GET", "POST"])
def contact_create(request, tenant_slug):
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(
                actor=Actor.for_user(request.user), customer=request.customer, data=form.service_data()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Contact %(name)s added.") % {"name": contact.name})
            return redirect(_url(request, "contacts"))
    return _render_form(request, "portal/contact_form.html", {"contact": None}, form)


def _own_contact(request, pk):
    return get_object_or_404(request.customer.contacts.all(), pk=pk)


@portal_required
@require_http_methods(["GET", "POST"])
def contact_edit(request, tenant_slug, pk):
    contact = _own_contact(request, pk)
    initial = {name: getattr(contact, name) for name in ContactForm.field_names}
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_update(
                actor=Actor.for_user(request.user), contact=contact, data=form.service_data()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Contact %(name)s saved.") % {"name": contact.name})
            return redirect(_url(request, "contacts"))
    return _render_form(request, "portal/contact_form.html", {"contact": contact}, form)


@portal_required
@require_http_methods(["GET", "POST"])
def contact_delete(request, tenant_slug, pk):
    contact = _own_contact(request, pk)
    if request.method == "POST":
        services.contact_delete(actor=Actor.for_user(request.user), contact=contact)
        messages.success(request, _("Contact %(name)s removed.") % {"name": contact.name})
        return redirect(_url(request, "contacts"))
    context = {
        "object": contact,
        "title": _("Remove contact %(name)s?") % {"name": contact.name},
        "cancel_url": _url(request, "contacts"),
    }
    return render(request, "portal/confirm_delete.html", context)
