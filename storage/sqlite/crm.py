"""CRM sync in SQLite: CRM records linked to customers, cursors, outbound keys; the
repositories the rules of ``crm.records`` write through."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from domain import Customer, Identity
from domain.crm import CrmLink, CrmStatus
from domain.routing import Delivery
from storage.contract.crm import CrmRecordRow
from storage.contract.uow import CrmRecordRows, CustomerRefRows
from storage.sqlite.customers import _customers_from_rows
from storage.sqlite.db import ThreadedConnection, rows_in, to_db_time
from storage.rows import CRM_LINK
from storage.sqlite.routing_rows import insert_deliveries
from storage.sqlite.rows import row_reader


_link = row_reader(CRM_LINK)


def _record_row(row: sqlite3.Row) -> CrmRecordRow:
    return CrmRecordRow(_link(row), tuple(Identity(p, h) for p, h in json.loads(row["crm_identities"])),
                        tuple(json.loads(row["crm_aliases"])), row["learned_written"])


def _record(conn: sqlite3.Connection, connector: str, object_type: str,
            crm_id: str) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT * FROM crm_records WHERE connector = ? AND object_type = ? AND crm_id = ?",
        (connector, object_type, crm_id)).fetchone()


Call = Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]


class SqliteCrmRecords(CrmRecordRows):
    """CRM records and cursors in the unit of work (``call`` runs a function of its connection)."""

    def __init__(self, call: Call) -> None:
        self._call = call

    async def get(self, connector: str, object_type: str, crm_id: str) -> CrmRecordRow | None:
        def read(conn: sqlite3.Connection) -> CrmRecordRow | None:
            row = _record(conn, connector, object_type, crm_id)
            return None if row is None else _record_row(row)

        return await self._call(read)

    async def put(self, row: CrmRecordRow, now: datetime) -> None:
        k = row.link
        await self._call(lambda conn: conn.execute(
            """INSERT INTO crm_records (connector, object_type, crm_id, customer_id, company_crm_id,
                                        deleted, merged_into, crm_identities, crm_aliases, synced_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (connector, object_type, crm_id) DO UPDATE SET
                 customer_id = excluded.customer_id, company_crm_id = excluded.company_crm_id,
                 deleted = excluded.deleted, merged_into = excluded.merged_into,
                 crm_identities = excluded.crm_identities, crm_aliases = excluded.crm_aliases,
                 synced_at = excluded.synced_at""",
            (k.connector, k.object_type, k.crm_id, k.customer_id, k.company_crm_id, int(k.deleted),
             k.merged_into, json.dumps([[i.platform, i.handle] for i in row.crm_identities]),
             json.dumps(list(row.crm_aliases)), to_db_time(now))))

    async def set_merged(self, link: CrmLink, into_crm_id: str, customer_id: str, now: datetime) -> None:
        await self._call(lambda conn: conn.execute(
            "UPDATE crm_records SET merged_into = ?, customer_id = ?, synced_at = ? "
            "WHERE connector = ? AND object_type = ? AND crm_id = ?",
            (into_crm_id, customer_id, to_db_time(now), link.connector, link.object_type, link.crm_id)))

    async def set_deleted(self, link: CrmLink, now: datetime) -> None:
        await self._call(lambda conn: conn.execute(
            "UPDATE crm_records SET deleted = 1, synced_at = ? "
            "WHERE connector = ? AND object_type = ? AND crm_id = ?",
            (to_db_time(now), link.connector, link.object_type, link.crm_id)))

    async def of_customer(self, customer_id: str) -> list[CrmLink]:
        return await self._call(lambda conn: [_link(row) for row in conn.execute(
            "SELECT * FROM crm_records WHERE customer_id = ? ORDER BY connector, object_type, crm_id",
            (customer_id,))])

    async def reassign(self, links: Sequence[CrmLink], to_customer: str) -> None:
        await self._call(lambda conn: conn.executemany(
            "UPDATE crm_records SET customer_id = ? WHERE connector = ? AND object_type = ? AND crm_id = ?",
            [(to_customer, k.connector, k.object_type, k.crm_id) for k in links]))

    async def set_cursor(self, connector: str, object_type: str, cursor: dict[str, Any],
                         now: datetime) -> None:
        await self._call(lambda conn: conn.execute(
            "INSERT INTO crm_cursors VALUES (?, ?, ?, ?) ON CONFLICT (connector, object_type) DO UPDATE "
            "SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            (connector, object_type, json.dumps(cursor), to_db_time(now))))


class SqliteCustomerRefs(CustomerRefRows):
    """What refers to a customer, in the unit of work."""

    def __init__(self, call: Call) -> None:
        self._call = call

    async def voted_ideas(self, customer_id: str) -> set[int]:
        return await self._call(lambda conn: {r[0] for r in conn.execute(
            "SELECT idea_id FROM votes WHERE customer_id = ?", (customer_id,))})

    async def move(self, from_customer: str, to_customer: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            pair = (to_customer, from_customer)
            conn.execute("DELETE FROM mention_links WHERE customer_id = ? AND mention_id IN "
                         "(SELECT mention_id FROM mention_links WHERE customer_id = ?)",
                         (from_customer, to_customer))
            conn.execute("UPDATE mention_links SET customer_id = ? WHERE customer_id = ?", pair)
            conn.execute("UPDATE votes SET customer_id = ? WHERE customer_id = ?", pair)
            conn.execute("UPDATE accounts SET customer_id = ? WHERE customer_id = ?", pair)
            conn.execute("INSERT OR IGNORE INTO link_negatives SELECT ?, source, author_handle, phrase, "
                         "created_at FROM link_negatives WHERE customer_id = ?", pair)

        await self._call(write)

    async def referenced(self, customer_id: str) -> bool:
        return await self._call(lambda conn: any(conn.execute(sql, (customer_id,)).fetchone() for sql in (
            "SELECT 1 FROM mention_links WHERE customer_id = ? LIMIT 1",
            "SELECT 1 FROM votes WHERE customer_id = ? LIMIT 1",
            "SELECT 1 FROM accounts WHERE customer_id = ? LIMIT 1")))


class SqliteCrm:
    """The CRM part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def get_crm_cursor(self, connector: str, object_type: str) -> dict[str, Any] | None:
        def read(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute("SELECT cursor FROM crm_cursors WHERE connector = ? AND "
                               "object_type = ?", (connector, object_type)).fetchone()
            return json.loads(row[0]) if row else None

        return await self._reader.run(read)

    async def crm_links_of_customer(self, customer_id: str) -> list[CrmLink]:
        return await self._reader.run(lambda conn: [_link(row) for row in conn.execute(
            "SELECT * FROM crm_records WHERE customer_id = ? ORDER BY synced_at DESC, crm_id",
            (customer_id,))])

    async def get_crm_link(self, connector: str, object_type: str, crm_id: str) -> CrmLink | None:
        def read(conn: sqlite3.Connection) -> CrmLink | None:
            row = _record(conn, connector, object_type, crm_id)
            return _link(row) if row else None

        return await self._reader.run(read)

    async def crm_records(self, connector: str) -> list[tuple[CrmRecordRow, Customer]]:
        def read(conn: sqlite3.Connection) -> list[tuple[CrmRecordRow, Customer]]:
            rows = conn.execute("SELECT * FROM crm_records WHERE connector = ? ORDER BY object_type, crm_id",
                                (connector,)).fetchall()
            ids = sorted({r["customer_id"] for r in rows})
            found = list(rows_in(conn, "SELECT * FROM customers WHERE id IN ({marks})", ids))
            customers = {c.id: c for c in _customers_from_rows(conn, found)}
            return [(_record_row(r), customers[r["customer_id"]]) for r in rows
                    if r["customer_id"] in customers]

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
        return await self._writer.transaction(lambda conn: insert_deliveries(conn, deliveries, at, once=True))

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
