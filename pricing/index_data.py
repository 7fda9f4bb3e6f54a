"""Index values as the pure rules read them: every series of an index, published values first, then the
current tenant's hand-entered values for months SSB's own are not stored (RULES §7)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q

from pricing import indexation as ix
from pricing.models import IndexSeries, IndexValue, IndexValueOverride


def as_month(day: dt.date) -> ix.Month:
    return (day.year, day.month)


def as_date(month: ix.Month) -> dt.date:
    return dt.date(month[0], month[1], 1)


def load_series(index_code: str, *, on: dt.date | None = None, overrides: bool = True) -> list[ix.Series]:
    """Every series of ``index_code`` as :class:`pricing.indexation.Series`, newest base first; ``on``: only
    the series SSB had published by that day."""
    out = []
    found = IndexSeries.objects.filter(index_code=index_code).order_by("-base_year")
    if on is not None:
        found = found.filter(Q(published_from__isnull=True) | Q(published_from__lte=on))
    for series in found:
        values: dict[ix.Month, Decimal] = {
            as_month(m): v for m, v in IndexValue.objects.filter(series=series).values_list("month", "value")
        }
        if overrides:
            for m, v in IndexValueOverride.objects.filter(series=series).values_list("month", "value"):
                values.setdefault(as_month(m), v)
        out.append(
            ix.Series(
                code=series.code,
                base=series.base,
                name_nb=series.short_nb,
                name_en=series.short_en,
                values=values,
                newest_base_first=series.base_year,
            )
        )
    return out
