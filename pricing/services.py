"""Plans, plan versions and quotes. The engine (pricing.engine) computes; this module loads and saves.

A back-office calculator, the portal calculator and ``POST /api/v1/quotes`` all call
:func:`quote_compute`, so they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from catalog.models import Product, Standard, StandardPrice
from pricing.engine.document import export_plan, parse_plan
from pricing.engine.errors import PricingError
from pricing.engine.quote import QuoteInput, QuoteResult, School, price
from pricing.engine.standards import HeldStandard
from pricing.models import Plan, PlanVersion, Quote
from pricing.selectors import plan_version_in_force
from tenants import audit
from tenants.audit import Actor
from tenants.models import PUBLIC_SECTOR_KINDS, Customer


def as_validation_error(error: PricingError) -> ValidationError:
    lang = "en" if (get_language() or "nb").startswith("en") else "nb"
    return ValidationError({error.field: error.message(lang)})


def validate_document(document: Any) -> None:
    try:
        parse_plan(document)
    except PricingError as error:
        raise as_validation_error(error) from error


# ---------------------------------------------------------------- plans


@transaction.atomic
def plan_create(*, actor: Actor, product: Product, code: str, name_nb: str, name_en: str) -> Plan:
    plan = Plan(product=product, code=code, name_nb=name_nb, name_en=name_en)
    plan.full_clean(exclude=["tenant"], validate_unique=False)
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as exc:
        raise ValidationError({"code": _("A plan with this code already exists.")}) from exc
    audit.record(actor, "plan.create", plan, after=audit.snapshot(plan))
    return plan


@transaction.atomic
def plan_version_create(
    *, actor: Actor, plan: Plan, valid_from: dt.date, document: dict, note: str = ""
) -> PlanVersion:
    """A new price version from ``valid_from``. Refused with a message per field when the document is bad."""
    if not isinstance(valid_from, dt.date):
        raise ValidationError({"valid_from": _("Give the date the prices apply from (YYYY-MM-DD).")})
    if isinstance(document, dict) and document.get("code") not in (None, plan.code):
        raise ValidationError(
            {
                "code": _("The document is for plan %(doc)s, not %(plan)s.")
                % {"doc": document.get("code"), "plan": plan.code}
            }
        )
    if isinstance(document, dict):
        document = {**document, "code": plan.code}
    validate_document(document)
    document = export_plan(parse_plan(document))  # stored normalised: what export gives back
    version = PlanVersion(plan=plan, valid_from=valid_from, document=document, note=note, created_by=actor.label[:200])
    try:
        with transaction.atomic():
            version.save()
    except IntegrityError as exc:
        raise ValidationError(
            {
                "valid_from": _("This plan already has a version from %(d)s; choose another date.")
                % {"d": valid_from.isoformat()}
            }
        ) from exc
    audit.record(actor, "plan_version.create", version, after=audit.snapshot(version))
    return version


def plan_version_export(version: PlanVersion) -> dict:
    return {
        "plan": version.plan.code,
        "name": {"nb": version.plan.name_nb, "en": version.plan.name_en},
        "product": version.plan.product.code,
        "valid_from": version.valid_from.isoformat(),
        "note": version.note,
        "document": version.document,
    }


@transaction.atomic
def plan_version_import(*, actor: Actor, payload: dict) -> PlanVersion:
    """Import an exported version (creating the plan if needed) — the inverse of :func:`plan_version_export`."""
    if not isinstance(payload, dict):
        raise ValidationError({"document": _("Send the exported JSON object.")})
    errors = {
        k: _("This field is required.") for k in ("plan", "product", "valid_from", "document") if not payload.get(k)
    }
    if errors:
        raise ValidationError(errors)
    product = Product.objects.filter(code=payload["product"]).first()
    if product is None:
        raise ValidationError({"product": _("Unknown product %(p)s.") % {"p": payload["product"]}})
    try:
        valid_from = dt.date.fromisoformat(str(payload["valid_from"]))
    except ValueError as exc:
        raise ValidationError({"valid_from": _("Not a date (YYYY-MM-DD).")}) from exc
    plan = Plan.objects.filter(code=payload["plan"]).first()
    if plan is None:
        names = payload.get("name") or {}
        plan = plan_create(
            actor=actor,
            product=product,
            code=payload["plan"],
            name_nb=names.get("nb") or payload["plan"],
            name_en=names.get("en") or payload["plan"],
        )
    return plan_version_create(
        actor=actor, plan=plan, valid_from=valid_from, document=payload["document"], note=str(payload.get("note") or "")
    )


# ---------------------------------------------------------------- quotes


def _date(value, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError({field: _("%(v)s is not a date (YYYY-MM-DD).") % {"v": value}}) from exc


def held_standards(rows: Any, year: int) -> tuple[HeldStandard, ...]:
    """Catalogue codes (priced per 1 January of ``year``) or explicit category and price."""
    if rows in (None, []):
        return ()
    if not isinstance(rows, list):
        raise ValidationError({"standards": _("Give a list of standards.")})
    codes = [r.get("code") for r in rows if isinstance(r, dict) and r.get("code") and not r.get("category")]
    catalogue = {s.code: s for s in Standard.objects.filter(code__in=codes).select_related("category")}
    prices = {p.standard_id: p.price for p in StandardPrice.objects.filter(standard__in=catalogue.values(), year=year)}
    out = []
    for i, row in enumerate(rows):
        field = f"standards[{i}]"
        if not isinstance(row, dict):
            raise ValidationError({field: _("Give a catalogue code, or a category and a price.")})
        added = row.get("added_in_year")
        if row.get("category") or row.get("price") is not None:
            if not row.get("category"):
                raise ValidationError({field: _("This standard has no category; give it one.")})
            try:
                amount = Decimal(str(row.get("price")))
            except InvalidOperation as exc:
                raise ValidationError({field: _("Give the catalogue price as a number.")}) from exc
            withdrawn = _date(row.get("withdrawn_on"), field)
            out.append(
                HeldStandard(str(row.get("code") or f"#{i + 1}"), str(row["category"]), amount, withdrawn, added)
            )
            continue
        standard = catalogue.get(row.get("code"))
        if standard is None:
            raise ValidationError({field: _("Unknown standard %(c)s in the catalogue.") % {"c": row.get("code")}})
        if standard.pk not in prices:
            raise ValidationError(
                {field: _("%(c)s has no catalogue price for 1 January %(y)s.") % {"c": standard.code, "y": year}}
            )
        out.append(
            HeldStandard(standard.code, standard.category.code, prices[standard.pk], standard.withdrawn_on, added)
        )
    return tuple(out)


def contract_quote_request(
    request: dict, *, plan_code: str, interval: str, start: dt.date, customer, leave_out: tuple[str, ...] = ()
) -> dict:
    """A contract's priced-on ``request`` as the quote request that prices it from ``start``: its plan and
    interval, the customer's VAT treatment and public-sector status unless the request says otherwise
    (the billing run and the indexation preview price contracts the same way). ``leave_out``: keys the
    caller resolves itself (e.g. catalogue standards)."""
    body = {k: v for k, v in request.items() if k not in ("customer", *leave_out)}
    body.update(plan=plan_code, interval=interval, start=start.isoformat())
    body["vat_treatment"] = request.get("vat_treatment") or customer.vat_treatment
    if request.get("public_sector") is None:
        body["public_sector"] = customer.kind in PUBLIC_SECTOR_KINDS
    return body


def build_input(request: dict, *, on: dt.date, plan_intervals: tuple[str, ...]) -> tuple[QuoteInput, Customer | None]:
    """Turn a quote request (API JSON or form data) into the engine's input, loading catalogue prices."""
    customer = None
    if request.get("customer") not in (None, ""):
        customer = (
            Customer.objects.filter(pk=request["customer"]).first() if str(request["customer"]).isdigit() else None
        )
        if customer is None:
            raise ValidationError({"customer": _("Unknown customer.")})
    start = _date(request.get("start"), "start")
    schools = request.get("schools") or []
    if not isinstance(schools, list) or not all(isinstance(s, dict) for s in schools):
        raise ValidationError({"schools": _("Give a list of schools with name and pupils.")})
    quantities = request.get("quantities") or {}
    if not isinstance(quantities, dict):
        raise ValidationError({"quantities": _('Give quantities as an object, e.g. {"active_users": 30}.')})
    addons = request.get("addons") or []
    if not isinstance(addons, list):
        raise ValidationError({"addons": _("Give the add-ons as a list of codes.")})
    vat = request.get("vat_treatment") or (customer.vat_treatment if customer else "no_25")
    public = request.get("public_sector")
    if public is None:
        public = bool(customer and customer.kind in PUBLIC_SECTOR_KINDS)
    months = request.get("contract_months", 12)
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 120:
        raise ValidationError({"contract_months": _("Give the contract length in months (1–120).")})
    year = (start or on).year
    prints = request.get("extra_prints") or []
    if not isinstance(prints, list) or not all(isinstance(p, dict) for p in prints):
        raise ValidationError({"extra_prints": _('Give a list of {"code": ..., "count": ...}.')})
    printed = held_standards([{"code": p.get("code")} for p in prints], year)
    data = QuoteInput(
        interval=request.get("interval") or plan_intervals[0],
        schools=tuple(School(str(s.get("name") or f"#{i + 1}"), s.get("pupils")) for i, s in enumerate(schools)),
        quantities=dict(quantities),
        standards=held_standards(request.get("standards"), year),
        concurrent_users=request.get("concurrent_users"),
        addons=tuple(addons),
        addon_amounts={k: v for k, v in (request.get("addon_amounts") or {}).items()},
        extra_prints=tuple((s.code, s.catalogue_price, p.get("count")) for s, p in zip(printed, prints, strict=True)),
        start=start,
        vat_treatment=vat,
        public_sector=bool(public),
        contract_months=months,
    )
    return data, customer


