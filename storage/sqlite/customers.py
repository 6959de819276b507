"""Customers and their identities in SQLite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from domain import Customer, Identity, Page, SaveResult, utcnow
from domain.customer_search import customer_words, name_key, prefix_end
from storage.base import clamp_limit, cut_page, decode_cursor
from storage.contract.uow import CustomerEdits
from storage.customer_search import NAME_PREFIX, TierRows, ranked_search
from storage.sqlite.db import ThreadedConnection, rows_in, to_db_time
from storage.sqlite.rows import fetch_one


def write_customer(conn: sqlite3.Connection, c: Customer, now: str) -> None:
    """Write the customer whole, its handles ``c.identities`` and no others."""
    conn.execute(
        """INSERT INTO customers (id, name, kind, company, segment, annual_revenue,
                                  emails, domains, aliases, updated_at, name_fold)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET
             name = excluded.name, kind = excluded.kind, company = excluded.company,
             segment = excluded.segment, annual_revenue = excluded.annual_revenue,
             emails = excluded.emails, domains = excluded.domains,
             aliases = excluded.aliases, updated_at = excluded.updated_at,
             name_fold = excluded.name_fold""",
        (c.id, c.name, c.kind, c.company, c.segment, c.annual_revenue,
         json.dumps(list(c.emails)), json.dumps(list(c.domains)), json.dumps(list(c.aliases)), now,
         name_key(c.name)),
    )
    conn.execute("DELETE FROM customer_identities WHERE customer_id = ?", (c.id,))
    conn.executemany("INSERT OR IGNORE INTO customer_identities VALUES (?, ?, ?)",
                     [(c.id, i.platform, i.handle) for i in c.identities])
    # The search words follow the row in the same transaction (a deleted customer's go by
    # ON DELETE CASCADE).
    conn.execute("DELETE FROM customer_words WHERE customer_id = ?", (c.id,))
    folded = name_key(c.name)
    conn.executemany("INSERT INTO customer_words VALUES (?, ?, ?)", [
        (word, folded, c.id)
        for word in customer_words(c.name, c.company, c.emails, [i.handle for i in c.identities])])


def customers_changed(conn: sqlite3.Connection, now: str) -> None:
    """Note that the customer registry changed (the analysers reload it)."""
    conn.execute("INSERT INTO meta VALUES ('customers_changed_at', ?) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (now,))


class SqliteCustomers:
    """The customer part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def upsert_customers(self, customers: Sequence[Customer]) -> SaveResult:
        now = to_db_time(utcnow())

        def write(conn: sqlite3.Connection) -> SaveResult:
            inserted = 0
            for c in customers:
                existed = conn.execute("SELECT 1 FROM customers WHERE id = ?", (c.id,)).fetchone()
                write_customer(conn, c, now)
                inserted += existed is None
            customers_changed(conn, now)
            return SaveResult(inserted=inserted, duplicates=len(customers) - inserted)

        return await self._writer.transaction(write)

    async def get_customer(self, customer_id: str) -> Customer:
        def read(conn: sqlite3.Connection) -> Customer:
            row = fetch_one(conn, "SELECT * FROM customers WHERE id = ?", (customer_id,), f"no customer {customer_id!r}")
            return _customers_from_rows(conn, [row])[0]

        return await self._reader.run(read)

    async def get_customers(self, customer_ids: Sequence[str]) -> dict[str, Customer]:
        ids = sorted(set(customer_ids))

        def read(conn: sqlite3.Connection) -> dict[str, Customer]:
            rows = list(rows_in(conn, "SELECT * FROM customers WHERE id IN ({marks})", ids))
            return {c.id: c for c in _customers_from_rows(conn, rows)}

        return await self._reader.run(read)

    async def list_customers(
        self, text: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[Customer]:
        limit = clamp_limit(limit)
        if text:
            return await ranked_search(text, limit, cursor, self._search_tier)
        where: list[str] = []
        args: list[object] = []
        if cursor:
            name, cid = decode_cursor(cursor, 2)
            where.append("(name COLLATE NOCASE, id) > (?, ?)")
            args += [name, cid]
        sql = "SELECT * FROM customers"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY name COLLATE NOCASE, id LIMIT ?"
        args.append(limit + 1)

        def read(conn: sqlite3.Connection) -> Page[Customer]:
            items, nxt = cut_page(_customers_from_rows(conn, conn.execute(sql, args).fetchall()),
                                  limit, lambda c: (c.name, c.id))
            return Page(tuple(items), nxt)

        return await self._reader.run(read)

    async def _search_tier(self, tier: int, prefix: str, terms: Sequence[str],
                           after: tuple[str, str] | None, count: int) -> TierRows:
        """One tier of ``ranked_search``, from index range reads only: ``customers_name_fold``
        for names starting with the query; for the other matches, each term's range of
        ``customer_words``' key (which holds the folded name: no customer row is read to order
        the matches), the terms' customers intersected, then the page's rows by id."""
        if tier == NAME_PREFIX:
            where, args = "name_fold >= ? AND name_fold < ?", [prefix, prefix_end(prefix)]
            if after is not None:
                where += " AND (name_fold, id) > (?, ?)"
                args += list(after)
            sql = f"SELECT * FROM customers WHERE {where} ORDER BY name_fold, id LIMIT ?"

            def read_names(conn: sqlite3.Connection) -> TierRows:
                rows = conn.execute(sql, [*args, count]).fetchall()
                return [(r["name_fold"], r["id"], c) for r, c in zip(rows, _customers_from_rows(conn, rows))]

            return await self._reader.run(read_names)
        selects: list[str] = []
        word_args: list[object] = []
        for n, term in enumerate(terms):
            where = "word >= ? AND word < ?"
            word_args += [term, prefix_end(term)]
            if n == 0:  # once is enough: the intersection keeps only what every select has
                where += " AND NOT (name_fold >= ? AND name_fold < ?)"
                word_args += [prefix, prefix_end(prefix)]
                if after is not None:
                    where += " AND (name_fold, customer_id) > (?, ?)"
                    word_args += list(after)
            selects.append(f"SELECT name_fold, customer_id FROM customer_words WHERE {where}")
        matched_sql = (" INTERSECT ".join(selects) if len(selects) > 1
                       else selects[0].replace("SELECT", "SELECT DISTINCT", 1)) + " ORDER BY 1, 2 LIMIT ?"

        def read_words(conn: sqlite3.Connection) -> TierRows:
            matched = conn.execute(matched_sql, [*word_args, count]).fetchall()
            rows = list(rows_in(conn, "SELECT * FROM customers WHERE id IN ({marks})", [m[1] for m in matched]))
            by_id = {c.id: c for c in _customers_from_rows(conn, rows)}
            return [(m[0], m[1], by_id[m[1]]) for m in matched if m[1] in by_id]

        return await self._reader.run(read_words)

    async def all_customers(self) -> list[Customer]:
        def read(conn: sqlite3.Connection) -> list[Customer]:
            rows = conn.execute("SELECT * FROM customers ORDER BY id").fetchall()
            return _customers_from_rows(conn, rows)

        return await self._reader.run(read)


def _customers_from_rows(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Customer]:
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    identities: dict[str, list[Identity]] = {}
    for cid, platform, handle in rows_in(
            conn, "SELECT customer_id, platform, handle FROM customer_identities "
                  "WHERE customer_id IN ({marks}) ORDER BY platform, handle", ids):
        identities.setdefault(cid, []).append(Identity(platform, handle))
    return [
        Customer(
            id=r["id"], name=r["name"], kind=r["kind"], company=r["company"],
            segment=r["segment"], annual_revenue=r["annual_revenue"],
            emails=tuple(json.loads(r["emails"])), domains=tuple(json.loads(r["domains"])),
            aliases=tuple(json.loads(r["aliases"])),
            identities=tuple(identities.get(r["id"], ())),
        )
        for r in rows
    ]


class SqliteCustomerEdits(CustomerEdits):
    """Customer writes in the unit of work (``call`` runs a function of its connection)."""

    def __init__(self, call: Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]) -> None:
        self._call = call

    async def add_handle(self, customer_id: str, identity: Identity) -> bool:
        def add(conn: sqlite3.Connection) -> bool:
            added = conn.execute("INSERT OR IGNORE INTO customer_identities VALUES (?, ?, ?)",
                                 (customer_id, identity.platform, identity.handle)).rowcount > 0
            # The handle finds its customer in a search from now on.
            conn.executemany("INSERT OR IGNORE INTO customer_words SELECT ?, name_fold, id FROM customers "
                             "WHERE id = ?",
                             [(w, customer_id) for w in customer_words("", None, (), [identity.handle])])
            return added

        return await self._call(add)

    async def set_aliases(self, customer_id: str, aliases: Sequence[str], now: datetime) -> None:
        await self._call(lambda conn: conn.execute(
            "UPDATE customers SET aliases = ?, updated_at = ? WHERE id = ?",
            (json.dumps(list(aliases)), to_db_time(now), customer_id)))

    async def changed(self, now: datetime) -> None:
        await self._call(lambda conn: customers_changed(conn, to_db_time(now)))

    async def refuse_alias(self, customer_id: str, alias_key: str, alias: str, by: str,
                           at: datetime) -> bool:
        return await self._call(lambda conn: conn.execute(
            "INSERT OR IGNORE INTO refused_aliases VALUES (?, ?, ?, ?, ?)",
            (customer_id, alias_key, alias, by, to_db_time(at))).rowcount > 0)

    async def put(self, customer: Customer, now: datetime) -> None:
        await self._call(lambda conn: write_customer(conn, customer, to_db_time(now)))

    async def delete(self, customer_id: str) -> None:
        await self._call(lambda conn: conn.execute("DELETE FROM customers WHERE id = ?", (customer_id,)))
