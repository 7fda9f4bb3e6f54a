"""Index series and their values: the only writers of IndexSeries, IndexValue and IndexValueOverride.

* :func:`index_series_ensure`: the series Avtale knows (RULES §7), created or brought up to date.
* :func:`index_fetch`: every month SSB publishes for those series, through :mod:`pricing.ssb`; the
  monthly job (Celery beat) and ``manage.py index_fetch`` call it. Series and values are public figures
  shared by every tenant, so the fetch runs without a tenant.
* :func:`index_value_enter` / :func:`index_value_override_delete`: a tenant's staff enter a month's value
  by hand while SSB cannot be reached. That value is the tenant's alone and is used only where SSB's own
  value for the month is not stored (``pricing.index_data``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language

from pricing import indexation as ix
from pricing import ssb
from pricing.index_data import as_date, as_month
from pricing.models import IndexSeries, IndexValue, IndexValueOverride
from tenants import audit
from tenants.audit import Actor

# ---------------------------------------------------------------- the known series


@dataclass(frozen=True)
class SeriesSpec:
    code: str
    index_code: str
    table: str
    base: str
    base_year: int
    query: dict[str, list[str]]
    closed_after: str
    name_nb: str
    name_en: str
    short_nb: str
    short_en: str
    published_from: dt.date | None = None

    def fields(self) -> dict[str, Any]:
        return {
            "published_from": self.published_from,
            "index_code": self.index_code,
            "table": self.table,
            "base": self.base,
            "base_year": self.base_year,
            "query": self.query,
            "closed_after": self.closed_after,
            "name_nb": self.name_nb,
            "name_en": self.name_en,
            "short_nb": self.short_nb,
            "short_en": self.short_en,
        }


KPI_NB, KPI_EN = "Konsumprisindeksen (KPI), totalindeks", "Consumer price index (CPI), all-item"
WAGES_NB = "KPI tjenester hvor arbeidskraft dominerer"
WAGES_EN = "CPI services with wages as the dominant factor"

#: The series Avtale fetches (RULES §7). SSB republished KPI on 2025 = 100 in tables 14700 ff. from
#: February 2026: 14709 is the total index by month, 14702 the index by delivery sector (the successor
#: of 11117). The 2015 = 100 tables end with December 2025. The 2025 = 100 tables' selections follow the
#: recorded answers in ``fakes/ssb/``; check them against SSB's metadata (GET the table URL) if SSB
#: refuses the query (HTTP 400), and change them here.
SERIES: tuple[SeriesSpec, ...] = (
    SeriesSpec(
        code="kpi-2015",
        index_code="kpi",
        table="03013",
        base="2015=100",
        base_year=2015,
        query={"Konsumgrp": ["TOTAL"], "ContentsCode": ["KpiIndMnd"]},
        closed_after="2025M12",
        name_nb=KPI_NB,
        name_en=KPI_EN,
        short_nb="KPI",
        short_en="CPI",
    ),
    SeriesSpec(
        code="kpi-2025",
        index_code="kpi",
        table="14709",
        base="2025=100",
        base_year=2025,
        published_from=dt.date(2026, 2, 10),  # SSB's 2025 = 100 tables came out in February 2026
        query={"ContentsCode": ["KpiIndMnd"]},
        closed_after="",
        name_nb=KPI_NB,
        name_en=KPI_EN,
        short_nb="KPI",
        short_en="CPI",
    ),
    SeriesSpec(
        code="kpi-services-wages-2015",
        index_code="kpi-services-wages",
        table="11117",
        base="2015=100",
        base_year=2015,
        query={"Leveringssektor": ["B221"], "ContentsCode": ["LevIndMnd"]},
        closed_after="2025M12",
        name_nb="Konsumprisindeks etter leveringssektor: tjenester hvor arbeidskraft dominerer",
        name_en="CPI by delivery sector: services with wages as the dominant factor",
        short_nb=WAGES_NB,
        short_en=WAGES_EN,
    ),
    SeriesSpec(
        code="kpi-services-wages-2025",
        index_code="kpi-services-wages",
        table="14702",
        base="2025=100",
        base_year=2025,
        published_from=dt.date(2026, 2, 10),  # SSB's 2025 = 100 tables came out in February 2026
        query={"Leveringssektor": ["B221"], "ContentsCode": ["LevIndMnd"]},
        closed_after="",
        name_nb="Konsumprisindeks etter leveringssektor: tjenester hvor arbeidskraft dominerer",
        name_en="CPI by delivery sector: services with wages as the dominant factor",
        short_nb=WAGES_NB,
        short_en=WAGES_EN,
    ),
)
SERIES_BY_CODE = {spec.code: spec for spec in SERIES}


def index_series_ensure() -> list[IndexSeries]:
    """Create the known series, or bring their definitions up to date; idempotent. Fetch state and values
    are left as they are."""
    out = []
    with transaction.atomic():
        for spec in SERIES:
            series, created = IndexSeries.objects.select_for_update().get_or_create(
                code=spec.code, defaults=spec.fields()
            )
            if not created:
                changed = [name for name, value in spec.fields().items() if getattr(series, name) != value]
                for name in changed:
                    setattr(series, name, spec.fields()[name])
                if changed:
                    series.save(update_fields=changed)
            out.append(series)
    return out


# ---------------------------------------------------------------- fetching from SSB


def _figure(value: Decimal, lang: str = "en") -> str:
    """An index as SSB writes it: 138.700 → 138.7 (nb 138,7); 140.000 → 140.0."""
    text = format(value.normalize(), "f") if value != value.to_integral_value() else f"{value:.1f}"
    return text.replace(".", ",") if lang == "nb" else text


@dataclass
class SeriesFetch:
    """What one series' fetch found: months new to Avtale, months SSB changed, or the error."""

    code: str
    table: str
    new: list[tuple[ix.Month, Decimal]] = field(default_factory=list)
    changed: list[tuple[ix.Month, Decimal, Decimal]] = field(default_factory=list)  # month, stored, SSB's
    unchanged: int = 0
    ignored: int = 0  # months after the series closed, or not yet ended on the date
    latest: ix.Month | None = None  # the latest month SSB has (within the date), stored or not
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def line(self) -> str:
        if self.error:
            return f"{self.code} (table {self.table}): not fetched: {self.error}. Its values are unchanged."
        parts = []
        if self.new:
            months = [m for m, _v in self.new]
            span = (
                ix.month_code(months[0])
                if len(months) == 1
                else f"{ix.month_code(months[0])}–{ix.month_code(months[-1])}"
            )
            parts.append(f"{len(months)} new month{'s' if len(months) != 1 else ''} ({span})")
        for month, old, new in self.changed:
            parts.append(f"{ix.month_code(month)} changed by SSB from {_figure(old)} to {_figure(new)}")
        if not parts:
            parts.append("nothing new")
        if self.latest:
            parts.append(f"latest month {ix.month_code(self.latest)}")
        if self.ignored:
            parts.append(
                f"{self.ignored} month{'s' if self.ignored != 1 else ''} ignored"
                " (after the series closed or not yet ended)"
            )
        return f"{self.code} (table {self.table}): " + "; ".join(parts) + "."

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "table": self.table,
            "new": [ix.month_code(m) for m, _v in self.new],
            "changed": [{"month": ix.month_code(m), "old": str(o), "new": str(n)} for m, o, n in self.changed],
            "unchanged": self.unchanged,
            "ignored": self.ignored,
            "latest": ix.month_code(self.latest) if self.latest else None,
            "error": self.error,
        }


