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
    RoutableItem,
    RoutedItem,
    Team,
    TeamChannels,
    routable_item_from_dict,
)
from storage.sqlite.db import from_db_time, to_db_time


def t(value: datetime | None) -> str | None:
    """A time as stored, or ``None``."""
    return to_db_time(value) if value is not None else None


def ft(value: str | None) -> datetime | None:
    """A stored time, or ``None``."""
    return from_db_time(value) if value is not None else None


def team_row(team: Team) -> tuple[Any, ...]:
    """A team's column values."""
    return (team.key, team.name, json.dumps(list(team.members)),
            json.dumps(dataclasses.asdict(team.channels)), team.ack_sla_minutes)


def team_from_row(row: sqlite3.Row) -> Team:
    """A team from its row."""
    channels = json.loads(row["channels"])
    return Team(key=row["key"], name=row["name"], members=tuple(json.loads(row["members"])),
                channels=TeamChannels.from_stored(channels), ack_sla_minutes=row["ack_sla_minutes"])


def item_from_json(raw: str) -> RoutableItem:
    """A routed item's snapshot from its JSON."""
    return routable_item_from_dict(json.loads(raw))


def routed_from_row(row: sqlite3.Row) -> RoutedItem:
    """A routed item from its row."""
    return RoutedItem(
        id=row["id"], item=item_from_json(row["item"]), rule_id=row["rule_id"], team_key=row["team_key"],
        event=row["event"], priority=row["priority"], status=row["status"],
        routed_at=from_db_time(row["routed_at"]), routed_by=row["routed_by"],
        acknowledged_at=ft(row["acknowledged_at"]), acknowledged_by=row["acknowledged_by"],
        updated_at=from_db_time(row["updated_at"]))


def delivery_from_row(row: sqlite3.Row) -> Delivery:
    """A delivery from its row."""
    return Delivery(
        id=row["id"], routed_id=row["routed_id"], team_key=row["team_key"], channel=row["channel"],
        target=json.loads(row["target"]), payload=json.loads(row["payload"]),
        idempotency_key=row["idempotency_key"], state=row["state"], attempts=row["attempts"],
        next_attempt_at=from_db_time(row["next_attempt_at"]), last_error=row["last_error"],
        created_at=from_db_time(row["created_at"]), sent_at=ft(row["sent_at"]))


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
    at = to_db_time(routed.routed_at)
    item_json = json.dumps(dataclasses.asdict(routed.item), sort_keys=True)
    row = conn.execute(
        """INSERT INTO routed_items (item_kind, item_id, rule_id, team_key, event, priority,
                                     status, item, routed_at, routed_by, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (item_kind, item_id, rule_id) DO NOTHING RETURNING id""",
        (routed.item.kind, routed.item.id, routed.rule_id, routed.team_key, routed.event,
         routed.priority, routed.status, item_json, at, routed.routed_by, at),
    ).fetchone()
    if row is None:
        return None
    routed_id = row[0]
    add_log(conn, routed_id, at, routed.routed_by, "routed",
            {"team": routed.team_key, "rule": routed.rule_id, "event": routed.event,
             "priority": routed.priority})
    insert_deliveries(conn, routed_id, deliveries, routed.routed_at)
    return dataclasses.replace(routed, id=routed_id, updated_at=routed.routed_at)


def insert_deliveries(conn: sqlite3.Connection, routed_id: int, deliveries: Sequence[Delivery],
                      at: datetime) -> None:
    """Put ``deliveries`` for ``routed_id`` in the outbox (inside the caller's transaction)."""
    created = to_db_time(at)
    conn.executemany(
        """INSERT INTO deliveries (routed_id, team_key, channel, target, payload,
                                   idempotency_key, state, attempts, next_attempt_at,
                                   created_at)
           VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)""",
        [(routed_id, d.team_key, d.channel, json.dumps(dict(d.target), sort_keys=True),
          json.dumps(dict(d.payload), sort_keys=True), d.idempotency_key,
          to_db_time(d.next_attempt_at or at), created) for d in deliveries])

