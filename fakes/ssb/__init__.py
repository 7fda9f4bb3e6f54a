"""SSB's statistics API (PxWebApi v0), faked from recorded figures.

The CSV files here (``month,value``) are copied from ``shared/data/`` so that CI never needs it:

* ``03013.csv``: KPI total, table 03013 (Konsumgrp=TOTAL, ContentsCode=KpiIndMnd, 2015 = 100),
  2015M01–2025M12 (the table is closed after December 2025), from ``kpi_total_2015.csv``;
* ``14709.csv``: KPI total on the new base, table 14709 (ContentsCode=KpiIndMnd, 2025 = 100),
  2015M01–2026M04 (SSB has it back to 1920; the recording keeps 2015 onwards), from
  ``kpi_2025base_14709.csv``;
* ``11117.csv``: "Tjenester hvor arbeidskraft dominerer", table 11117 (Leveringssektor=B221,
  ContentsCode=LevIndMnd, 2015 = 100), 2015M01–2025M07, from ``kpi_services_wages.csv`` (the months
  marked MISSING there are absent here, as they are from the recording).

Every figure is as SSB published it; nothing is interpolated. :func:`answer` turns a PxWebApi v0 query
into SSB's JSON-stat2 answer; :func:`recorded_series` lists the recorded series for the demo.
Table 14702 (the services sub-index on 2025 = 100) is not recorded: the fake answers it 404.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

DATA = Path(__file__).resolve().parent
SOURCE = "Statistisk sentralbyrå"


@dataclass(frozen=True)
class Dimension:
    code: str
    label: str
    categories: dict[str, str]  # code → label, in SSB's order (empty for Tid: the recorded months)


@dataclass(frozen=True)
class RecordedTable:
    table: str
    label: str
    updated: str  # SSB's "updated" of the recording
    dimensions: tuple[Dimension, ...]  # in SSB's order; Tid is one of them
    base: str
    note: str = ""

    @property
    def selection(self) -> dict[str, list[str]]:
        """The one series recorded: {dimension: [category]} for every dimension but Tid."""
        return {d.code: list(d.categories) for d in self.dimensions if d.code != "Tid"}

    def values(self) -> dict[str, Decimal]:
        """{"2025M10": Decimal("138.7"), …} in month order."""
        with (DATA / f"{self.table}.csv").open(encoding="utf-8", newline="") as handle:
            return {row["month"]: Decimal(row["value"]) for row in csv.DictReader(handle) if row["value"].strip()}


TID = Dimension("Tid", "måned", {})

TABLES: dict[str, RecordedTable] = {
    "03013": RecordedTable(
        table="03013",
        label="03013: Konsumprisindeks, etter konsumgruppe, statistikkvariabel og måned",
        updated="2026-01-09T07:00:00Z",
        dimensions=(
            Dimension("Konsumgrp", "konsumgruppe", {"TOTAL": "Totalindeks"}),
            Dimension("ContentsCode", "statistikkvariabel", {"KpiIndMnd": "Konsumprisindeks (2015=100)"}),
            TID,
        ),
        base="2015=100",
        note="Denne tabellen blir ikke oppdatert lenger, og erstattes av ny tabell 14700 fra 10.2.2026.",
    ),
    "14709": RecordedTable(
        table="14709",
        label="14709: Konsumprisindeks, etter statistikkvariabel og måned (2025=100)",
        updated="2026-05-11T06:00:00Z",
        dimensions=(
            Dimension("ContentsCode", "statistikkvariabel", {"KpiIndMnd": "Konsumprisindeks (2025=100)"}),
            TID,
        ),
        base="2025=100",
    ),
    "11117": RecordedTable(
        table="11117",
        label="11117: Konsumprisindeks for varer og tjenester, etter leveringssektor, måned og statistikkvariabel",
        updated="2025-08-11T06:00:00Z",
        # SSB orders this table's dimensions sector, month, contents: Tid is not last.
        dimensions=(
            Dimension("Leveringssektor", "leveringssektor", {"B221": "Tjenester hvor arbeidskraft dominerer"}),
            TID,
            Dimension("ContentsCode", "statistikkvariabel", {"LevIndMnd": "Konsumprisindeks (2015=100)"}),
        ),
        base="2015=100",
    ),
}


@dataclass(frozen=True)
class RecordedSeries:
    table: str
    selection: dict[str, list[str]]
    base: str
    label: str
    updated: str
    values: dict[tuple[int, int], Decimal]  # {(2025, 10): Decimal("138.7")}


def recorded_series() -> list[RecordedSeries]:
    """Every recorded series with its values, so the demo can start from them without the fake server."""
    out = []
    for table in TABLES.values():
        values = {(int(m[:4]), int(m[5:])): v for m, v in table.values().items()}
        out.append(RecordedSeries(table.table, table.selection, table.base, table.label, table.updated, values))
    return out


class QueryError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _selected(dimension: Dimension, codes: list[str], selection: dict | None) -> list[str]:
    """The categories a PxWebApi v0 selection picks, in the table's order; QueryError (400) when it is bad."""
    if selection is None:
        return codes
    kind = selection.get("filter")
    values = selection.get("values") or []
    if kind == "all":
        return codes
    if kind == "top":
        try:
            n = int(values[0])
        except (IndexError, TypeError, ValueError) as exc:
            raise QueryError(400, f"top needs a number of values for {dimension.code}") from exc
        return codes[-n:] if n > 0 else []
    if kind == "item":
        unknown = [v for v in values if v not in codes]
        if unknown or not values:
            raise QueryError(400, f"{dimension.code}: no such value {', '.join(map(str, unknown)) or '(none)'}")
        wanted = set(values)
        return [c for c in codes if c in wanted]
    raise QueryError(400, f"filter {kind!r} is not supported")


