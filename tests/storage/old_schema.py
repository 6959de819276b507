"""A SQLite database as an older release left it: every migration before ``version`` applied
and recorded, nothing after — the starting point of the tests that upgrade a store."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from storage.sqlite.db import connect, statements
from storage.sqlite.schema import MIGRATIONS


def database_before(path: Path, version: int) -> sqlite3.Connection:
    """An open connection to a new database at ``path`` with the migrations before
    ``version``; the caller adds the rows an older release would have written and closes it."""
    return database_with(path, lambda number: number < version)


def database_without(path: Path, missing: int) -> sqlite3.Connection:
    """Every migration but ``missing`` (a release that shipped without it), as above."""
    return database_with(path, lambda number: number != missing)


def database_with(path: Path, applied: Callable[[int], bool]) -> sqlite3.Connection:
    """A new database at ``path`` with the migrations ``applied`` admits, each recorded."""
    conn = connect(str(path))
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for number, script in MIGRATIONS.items():
        if not applied(number):
            continue
        conn.execute("BEGIN")
        for statement in statements(script):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?)", (number,))
        conn.execute("COMMIT")
    return conn
