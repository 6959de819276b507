"""The customer 360's forum ideas, votes and routed items in SQLite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from domain.routing import RoutedItem
from domain.forum import Idea, IdeaShown, Vote
from storage.base import clamp_limit
from storage.contract.dashboard import MAX_ROUTED_KEYS
from storage.sqlite.db import ThreadedConnection
from storage.sqlite.idea_rows import ideas_from_rows, vote_from_row
from storage.sqlite.idea_titles import shown_conditions
from storage.sqlite.routing_rows import routed_from_row


class SqliteDashboardCustomer:
    """The customer 360's reads of ``SqliteStore``."""

    _reader: ThreadedConnection

    async def customer_ideas(self, customer_id: str, limit: int = 50, *,
                             shown: IdeaShown) -> tuple[list[Idea], int]:
        # accounts_customer, then ideas_author: the customer's few accounts, then their ideas.
        where = ("FROM accounts a CROSS JOIN ideas i ON i.author_id = a.id "
                 f"WHERE a.customer_id = ?{shown_conditions(shown, 'i.')}")

        def read(conn: sqlite3.Connection) -> tuple[list[Idea], int]:
            total = conn.execute(f"SELECT count(*) {where}", (customer_id,)).fetchone()[0]
            rows = conn.execute(f"SELECT i.* {where} ORDER BY i.created_at DESC, i.id DESC LIMIT ?",
                                (customer_id, clamp_limit(limit))).fetchall()
            return ideas_from_rows(conn, rows), total

        return await self._reader.run(read)

    async def customer_votes(self, customer_id: str, limit: int = 50, *,
                             shown: IdeaShown) -> tuple[list[Vote], int]:
        where = ("FROM votes v CROSS JOIN ideas i ON i.id = v.idea_id "
                 f"WHERE v.customer_id = ?{shown_conditions(shown, 'i.')}")

        def read(conn: sqlite3.Connection) -> tuple[list[Vote], int]:
            total = conn.execute(f"SELECT count(*) {where}", (customer_id,)).fetchone()[0]
            rows = conn.execute(f"SELECT v.* {where} ORDER BY v.created_at DESC, v.id DESC LIMIT ?",
                                (customer_id, clamp_limit(limit))).fetchall()
            return [vote_from_row(r) for r in rows], total

        return await self._reader.run(read)

    async def routed_for_items(self, keys: Sequence[tuple[str, str]], limit: int = 50) -> list[RoutedItem]:
        wanted = json.dumps([[kind, str(item_id)] for kind, item_id in list(keys)[:MAX_ROUTED_KEYS]])

        def read(conn: sqlite3.Connection) -> list[RoutedItem]:
            # Each key is looked up through the (item_kind, item_id, rule_id) unique index.
            rows = conn.execute(
                "SELECT r.* FROM json_each(?) k CROSS JOIN routed_items r "
                "ON r.item_kind = json_extract(k.value, '$[0]') AND r.item_id = json_extract(k.value, '$[1]') "
                "ORDER BY r.routed_at DESC, r.id DESC LIMIT ?", (wanted, clamp_limit(limit))).fetchall()
            return [routed_from_row(r) for r in rows]

        return await self._reader.run(read)
