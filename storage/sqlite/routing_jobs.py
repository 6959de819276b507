"""Routing rules kept in SQLite, escalations, and the rules' decisions per item and event."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.routing import (
    Delivery,
    RoutedItem,
    StoredRules,
)
from storage.sqlite.db import ThreadedConnection, from_db_time, to_db_time
from storage.rows import of_routed
from storage.sqlite.routing_rows import (
    add_log,
    insert_deliveries,
    insert_routed,
    routed_from_row,
)
from storage.sqlite.rows import fetch_one



def _rules(row: sqlite3.Row | None) -> StoredRules | None:
    if row is None:
        return None
    return StoredRules(body=json.loads(row["body"]), version=row["version"],
                       updated_at=from_db_time(row["updated_at"]), updated_by=row["updated_by"])


class SqliteRoutingJobs:
    """Rules, escalations and routing decisions of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    # -- rules ------------------------------------------------------------------------------
    async def seed_routing_rules(self, body: dict[str, Any], fingerprint: str, at: datetime) -> None:
        raw, now = json.dumps(body, sort_keys=True), to_db_time(at)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                """INSERT INTO routing_rulebook (id, body, seed_hash, version, updated_at, updated_by)
                   VALUES (1, ?, ?, 1, ?, 'config')
                   ON CONFLICT (id) DO UPDATE SET
                     body = excluded.body, seed_hash = excluded.seed_hash,
                     version = routing_rulebook.version + 1, updated_at = excluded.updated_at,
                     updated_by = 'config'
                   WHERE routing_rulebook.seed_hash IS NOT excluded.seed_hash""",
                (raw, fingerprint, now))

        await self._writer.transaction(write)

    async def get_routing_rules(self) -> StoredRules | None:
        return await self._reader.run(
            lambda conn: _rules(conn.execute("SELECT * FROM routing_rulebook WHERE id = 1").fetchone()))

    async def save_routing_rules(self, body: dict[str, Any], at: datetime, actor: str) -> StoredRules:
        raw, now = json.dumps(body, sort_keys=True), to_db_time(at)

        def write(conn: sqlite3.Connection) -> StoredRules:
            # seed_hash is kept: a later change of the TOML still wins, as for teams.
            conn.execute(
                """INSERT INTO routing_rulebook (id, body, version, updated_at, updated_by)
                   VALUES (1, ?, 1, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET body = excluded.body,
                     version = routing_rulebook.version + 1, updated_at = excluded.updated_at,
                     updated_by = excluded.updated_by""", (raw, now, actor))
            stored = _rules(conn.execute("SELECT * FROM routing_rulebook WHERE id = 1").fetchone())
            assert stored is not None
            return stored

        return await self._writer.transaction(write)

    # -- escalations -------------------------------------------------------------------------
    async def awaiting_escalation(
        self, escalation_id: str, team_key: str, routed_before: datetime, limit: int, *,
        waiting: Sequence[str],
    ) -> list[RoutedItem]:
        def read(conn: sqlite3.Connection) -> list[RoutedItem]:
            return [routed_from_row(r) for r in conn.execute(
                """SELECT * FROM routed_items r
                   WHERE team_key = ? AND acknowledged_at IS NULL
                     AND status IN (SELECT value FROM json_each(?))
                     AND routed_at <= ?
                     AND NOT EXISTS (SELECT 1 FROM routing_escalations e
                                     WHERE e.routed_id = r.id AND e.escalation_id = ?)
                   ORDER BY routed_at, id LIMIT ?""",
                (team_key, json.dumps(list(waiting)), to_db_time(routed_before), escalation_id,
                 int(limit)))]

        return await self._reader.run(read)

    async def escalate(
        self, routed_id: int, escalation_id: str, at: datetime, *, priority: str | None = None,
        routed: RoutedItem | None = None, deliveries: Sequence[Delivery] = (),
    ) -> bool:
        now = to_db_time(at)

        def write(conn: sqlite3.Connection) -> bool:
            row = fetch_one(conn, "SELECT priority FROM routed_items WHERE id = ?", (routed_id,), f"no routed item {routed_id}")
            if conn.execute(
                    "INSERT INTO routing_escalations VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (routed_id, escalation_id, now)).rowcount == 0:
                return False
            detail: dict[str, Any] = {"escalation": escalation_id}
            if priority is not None and priority != row["priority"]:
                conn.execute("UPDATE routed_items SET priority = ?, updated_at = ? WHERE id = ?",
                             (priority, now, routed_id))
                detail["priority"] = {"from": row["priority"], "to": priority}
            target = routed_id
            if routed is not None:
                stored = insert_routed(conn, routed, deliveries)
                if stored is not None:
                    assert stored.id is not None
                    detail["routed_to"] = {"team": stored.team_key, "routed_id": stored.id}
            elif deliveries:
                insert_deliveries(conn, of_routed(deliveries, target), at)
            if deliveries:
                detail["notified"] = sorted({d.channel for d in deliveries})
            add_log(conn, routed_id, now, "escalation", "escalated", detail)
            return True

        return await self._writer.transaction(write)

    # -- routing decisions ---------------------------------------------------------------------
    async def record_routing_decision(self, kind: str, item_id: str, event: str, at: datetime) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            key = (kind, item_id, event)
            if conn.execute("INSERT INTO routing_decisions VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            (*key, to_db_time(at))).rowcount == 1:
                return True
            conn.execute("UPDATE routing_decisions SET decided_at = ? WHERE item_kind = ? "
                         "AND item_id = ? AND event = ? AND decided_at < ?",
                         (to_db_time(at), *key, to_db_time(at)))
            return False

        return await self._writer.transaction(write)
