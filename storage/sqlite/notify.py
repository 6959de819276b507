"""Mail settings, in-app notifications (with their outbox mail), thresholds and opt-outs in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from domain.routing import Delivery
from domain.notify import Notification
from storage.base import clamp_limit
from storage.contract.events import threshold_event
from storage.sqlite.db import ThreadedConnection, rows_in, to_db_time
from storage.sqlite.events import record_events
from storage.rows import NOTIFICATION
from storage.rows import of_routed
from storage.sqlite.routing_rows import insert_deliveries
from storage.sqlite.rows import insert_sql, row_reader, row_values

_NOTE_COLUMNS = ("account_id", "idea_id", "kind", "title", "body", "url", "created_at", "dedupe_key")
_INSERT_NOTE = insert_sql("notifications", _NOTE_COLUMNS, " ON CONFLICT (dedupe_key) DO NOTHING RETURNING *")
_notification = row_reader(NOTIFICATION)


def insert_notifications(conn: sqlite3.Connection,
                         items: Sequence[tuple[Notification, Delivery | None]]) -> list[Notification]:
    """Store notifications and their outbox mail inside the caller's transaction; one already
    stored (same ``dedupe_key``) is skipped with its mail.  The newly stored, with ids."""
    stored = []
    for note, delivery in items:
        row = conn.execute(_INSERT_NOTE, row_values(NOTIFICATION, note, _NOTE_COLUMNS)).fetchone()
        if row is None:
            continue  # this event was announced to this account already
        if delivery is not None:
            insert_deliveries(conn, of_routed([delivery], None), note.created_at)
        stored.append(_notification(row))
    return stored


class SqliteNotify:
    """The notify part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def enqueue_notifications(
        self, items: Sequence[tuple[Notification, Delivery | None]]
    ) -> list[Notification]:
        return await self._writer.transaction(lambda conn: insert_notifications(conn, items))

    async def enqueue_deliveries(self, deliveries: Sequence[Delivery], at: datetime) -> list[int]:
        return await self._writer.transaction(lambda conn: insert_deliveries(conn, of_routed(deliveries, None), at))

    async def list_notifications(self, account_id: int, unread_only: bool = False,
                                 limit: int = 50) -> list[Notification]:
        sql = "SELECT * FROM notifications WHERE account_id = ?"
        if unread_only:
            sql += " AND read_at IS NULL"
        sql += " ORDER BY id DESC LIMIT ?"
        return await self._reader.run(lambda conn: [
            _notification(r) for r in conn.execute(sql, (account_id, clamp_limit(limit)))])

    async def mark_notifications_read(self, account_id: int, ids: Sequence[int] | None,
                                      at: datetime) -> int:
        now = to_db_time(at)

        def write(conn: sqlite3.Connection) -> int:
            if ids is None:
                return conn.execute(
                    "UPDATE notifications SET read_at = ? WHERE account_id = ? AND read_at IS NULL",
                    (now, account_id)).rowcount
            changed = 0
            for note_id in ids:
                changed += conn.execute(
                    "UPDATE notifications SET read_at = ? "
                    "WHERE id = ? AND account_id = ? AND read_at IS NULL",
                    (now, note_id, account_id)).rowcount
            return changed

        return await self._writer.transaction(write)

    async def _pref_switches(self, account_ids: Sequence[int], switch: str,
                             default: bool) -> dict[int, bool]:
        wanted = sorted(set(account_ids))

        def read(conn: sqlite3.Connection) -> dict[int, bool]:
            found = {a: default for a in wanted}
            for row in rows_in(conn, f"SELECT account_id, {switch} FROM notify_prefs "
                                      "WHERE account_id IN ({marks})", wanted):
                found[row[0]] = bool(row[1])
            return found

        return await self._reader.run(read)

    async def _set_pref_switch(self, account_id: int, switch: str, on: bool, at: datetime) -> None:
        await self._writer.transaction(lambda conn: conn.execute(
            f"""INSERT INTO notify_prefs (account_id, {switch}, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (account_id) DO UPDATE SET {switch} = excluded.{switch},
                                                       updated_at = excluded.updated_at""",
            (account_id, int(on), to_db_time(at))))

    async def record_threshold(self, idea_id: int, threshold: str, at: datetime) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            if conn.execute("INSERT INTO idea_thresholds VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                            (idea_id, threshold, to_db_time(at))).rowcount != 1:
                return False
            record_events(conn, [threshold_event(idea_id, threshold)], at)  # same transaction
            return True

        return await self._writer.transaction(write)

    async def set_opted_out(self, idea_id: int, account_id: int, out: bool, at: datetime) -> None:
        def write(conn: sqlite3.Connection) -> None:
            if out:
                conn.execute("INSERT INTO notify_opt_outs VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                             (account_id, idea_id, to_db_time(at)))
            else:
                conn.execute("DELETE FROM notify_opt_outs WHERE idea_id = ? AND account_id = ?",
                             (idea_id, account_id))

        await self._writer.transaction(write)

    async def opted_out(self, idea_id: int) -> set[int]:
        return await self._reader.run(lambda conn: {r[0] for r in conn.execute(
            "SELECT account_id FROM notify_opt_outs WHERE idea_id = ?", (idea_id,))})

    async def accounts_for_customers(self, customer_ids: Sequence[str], *,
                                     blocked: bool) -> dict[str, list[int]]:
        wanted = sorted(set(customer_ids))
        sql = "SELECT customer_id, id FROM accounts WHERE customer_id IN ({marks})" + (
            "" if blocked else " AND NOT blocked") + " ORDER BY id"

        def read(conn: sqlite3.Connection) -> dict[str, list[int]]:
            found: dict[str, list[int]] = {}
            for row in rows_in(conn, sql, wanted):
                found.setdefault(row[0], []).append(row[1])
            return found

        return await self._reader.run(read)

    async def unread_count(self, account_id: int) -> int:
        return await self._reader.run(lambda conn: conn.execute(
            "SELECT count(*) FROM notifications WHERE account_id = ? AND read_at IS NULL",
            (account_id,)).fetchone()[0])

    async def digest_accounts(self, *, blocked: bool) -> list[int]:
        return await self._reader.run(lambda conn: [r[0] for r in conn.execute(
            "SELECT p.account_id FROM notify_prefs p JOIN accounts a ON a.id = p.account_id "
            f"WHERE p.digest = 1{'' if blocked else ' AND NOT a.blocked'} ORDER BY p.account_id")])

    async def notifications_between(self, account_id: int, start: datetime,
                                    end: datetime) -> list[Notification]:
        return await self._reader.run(lambda conn: [_notification(r) for r in conn.execute(
            "SELECT * FROM notifications WHERE account_id = ? AND created_at >= ? AND created_at < ? "
            "ORDER BY created_at, id", (account_id, to_db_time(start), to_db_time(end)))])

    async def queue_digest(self, account_id: int, day: str, items: int, delivery: Delivery | None,
                           at: datetime) -> bool:
        now = to_db_time(at)

        def write(conn: sqlite3.Connection) -> bool:
            if conn.execute("INSERT INTO digests_sent VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            (account_id, day, items, now)).rowcount != 1:
                return False
            if delivery is not None:
                insert_deliveries(conn, of_routed([delivery], None), at)
            return True

        return await self._writer.transaction(write)
