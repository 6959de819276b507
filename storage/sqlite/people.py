"""People (authors who are no known customer yet) and their handles in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from domain import Author, Identity, Page, Person, normalise_handle, utcnow
from domain.errors import BadInput, NotFound
from storage.base import clamp_limit, decode_cursor, encode_cursor
from storage.sqlite.db import ThreadedConnection, to_db_time


def _person(conn: sqlite3.Connection, person_id: int) -> Person:
    row = conn.execute("SELECT * FROM people WHERE id = ?", (person_id,)).fetchone()
    if row is None:
        raise NotFound(f"no person {person_id}")
    return _people_from_rows(conn, [row])[0]


def _people_from_rows(conn: sqlite3.Connection, rows: Sequence[sqlite3.Row]) -> list[Person]:
    ids = [r["id"] for r in rows]
    handles: dict[int, list[Identity]] = {i: [] for i in ids}
    if ids:
        marks = ",".join("?" * len(ids))
        for h in conn.execute(f"SELECT * FROM person_handles WHERE person_id IN ({marks}) "
                              "ORDER BY platform, handle", ids):
            handles[h["person_id"]].append(Identity(h["platform"], h["handle"]))
    return [Person(r["id"], r["name"], tuple(handles[r["id"]]), r["customer_id"]) for r in rows]


def _attach(conn: sqlite3.Connection, person_id: int, customer_id: str, now: str) -> int:
    """Give the customer the person's handles and confirmed links on their mentions."""
    customer = conn.execute("SELECT name FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    conn.execute("UPDATE people SET customer_id = ?, updated_at = ? WHERE id = ?",
                 (customer_id, now, person_id))
    attached = 0
    for platform, handle in conn.execute(
            "SELECT platform, handle FROM person_handles WHERE person_id = ?", (person_id,)).fetchall():
        conn.execute("INSERT OR IGNORE INTO customer_identities VALUES (?, ?, ?)",
                     (customer_id, platform, handle))
        # The same expression as the index mentions_author_lower, so the index is used.
        where = "source = ? AND lower(author_handle) IN (?, ?)"
        args = (platform, handle, "@" + handle)
        conn.execute(
            f"""DELETE FROM mention_links WHERE customer_id = ? AND status != 'confirmed'
                AND mention_id IN (SELECT id FROM mentions WHERE {where})""", (customer_id, *args))
        evidence = (f"author @{handle} on {platform} is person #{person_id}, "
                    f"attached to {customer['name']} by a manager")
        attached += conn.execute(
            f"""INSERT INTO mention_links (mention_id, customer_id, confidence, rule, evidence,
                                           status, decided_at)
                SELECT m.id, ?, 1.0, 'person', ?, 'confirmed', ? FROM mentions m
                WHERE {where} AND NOT EXISTS (
                    SELECT 1 FROM mention_links k
                    WHERE k.mention_id = m.id AND k.customer_id = ? AND k.status = 'confirmed')""",
            (customer_id, evidence, now, *args, customer_id)).rowcount
    conn.execute("INSERT INTO meta VALUES ('customers_changed_at', ?) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (now,))
    return attached


class SqlitePeople:
    """The people part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def record_people(self, authors: Sequence[tuple[str, Author]]) -> int:
        now = to_db_time(utcnow())
        wanted: dict[tuple[str, str], str | None] = {}
        for platform, author in authors:
            handle = normalise_handle(author.handle)
            if handle and platform:
                key = (platform, handle)
                wanted[key] = wanted.get(key) or author.name
        if not wanted:
            return 0

        def write(conn: sqlite3.Connection) -> int:
            new = 0
            for (platform, handle), name in wanted.items():
                row = conn.execute("SELECT person_id FROM person_handles WHERE platform = ? AND handle = ?",
                                   (platform, handle)).fetchone()
                if row is not None:
                    if name:
                        conn.execute("UPDATE people SET name = ?, updated_at = ? "
                                     "WHERE id = ? AND name IS NULL", (name, now, row[0]))
                    continue
                person_id = conn.execute(
                    "INSERT INTO people (name, created_at, updated_at) VALUES (?, ?, ?)",
                    (name, now, now)).lastrowid
                conn.execute("INSERT INTO person_handles VALUES (?, ?, ?)", (platform, handle, person_id))
                new += 1
            return new

        return await self._writer.transaction(write)

    async def get_person(self, person_id: int) -> Person:
        return await self._reader.run(lambda conn: _person(conn, person_id))

    async def person_by_handle(self, platform: str, handle: str) -> Person | None:
        key = (platform, normalise_handle(handle))

        def read(conn: sqlite3.Connection) -> Person | None:
            row = conn.execute("SELECT person_id FROM person_handles WHERE platform = ? AND handle = ?",
                               key).fetchone()
            return _person(conn, row[0]) if row else None

        return await self._reader.run(read)

    async def list_people(self, q: str | None = None, limit: int = 50,
                          cursor: str | None = None) -> Page[Person]:
        limit = clamp_limit(limit)
        after = int(decode_cursor(cursor, 1)[0]) if cursor else 0
        pattern = None
        if q and q.strip():
            escaped = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"

        def read(conn: sqlite3.Connection) -> Page[Person]:
            if pattern is None:
                rows = conn.execute("SELECT * FROM people WHERE id > ? ORDER BY id LIMIT ?",
                                    (after, limit + 1)).fetchall()
            else:
                rows = conn.execute(
                    r"""SELECT * FROM people p WHERE p.id > ? AND (lower(p.name) LIKE ? ESCAPE '\'
                            OR EXISTS (SELECT 1 FROM person_handles h WHERE h.person_id = p.id
                                       AND h.handle LIKE ? ESCAPE '\'))
                        ORDER BY p.id LIMIT ?""", (after, pattern, pattern, limit + 1)).fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
            return Page(tuple(_people_from_rows(conn, rows)),
                        encode_cursor(rows[-1]["id"]) if more else None)

        return await self._reader.run(read)

    async def attach_person(self, person_id: int, customer_id: str) -> tuple[Person, int]:
        now = to_db_time(utcnow())

        def write(conn: sqlite3.Connection) -> tuple[Person, int]:
            person = _person(conn, person_id)
            if person.customer_id not in (None, customer_id):
                raise BadInput(f"person {person_id} is attached to customer {person.customer_id} already",
                               {"person": person_id, "customer_id": person.customer_id})
            attached = _attach(conn, person_id, customer_id, now)
            return _person(conn, person_id), attached

        return await self._writer.transaction(write)

    async def merge_people(self, person_id: int, into_id: int) -> tuple[Person, int]:
        now = to_db_time(utcnow())

        def write(conn: sqlite3.Connection) -> tuple[Person, int]:
            if person_id == into_id:
                raise BadInput("a person cannot be merged into themselves", {"into": into_id})
            source, target = _person(conn, person_id), _person(conn, into_id)
            customers = {c for c in (source.customer_id, target.customer_id) if c}
            if len(customers) > 1:
                raise BadInput(f"people {person_id} and {into_id} are attached to different customers",
                               {"customers": sorted(customers)})
            conn.execute("UPDATE person_handles SET person_id = ? WHERE person_id = ?", (into_id, person_id))
            conn.execute("UPDATE people SET name = coalesce(name, ?), updated_at = ? WHERE id = ?",
                         (source.name, now, into_id))
            conn.execute("DELETE FROM people WHERE id = ?", (person_id,))
            attached = _attach(conn, into_id, customers.pop(), now) if customers else 0
            return _person(conn, into_id), attached

        return await self._writer.transaction(write)
