"""Client for SSB's statistics API (Statistisk sentralbyrå, PxWebApi v0), for the CPI series.

The one way Avtale talks to SSB: ``requests`` with a timeout, retries on connection errors, 429 and
5xx (the query is a read, so its POST is safe to repeat), and a configurable base URL
(``SSB_BASE_URL``, default ``https://data.ssb.no/api/v0``; tests and the demo point it at ``fakes/``).

A query is ``POST {base}/no/table/{table}/`` with::

    {"query": [{"code": "Konsumgrp", "selection": {"filter": "item", "values": ["TOTAL"]}},
               {"code": "ContentsCode", "selection": {"filter": "item", "values": ["KpiIndMnd"]}},
               {"code": "Tid", "selection": {"filter": "top", "values": ["3"]}}],
     "response": {"format": "json-stat2"}}

and SSB answers a JSON-stat 2.0 dataset: ``id`` (the dimensions in order), ``size`` (categories per
dimension), ``dimension[id].category.index`` (category → position), ``value`` (row-major, ``null``
where SSB has no figure, with ``status`` ".."). :func:`parse_jsonstat` reads it into
``{(year, month): Decimal}``; nothing is guessed for a missing month.

Errors: :class:`SsbUnavailable` (down, timeout, HTTP 429/5xx, an answer that is not JSON-stat2),
:class:`SsbTableNotFound` (404: no such table at this address), :class:`SsbQueryRefused` (400/403:
SSB refused the query, e.g. a dimension or category the table does not have). Each says in words what
happened; all are :class:`SsbError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from django.conf import settings
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from config.http import retrying_session
from pricing.indexation import IndexationError, Month, parse_month

TIME_DIMENSION = "Tid"


class SsbError(Exception):
    """Base for SSB problems; the message says what happened in words."""


class SsbUnavailable(SsbError):
    """SSB did not answer usefully (down, timeout, overloaded, or an answer that is not JSON-stat2)."""


class SsbTableNotFound(SsbError):
    """SSB has no such table at this address (HTTP 404)."""


class SsbQueryRefused(SsbError):
    """SSB refused the query (HTTP 400/403): a dimension or category the table does not have, or too many cells."""


@dataclass(frozen=True)
class SsbSeries:
    """One series as SSB answered it: its months' values and where they came from."""

    table: str
    label: str = ""
    source: str = ""
    updated: str = ""  # SSB's "updated" of the table, as given (ISO time)
    values: dict[Month, Decimal] = field(default_factory=dict)


def build_query(
    selection: Mapping[str, list[str]], *, months: list[str] | None = None, last: int | None = None
) -> dict:
    """The PxWebApi v0 body: one ``item`` selection per dimension, and Tid as ``item`` months or ``top`` N."""
    query = [
        {"code": code, "selection": {"filter": "item", "values": [str(v) for v in values]}}
        for code, values in selection.items()
        if code != TIME_DIMENSION
    ]
    if months is not None:
        query.append({"code": TIME_DIMENSION, "selection": {"filter": "item", "values": list(months)}})
    elif last is not None:
        query.append({"code": TIME_DIMENSION, "selection": {"filter": "top", "values": [str(int(last))]}})
    return {"query": query, "response": {"format": "json-stat2"}}


def _garbled(what: str) -> SsbUnavailable:
    return SsbUnavailable(f"SSB answered with something that is not a JSON-stat2 dataset: {what}")


def _category_positions(dimension: Any, dim_id: str) -> dict[str, int]:
    """{category code: position} of a dimension; JSON-stat2 allows the index as an object or a list."""
    try:
        index = dimension["category"]["index"]
    except (KeyError, TypeError) as exc:
        raise _garbled(f"dimension {dim_id} has no category index") from exc
    if isinstance(index, list):
        return {str(code): position for position, code in enumerate(index)}
    if isinstance(index, dict) and all(isinstance(p, int) for p in index.values()):
        return {str(code): position for code, position in index.items()}
    raise _garbled(f"dimension {dim_id} has an unreadable category index")


def _number(raw: Any, where: str) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise _garbled(f"the value at {where} is {raw!r}, not a number")
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise _garbled(f"the value at {where} is {raw!r}, not a number") from exc
    if not value.is_finite():
        raise _garbled(f"the value at {where} is {raw!r}, not a number")
    return value