@dataclass
class FetchReport:
    as_of: dt.date
    dry_run: bool
    series: list[SeriesFetch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.series)

    @property
    def new_count(self) -> int:
        return sum(len(s.new) for s in self.series)

    @property
    def changed_count(self) -> int:
        return sum(len(s.changed) for s in self.series)

    def by_code(self, code: str) -> SeriesFetch:
        return next(s for s in self.series if s.code == code)

    def lines(self) -> list[str]:
        head = f"Index values from SSB as of {self.as_of.isoformat()}" + (
            " (dry run: nothing stored)" if self.dry_run else ""
        )
        return [head + ":", *(s.line() for s in self.series)]

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "dry_run": self.dry_run, "series": [s.as_dict() for s in self.series]}


def _series_for(series_codes: Iterable[str] | None, *, create: bool) -> list[IndexSeries]:
    codes = list(series_codes) if series_codes else [spec.code for spec in SERIES]
    stored = {s.code: s for s in IndexSeries.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in stored and c not in SERIES_BY_CODE]
    if unknown:
        raise ValidationError(
            {"series": f"Unknown index series {', '.join(unknown)}; known: {', '.join(sorted(SERIES_BY_CODE))}."}
        )
    if create:  # a known series not stored yet is created; a stored one is read as it is
        for code in codes:
            if code not in stored:
                stored[code], _created = IndexSeries.objects.get_or_create(
                    code=code, defaults=SERIES_BY_CODE[code].fields()
                )
    # A dry run on a fresh database reads the known series without storing them.
    return [stored.get(c) or IndexSeries(code=c, **SERIES_BY_CODE[c].fields()) for c in codes]


def _usable(month: ix.Month, series: IndexSeries, as_of: dt.date) -> bool:
    """A month that can be stored on ``as_of``: ended, and not after the series closed."""
    if month >= ix.month_of(as_of):
        return False
    return not (series.closed_after and month > ix.parse_month(series.closed_after))


