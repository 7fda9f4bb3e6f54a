"""The catalogue in the back-office: products and add-ons, hourly services, standard categories and
the standards catalogue with its CSV import. Thin views over ``catalog.services``.

Objects are looked up through the tenant-scoped managers: another tenant's id is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from catalog import services
from catalog.forms import (
    AddOnForm,
    CategoryForm,
    HourlyServiceForm,
    ProductForm,
    StandardFilterForm,
    StandardsImportForm,
)
from catalog.models import AddOn, HourlyService, Product, Standard, StandardCategory, StandardPrice
from tenants.audit import Actor
from tenants.decorators import staff_required
from tenants.forms import apply_errors

STANDARDS_PER_PAGE = 50


def _url(request, name: str, *args) -> str:
    return reverse(f"backoffice:{name}", args=[request.tenant.slug, *args])


def _render_form(request, template: str, context: dict, form):
    status = 400 if form.is_bound and form.errors else 200
    return render(request, template, {**context, "form": form}, status=status)


# ---------------------------------------------------------------- overview


@staff_required("catalog.view")
def catalog_overview(request, tenant_slug):
    products = Product.objects.prefetch_related(Prefetch("addons", queryset=AddOn.objects.order_by("code"))).order_by(
        "code"
    )
    context = {
        "products": products,
        "hourly_services": HourlyService.objects.order_by("code"),
        "categories": StandardCategory.objects.order_by("code"),
        "standard_total": Standard.objects.count(),
    }
    return render(request, "backoffice/catalog/overview.html", context)


def _edit(request, *, form_class, instance, save, template, title, back, initial=None, extra=None):
    """One create/edit page: GET shows the form, POST saves through ``save(data, instance)``."""
    if instance is not None:
        initial = {name: getattr(instance, name) for name in form_class.field_names}
    form = form_class(request.POST or None, initial=initial or {})
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.service_data(), instance)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s saved.") % {"name": saved.name})
            return redirect(back)
    context = {"title": title, "cancel_url": back, **(extra or {})}
    return _render_form(request, template, context, form)


def _actor(request) -> Actor:
    return Actor.for_user(request.user)


# ---------------------------------------------------------------- products and add-ons


@staff_required("catalog.edit")
@require_http_methods(["GET", "POST"])
def product_create(request, tenant_slug):
    return _edit(
        request,
        form_class=ProductForm,
        instance=None,
        initial={"is_active": True},
        save=lambda data, _i: services.product_save(actor=_actor(request), data=data),
        template="backoffice/catalog/form.html",
        title=_("New product"),
        back=_url(request, "catalog"),
    )


@staff_required("catalog.edit")
@require_http_methods(["GET", "POST"])
def product_edit(request, tenant_slug, pk):
    product = get_object_or_404(Product, pk=pk)
    return _edit(
        request,
        form_class=ProductForm,
        instance=product,
        save=lambda data, i: services.product_save(actor=_actor(request), data=data, product=i),
        template="backoffice/catalog/form.html",
        title=_("Edit product %(name)s") % {"name": product.name},
        back=_url(request, "catalog"),
    )


@staff_required("catalog.edit")
@require_http_methods(["GET", "POST"])
def addon_create(request, tenant_slug, product_pk):
    product = get_object_or_404(Product, pk=product_pk)
    return _edit(
        request,
        form_class=AddOnForm,
        instance=None,
        save=lambda data, _i: services.addon_save(actor=_actor(request), product=product, data=data),
        template="backoffice/catalog/form.html",
        title=_("New add-on to %(name)s") % {"name": product.name},
        back=_url(request, "catalog"),
    )


@staff_required("catalog.edit")
@require_http_methods(["GET", "POST"])
def addon_edit(request, tenant_slug, pk):
    addon = get_object_or_404(AddOn.objects.select_related("product"), pk=pk)
    return _edit(
        request,
        form_class=AddOnForm,
        instance=addon,
        save=lambda data, i: services.addon_save(actor=_actor(request), product=i.product, data=data, addon=i),
        template="backoffice/catalog/form.html",
        title=_("Edit add-on %(name)s") % {"name": addon.name},
        back=_url(request, "catalog"),
    )


# ---------------------------------------------------------------- hourly services


@staff_required("catalog.edit")
@require_http_methods(["GET", "POST"])
def hourly_create(request, tenant_slug):
    return _edit(
        request,
        form_class=HourlyServiceForm,
        instance=None,
        initial={"is_active": True, "travel_share": "0.5", "increment_minutes": 1},
        save=lambda data, _i: services.hourly_service_save(actor=_actor(request), data=data),
        template="backoffice/catalog/form.html",
        title=_("New hourly service"),
        back=_url(request, "catalog") + "#h-hourly",
    )


@staff_required("catalog.edit")
@require_http_methods(["GET", "POST"])
def hourly_edit(request, tenant_slug, pk):
    service = get_object_or_404(HourlyService, pk=pk)
    return _edit(
        request,
        form_class=HourlyServiceForm,
        instance=service,
        save=lambda data, i: services.hourly_service_save(actor=_actor(request), data=data, service=i),
        template="backoffice/catalog/form.html",
        title=_("Edit hourly service %(name)s") % {"name": service.name},
        back=_url(request, "catalog") + "#h-hourly",
    )


# ---------------------------------------------------------------- standard categories


@staff_required("catalog.edit")
@require_http_methods(["GET", "POST"])
def category_create(request, tenant_slug):
    return _edit(
        request,
        form_class=CategoryForm,
        instance=None,
        save=lambda data, _i: services.category_save(actor=_actor(request), data=data),
        template="backoffice/catalog/form.html",
        title=_("New standard category"),
        back=_url(request, "catalog") + "#h-categories",
    )


@staff_required("catalog.edit")
@require_http_methods(["GET", "POST"])
def category_edit(request, tenant_slug, pk):
    category = get_object_or_404(StandardCategory, pk=pk)
    return _edit(
        request,
        form_class=CategoryForm,
        instance=category,
        save=lambda data, i: services.category_save(actor=_actor(request), data=data, category=i),
        template="backoffice/catalog/form.html",
        title=_("Edit category %(name)s") % {"name": category.name},
        back=_url(request, "catalog") + "#h-categories",
    )


# ---------------------------------------------------------------- standards catalogue


def _standards(form: StandardFilterForm, year: int):
    price = StandardPrice.objects.filter(standard=OuterRef("pk"), year=year).values("price")[:1]
    standards = Standard.objects.select_related("category").annotate(year_price=Subquery(price)).order_by("code")
    if not form.is_valid():
        return standards
    q = form.cleaned_data["q"].strip()
    if q:
        standards = standards.filter(Q(code__icontains=q) | Q(title__icontains=q))
    if form.cleaned_data["category"]:
        standards = standards.filter(category__code=form.cleaned_data["category"])
    if form.cleaned_data["withdrawn"] == "withdrawn":
        standards = standards.filter(withdrawn_on__isnull=False)
    elif form.cleaned_data["withdrawn"] == "current":
        standards = standards.filter(withdrawn_on__isnull=True)
    return standards


@staff_required("catalog.view")
def standard_list(request, tenant_slug):
    form = StandardFilterForm(request.GET or None)
    year = timezone.localdate().year
    if form.is_valid() and form.cleaned_data["year"]:
        year = form.cleaned_data["year"]
    page = Paginator(_standards(form, year), STANDARDS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    years = list(StandardPrice.objects.order_by("year").values_list("year", flat=True).distinct())
    context = {"filter_form": form, "page": page, "query": query.urlencode(), "year": year, "years": years}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, "backoffice/catalog/_standard_results.html", context)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "backoffice/catalog/standard_list.html", context, status=status)


@staff_required("catalog.edit")
@require_http_methods(["GET", "POST"])
def standards_import(request, tenant_slug):
    form = StandardsImportForm(request.POST or None, request.FILES or None)
    line_errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        year = form.cleaned_data["year"]
        try:
            result = services.standards_import_csv(actor=_actor(request), text=form.cleaned_data["file"], year=year)
        except ValidationError as exc:
            line_errors = exc.message_dict.get("file", []) if hasattr(exc, "error_dict") else exc.messages
            form.add_error(
                "file", _("Nothing was imported: %(n)s line(s) must be fixed first.") % {"n": len(line_errors)}
            )
        else:
            messages.success(
                request,
                _("Imported %(prices)s prices for %(year)s: %(created)s new standards, %(updated)s changed.")
                % {"prices": result.prices, "year": year, "created": result.created, "updated": result.updated},
            )
            return redirect(_url(request, "standard_list") + f"?year={year}")
    context = {"line_errors": line_errors, "categories": StandardCategory.objects.order_by("code")}
    return _render_form(request, "backoffice/catalog/standards_import.html", context, form)
