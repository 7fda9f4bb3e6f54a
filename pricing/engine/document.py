"""Plan versions as JSON documents: parse (with a precise error per bad field) and export.

The document is what a plan version stores, what the API reads and writes, and what
export → import round-trips. Shape::

    {"code": "digireq", "name": {"nb": "...", "en": "..."}, "currency": "NOK",
     "base_period": "month", "intervals": ["month", "year"], "annual_discount": "0.15",
     "first_period": "none", "whole_kroner": false, "minimum": null,
     "components": [{"code": "users", "label": {"nb": "...", "en": "..."}, "model": "volume",
                     "quantity": "active_users", "unit": "active_users",
                     "tiers": [{"lower": 1, "upper": 10, "flat_amount": "495"}, ...]}],
     "licence": {"d_table": [...], "m_table": [...], "factor": "0.45", "withdrawn_share": "0.5",
                 "categories": [{"code": "1", "name": {...}, "users_one_level_higher": false,
                                 "building_blocks": false, "average_list_price": null}]}}
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from pricing.engine import standards as std
from pricing.engine.errors import PricingError
from pricing.engine.models import (
    Band,
    Flat,
    Graduated,
    Matrix,
    Package,
    Percentage,
    PerUnit,
    Tier,
    Volume,
    validate_tiers,
)
from pricing.engine.quote import INTERVAL_MONTHS, UNIT_BY_NAME, Component, PlanSpec

TIERED = {"band": Band, "volume": Volume, "graduated": Graduated}
MODELS = {"flat", "per_unit", "package", "percentage", "licence", "matrix", "extra_prints", *TIERED}
FIRST_PERIODS = {"none", "quarters", "days"}


def _dec(value: Any, field: str, *, allow_none: bool = False, minimum: Decimal | None = Decimal(0)) -> Decimal | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or isinstance(value, float) or value is None:
        raise PricingError(f'{field}: write the amount as a string or integer, e.g. "495.00".', field=field)
    try:
        d = Decimal(str(value))
    except InvalidOperation as exc:
        raise PricingError(f"{field}: {value!r} is not a number.", field=field) from exc
    if not d.is_finite() or (minimum is not None and d < minimum):
        raise PricingError(f"{field}: must be a number of at least {minimum}.", field=field)
    return d


def _int(value: Any, field: str, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PricingError(f"{field}: must be a whole number ≥ 0.", field=field)
    return value


def _names(doc: dict, key: str, field: str) -> tuple[str, str]:
    names = doc.get(key)
    if not isinstance(names, dict) or not names.get("nb") or not names.get("en"):
        raise PricingError(f'{field}: give the name in both languages: {{"nb": ..., "en": ...}}.', field=field)
    return str(names["nb"]), str(names["en"])


def _tiers(raw: Any, field: str) -> tuple[Tier, ...]:
    if not isinstance(raw, list) or not raw:
        raise PricingError(f"{field}: give a list of tiers.", field=field)
    tiers = []
    for i, t in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(t, dict):
            raise PricingError(f"{where}: a tier is an object with lower, upper and a price.", field=where)
        tiers.append(
            Tier(
                lower=_int(t.get("lower"), f"{where}.lower"),
                upper=_int(t.get("upper"), f"{where}.upper", allow_none=True),
                unit_price=_dec(t.get("unit_price"), f"{where}.unit_price", allow_none=True),
                flat_amount=_dec(t.get("flat_amount"), f"{where}.flat_amount", allow_none=True),
                on_request=bool(t.get("on_request", False)),
            )
        )
    tiers = tuple(tiers)
    validate_tiers(tiers, field=field)
    return tiers


def _component(raw: Any, i: int, codes: set[str]) -> Component:
    where = f"components[{i}]"
    if not isinstance(raw, dict):
        raise PricingError(f"{where}: a component is an object.", field=where)
    code = raw.get("code")
    if not code or not isinstance(code, str):
        raise PricingError(f"{where}.code: give the component a code.", field=f"{where}.code")
    if code in codes:
        raise PricingError(f"{where}.code: {code!r} is used twice.", field=f"{where}.code")
    codes.add(code)
    label_nb, label_en = _names(raw, "label", f"{where}.label")
    kind = raw.get("model")
    if kind not in MODELS:
        raise PricingError(f"{where}.model: use one of {', '.join(sorted(MODELS))}.", field=f"{where}.model")
    unit_name = raw.get("unit", "units")
    if unit_name not in UNIT_BY_NAME:
        raise PricingError(f"{where}.unit: use one of {', '.join(sorted(UNIT_BY_NAME))}.", field=f"{where}.unit")
    unit = UNIT_BY_NAME[unit_name]
    if kind in TIERED:
        model = TIERED[kind](_tiers(raw.get("tiers"), f"{where}.tiers"), unit)
    elif kind == "flat":
        model = Flat(_dec(raw.get("amount"), f"{where}.amount"))
    elif kind == "per_unit":
        model = PerUnit(_dec(raw.get("unit_price"), f"{where}.unit_price"), unit)
    elif kind == "package":
        size = _int(raw.get("size"), f"{where}.size")
        if not size:
            raise PricingError(f"{where}.size: a package holds at least 1.", field=f"{where}.size")
        model = Package(size, _dec(raw.get("price"), f"{where}.price"), unit)
    elif kind == "percentage":
        model = Percentage(_dec(raw.get("rate"), f"{where}.rate"))
    elif kind == "matrix":
        model = _matrix(raw.get("table"), f"{where}.table")
    elif kind == "extra_prints":
        model = "extra_prints"
        share = _dec(raw.get("share", "0.30"), f"{where}.share")
        return Component(
            code,
            label_nb,
            label_en,
            model,
            quantity="extra_prints",
            addon=bool(raw.get("addon", False)),
            share=share,
            unit=unit_name,
        )
    else:
        model = "licence"
    of = tuple(raw.get("percentage_of") or ())
    if kind == "percentage" and not of:
        raise PricingError(
            f"{where}.percentage_of: name the components it is a percentage of.", field=f"{where}.percentage_of"
        )
    return Component(
        code,
        label_nb,
        label_en,
        model,
        quantity=str(raw.get("quantity", "fixed")),
        addon=bool(raw.get("addon", False)),
        percentage_of=of,
        unit=unit_name,
    )


def _matrix(raw: Any, field: str) -> Matrix:
    if not isinstance(raw, dict):
        raise PricingError(f"{field}: give row_uppers, column_uppers and amounts.", field=field)
    rows = tuple(_int(v, f"{field}.row_uppers") for v in raw.get("row_uppers") or [])
    columns = tuple(_int(v, f"{field}.column_uppers") for v in raw.get("column_uppers") or [])
    amounts = tuple(
        tuple(_dec(v, f"{field}.amounts[{i}][{j}]") for j, v in enumerate(row))
        for i, row in enumerate(raw.get("amounts") or [])
    )
    return Matrix(rows, columns, amounts)


def _licence(raw: Any) -> tuple[std.LicenceTables, dict[str, std.Category]]:
    if not isinstance(raw, dict):
        raise PricingError("licence: give the D and M tables and the categories.", field="licence")

    def tiers_with(key, value_key):
        out = []
        for i, t in enumerate(raw.get(key) or []):
            where = f"licence.{key}[{i}]"
            out.append(
                Tier(
                    _int(t.get("lower"), f"{where}.lower"),
                    _int(t.get("upper"), f"{where}.upper", allow_none=True),
                    unit_price=_dec(t.get(value_key), f"{where}.{value_key}", allow_none=True),
                    on_request=bool(t.get("on_request", False)),
                )
            )
        tiers = tuple(out)
        validate_tiers(tiers, field=f"licence.{key}")
        return tiers

    tables = std.LicenceTables(
        d_tiers=tiers_with("d_table", "discount"),
        m_tiers=tiers_with("m_table", "multiplier"),
        factor=_dec(raw.get("factor", "0.45"), "licence.factor"),
        withdrawn_share=_dec(raw.get("withdrawn_share", "0.5"), "licence.withdrawn_share"),
        block_size=_int(raw.get("block_size", 25), "licence.block_size") or 25,
    )
    categories = {}
    for i, c in enumerate(raw.get("categories") or []):
        where = f"licence.categories[{i}]"
        code = str(c.get("code") or "")
        if not code:
            raise PricingError(f"{where}.code: give the category a code.", field=f"{where}.code")
        nb, en = _names(c, "name", f"{where}.name")
        categories[code] = std.Category(
            code,
            nb,
            en,
            bool(c.get("users_one_level_higher", False)),
            bool(c.get("building_blocks", False)),
            _dec(c.get("average_list_price"), f"{where}.average_list_price", allow_none=True),
        )
    if not categories:
        raise PricingError("licence.categories: give at least one category.", field="licence.categories")
    return tables, categories


def parse_plan(doc: Any) -> PlanSpec:
    """A :class:`PlanSpec` from a JSON document; :class:`PricingError` naming the field otherwise."""
    try:
        return _parse_plan(doc)
    except PricingError:
        raise
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        # A value of the wrong JSON type somewhere the checks above did not expect it.
        raise PricingError(
            f"document: a value has the wrong type ({exc.__class__.__name__}: {exc}); compare with an exported plan.",
            field="document",
            message_nb=f"document: en verdi har feil type ({exc}); sammenlign med en eksportert plan.",
        ) from exc


def _parse_plan(doc: Any) -> PlanSpec:
    if not isinstance(doc, dict):
        raise PricingError("A plan document is a JSON object.", field="document")
    code = doc.get("code")
    if not code or not isinstance(code, str):
        raise PricingError("code: give the plan a code.", field="code")
    name_nb, name_en = _names(doc, "name", "name")
    base_period = doc.get("base_period", "year")
    intervals = tuple(doc.get("intervals") or [base_period])
    for field, values in (("base_period", (base_period,)), ("intervals", intervals)):
        bad = [v for v in values if v not in INTERVAL_MONTHS]
        if bad:
            raise PricingError(f"{field}: use month, quarter or year (not {bad[0]!r}).", field=field)
    first_period = doc.get("first_period", "none")
    if first_period not in FIRST_PERIODS:
        raise PricingError(f"first_period: use one of {', '.join(sorted(FIRST_PERIODS))}.", field="first_period")
    raw_components = doc.get("components")
    if not isinstance(raw_components, list) or not raw_components:
        raise PricingError("components: give at least one priced component.", field="components")
    codes: set[str] = set()
    components = tuple(_component(c, i, codes) for i, c in enumerate(raw_components))
    for i, comp in enumerate(components):
        missing = [c for c in comp.percentage_of if c not in codes]
        if missing:
            raise PricingError(
                f"components[{i}].percentage_of: unknown component {missing[0]!r}.",
                field=f"components[{i}].percentage_of",
            )
    tables, categories = (None, {})
    if any(c.model == "licence" for c in components):
        tables, categories = _licence(doc.get("licence"))
    discount = _dec(doc.get("annual_discount", "0"), "annual_discount")
    if discount >= 1:
        raise PricingError('annual_discount: a share below 1, e.g. "0.15" for 15 %.', field="annual_discount")
    return PlanSpec(
        code=code,
        name_nb=name_nb,
        name_en=name_en,
        components=components,
        currency=str(doc.get("currency", "NOK")),
        base_period=base_period,
        intervals=intervals,
        annual_discount=discount,
        first_period=first_period,
        whole_kroner=bool(doc.get("whole_kroner", False)),
        minimum=_dec(doc.get("minimum"), "minimum", allow_none=True),
        licence_tables=tables,
        categories=categories,
    )


def _s(d: Decimal | None) -> str | None:
    return None if d is None else str(d)


def _tiers_doc(tiers: tuple[Tier, ...]) -> list[dict]:
    out = []
    for t in tiers:
        row: dict[str, Any] = {"lower": t.lower, "upper": t.upper}
        if t.unit_price is not None:
            row["unit_price"] = _s(t.unit_price)
        if t.flat_amount is not None:
            row["flat_amount"] = _s(t.flat_amount)
        if t.on_request:
            row["on_request"] = True
        out.append(row)
    return out


def export_plan(plan: PlanSpec) -> dict:
    """The JSON document for ``plan``; ``parse_plan(export_plan(p)) == p``."""
    comps = []
    for c in plan.components:
        row: dict[str, Any] = {
            "code": c.code,
            "label": {"nb": c.label_nb, "en": c.label_en},
            "quantity": c.quantity,
            "unit": c.unit,
        }
        if c.addon:
            row["addon"] = True
        m = c.model
        if m == "licence":
            row["model"] = "licence"
        elif isinstance(m, Band | Volume | Graduated):
            row["model"] = {Band: "band", Volume: "volume", Graduated: "graduated"}[type(m)]
            row["tiers"] = _tiers_doc(m.tiers)
        elif isinstance(m, Flat):
            row.update(model="flat", amount=_s(m.amount))
        elif isinstance(m, PerUnit):
            row.update(model="per_unit", unit_price=_s(m.unit_price))
        elif isinstance(m, Package):
            row.update(model="package", size=m.size, price=_s(m.price))
        elif isinstance(m, Percentage):
            row.update(model="percentage", rate=_s(m.rate), percentage_of=list(c.percentage_of))
        elif isinstance(m, Matrix):
            row.update(
                model="matrix",
                table={
                    "row_uppers": list(m.row_uppers),
                    "column_uppers": list(m.column_uppers),
                    "amounts": [[_s(a) for a in r] for r in m.amounts],
                },
            )
        elif m == "extra_prints":
            row.update(model="extra_prints", share=_s(c.share))
        comps.append(row)
    doc: dict[str, Any] = {
        "code": plan.code,
        "name": {"nb": plan.name_nb, "en": plan.name_en},
        "currency": plan.currency,
        "base_period": plan.base_period,
        "intervals": list(plan.intervals),
        "annual_discount": _s(plan.annual_discount),
        "first_period": plan.first_period,
        "whole_kroner": plan.whole_kroner,
        "minimum": _s(plan.minimum),
        "components": comps,
    }
    if plan.licence_tables is not None:
        t = plan.licence_tables
        doc["licence"] = {
            "d_table": [
                {
                    "lower": x.lower,
                    "upper": x.upper,
                    **({"discount": _s(x.unit_price)} if x.unit_price is not None else {}),
                    **({"on_request": True} if x.on_request else {}),
                }
                for x in t.d_tiers
            ],
            "m_table": [
                {
                    "lower": x.lower,
                    "upper": x.upper,
                    **({"multiplier": _s(x.unit_price)} if x.unit_price is not None else {}),
                    **({"on_request": True} if x.on_request else {}),
                }
                for x in t.m_tiers
            ],
            "factor": _s(t.factor),
            "withdrawn_share": _s(t.withdrawn_share),
            "block_size": t.block_size,
            "categories": [
                {
                    "code": c.code,
                    "name": {"nb": c.name_nb, "en": c.name_en},
                    "users_one_level_higher": c.users_one_level_higher,
                    "building_blocks": c.building_blocks,
                    "average_list_price": _s(c.average_list_price),
                }
                for c in plan.categories.values()
            ],
        }
    return doc
