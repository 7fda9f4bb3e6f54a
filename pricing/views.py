"""Plans, plan versions, the price calculators and saved quotes, in the back-office and the portal.

Thin views: the documents and requests go to ``pricing.services`` (which validate through the
engine); errors come back beside the field or table row they name. Lookups go through the
tenant-scoped managers (another tenant's id is a 404); the portal only sees its own customer's quotes.
"""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from pricing import services
from pricing.engine.document import parse_plan
from pricing.forms import (
    MODEL_LABELS,
    CalculatorForm,
    Needs,
    QuoteRows,
    VersionEditor,
    VersionImportForm,
    VersionMetaForm,
)
from pricing.models import Plan, PlanVersion, Quote
from pricing.selectors import plan_version_in_force, plans_with_current_version
from pricing.templatetags.pricing_ui import current_lang
from tenants.audit import Actor
from tenants.decorators import portal_required, staff_required
from tenants.forms import apply_errors

QUOTES_PER_PAGE = 25


def _url(request, name: str, *args, face: str = "backoffice") -> str:
    return reverse(f"{face}:{name}", args=[request.tenant.slug, *args])


def _today() -> dt.date:
    return timezone.localdate()


# ---------------------------------------------------------------- plans and versions


@staff_required("catalog.view")
def plan_list(request, tenant_slug):
    rows = plans_with_current_version(_today())
    return render(request, "backoffice/pricing/plan_list.html", {"rows": rows, "today": _today()})


@staff_required("catalog.view")
def plan_detail(request, tenant_slug, pk):
    plan = get_object_or_404(Plan.objects.select_related("product"), pk=pk)
    current = plan_version_in_force(plan, _today())
    versions = list(plan.versions.order_by("-valid_from"))
    context = {"plan": plan, "versions": versions, "current": current, "today": _today()}
    return render(request, "backoffice/pricing/plan_detail.html", context)


def _present_document(document: dict, lang: str) -> dict:
    """The document with labels for each component's price model (templates render the rest)."""
    doc = json.loads(json.dumps(document))
    for comp in doc.get("components") or []:
        comp["model_label"] = str(MODEL_LABELS.get(comp.get("model"), comp.get("model")))
        table = comp.get("table")
        if isinstance(table, dict):  # matrix: rows of (upper bound, amounts)
            comp["matrix_rows"] = list(zip(table.get("row_uppers") or [], table.get("amounts") or [], strict=False))
    return doc


@staff_required("catalog.view")
def version_detail(request, tenant_slug, pk):
    version = get_object_or_404(PlanVersion.objects.select_related("plan", "plan__product"), pk=pk)
    current = plan_version_in_force(version.plan, _today())
    context = {
        "plan": version.plan,
        "version": version,
        "doc": _present_document(version.document, current_lang()),
        "is_current": current is not None and current.pk == version.pk,
        "is_future": version.valid_from > _today(),
    }
    return render(request, "backoffice/pricing/version_detail.html", context)


@staff_required("plan.edit")
@require_http_methods(["GET", "POST"])
def version_create(request, tenant_slug, pk):
    """A new version from a later date, starting from the tables of the version in force (or ``?from=``)."""
    plan = get_object_or_404(Plan.objects.select_related("product"), pk=pk)
    source = request.POST.get("base") or request.GET.get("from")
    if source and source.isdigit():
        base = get_object_or_404(PlanVersion, pk=source, plan=plan)
    else:
        base = plan_version_in_force(plan, _today()) or plan.versions.order_by("-valid_from").first()
    if base is None:
        messages.warning(request, _("This plan has no version yet; import one first."))
        return redirect(_url(request, "version_import"))
    lang = current_lang()
    posted = request.method == "POST"
    editor = VersionEditor(base.document, lang, data=request.POST if posted else None)
    latest = plan.versions.order_by("-valid_from").first()
    suggested = max(_today(), latest.valid_from) + dt.timedelta(days=1)
    meta = VersionMetaForm(request.POST if posted else None, initial={"valid_from": suggested})
    status = 200
    action = request.POST.get("action", "save") if posted else ""
    if posted and action != "save" and editor.apply(action):
        meta = VersionMetaForm(initial={"valid_from": request.POST.get("valid_from"), "note": request.POST.get("note")})
    elif posted:
        document = editor.document()
        meta_ok = meta.is_valid()
        if document is not None and meta_ok:
            try:
                version = services.plan_version_create(
                    actor=Actor.for_user(request.user),
                    plan=plan,
                    valid_from=meta.cleaned_data["valid_from"],
                    document=document,
                    note=meta.cleaned_data["note"],
                )
            except ValidationError as exc:
                errors = exc.message_dict
                meta_errors = {k: v for k, v in errors.items() if k in meta.fields}
                if meta_errors:
                    apply_errors(meta, ValidationError(meta_errors))
                rest = {k: v for k, v in errors.items() if k not in meta.fields}
                if rest:
                    editor.add_errors(ValidationError(rest))
            else:
                messages.success(
                    request,
                    _("New prices for %(plan)s saved, valid from %(date)s.")
                    % {"plan": plan.name, "date": version.valid_from.strftime("%d.%m.%Y")},
                )
                return redirect(_url(request, "version_detail", version.pk))
        elif document is not None:
            # The date is wrong; still check the tables, so every message comes back in one round.
            try:
                services.validate_document({**document, "code": plan.code})
            except ValidationError as exc:
                editor.add_errors(exc)
        status = 400
    context = {"plan": plan, "base": base, "editor": editor, "meta": meta}
    return render(request, "backoffice/pricing/version_form.html", context, status=status)


