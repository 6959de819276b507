"""Migration 0022 widens routed_items' kind CHECK by rebuilding the table: nothing around it is lost.

The test builds a database with every other migration (as a store upgraded from before 0022
is), fills routed_items and the tables referring to it, then lets ``migrate`` apply 0022.
"""

from __future__ import annotations

from tests.storage.old_schema import database_without
import sqlite3
from pathlib import Path

import pytest

from storage.sqlite.db import migrate
from storage.sqlite.schema import MIGRATIONS

T = "2026-11-20T10:00:00.000000Z"


def _without_0022(path: Path) -> sqlite3.Connection:
    return database_without(path, 22)


def _routed(conn: sqlite3.Connection, kind: str, item_id: str) -> int:
    return conn.execute(
        """INSERT INTO routed_items (item_kind, item_id, rule_id, team_key, event, priority, status,
                                     item, routed_at, routed_by, updated_at)
           VALUES (?, ?, 'r1', 'support', 'mention.analysed', 'high', 'new', '{}', ?, 'rules', ?)
           RETURNING id""", (kind, item_id, T, T)).fetchone()[0]


def test_0022_keeps_log_escalations_and_delivery_links(tmp_path: Path) -> None:
    conn = _without_0022(tmp_path / "old.db")
    with pytest.raises(sqlite3.IntegrityError):  # the old CHECK
        _routed(conn, "spike", "topic:billing:2026-11-20")
    first, second = _routed(conn, "mention", "1"), _routed(conn, "idea", "7")
    conn.execute("INSERT INTO routing_log (routed_id, at, actor, action) VALUES (?, ?, 'rules', 'routed')",
                 (first, T))
    conn.execute("INSERT INTO routing_log (routed_id, at, actor, action) VALUES (?, ?, 'ann', 'acknowledged')",
                 (second, T))
    conn.execute("INSERT INTO routing_escalations VALUES (?, 'late', ?)", (second, T))
    conn.execute(
        """INSERT INTO deliveries (routed_id, team_key, channel, target, payload, idempotency_key,
                                   state, next_attempt_at, created_at)
           VALUES (?, 'support', 'webhook', '{}', '{}', 'dlv_1', 'pending', ?, ?)""", (first, T, T))

    assert migrate(conn) == max(MIGRATIONS)

    assert [tuple(r) for r in conn.execute(
        "SELECT id, item_kind, item_id, priority FROM routed_items ORDER BY id")] == [
        (first, "mention", "1", "high"), (second, "idea", "7", "high")]
    assert [tuple(r) for r in conn.execute("SELECT routed_id, action FROM routing_log ORDER BY id")] == [
        (first, "routed"), (second, "acknowledged")]
    assert [tuple(r) for r in conn.execute("SELECT routed_id, escalation_id FROM routing_escalations")] == [
        (second, "late")]
    assert conn.execute("SELECT routed_id FROM deliveries").fetchone()[0] == first
    # Spikes are allowed now, unknown kinds still are not, and the indexes and the
    # one-routing-per-item-and-rule rule are back.
    _routed(conn, "spike", "topic:billing:2026-11-20")
    with pytest.raises(sqlite3.IntegrityError):
        _routed(conn, "spike", "topic:billing:2026-11-20")
    with pytest.raises(sqlite3.IntegrityError):
        _routed(conn, "tweet", "1")
    indexes = {r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'routed_items'")}
    assert {"routed_items_team", "routed_items_unacked"} <= indexes
    # The children still refer to the rebuilt table: deleting an item cascades as before.
    conn.execute("DELETE FROM routed_items WHERE id = ?", (second,))
    assert conn.execute("SELECT count(*) FROM routing_escalations").fetchone()[0] == 0
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert not conn.execute("SELECT name FROM sqlite_temp_master WHERE name LIKE 'keep_%'").fetchall()
    conn.close()
