"""Teams, routed items, their audit log and the delivery outbox in SQLite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from domain.routing import (
    ACKNOWLEDGED_ACTION,
    Acknowledging,
    Delivery,
    QueueCounts,
    RoutedItem,
    RoutingEntry,
    Team,
)
from domain import Page
from domain.errors import BadInput
from storage.base import clamp_limit, cut_page, decode_cursor
from storage.contract.events import routed_event
from storage.sqlite.events import record_events
from storage.sqlite.db import ThreadedConnection, rows_in, to_db_time
from storage.sqlite.routing_jobs import SqliteRoutingJobs
from storage.sqlite.routing_rows import (
    add_log as _log,
    delivery_from_row as _delivery,
    insert_routed,
    routed_from_row as _routed,
    team_from_row as _team,
    team_row as _team_row,
)
from storage.rows import ROUTING_ENTRY
from storage.sqlite.rows import fetch_one, row_reader


_entry = row_reader(ROUTING_ENTRY)


class SqliteRouting(SqliteRoutingJobs):
    """The routing part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    # -- teams ----------------------------------------------------------------
    async def seed_teams(self, teams: Sequence[tuple[Team, str]], at: datetime) -> None:
        now = to_db_time(at)

        def write(conn: sqlite3.Connection) -> None:
            for team, fingerprint in teams:
                conn.execute(
                    """INSERT INTO teams (key, name, members, channels, ack_sla_minutes, seed_hash,
                                          updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (key) DO UPDATE SET
                         name = excluded.name, members = excluded.members,
                         channels = excluded.channels, ack_sla_minutes = excluded.ack_sla_minutes,
                         seed_hash = excluded.seed_hash, updated_at = excluded.updated_at
                       WHERE teams.seed_hash IS NOT excluded.seed_hash""",
                    (*_team_row(team), fingerprint, now))

        await self._writer.transaction(write)

    async def save_team(self, team: Team, at: datetime) -> Team:
        def write(conn: sqlite3.Connection) -> None:
            # seed_hash is kept: the config fingerprint still tells when the config changes.
            conn.execute(
                """INSERT INTO teams (key, name, members, channels, ack_sla_minutes, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (key) DO UPDATE SET
                     name = excluded.name, members = excluded.members, channels = excluded.channels,
                     ack_sla_minutes = excluded.ack_sla_minutes, updated_at = excluded.updated_at""",
                (*_team_row(team), to_db_time(at)))

        await self._writer.transaction(write)
        return team

    async def get_team(self, key: str) -> Team:
        def read(conn: sqlite3.Connection) -> Team:
            row = fetch_one(conn, "SELECT * FROM teams WHERE key = ?", (key,), f"no team {key!r}")
            return _team(row)

        return await self._reader.run(read)

    async def list_teams(self) -> list[Team]:
        def read(conn: sqlite3.Connection) -> list[Team]:
            return [_team(r) for r in conn.execute("SELECT * FROM teams ORDER BY key")]

        return await self._reader.run(read)

    # -- routed items -----------------------------------------------------------
    async def route_item(
        self, routed: RoutedItem, deliveries: Sequence[Delivery]
    ) -> RoutedItem | None:
        if routed.routed_at is None:
            raise ValueError("routed_at is required")
        at = routed.routed_at

        def write(conn: sqlite3.Connection) -> RoutedItem | None:
            stored = insert_routed(conn, routed, deliveries)
            if stored is not None and stored.id is not None:
                record_events(conn, [routed_event(stored.id)], at)
            return stored

        return await self._writer.transaction(write)

    async def get_routed(self, routed_id: int) -> RoutedItem:
        def read(conn: sqlite3.Connection) -> RoutedItem:
            row = fetch_one(conn, "SELECT * FROM routed_items WHERE id = ?", (routed_id,), f"no routed item {routed_id}")
            return _routed(row)

        return await self._reader.run(read)

    async def routed_for_item(self, kind: str, item_id: str) -> list[RoutedItem]:
        def read(conn: sqlite3.Connection) -> list[RoutedItem]:
            return [_routed(r) for r in conn.execute(
                "SELECT * FROM routed_items WHERE item_kind = ? AND item_id = ? ORDER BY id",
                (kind, item_id))]

        return await self._reader.run(read)

    async def team_queue(
        self, team_key: str, statuses: Sequence[str] = (), limit: int = 50,
        cursor: str | None = None,
    ) -> Page[RoutedItem]:
        limit = clamp_limit(limit)
        where: list[str] = ["team_key = ?"]
        args: list[object] = [team_key]
        if statuses:
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            args += list(statuses)
        if cursor:
            routed_at, rid = decode_cursor(cursor, 2)
            where.append("(routed_at, id) < (?, ?)")
            args += [str(routed_at), int(rid)]
        sql = (f"SELECT * FROM routed_items WHERE {' AND '.join(where)} "
               f"ORDER BY routed_at DESC, id DESC LIMIT ?")
        args.append(limit + 1)

        def read(conn: sqlite3.Connection) -> Page[RoutedItem]:
            rows, nxt = cut_page(conn.execute(sql, args).fetchall(), limit,
                                 lambda r: (r["routed_at"], r["id"]))
            return Page(tuple(_routed(r) for r in rows), nxt)

        return await self._reader.run(read)

    async def teams_queue_counts(
        self, status: str, unacknowledged_before: Mapping[str, datetime | None]
    ) -> dict[str, QueueCounts]:
        if not unacknowledged_before:
            return {}
        # Every team and its cut-off in one JSON parameter: one statement for any number of
        # teams (bound variables are capped), each team counted over its own index range.
        asked = json.dumps([[key, to_db_time(before) if before else None]
                            for key, before in unacknowledged_before.items()])
        sql = ("SELECT t.value ->> 0 AS team_key, COUNT(r.id) AS waiting, "
               "COALESCE(SUM(r.acknowledged_at IS NULL AND r.routed_at < t.value ->> 1), 0) AS overdue "
               "FROM json_each(?) AS t LEFT JOIN routed_items AS r "
               "ON r.team_key = t.value ->> 0 AND r.status = ? GROUP BY t.value ->> 0")

        def read(conn: sqlite3.Connection) -> dict[str, QueueCounts]:
            return {row["team_key"]: QueueCounts(int(row["waiting"]), int(row["overdue"]))
                    for row in conn.execute(sql, (asked, status))}

        return await self._reader.run(read)

    async def update_routed(
        self, routed_id: int, actor: str, at: datetime, *, status: str | None = None,
        acknowledge: Acknowledging | None = None, comment: str | None = None,
        note_key: str | None = None,
    ) -> RoutedItem:
        now = to_db_time(at)

        def write(conn: sqlite3.Connection) -> RoutedItem:
            row = fetch_one(conn, "SELECT * FROM routed_items WHERE id = ?", (routed_id,), f"no routed item {routed_id}")
            current = row["status"]
            if acknowledge is not None and row["acknowledged_at"] is None:
                current = acknowledge.to if current in acknowledge.moves else current
                conn.execute(
                    "UPDATE routed_items SET acknowledged_at = ?, acknowledged_by = ?, status = ?, "
                    "updated_at = ? WHERE id = ?", (now, actor, current, now, routed_id))
                _log(conn, routed_id, now, actor, ACKNOWLEDGED_ACTION, {})
            if status is not None and status != current:
                conn.execute("UPDATE routed_items SET status = ?, updated_at = ? WHERE id = ?",
                             (status, now, routed_id))
                _log(conn, routed_id, now, actor, "status", {"from": current, "to": status})
            if comment is not None and _log(conn, routed_id, now, actor, "comment", {"text": comment},
                                            note_key):
                conn.execute("UPDATE routed_items SET updated_at = ? WHERE id = ?", (now, routed_id))
            return _routed(conn.execute(
                "SELECT * FROM routed_items WHERE id = ?", (routed_id,)).fetchone())

        return await self._writer.transaction(write)

    async def routing_log(self, routed_id: int) -> list[RoutingEntry]:
        def read(conn: sqlite3.Connection) -> list[RoutingEntry]:
            return [_entry(r) for r in conn.execute(
                        "SELECT * FROM routing_log WHERE routed_id = ? ORDER BY id", (routed_id,))]

        return await self._reader.run(read)

    # -- deliveries (outbox) -------------------------------------------------------
    async def claim_deliveries(
        self, worker: str, now: datetime, claim_until: datetime, limit: int
    ) -> list[Delivery]:
        at, until = to_db_time(now), to_db_time(claim_until)

        def write(conn: sqlite3.Connection) -> list[Delivery]:
            # BEGIN IMMEDIATE (see ThreadedConnection.transaction) makes select-then-update
            # atomic against every other writer, in this process or another.
            ids = [r[0] for r in conn.execute(
                """SELECT id FROM deliveries
                   WHERE (state = 'pending' AND next_attempt_at <= ?)
                      OR (state = 'sending' AND claimed_until <= ?)
                   ORDER BY next_attempt_at, id LIMIT ?""", (at, at, int(limit)))]
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            conn.execute(
                f"UPDATE deliveries SET state = 'sending', claimed_by = ?, claimed_until = ?, "
                f"attempts = attempts + 1 WHERE id IN ({marks})", (worker, until, *ids))
            return [_delivery(r) for r in conn.execute(
                f"SELECT * FROM deliveries WHERE id IN ({marks}) ORDER BY next_attempt_at, id", ids)]

        return await self._writer.transaction(write)

    async def delivery_sent(self, delivery_id: int, worker: str, at: datetime) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            return conn.execute(
                "UPDATE deliveries SET state = 'sent', sent_at = ?, claimed_by = NULL, "
                "claimed_until = NULL, last_error = NULL "
                "WHERE id = ? AND state = 'sending' AND claimed_by = ?",
                (to_db_time(at), delivery_id, worker)).rowcount == 1

        return await self._writer.transaction(write)

    async def delivery_failed(
        self, delivery_id: int, worker: str, error: str, retry_at: datetime | None
    ) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            if retry_at is None:
                sql = ("UPDATE deliveries SET state = 'dead', last_error = ?, claimed_by = NULL, "
                       "claimed_until = NULL WHERE id = ? AND state = 'sending' AND claimed_by = ?")
                args: tuple[Any, ...] = (error, delivery_id, worker)
            else:
                sql = ("UPDATE deliveries SET state = 'pending', last_error = ?, next_attempt_at = ?, "
                       "claimed_by = NULL, claimed_until = NULL "
                       "WHERE id = ? AND state = 'sending' AND claimed_by = ?")
                args = (error, to_db_time(retry_at), delivery_id, worker)
            return conn.execute(sql, args).rowcount == 1

        return await self._writer.transaction(write)

    async def list_deliveries(
        self, state: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[Delivery]:
        limit = clamp_limit(limit)
        where: list[str] = []
        args: list[Any] = []
        if state:
            where.append("state = ?")
            args.append(state)
        if cursor:
            (last_id,) = decode_cursor(cursor, 1)
            where.append("id < ?")
            args.append(int(last_id))
        sql = "SELECT * FROM deliveries"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit + 1)

        def read(conn: sqlite3.Connection) -> Page[Delivery]:
            rows, nxt = cut_page(conn.execute(sql, args).fetchall(), limit, lambda r: (r["id"],))
            return Page(tuple(_delivery(r) for r in rows), nxt)

        return await self._reader.run(read)

    async def resend_delivery(self, delivery_id: int, at: datetime) -> Delivery:
        def write(conn: sqlite3.Connection) -> Delivery:
            row = fetch_one(conn, "SELECT state FROM deliveries WHERE id = ?", (delivery_id,), f"no delivery {delivery_id}")
            if row["state"] != "dead":
                raise BadInput(f"delivery {delivery_id} is {row['state']}, only dead deliveries "
                               f"can be re-sent", {"state": row["state"]})
            # last_error is kept until the next attempt replaces it, for the record.
            conn.execute("UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ? "
                         "WHERE id = ?", (to_db_time(at), delivery_id))
            return _delivery(conn.execute(
                "SELECT * FROM deliveries WHERE id = ?", (delivery_id,)).fetchone())

        return await self._writer.transaction(write)

    # -- context for queues -----------------------------------------------------------
    async def linked_mention_counts(self, customer_ids: Sequence[str]) -> dict[str, int]:
        ids = list(dict.fromkeys(customer_ids))
        if not ids:
            return {}

        def read(conn: sqlite3.Connection) -> dict[str, int]:
            return {r[0]: r[1] for r in rows_in(
                conn, "SELECT customer_id, count(DISTINCT mention_id) FROM mention_links "
                      "WHERE customer_id IN ({marks}) GROUP BY customer_id", ids)}

        return await self._reader.run(read)