@staff_required("catalog.view")
def version_export(request, tenant_slug, pk):
    version = get_object_or_404(PlanVersion.objects.select_related("plan", "plan__product"), pk=pk)
    payload = services.plan_version_export(version)
    response = HttpResponse(
        json.dumps(payload, ensure_ascii=False, indent=1) + "\n", content_type="application/json; charset=utf-8"
    )
    filename = f"{version.plan.code}-{version.valid_from.isoformat()}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@staff_required("plan.edit")
@require_http_methods(["GET", "POST"])
def version_import(request, tenant_slug):
    form = VersionImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.plan_version_import(
                actor=Actor.for_user(request.user), payload=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            messages_ = [f"{k}: {m}" if k not in ("file", "__all__") else m for k, ms in _error_items(exc) for m in ms]
            form.add_error("file", messages_)
        else:
            messages.success(
                request,
                _("Imported %(plan)s, valid from %(date)s.")
                % {"plan": version.plan.name, "date": version.valid_from.strftime("%d.%m.%Y")},
            )
            return redirect(_url(request, "version_detail", version.pk))
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "backoffice/pricing/version_import.html", {"form": form}, status=status)


def _error_items(exc: ValidationError):
    return exc.message_dict.items() if hasattr(exc, "error_dict") else [("__all__", exc.messages)]


# ---------------------------------------------------------------- calculator (shared by both faces)