def answer(table_id: str, body: dict) -> dict:
    """SSB's JSON-stat2 answer to a PxWebApi v0 POST for ``table_id``; QueryError (404, 400) otherwise."""
    table = TABLES.get(table_id)
    if table is None:
        raise QueryError(404, f"Table {table_id} not found")
    if not isinstance(body, dict) or not isinstance(body.get("query", []), list):
        raise QueryError(400, "The query is not a PxWebApi query")
    if (body.get("response") or {}).get("format", "json-stat2") != "json-stat2":
        raise QueryError(400, "The fake answers json-stat2 only")
    selections = {}
    for item in body.get("query", []):
        code = (item or {}).get("code")
        if code not in {d.code for d in table.dimensions}:
            raise QueryError(400, f"Table {table_id} has no variable {code}")
        selections[code] = item.get("selection") or {}
    values = table.values()
    picked: dict[str, list[str]] = {}
    for dim in table.dimensions:
        codes = list(values) if dim.code == "Tid" else list(dim.categories)
        picked[dim.code] = _selected(dim, codes, selections.get(dim.code))
    # One series is recorded, so a cell's value is the value of its month; cells in row-major order.
    tid = [d.code for d in table.dimensions].index("Tid")
    cells = [float(values[cell[tid]]) for cell in itertools.product(*(picked[d.code] for d in table.dimensions))]
    dimension = {}
    for dim in table.dimensions:
        labels = {c: c for c in picked[dim.code]} if dim.code == "Tid" else dim.categories
        entry = {
            "label": dim.label,
            "category": {
                "index": {c: i for i, c in enumerate(picked[dim.code])},
                "label": {c: labels[c] for c in picked[dim.code]},
            },
        }
        if dim.code == "ContentsCode":
            entry["category"]["unit"] = {c: {"base": "indeks", "decimals": 1} for c in picked[dim.code]}
        dimension[dim.code] = entry
    doc = {
        "version": "2.0",
        "class": "dataset",
        "label": table.label,
        "source": SOURCE,
        "updated": table.updated,
        "role": {"time": ["Tid"], "metric": ["ContentsCode"]},
        "id": [d.code for d in table.dimensions],
        "size": [len(picked[d.code]) for d in table.dimensions],
        "dimension": dimension,
        "extension": {"px": {"tableid": table.table, "decimals": 1, "language": "no"}},
        "value": cells,
    }
    if table.note:
        doc["note"] = [table.note]
    return doc
