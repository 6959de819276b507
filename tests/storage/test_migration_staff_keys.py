"""Migrations 0036/0037 re-key saved views and triage from display names to account ids
where that is certain.

Each test builds a database with every other migration (as a store upgraded from before is),
fills accounts and name-keyed rows, then lets ``migrate`` apply the missing one.
"""

from __future__ import annotations

from tests.storage.old_schema import database_without
import json
import sqlite3
from pathlib import Path

from storage.sqlite.db import migrate
from storage.sqlite.schema import MIGRATIONS

T = "2026-11-20T10:00:00.000000Z"


def _without(path: Path, missing: int) -> sqlite3.Connection:
    return database_without(path, missing)


def _account(conn: sqlite3.Connection, email: str, name: str, role: str) -> int:
    return conn.execute("INSERT INTO accounts (email, name, role, created_at) VALUES (?, ?, ?, ?) "
                        "RETURNING id", (email, name, role, T)).fetchone()[0]


def test_0036_converts_unambiguous_names_and_keeps_the_rest(tmp_path: Path) -> None:
    conn = _without(tmp_path / "old.db", 36)
    ana = _account(conn, "ana@crm.example", "Ana", "team")
    _account(conn, "sam1@crm.example", "Sam", "team")
    _account(conn, "sam2@crm.example", "Sam", "manager")
    _account(conn, "bo@acme.example", "Bo", "customer")  # not staff: views not given to them
    blank = _account(conn, "blank@crm.example", "", "admin")
    for owner in ("Ana", "Sam", "Bo", "Gone", "operator", f"account {blank}"):
        conn.execute("INSERT INTO saved_views (owner, name, filters, updated_at) VALUES (?, 'v', '{}', ?)",
                     (owner, T))

    assert migrate(conn) == max(MIGRATIONS)

    rows = {tuple(r) for r in conn.execute("SELECT owner, legacy_owner FROM saved_views")}
    assert rows == {
        (f"account:{ana}", None),
        (f"account:{blank}", None),
        ("operator", None),
        ("legacy:Sam", "Sam"),  # two staff named Sam: nobody gets it
        ("legacy:Bo", "Bo"),
        ("legacy:Gone", "Gone"),
    }


def test_0037_converts_assignees_authors_and_writers(tmp_path: Path) -> None:
    conn = _without(tmp_path / "old.db", 37)
    conn.execute("PRAGMA foreign_keys = OFF")  # triage rows without whole mention rows
    ana = _account(conn, "ana@crm.example", "Ana", "manager")
    _account(conn, "sam1@crm.example", "Sam", "team")
    _account(conn, "sam2@crm.example", "Sam", "team")
    for mid, assignee, by in ((1, "Ana", "Ana"), (2, "Sam", "operator"), (3, "Nobody", "Sam"), (4, None, "Ana")):
        conn.execute("INSERT INTO mention_triage (mention_id, assignee, updated_at, updated_by) "
                     "VALUES (?, ?, ?, ?)", (mid, assignee, T, by))
    for author in ("Ana", "Sam", "operator"):
        conn.execute("INSERT INTO mention_notes (mention_id, author, body, created_at) VALUES (1, ?, 'b', ?)",
                     (author, T))

    assert migrate(conn) == max(MIGRATIONS)

    triage = [tuple(r) for r in conn.execute(
        "SELECT mention_id, assignee, legacy_assignee, updated_by FROM mention_triage ORDER BY mention_id")]
    assert triage == [
        (1, f"account:{ana}", None, f"account:{ana}"),
        (2, None, "Sam", "operator"),  # two staff named Sam: left unassigned, name kept
        (3, None, "Nobody", "legacy:Sam"),
        (4, None, None, f"account:{ana}"),
    ]
    notes = [tuple(r) for r in conn.execute("SELECT author, legacy_author FROM mention_notes ORDER BY id")]
    assert notes == [(f"account:{ana}", None), ("legacy:Sam", "Sam"), ("operator", None)]


def test_0038_turns_assignee_filters_of_saved_views_into_account_ids(tmp_path: Path) -> None:
    conn = _without(tmp_path / "old.db", 38)
    ana = _account(conn, "ana@crm.example", "Ana", "team")
    _account(conn, "sam1@crm.example", "Sam", "team")
    _account(conn, "sam2@crm.example", "Sam", "team")
    for name, filters in (("a", '{"assignee": "Ana", "tag": "vip"}'), ("s", '{"assignee": "Sam"}'),
                          ("u", '{"assignee": "-"}'), ("n", '{"source": "x"}')):
        conn.execute("INSERT INTO saved_views (owner, name, filters, updated_at) VALUES ('operator', ?, ?, ?)",
                     (name, filters, T))

    assert migrate(conn) == max(MIGRATIONS)

    got = {r[0]: json.loads(r[1]) for r in conn.execute("SELECT name, filters FROM saved_views")}
    assert got == {"a": {"assignee": str(ana), "tag": "vip"}, "s": {"assignee": "Sam"},
                   "u": {"assignee": "-"}, "n": {"source": "x"}}
