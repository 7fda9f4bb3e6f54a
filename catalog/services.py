"""Changes to the catalogue: one function per use case, in a transaction, audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from catalog.models import AddOn, HourlyService, Product, Standard, StandardCategory, StandardPrice
from tenants import audit
from tenants.audit import Actor


def _save(obj, actor: Actor, action: str, before: dict | None = None, unique_message: dict | None = None):
    obj.full_clean(exclude=["tenant"], validate_unique=False)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ValidationError(unique_message or {"code": _("This code is already in use.")}) from exc
    audit.record(actor, action, obj, before=before, after=audit.snapshot(obj))
    return obj


def _assign(obj, data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    for name, value in data.items():
        setattr(obj, name, value)


PRODUCT_FIELDS = ("code", "name_nb", "name_en", "description", "is_active")
ADDON_FIELDS = ("code", "name_nb", "name_en", "description")
HOURLY_FIELDS = ("code", "name_nb", "name_en", "hourly_rate", "travel_share", "increment_minutes", "is_active")
CATEGORY_FIELDS = ("code", "name_nb", "name_en", "users_one_level_higher", "building_blocks", "yearly_prices_fetched")


@transaction.atomic
def product_save(*, actor: Actor, data: dict[str, Any], product: Product | None = None) -> Product:
    before = audit.snapshot(product) if product else None
    product = product or Product()
    _assign(product, data, PRODUCT_FIELDS)
    return _save(product, actor, "product.update" if before else "product.create", before)


@transaction.atomic
def addon_save(*, actor: Actor, product: Product, data: dict[str, Any], addon: AddOn | None = None) -> AddOn:
    before = audit.snapshot(addon) if addon else None
    addon = addon or AddOn(product=product)
    _assign(addon, data, ADDON_FIELDS)
    return _save(addon, actor, "addon.update" if before else "addon.create", before)


@transaction.atomic
def hourly_service_save(*, actor: Actor, data: dict[str, Any], service: HourlyService | None = None) -> HourlyService:
    before = audit.snapshot(service) if service else None
    service = service or HourlyService()
    _assign(service, data, HOURLY_FIELDS)
    return _save(service, actor, "hourly_service.update" if before else "hourly_service.create", before)


@transaction.atomic
def category_save(*, actor: Actor, data: dict[str, Any], category: StandardCategory | None = None) -> StandardCategory:
    before = audit.snapshot(category) if category else None
    category = category or StandardCategory()
    _assign(category, data, CATEGORY_FIELDS)
    return _save(category, actor, "standard_category.update" if before else "standard_category.create", before)


def _delete(obj, actor: Actor, action: str) -> None:
    """Delete with an audit row; still in use (a product with plans, a category with standards) is
    a ProtectedError, which the faces report as "still in use" (and the audit row is rolled back)."""
    audit.record(actor, action, obj, before=audit.snapshot(obj))
    with transaction.atomic():
        obj.delete()


@transaction.atomic
def product_delete(*, actor: Actor, product: Product) -> None:
    _delete(product, actor, "product.delete")


@transaction.atomic
def addon_delete(*, actor: Actor, addon: AddOn) -> None:
    _delete(addon, actor, "addon.delete")


@transaction.atomic
def hourly_service_delete(*, actor: Actor, service: HourlyService) -> None:
    _delete(service, actor, "hourly_service.delete")


@transaction.atomic
def category_delete(*, actor: Actor, category: StandardCategory) -> None:
    _delete(category, actor, "standard_category.delete")


# ---------------------------------------------------------------- standards catalogue CSV import

CSV_COLUMNS = ("code", "title", "category", "price", "withdrawn_on")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    prices: int


@transaction.atomic
def standards_import_csv(*, actor: Actor, text: str, year: int) -> ImportResult:
    """Import ``code,title,category,price[,withdrawn_on]`` rows with catalogue prices for 1 January ``year``.

    Every bad row is reported with its line number, and nothing is imported when any row is bad.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS[:4] if c not in header]
    if missing:
        raise ValidationError(
            {
                "file": _("Line 1: the header lacks the column(s) %(cols)s; expected %(exp)s.")
                % {"cols": ", ".join(missing), "exp": ",".join(CSV_COLUMNS)}
            }
        )
    categories = {c.code: c for c in StandardCategory.objects.all()}
    errors: list[str] = []
    rows = []
    seen: dict[str, int] = {}
    for line_no, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        problems = []
        code, title, cat = row.get("code", ""), row.get("title", ""), row.get("category", "")
        if not code:
            problems.append(_("code is empty"))
        elif code in seen:
            problems.append(_("code %(code)s is also on line %(line)s") % {"code": code, "line": seen[code]})
        if not title:
            problems.append(_("title is empty"))
        if not cat:
            problems.append(_("category is empty: every standard needs a category"))
        elif cat not in categories:
            problems.append(
                _("unknown category %(cat)s (known: %(known)s)")
                % {"cat": cat, "known": ", ".join(sorted(categories)) or "-"}
            )
        try:
            price = Decimal(row.get("price", "").replace(" ", "").replace(",", "."))
            if not price.is_finite() or price < 0:
                raise InvalidOperation
        except InvalidOperation:
            price = None
            problems.append(_("price %(p)r is not an amount ≥ 0") % {"p": row.get("price", "")})
        withdrawn = None
        if row.get("withdrawn_on"):
            try:
                withdrawn = dt.date.fromisoformat(row["withdrawn_on"])
            except ValueError:
                problems.append(_("withdrawn_on %(d)r is not a date (YYYY-MM-DD)") % {"d": row["withdrawn_on"]})
        if code:
            seen.setdefault(code, line_no)
        if problems:
            errors.append(_("Line %(line)s: %(problems)s.") % {"line": line_no, "problems": "; ".join(problems)})
        else:
            rows.append((code, title, categories[cat], price, withdrawn))
    if errors:
        raise ValidationError({"file": errors})
    if not rows:
        raise ValidationError({"file": _("The file has no rows to import.")})
    existing = {s.code: s for s in Standard.objects.filter(code__in=[r[0] for r in rows])}
    created = updated = 0
    to_create = []
    for code, title, category, _price, withdrawn in rows:
        standard = existing.get(code)
        if standard is None:
            to_create.append(Standard(code=code, title=title, category=category, withdrawn_on=withdrawn))
            created += 1
        elif (standard.title, standard.category_id, standard.withdrawn_on) != (title, category.pk, withdrawn):
            standard.title, standard.category, standard.withdrawn_on = title, category, withdrawn
            standard.save(update_fields=["title", "category", "withdrawn_on"])
            updated += 1
    for standard in Standard.objects.bulk_create(to_create):
        existing[standard.code] = standard
    StandardPrice.objects.filter(year=year, standard__in=[existing[r[0]] for r in rows]).delete()
    StandardPrice.objects.bulk_create(
        [StandardPrice(standard=existing[code], year=year, price=price) for code, _t, _c, price, _w in rows]
    )
    summary = {"year": year, "created": created, "updated": updated, "prices": len(rows)}
    audit.record(actor, "standards.import", categories[rows[0][2].code], extra=summary)
    return ImportResult(created, updated, len(rows))
