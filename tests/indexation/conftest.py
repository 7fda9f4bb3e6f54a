import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from indexation import services
from indexation.presets import PRESETS
from pricing.index_services import index_series_ensure
from pricing.models import IndexSeries, IndexValue
from tenants.audit import Actor

FAKES = Path(__file__).resolve().parents[2] / "fakes" / "ssb"
ACTOR = Actor.system("test")
TABLE_OF = {"kpi-2015": "03013", "kpi-2025": "14709", "kpi-services-wages-2015": "11117"}


def load_recorded_values() -> None:
    """The recorded SSB figures (fakes/ssb) into the series, as a fetch would store them."""
    index_series_ensure()
    IndexSeries.objects.filter(base_year=2025, published_from=None).update(published_from=dt.date(2026, 2, 10))
    now = timezone.now()
    for code, table in TABLE_OF.items():
        series = IndexSeries.objects.get(code=code)
        with open(FAKES / f"{table}.csv", encoding="utf-8") as f:
            rows = [
                IndexValue(
                    series=series,
                    month=dt.date(int(r["month"][:4]), int(r["month"][5:]), 1),
                    value=Decimal(r["value"]),
                    source=f"SSB table {table} (recorded)",
                    fetched_at=now,
                )
                for r in csv.DictReader(f)
            ]
        IndexValue.objects.bulk_create(rows, ignore_conflicts=True)


@pytest.fixture
def kpi(db):
    load_recorded_values()


def policy(slug: str, plan=None, **changes):
    data = {**PRESETS[slug], **changes}
    if plan is not None:
        data["plan"] = plan
    return services.policy_create(actor=ACTOR, data=data)