def _fetch_one(
    client: ssb.SsbClient, series: IndexSeries, *, as_of: dt.date, months: int | None, dry_run: bool, now: dt.datetime
) -> SeriesFetch:
    result = SeriesFetch(code=series.code, table=series.table)
    try:
        answer = client.series(series.table, series.query, last=months)
        for month, value in answer.values.items():
            if value <= 0 or value.as_tuple().exponent < -3 or value.adjusted() >= 7:
                raise ssb.SsbUnavailable(
                    f"SSB answered {value} for {ix.month_code(month)}, which is not an index that can be stored "
                    "(a positive number with at most seven digits before and three after the decimal point)"
                )
    except ssb.SsbError as error:
        result.error = str(error)
        if not dry_run and series.pk:
            IndexSeries.objects.filter(pk=series.pk).update(fetch_error=result.error)
        return result

    usable = {m: v for m, v in answer.values.items() if _usable(m, series, as_of)}
    result.ignored = len(answer.values) - len(usable)
    result.latest = max(usable) if usable else None
    source = f"SSB table {series.table} (JSON-stat2), fetched {as_of.isoformat()}"[:300]

    with transaction.atomic():
        if series.pk and not dry_run:
            IndexSeries.objects.select_for_update().filter(pk=series.pk).first()  # one fetch of a series at a time
        stored = (
            {as_month(row.month): row for row in IndexValue.objects.filter(series_id=series.pk)} if series.pk else {}
        )
        to_create, to_update = [], []
        for month, value in sorted(usable.items()):
            row = stored.get(month)
            if row is None:
                result.new.append((month, value))
                to_create.append(
                    IndexValue(series=series, month=as_date(month), value=value, source=source, fetched_at=now)
                )
            elif row.value != value:
                result.changed.append((month, row.value, value))
                row.value, row.source, row.fetched_at = value, source, now
                to_update.append(row)
            else:
                result.unchanged += 1
        if not dry_run:
            IndexValue.objects.bulk_create(to_create)
            IndexValue.objects.bulk_update(to_update, ["value", "source", "fetched_at"])
            IndexSeries.objects.filter(pk=series.pk).update(fetched_at=now, fetch_error="")
    return result


def index_fetch(
    *,
    as_of: dt.date,
    series_codes: Iterable[str] | None = None,
    dry_run: bool = False,
    months: int | None = None,
    now: dt.datetime | None = None,
) -> FetchReport:
    """Fetch the known series (or ``series_codes``) from SSB and store every month not stored yet.

    ``months``: only SSB's latest N months (the monthly job); None: every month (a backfill). Months not
    yet ended on ``as_of`` and months after a series closed are ignored. A value SSB has changed since it
    was stored is updated and reported. One series failing (SSB down, a table SSB does not have) records
    the error in words on that series, changes none of its values, and the others are fetched. Idempotent:
    a second run finds nothing new. ``dry_run``: report what would change, store nothing.

    A known series not stored yet is created first (not in a dry run); a stored series is fetched as its
    row defines it (:func:`index_series_ensure` brings the rows back to the definitions here).
    """
    if months is not None and months < 1:
        raise ValidationError({"months": "Give a number of months of 1 or more, or none for every month."})
    now = now or timezone.now()
    client = ssb.SsbClient()
    report = FetchReport(as_of=as_of, dry_run=dry_run)
    for series in _series_for(series_codes, create=not dry_run):
        report.series.append(_fetch_one(client, series, as_of=as_of, months=months, dry_run=dry_run, now=now))
    return report


# ---------------------------------------------------------------- values entered by hand


def _lang() -> str:
    return "en" if (get_language() or "nb").startswith("en") else "nb"


def _msg(en: str, nb: str) -> str:
    return en if _lang() == "en" else nb


def _indexation_message(error: ix.IndexationError) -> str:
    text = error.message_nb if _lang() == "nb" else str(error)
    prefix = f"{error.field}: "
    return text[len(prefix) :] if error.field and text.startswith(prefix) else text


def _parse_month(month: Any) -> ix.Month:
    if isinstance(month, dt.date):
        return ix.month_of(month)
    if isinstance(month, tuple) and len(month) == 2 and all(isinstance(p, int) for p in month):
        if 1 <= month[1] <= 12:
            return month
        raise ValidationError(
            {"month": _msg("Not a month; write it as 2025M10.", "Ikke en måned; skriv den som 2025M10.")}
        )
    try:
        return ix.parse_month(str(month or ""))
    except ix.IndexationError as error:
        raise ValidationError(
            {
                "month": _msg(
                    "Not a month; write it as 2025M10 or 2025-10.",
                    "Ikke en måned; skriv den som 2025M10 eller 2025-10.",
                )
            }
        ) from error