def parse_jsonstat(
    document: Any, *, selection: Mapping[str, list[str]] | None = None, time_dimension: str = TIME_DIMENSION
) -> dict[Month, Decimal]:
    """The values of one monthly series in a JSON-stat2 dataset: ``{(2025, 10): Decimal("138.7"), …}``.

    Every dimension but time must have one category, or the one ``selection`` names; the time
    dimension's categories are SSB's months ("2025M10"). ``null`` values (SSB's ".." or ":") are left out.
    :class:`SsbUnavailable` when the document is not such a dataset.
    """
    if not isinstance(document, dict):
        raise _garbled("not a JSON object")
    if "class" not in document and isinstance(document.get("dataset"), dict):
        # JSON-stat 1.x (SSB's "json-stat" format): id, size and role live inside "dimension".
        inner = document["dataset"]
        dims = inner.get("dimension") or {}
        document = {**inner, "id": dims.get("id"), "size": dims.get("size"), "class": "dataset"}
    if document.get("class") != "dataset":
        raise _garbled(f"class is {document.get('class')!r}, not 'dataset'")
    ids, sizes, dimensions = document.get("id"), document.get("size"), document.get("dimension")
    if not (isinstance(ids, list) and isinstance(sizes, list) and isinstance(dimensions, dict)):
        raise _garbled("id, size or dimension is missing")
    if len(ids) != len(sizes) or not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise _garbled("id and size do not match")
    if time_dimension not in ids:
        raise _garbled(f"there is no time dimension {time_dimension}")

    positions: dict[str, dict[str, int]] = {}
    for dim_id, size in zip(ids, sizes, strict=True):
        if dim_id not in dimensions:
            raise _garbled(f"dimension {dim_id} is listed in id but not described")
        positions[dim_id] = _category_positions(dimensions[dim_id], dim_id)
        if len(positions[dim_id]) != size or sorted(positions[dim_id].values()) != list(range(size)):
            raise _garbled(f"dimension {dim_id} has {len(positions[dim_id])} categories, size says {size}")

    # Row-major strides: the last dimension varies fastest.
    strides, step = {}, 1
    for dim_id, size in reversed(list(zip(ids, sizes, strict=True))):
        strides[dim_id] = step
        step *= size
    cells = step

    offset = 0
    for dim_id in ids:
        if dim_id == time_dimension:
            continue
        categories = positions[dim_id]
        wanted = list((selection or {}).get(dim_id) or [])
        if len(categories) == 1 and (not wanted or wanted == list(categories)):
            position = 0
        elif len(wanted) == 1 and wanted[0] in categories:
            position = categories[wanted[0]]
        elif wanted and wanted[0] not in categories:
            raise _garbled(f"dimension {dim_id} has no category {wanted[0]}")
        else:
            raise _garbled(f"dimension {dim_id} has {len(categories)} categories; say which one to read")
        offset += position * strides[dim_id]

    raw_values = document.get("value")
    if isinstance(raw_values, list):
        if len(raw_values) != cells:
            raise _garbled(f"{len(raw_values)} values for {cells} cells")

        def cell(i: int) -> Any:
            return raw_values[i]
    elif isinstance(raw_values, dict):  # sparse: {"17": 138.7}

        def cell(i: int) -> Any:
            return raw_values.get(str(i))
    else:
        raise _garbled("value is missing")

    out: dict[Month, Decimal] = {}
    for code, position in positions[time_dimension].items():
        try:
            month = parse_month(code)
        except IndexationError as exc:
            raise _garbled(f"the time category {code!r} is not a month") from exc
        value = _number(cell(offset + position * strides[time_dimension]), code)
        if value is not None:
            out[month] = value
    return dict(sorted(out.items()))


def _is_timeout(exc: requests.RequestException) -> bool:
    """A timeout, also when urllib3's retries wrapped it (requests then raises a plain ConnectionError)."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    # urllib3's NewConnectionError (e.g. connection refused) subclasses its timeout error: not a timeout.
    return isinstance(reason, Urllib3Timeout) and not isinstance(reason, NewConnectionError)


def _error_text(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return (response.text or "").strip()[:200]
    if isinstance(data, dict):
        return str(data.get("error") or data.get("message") or data.get("title") or "")[:200]
    return ""


class SsbClient:
    def __init__(self, base_url: str | None = None, timeout: float | None = None, retries: int | None = None):
        self.base_url = (base_url or settings.SSB_BASE_URL).rstrip("/")
        self.timeout = timeout if timeout is not None else settings.OUTSIDE_SERVICE_TIMEOUT
        # A PxWebApi query is a POST that changes nothing: safe to repeat.
        self.session = retrying_session(retries, methods=("POST",), statuses=(429, 502, 503, 504))

    def table_url(self, table: str) -> str:
        return f"{self.base_url}/no/table/{table}/"

    def query(self, table: str, body: dict) -> dict:
        """POST a PxWebApi v0 query; the JSON answer (numbers as Decimal), or an :class:`SsbError`."""
        url = self.table_url(table)
        try:
            response = self.session.post(url, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            if _is_timeout(exc):
                raise SsbUnavailable(f"SSB did not answer within {self.timeout} s (Timeout)") from exc
            raise SsbUnavailable(f"SSB did not answer: {exc.__class__.__name__}") from exc
        if response.status_code == 404:
            raise SsbTableNotFound(f"SSB has no table {table} at {self.base_url} (HTTP 404)")
        if response.status_code in (400, 403):
            detail = _error_text(response)
            raise SsbQueryRefused(
                f"SSB refused the query for table {table} (HTTP {response.status_code}"
                + (f": {detail})" if detail else ")")
            )
        if response.status_code == 429:
            raise SsbUnavailable("SSB answered HTTP 429: too many requests; try again later")
        if response.status_code != 200:
            raise SsbUnavailable(f"SSB answered HTTP {response.status_code}")
        try:
            return response.json(parse_float=Decimal)
        except ValueError as exc:
            raise SsbUnavailable("SSB answered with something that is not JSON") from exc

    def series(
        self,
        table: str,
        selection: Mapping[str, list[str]],
        *,
        months: list[str] | None = None,
        last: int | None = None,
    ) -> SsbSeries:
        """One monthly series of ``table``: ``selection`` picks one category per dimension but Tid;
        ``months`` ("2025M10", …) or ``last`` N months, or (neither) every month SSB has."""
        document = self.query(table, build_query(selection, months=months, last=last))
        values = parse_jsonstat(document, selection=selection)
        return SsbSeries(
            table=table,
            label=str(document.get("label") or ""),
            source=str(document.get("source") or ""),
            updated=str(document.get("updated") or ""),
            values=values,
        )


def fetch_series(
    table: str, selection: Mapping[str, list[str]], *, months: list[str] | None = None, last: int | None = None
) -> SsbSeries:
    return SsbClient().series(table, selection, months=months, last=last)
