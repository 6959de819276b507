"""Row conversions and writes the SQLite routing mixins share."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.routing import (
    Delivery,
    RoutedItem,
    Team,
)
from storage.rows import DELIVERY, ROUTED_ITEM, TEAM, TEAM_FIELDS, of_routed, routed_detail
from storage.sqlite.db import to_db_time
from storage.sqlite.rows import insert_sql, row_reader, row_values


def team_row(team: Team) -> list[Any]:
    """A team's column values (``TEAM_FIELDS``)."""
    return row_values(TEAM, team, TEAM_FIELDS)


team_from_row, routed_from_row, delivery_from_row = (
    row_reader(TEAM), row_reader(ROUTED_ITEM), row_reader(DELIVERY))


def add_log(conn: sqlite3.Connection, routed_id: int, at: str, actor: str, action: str,
            detail: dict[str, Any], note_key: str | None = None) -> bool:
    """Append an audit-log line (inside the caller's transaction); with ``note_key``, only if
    the item has no line with that key yet (the unique index decides, so two writers racing
    write one line).  Whether the line was written."""
    row = conn.execute(
        "INSERT INTO routing_log (routed_id, at, actor, action, detail, note_key) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (routed_id, note_key) WHERE note_key IS NOT NULL DO NOTHING RETURNING id",
        (routed_id, at, actor, action, json.dumps(detail, sort_keys=True), note_key)).fetchone()
    return row is not None


def insert_routed(conn: sqlite3.Connection, routed: RoutedItem,
                  deliveries: Sequence[Delivery]) -> RoutedItem | None:
    """Insert a routed item, its audit entry and its pending deliveries (inside the caller's
    transaction); ``None`` when the item was routed by the same rule already."""
    if routed.routed_at is None:
        raise ValueError("routed_at is required")
    stored = dataclasses.replace(routed, updated_at=routed.routed_at)
    row = conn.execute(_INSERT_ROUTED, [routed.item.kind, routed.item.id,
                                        *row_values(ROUTED_ITEM, stored, _ROUTED_COLUMNS)]).fetchone()
    if row is None:
        return None
    routed_id = row[0]
    add_log(conn, routed_id, to_db_time(routed.routed_at), routed.routed_by, "routed", routed_detail(routed))
    insert_deliveries(conn, of_routed(deliveries, routed_id), routed.routed_at)
    return dataclasses.replace(stored, id=routed_id)


_ROUTED_COLUMNS = ("rule_id", "team_key", "event", "priority", "status", "item", "routed_at", "routed_by",
                   "updated_at")
_INSERT_ROUTED = insert_sql("routed_items", ("item_kind", "item_id", *_ROUTED_COLUMNS),
                            " ON CONFLICT (item_kind, item_id, rule_id) DO NOTHING RETURNING id")


_DELIVERY_COLUMNS = ("routed_id", "team_key", "channel", "target", "payload", "idempotency_key")
_INSERT_DELIVERY = insert_sql("deliveries", (*_DELIVERY_COLUMNS, "state", "attempts", "next_attempt_at",
                                             "created_at"))


def insert_deliveries(conn: sqlite3.Connection, deliveries: Sequence[Delivery], at: datetime, *,
                      once: bool = False) -> list[int]:
    """Put ``deliveries`` in the outbox, pending and due at their ``next_attempt_at`` or ``at``
    (inside the caller's transaction); with ``once``, one whose idempotency key is there already
    is skipped.  The ids of those added."""
    sql = _INSERT_DELIVERY + (" ON CONFLICT (idempotency_key) DO NOTHING" if once else "") + " RETURNING id"
    created = to_db_time(at)
    rows = [conn.execute(sql, [*row_values(DELIVERY, d, _DELIVERY_COLUMNS), "pending", 0,
                               to_db_time(d.next_attempt_at or at), created]).fetchone() for d in deliveries]
    return [row[0] for row in rows if row is not None]