def _parse_value(value: Any) -> Decimal:
    text = str(value).strip().replace(" ", "").replace(",", ".") if value is not None else ""
    try:
        number = Decimal(text) if not isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValidationError(
            {"value": _msg("Give the index as a number, e.g. 138.4.", "Skriv indeksen som et tall, f.eks. 138,4.")}
        )
    return number


def _series(series: IndexSeries | str) -> IndexSeries:
    if isinstance(series, IndexSeries):
        return series
    found = IndexSeries.objects.filter(code=str(series or "")).first()
    if found is None:
        raise ValidationError({"series": _msg(f"Unknown index series {series!r}.", f"Ukjent indeksserie {series!r}.")})
    return found


@transaction.atomic
def index_value_enter(
    *, actor: Actor, series: IndexSeries | str, month: Any, value: Any, note: str, today: dt.date
) -> IndexValueOverride:
    """The current tenant's own value for a month SSB's value is not stored for (SSB unreachable).

    Refused with a message per field, and nothing written, when the series is unknown, the month is not a
    month, has not ended on ``today`` or is after the series closed, SSB's value for it is already stored,
    the value is not a positive index (at most three decimals), or no note says where it comes from.
    Entering a month again replaces the tenant's earlier value (audited with both).
    """
    series = _series(series)
    errors: dict[str, str] = {}
    parsed_month = parsed_value = None
    try:
        parsed_month = _parse_month(month)
    except ValidationError as error:
        errors.update({k: v[0] for k, v in error.message_dict.items()})
    try:
        parsed_value = _parse_value(value)
    except ValidationError as error:
        errors.update({k: v[0] for k, v in error.message_dict.items()})
    note = (note or "").strip()
    if not note:
        errors["note"] = _msg(
            "Say where the value comes from (e.g. SSB's press release of 10 November).",
            "Skriv hvor verdien kommer fra (f.eks. SSBs publisering 10. november).",
        )
    elif len(note) > 300:
        errors["note"] = _msg("At most 300 characters.", "Høyst 300 tegn.")

    if parsed_month is not None:
        # The rules' own check: a positive value, for a month that has ended. Asked twice so that a bad value
        # does not hide a bad month.
        for candidate in (parsed_value, Decimal(1)):
            if candidate is None:
                continue
            try:
                ix.check_value(candidate, parsed_month, today=today)
            except ix.IndexationError as error:
                errors.setdefault(error.field or "value", _indexation_message(error))
    if parsed_value is not None and "value" not in errors:
        if parsed_value.as_tuple().exponent < -3 or parsed_value.adjusted() >= 7:
            errors["value"] = _msg(
                "An index has at most seven digits before and three after the decimal point.",
                "En indeks har høyst sju sifre før og tre etter desimaltegnet.",
            )
    if parsed_month is not None and "month" not in errors:
        code = ix.month_code(parsed_month)
        if series.closed_after and parsed_month > ix.parse_month(series.closed_after):
            errors["month"] = _msg(
                f"{series.short_en} ({series.base}) ends with {series.closed_after}; "
                f"{code} belongs to the newer series.",
                f"{series.short_nb} ({series.base}) slutter med {series.closed_after}; "
                f"{code} hører til den nyere serien.",
            )
        else:
            published = IndexValue.objects.filter(series=series, month=as_date(parsed_month)).first()
            if published is not None:
                errors["month"] = _msg(
                    f"SSB's value for {code} is already stored ({_figure(published.value)}); it is used, not one "
                    "entered by hand.",
                    f"SSBs verdi for {code} er allerede lagret ({_figure(published.value, 'nb')}); den brukes, ikke en "
                    "verdi lagt inn for hånd.",
                )
    if errors:
        raise ValidationError(errors)

    existing = IndexValueOverride.objects.select_for_update().filter(series=series, month=as_date(parsed_month)).first()
    if existing is not None:
        before = audit.snapshot(existing)
        existing.value, existing.note, existing.entered_by = parsed_value, note, actor.label[:200]
        existing.save(update_fields=["value", "note", "entered_by"])
        audit.record(actor, "index_value_override.update", existing, before=before, after=audit.snapshot(existing))
        return existing
    override = IndexValueOverride.objects.create(
        series=series, month=as_date(parsed_month), value=parsed_value, note=note, entered_by=actor.label[:200]
    )
    audit.record(actor, "index_value_override.create", override, after=audit.snapshot(override))
    return override


@transaction.atomic
def index_value_override_delete(*, actor: Actor, override: IndexValueOverride) -> None:
    """Remove the current tenant's hand-entered value (another tenant's is not found: DoesNotExist)."""
    row = IndexValueOverride.objects.select_for_update().get(pk=override.pk)
    audit.record(actor, "index_value_override.delete", row, before=audit.snapshot(row))
    row.delete()
