"""``storage.rows`` shapes read from and written to SQLite rows: times as fixed-width UTC
text, flags as 0/1, JSON and lists as JSON text."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from domain.errors import NotFound
from storage.rows import Col, RowShape
from storage.sqlite.db import from_db_time, to_db_time

T = TypeVar("T")


def _reading(col: Col) -> Callable[[Any], Any]:
    if col.kind == "time":
        return from_db_time
    if col.kind == "optional_time":
        return lambda value: from_db_time(value) if value is not None else None
    if col.kind == "flag":
        return bool
    if col.kind == "json":
        return lambda value: col.decode(json.loads(value))
    if col.kind == "list":
        return lambda value: tuple(json.loads(value))
    return col.decode


def _writing(col: Col) -> Callable[[Any], Any]:
    if col.kind in ("time", "optional_time"):
        return lambda value: to_db_time(value) if value is not None else None
    if col.kind == "flag":
        return int
    if col.kind == "json":
        return lambda value: json.dumps(col.encode(value), sort_keys=True)
    if col.kind == "list":
        return lambda value: json.dumps(list(value))
    return col.encode


def row_reader(shape: RowShape[T]) -> Callable[[sqlite3.Row], T]:
    """The function making ``shape``'s domain value from one of its rows."""
    fields = [(name, _reading(col)) for name, col in shape.columns.items()]
    make = shape.make
    return lambda row: make(**{name: read(row[name]) for name, read in fields})


def column_value(shape: RowShape[Any], name: str, value: Any) -> Any:
    """The domain field ``name``'s ``value`` as its column stores it."""
    return _writing(shape.columns[name])(value)


def row_values(shape: RowShape[Any], value: Any, columns: Sequence[str]) -> list[Any]:
    """``value``'s ``columns`` as stored, in that order (for an ``INSERT``'s parameters)."""
    return [column_value(shape, name, getattr(value, name)) for name in columns]


def insert_sql(table: str, columns: Sequence[str], tail: str = "", verb: str = "INSERT") -> str:
    """``INSERT INTO table (columns) VALUES (?, ...)`` followed by ``tail``."""
    return (f"{verb} INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))}){tail}")


def fetch_one(conn: sqlite3.Connection, sql: str, params: Sequence[Any], missing: str) -> sqlite3.Row:
    """The first row of ``sql``; ``NotFound(missing)`` when there is none."""
    row = conn.execute(sql, params).fetchone()
    if row is None:
        raise NotFound(missing)
    return row