class Calculator:
    """One calculator page: plan choice, the inputs the plan needs, and the priced result."""

    def __init__(self, request, *, portal: bool):
        self.request = request
        self.portal = portal
        self.lang = current_lang()
        self.plans = list(Plan.objects.filter(is_active=True).select_related("product").order_by("code"))
        source = request.POST if request.method == "POST" else request.GET
        code = source.get("plan") or (self.plans[0].code if self.plans else "")
        self.plan = next((p for p in self.plans if p.code == code), None)
        self.version = None
        self.needs = None
        if self.plan is not None:
            self.version = (
                plan_version_in_force(self.plan, _today()) or self.plan.versions.order_by("valid_from").first()
            )
        if self.version is not None:
            self.needs = Needs.of(parse_plan(self.version.document), self.lang)
        self.result = None
        self.errors: list[tuple[str, str]] = []
        self.form = None
        self.rows = None

    def initial(self) -> dict:
        initial = {"quoted_on": _today(), "interval": self.needs.intervals[0]}
        customer = self.request.GET.get("customer", "")
        if not self.portal and customer.isdigit():
            initial["customer"] = customer
        return initial

    def run(self):
        """GET: an empty form. POST: add/remove a row, price, or (back-office) save."""
        if self.needs is None:
            return None
        request = self.request
        if request.method != "POST":
            self.form = CalculatorForm(initial=self.initial(), needs=self.needs, portal=self.portal)
            self.rows = QuoteRows(self.needs)
            return None
        self.form = CalculatorForm(request.POST, needs=self.needs, portal=self.portal)
        self.rows = QuoteRows(self.needs, data=request.POST)
        action = request.POST.get("action", "price")
        if action not in ("price", "save") and self.rows.apply(action):
            return None
        if not self.form.is_valid():
            self.status = 400
            return None
        quote_request, on = self.quote_request()
        try:
            if action == "save" and not self.portal:
                quote = services.quote_save(actor=Actor.for_user(request.user), request=quote_request, on=on)
                messages.success(request, _("Quote %(n)s saved.") % {"n": quote.pk})
                return redirect(_url(request, "quote_detail", quote.pk))
            result, version, _customer = services.quote_compute(request=quote_request, on=on)
        except ValidationError as exc:
            self.add_errors(exc)
            self.status = 400
            return None
        self.result = result.as_dict()
        self.version = version
        return None

    status = 200

    def quote_request(self) -> tuple[dict, dt.date]:
        data = self.form.cleaned_data
        schools, standards, self._school_rows, self._standard_rows = self.rows.request_parts()
        codes = [line.strip() for line in (data.get("standard_codes") or "").splitlines() if line.strip()]
        self._codes = codes
        request: dict = {"plan": self.plan.code, "interval": data["interval"]}
        if self.portal:
            request["customer"] = self.request.customer.pk
            on = _today()
        else:
            on = data["quoted_on"]
            if data.get("customer"):
                request["customer"] = data["customer"].pk
            if data.get("vat_treatment"):
                request["vat_treatment"] = data["vat_treatment"]
            if data.get("public_sector"):
                request["public_sector"] = data["public_sector"] == "yes"
        if data.get("start"):
            request["start"] = data["start"].isoformat()
        if self.needs.schools:
            request["schools"] = schools
        if self.needs.quantities:
            request["quantities"] = {key: _count_value(data.get(f"qty_{key}")) for key, _label in self.needs.quantities}
            request["quantities"] = {k: v for k, v in request["quantities"].items() if v is not None}
        if self.needs.standards:
            request["standards"] = [{"code": c} for c in codes] + standards
        if self.needs.concurrent_users:
            users = _count_value(data.get("concurrent_users"))
            if users is not None:
                request["concurrent_users"] = users
        if data.get("addons"):
            request["addons"] = list(data["addons"])
        return request, on

    def add_errors(self, exc: ValidationError) -> None:
        import re

        form = self.form
        for name, msgs in _error_items(exc):
            school = re.match(r"^schools\[(\d+)\]", name)
            standard = re.match(r"^standards\[(\d+)\]", name)
            if school and int(school.group(1)) < len(self._school_rows):
                row = self.rows.schools[self._school_rows[int(school.group(1))]]
                row.errors.extend(msgs)
                continue
            if standard:
                i = int(standard.group(1))
                if i < len(self._codes):
                    form.add_error(
                        "standard_codes",
                        [_("Line %(n)s: %(m)s") % {"n": i + 1, "m": m} for m in msgs],
                    )
                    continue
                if i - len(self._codes) < len(self._standard_rows):
                    self.rows.standards[self._standard_rows[i - len(self._codes)]].errors.extend(msgs)
                    continue
            if name == "schools":
                self.rows.school_errors.extend(msgs)
            elif name == "standards":
                self.rows.standard_errors.extend(msgs)
            elif f"qty_{name}" in form.fields:
                form.add_error(f"qty_{name}", msgs)
            elif name in form.fields and name != "__all__":
                form.add_error(name, msgs)
            else:
                form.add_error(None, msgs)

    def error_list(self) -> list[tuple[str, str]]:
        out = []
        if self.form is not None and self.form.is_bound:
            out += [("", e) for e in self.form.non_field_errors()]
            for f in self.form:
                out += [(f.id_for_label or f.auto_id, f"{f.label}: {e}") for e in f.errors]
        if self.rows is not None:
            out += [("schools", m) for m in self.rows.school_errors]
            out += [(f"id_school-{r.index}-pupils", m) for r in self.rows.schools for m in r.errors]
            out += [("standards", m) for m in self.rows.standard_errors]
            out += [(f"id_standard-{r.index}-code", m) for r in self.rows.standards for m in r.errors]
        return out

    def context(self) -> dict:
        return {
            "calc": self,
            "plans": self.plans,
            "plan": self.plan,
            "version": self.version,
            "needs": self.needs,
            "form": self.form,
            "rows": self.rows,
            "result": self.result,
            "error_items": self.error_list(),
            "portal": self.portal,
        }


def _count_value(text):
    from pricing.forms import _count

    return _count(text or "")


@staff_required("quote.create")
@require_http_methods(["GET", "POST"])
def calculator(request, tenant_slug):
    calc = Calculator(request, portal=False)
    response = calc.run()
    if response is not None:
        return response
    return render(request, "backoffice/pricing/calculator.html", calc.context(), status=calc.status)


# ---------------------------------------------------------------- saved quotes


@staff_required("catalog.view")
def quote_list(request, tenant_slug):
    quotes = Quote.objects.select_related("customer", "plan_version", "plan_version__plan")
    customer = request.GET.get("customer", "")
    if customer.isdigit():
        quotes = quotes.filter(customer_id=int(customer))
    page = Paginator(quotes, QUOTES_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "backoffice/pricing/quote_list.html", {"page": page, "query": query.urlencode()})


@staff_required("catalog.view")
def quote_detail(request, tenant_slug, pk):
    quote = get_object_or_404(Quote.objects.select_related("customer", "plan_version", "plan_version__plan"), pk=pk)
    return render(request, "backoffice/pricing/quote_detail.html", {"quote": quote, "result": quote.result})


# ---------------------------------------------------------------- portal


@portal_required
@require_http_methods(["GET", "POST"])
def portal_calculator(request, tenant_slug):
    calc = Calculator(request, portal=True)
    calc.run()
    return render(request, "portal/pricing/calculator.html", calc.context(), status=calc.status)


@portal_required
def portal_quote_list(request, tenant_slug):
    quotes = request.customer.quotes.select_related("plan_version", "plan_version__plan")
    return render(request, "portal/pricing/quote_list.html", {"quotes": quotes})


@portal_required
def portal_quote_detail(request, tenant_slug, pk):
    quote = get_object_or_404(request.customer.quotes.select_related("plan_version", "plan_version__plan"), pk=pk)
    return render(request, "portal/pricing/quote_detail.html", {"quote": quote, "result": quote.result})