def quote_compute(*, request: dict, on: dt.date) -> tuple[QuoteResult, PlanVersion, Customer | None]:
    """Price a quote request on the plan version in force on its start date (or ``on``)."""
    if not isinstance(request, dict):
        raise ValidationError({"non_field_errors": _("Send the quote request as a JSON object.")})
    plan = Plan.objects.filter(code=request.get("plan") or "", is_active=True).first()
    if plan is None:
        raise ValidationError({"plan": _("Unknown plan %(p)s.") % {"p": request.get("plan")}})
    start = _date(request.get("start"), "start")
    version = plan_version_in_force(plan, start or on)
    if version is None:
        raise ValidationError(
            {"start": _("Plan %(p)s has no prices valid on %(d)s.") % {"p": plan.code, "d": (start or on).isoformat()}}
        )
    spec = parse_plan(version.document)
    data, customer = build_input(request, on=on, plan_intervals=spec.intervals)
    try:
        result = price(spec, data, on=on)
    except PricingError as error:
        raise as_validation_error(error) from error
    return result, version, customer


@transaction.atomic
def quote_save(*, actor: Actor, request: dict, on: dt.date) -> Quote:
    result, version, customer = quote_compute(request=request, on=on)
    quote = Quote(
        customer=customer,
        plan_version=version,
        quoted_on=on,
        request=request,
        result=result.as_dict(),
        interval=result.interval,
        currency=result.totals.currency,
        net=None if result.on_request else result.totals.net,
        vat=None if result.on_request else result.totals.vat,
        total=None if result.on_request else result.totals.total,
        on_request=result.on_request,
        created_by=actor.label[:200],
    )
    quote.save()
    audit.record(actor, "quote.create", quote, after=audit.snapshot(quote))
    return quote
