"""Bulk inserts for the jobs that write many rows at once (the billing run, the indexation run)."""

from __future__ import annotations

import datetime as dt
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

BATCH = 2000  # rows per INSERT


def plain(value):
    """A value as JSON carries it (Decimal and dates as text), so encoding needs no fallback per value."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, dt.date):  # dates and date-times
        return value.isoformat()
    return str(value)  # Decimal


def insert_rows(
    model, rows: list[dict], *, returning: bool = False, complete: bool = False, skip_conflicts: bool = False
) -> list[int]:
    """Insert ``rows`` (attname → value; a missing column gets the field's default) in one statement per
    batch, the rows sent as one JSON parameter (``jsonb_to_recordset``): psycopg's client-side binding
    would otherwise parse and quote every value of every row. With ``returning``, ids are taken from the
    table's sequence first (one query) and inserted explicitly, so they are known in row order.
    ``complete``: every row already holds every column but the id, as JSON-ready values (see :func:`plain`),
    so they are sent as they are. ``skip_conflicts``: a row that would break a unique constraint is left out
    (``ON CONFLICT DO NOTHING``), as a concurrent job's row wins."""
    if not rows:
        return []
    now = timezone.now()
    quote = connection.ops.quote_name
    table = model._meta.db_table
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {
        f.attname: now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        for f in fields
    }
    ids: list[int] = []
    with connection.cursor() as cursor:
        if returning:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(rows)]
            )
            ids = [r[0] for r in cursor.fetchall()]
            fields = [model._meta.pk, *fields]
            defaults["id"] = None
            if complete:
                for row, pk in zip(rows, ids, strict=True):
                    row["id"] = pk
            else:
                rows = [{**row, "id": pk} for row, pk in zip(rows, ids, strict=True)]
        columns = ", ".join(quote(f.column) for f in fields)
        types = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
        sql = (  # only our own table and column names are formatted in; the rows go as one parameter
            f"INSERT INTO {quote(table)} ({columns}) "  # noqa: S608
            f"SELECT {columns} FROM jsonb_to_recordset(%s::jsonb) AS x({types})"
            + (" ON CONFLICT DO NOTHING" if skip_conflicts else "")
        )
        for start in range(0, len(rows), BATCH):
            if complete:
                cursor.execute(sql, [json.dumps(rows[start : start + BATCH])])
                continue
            data = [
                {f.column: row.get(f.attname, defaults[f.attname]) for f in fields}
                for row in rows[start : start + BATCH]
            ]
            cursor.execute(sql, [json.dumps(data, cls=DjangoJSONEncoder)])
    return ids
