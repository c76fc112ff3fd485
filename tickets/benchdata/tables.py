"""Bulk writing for the bench data: ids taken from the sequences, rows streamed with PostgreSQL's COPY.

Rows are dicts keyed by field attname; a field left out gets its model default (computed once per table),
so that a new field with a default needs no change here. JSON values are dumped here.
"""

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, models


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new ids from the table's own sequence, increasing: what the database would have given."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _defaults(fields: list[models.Field]) -> dict[str, Any]:
    return {f.attname: (None if f.null and not f.has_default() else f.get_default()) for f in fields}


def _db_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def copy_rows(model: type[models.Model], rows: Iterable[Mapping[str, Any]], *, with_id: bool = False) -> int:
    """COPY ``rows`` into ``model``'s table; the id is the database's unless ``with_id``. Returns the count."""
    fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
    defaults = _defaults(fields)
    names = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    count = 0
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_db_value(row[name] if name in row else defaults[name]) for name in names])
            count += 1
    return count


class Timings:
    """Seconds and rows per table, printed as each table is written."""

    def __init__(self, write=None):
        self.rows: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self._write = write

    def add(self, table: str, rows: int, seconds: float) -> None:
        self.rows[table] = self.rows.get(table, 0) + rows
        self.seconds[table] = self.seconds.get(table, 0.0) + seconds

    def copy(self, model: type[models.Model], rows: Iterable[Mapping[str, Any]], *, with_id: bool = False) -> int:
        start = time.perf_counter()
        count = copy_rows(model, rows, with_id=with_id)
        self.add(model._meta.db_table, count, time.perf_counter() - start)
        return count

    def report(self) -> list[str]:
        return [f"{table:32} {self.rows[table]:>9} rows {self.seconds[table]:8.1f} s" for table in self.rows]
