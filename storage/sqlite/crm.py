"""CRM sync in SQLite: CRM records linked to customers, cursors, merges, outbound keys."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.routing import Delivery
from domain import Identity
from domain.crm import (
    CrmBatch,
    CrmBatchResult,
    CrmCustomer,
    CrmLink,
    CrmMerge,
    CrmStatus,
    LearnedIdentities,
)
from storage.sqlite.db import ThreadedConnection, from_db_time, to_db_time


def _identities(conn: sqlite3.Connection, customer_id: str) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in conn.execute(
        "SELECT platform, handle FROM customer_identities WHERE customer_id = ?", (customer_id,))}


def _link(row: sqlite3.Row) -> CrmLink:
    return CrmLink(row["connector"], row["object_type"], row["crm_id"], row["customer_id"],
                   row["company_crm_id"], bool(row["deleted"]), row["merged_into"],
                   from_db_time(row["synced_at"]))


def _union(*lists: list[str]) -> list[str]:
    """Values of every list in order, once each (case-insensitively)."""
    seen: set[str] = set()
    out: list[str] = []
    for values in lists:
        for value in values:
            if value.lower() not in seen:
                seen.add(value.lower())
                out.append(value)
    return out


def _upsert(conn: sqlite3.Connection, record: CrmCustomer, now: str) -> bool:
    """Write one CRM-fed customer keeping what crmsphere learned; True when it is new."""
    c = record.customer
    existing = conn.execute("SELECT aliases FROM customers WHERE id = ?", (c.id,)).fetchone()
    prior = conn.execute(
        "SELECT crm_identities, crm_aliases FROM crm_records "
        "WHERE connector = ? AND object_type = ? AND crm_id = ?",
        (record.connector, record.object_type, record.crm_id)).fetchone()
    from_crm_before = {tuple(i) for i in json.loads(prior[0])} if prior else set()
    aliases_before = {a.lower() for a in json.loads(prior[1])} if prior else set()
    learned_ids: set[tuple[str, str]] = set()
    learned_aliases: list[str] = []
    if existing is not None:
        learned_ids = _identities(conn, c.id) - from_crm_before
        learned_aliases = [a for a in json.loads(existing[0]) if a.lower() not in aliases_before]
    aliases = _union(list(c.aliases), learned_aliases)
    conn.execute(
        """INSERT INTO customers (id, name, kind, company, segment, annual_revenue,
                                  emails, domains, aliases, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET
             name = excluded.name, kind = excluded.kind, company = excluded.company,
             segment = excluded.segment, annual_revenue = excluded.annual_revenue,
             emails = excluded.emails, domains = excluded.domains,
             aliases = excluded.aliases, updated_at = excluded.updated_at""",
        (c.id, c.name, c.kind, c.company, c.segment, c.annual_revenue,
         json.dumps(list(c.emails)), json.dumps(list(c.domains)), json.dumps(aliases), now))
    conn.execute("DELETE FROM customer_identities WHERE customer_id = ?", (c.id,))
    wanted = {(i.platform, i.handle) for i in c.identities} | learned_ids
    conn.executemany("INSERT OR IGNORE INTO customer_identities VALUES (?, ?, ?)",
                     [(c.id, p, h) for p, h in sorted(wanted)])
    conn.execute(
        """INSERT INTO crm_records (connector, object_type, crm_id, customer_id, company_crm_id,
                                    deleted, merged_into, crm_identities, crm_aliases, synced_at)
           VALUES (?, ?, ?, ?, ?, 0, NULL, ?, ?, ?)
           ON CONFLICT (connector, object_type, crm_id) DO UPDATE SET
             customer_id = excluded.customer_id, company_crm_id = excluded.company_crm_id,
             deleted = 0, merged_into = NULL, crm_identities = excluded.crm_identities,
             crm_aliases = excluded.crm_aliases, synced_at = excluded.synced_at""",
        (record.connector, record.object_type, record.crm_id, c.id, record.company_crm_id,
         json.dumps(sorted([i.platform, i.handle] for i in c.identities)),
         json.dumps(list(c.aliases)), now))
    return existing is None


def _record(conn: sqlite3.Connection, connector: str, object_type: str,
            crm_id: str) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT * FROM crm_records WHERE connector = ? AND object_type = ? AND crm_id = ?",
        (connector, object_type, crm_id)).fetchone()


def _referenced(conn: sqlite3.Connection, customer_id: str) -> bool:
    """Whether anything a person made or saw points at the customer (kept then)."""
    return any(conn.execute(sql, (customer_id,)).fetchone() for sql in (
        "SELECT 1 FROM mention_links WHERE customer_id = ? LIMIT 1",
        "SELECT 1 FROM votes WHERE customer_id = ? LIMIT 1",
        "SELECT 1 FROM accounts WHERE customer_id = ? LIMIT 1"))


def _merge_customers(conn: sqlite3.Connection, loser: str, survivor: str, now: str) -> None:
    """Move everything linked to customer ``loser`` onto ``survivor`` and remove ``loser``."""
    lrow = conn.execute("SELECT * FROM customers WHERE id = ?", (loser,)).fetchone()
    srow = conn.execute("SELECT * FROM customers WHERE id = ?", (survivor,)).fetchone()
    if lrow is None or srow is None:
        return
    merged = {key: json.dumps(_union(json.loads(srow[key]), json.loads(lrow[key])))
              for key in ("emails", "domains")}
    names = [lrow["name"]] if lrow["name"].lower() != srow["name"].lower() else []
    aliases = _union(json.loads(srow["aliases"]), json.loads(lrow["aliases"]), names)
    conn.execute("UPDATE customers SET emails = ?, domains = ?, aliases = ?, updated_at = ? "
                 "WHERE id = ?", (merged["emails"], merged["domains"], json.dumps(aliases), now,
                                  survivor))
    conn.execute("INSERT OR IGNORE INTO customer_identities "
                 "SELECT ?, platform, handle FROM customer_identities WHERE customer_id = ?",
                 (survivor, loser))
    # A mention linked to both keeps the survivor's link; the others move.
    conn.execute("DELETE FROM mention_links WHERE customer_id = ? AND mention_id IN "
                 "(SELECT mention_id FROM mention_links WHERE customer_id = ?)", (loser, survivor))
    conn.execute("UPDATE mention_links SET customer_id = ? WHERE customer_id = ?", (survivor, loser))
    # One vote per customer and idea: a double vote is dropped and the idea's count follows.
    doubled = [r[0] for r in conn.execute(
        "SELECT idea_id FROM votes WHERE customer_id = ? AND idea_id IN "
        "(SELECT idea_id FROM votes WHERE customer_id = ?)", (loser, survivor))]
    for idea_id in doubled:
        conn.execute("DELETE FROM votes WHERE customer_id = ? AND idea_id = ?", (loser, idea_id))
        conn.execute("UPDATE ideas SET vote_count = max(vote_count - 1, 0) WHERE id = ?", (idea_id,))
    conn.execute("UPDATE votes SET customer_id = ? WHERE customer_id = ?", (survivor, loser))
    conn.execute("UPDATE accounts SET customer_id = ? WHERE customer_id = ?", (survivor, loser))
    conn.execute("INSERT OR IGNORE INTO link_negatives SELECT ?, source, author_handle, phrase, "
                 "created_at FROM link_negatives WHERE customer_id = ?", (survivor, loser))
    conn.execute("UPDATE crm_records SET customer_id = ? WHERE customer_id = ? AND deleted = 0 "
                 "AND merged_into IS NULL AND connector != ''", (survivor, loser))
    conn.execute("DELETE FROM customers WHERE id = ?", (loser,))


def _apply_merge(conn: sqlite3.Connection, connector: str, merge: CrmMerge, now: str) -> bool:
    loser = _record(conn, connector, merge.object_type, merge.crm_id)
    survivor = _record(conn, connector, merge.object_type, merge.survivor_crm_id)
    if loser is None or survivor is None or loser["merged_into"] == merge.survivor_crm_id:
        return False
    if loser["customer_id"] != survivor["customer_id"]:
        # The survivor keeps what was learned on the merged-away customer: flag it as learned.
        _merge_customers(conn, loser["customer_id"], survivor["customer_id"], now)
    conn.execute("UPDATE crm_records SET merged_into = ?, customer_id = ?, synced_at = ? "
                 "WHERE connector = ? AND object_type = ? AND crm_id = ?",
                 (merge.survivor_crm_id, survivor["customer_id"], now, connector,
                  merge.object_type, merge.crm_id))
    return True


def _apply_delete(conn: sqlite3.Connection, connector: str, object_type: str, crm_id: str,
                  now: str) -> bool:
    row = _record(conn, connector, object_type, crm_id)
    if row is None or row["deleted"]:
        return False
    conn.execute("UPDATE crm_records SET deleted = 1, synced_at = ? "
                 "WHERE connector = ? AND object_type = ? AND crm_id = ?",
                 (now, connector, object_type, crm_id))
    customer_id = row["customer_id"]
    others = conn.execute("SELECT 1 FROM crm_records WHERE customer_id = ? AND deleted = 0 "
                          "AND merged_into IS NULL", (customer_id,)).fetchone()
    if others is None and row["merged_into"] is None and not _referenced(conn, customer_id):
        conn.execute("DELETE FROM customers WHERE id = ?", (customer_id,))
    return True


class SqliteCrm:
    """The CRM part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def apply_crm_batch(self, batch: CrmBatch, at: datetime) -> CrmBatchResult:
        now = to_db_time(at)

        def write(conn: sqlite3.Connection) -> CrmBatchResult:
            inserted = sum(_upsert(conn, r, now) for r in batch.upserts)
            merged = sum(_apply_merge(conn, batch.connector, m, now) for m in batch.merges)
            deleted = sum(_apply_delete(conn, batch.connector, batch.object_type, crm_id, now)
                          for crm_id in batch.deleted)
            if batch.upserts or merged or deleted:
                conn.execute("INSERT INTO meta VALUES ('customers_changed_at', ?) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (now,))
            if batch.cursor is not None:
                conn.execute(
                    "INSERT INTO crm_cursors VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (connector, object_type) DO UPDATE SET "
                    "cursor = excluded.cursor, updated_at = excluded.updated_at",
                    (batch.connector, batch.object_type, json.dumps(batch.cursor), now))
            return CrmBatchResult(inserted=inserted, updated=len(batch.upserts) - inserted,
                                  deleted=deleted, merged=merged)

        return await self._writer.transaction(write)

    async def get_crm_cursor(self, connector: str, object_type: str) -> dict[str, Any] | None:
        def read(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute("SELECT cursor FROM crm_cursors WHERE connector = ? AND "
                               "object_type = ?", (connector, object_type)).fetchone()
            return json.loads(row[0]) if row else None

        return await self._reader.run(read)

    async def crm_link_for_customer(self, customer_id: str) -> CrmLink | None:
        def read(conn: sqlite3.Connection) -> CrmLink | None:
            row = conn.execute(
                "SELECT * FROM crm_records WHERE customer_id = ? AND deleted = 0 AND "
                "merged_into IS NULL ORDER BY synced_at DESC, crm_id LIMIT 1",
                (customer_id,)).fetchone()
            return _link(row) if row else None

        return await self._reader.run(read)

    async def get_crm_link(self, connector: str, object_type: str, crm_id: str) -> CrmLink | None:
        def read(conn: sqlite3.Connection) -> CrmLink | None:
            row = _record(conn, connector, object_type, crm_id)
            return _link(row) if row else None

        return await self._reader.run(read)

    async def learned_identities(self, connector: str) -> list[LearnedIdentities]:
        def read(conn: sqlite3.Connection) -> list[LearnedIdentities]:
            found = []
            for row in conn.execute(
                    "SELECT r.*, c.aliases AS customer_aliases FROM crm_records r "
                    "JOIN customers c ON c.id = r.customer_id WHERE r.connector = ? AND "
                    "r.deleted = 0 AND r.merged_into IS NULL ORDER BY r.object_type, r.crm_id",
                    (connector,)).fetchall():
                from_crm = {tuple(i) for i in json.loads(row["crm_identities"])}
                ids = sorted(_identities(conn, row["customer_id"]) - from_crm)
                crm_aliases = {a.lower() for a in json.loads(row["crm_aliases"])}
                aliases = [a for a in json.loads(row["customer_aliases"])
                           if a.lower() not in crm_aliases]
                if ids or aliases:
                    found.append(LearnedIdentities(
                        _link(row), tuple(Identity(p, h) for p, h in ids), tuple(aliases),
                        row["learned_written"]))
            return found

        return await self._reader.run(read)

    async def mark_learned_written(self, connector: str, object_type: str, crm_id: str,
                                   value: str) -> None:
        await self._writer.transaction(lambda conn: conn.execute(
            "UPDATE crm_records SET learned_written = ? WHERE connector = ? AND object_type = ? "
            "AND crm_id = ?", (value, connector, object_type, crm_id)))

    async def get_outbound(self, connector: str, key: str) -> str | None:
        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT crm_id FROM crm_outbound WHERE connector = ? AND key = ?",
                               (connector, key)).fetchone()
            return row[0] if row else None

        return await self._reader.run(read)

    async def save_outbound(self, connector: str, key: str, crm_id: str, at: datetime) -> str:
        def write(conn: sqlite3.Connection) -> str:
            conn.execute("INSERT INTO crm_outbound VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                         (connector, key, crm_id, to_db_time(at)))
            return conn.execute("SELECT crm_id FROM crm_outbound WHERE connector = ? AND key = ?",
                                (connector, key)).fetchone()[0]

        return await self._writer.transaction(write)

    async def enqueue_deliveries_once(self, deliveries: Sequence[Delivery], at: datetime) -> list[int]:
        now = to_db_time(at)

        def write(conn: sqlite3.Connection) -> list[int]:
            ids = []
            for d in deliveries:
                row = conn.execute(
                    """INSERT INTO deliveries (routed_id, team_key, channel, target, payload,
                                               idempotency_key, state, attempts, next_attempt_at,
                                               created_at)
                       VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
                       ON CONFLICT (idempotency_key) DO NOTHING RETURNING id""",
                    (d.routed_id, d.team_key, d.channel, json.dumps(dict(d.target), sort_keys=True),
                     json.dumps(dict(d.payload), sort_keys=True), d.idempotency_key,
                     to_db_time(d.next_attempt_at) if d.next_attempt_at else now, now)).fetchone()
                if row is not None:
                    ids.append(row[0])
            return ids

        return await self._writer.transaction(write)

    async def crm_status(self, connector: str) -> CrmStatus:
        def read(conn: sqlite3.Connection) -> CrmStatus:
            status = CrmStatus(connector)
            for object_type, live, deleted, merged in conn.execute(
                    "SELECT object_type, sum(deleted = 0 AND merged_into IS NULL), sum(deleted), "
                    "sum(merged_into IS NOT NULL) FROM crm_records WHERE connector = ? "
                    "GROUP BY object_type", (connector,)):
                status.records[object_type] = live
                status.deleted[object_type] = deleted
                status.merged[object_type] = merged
            for object_type, cursor in conn.execute(
                    "SELECT object_type, cursor FROM crm_cursors WHERE connector = ?", (connector,)):
                status.cursors[object_type] = json.loads(cursor)
            return CrmStatus(connector, status.records, status.deleted, status.merged,
                             status.cursors, conn.execute(
                                 "SELECT count(*) FROM crm_outbound WHERE connector = ?",
                                 (connector,)).fetchone()[0])

        return await self._reader.run(read)
