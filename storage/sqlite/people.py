"""People (authors who are no known customer yet) and their handles in SQLite: the reads, and
the repositories the rules of ``crm.people`` write through."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from domain import CustomerLink, Identity, LinkReview, LinkStanding, Page, Person, normalise_handle
from storage.base import clamp_limit, decode_cursor, encode_cursor
from storage.contract.uow import AuthorLinkRows, PersonRows
from storage.sqlite.db import ThreadedConnection, to_db_time
from storage.sqlite.mentions import insert_links
from storage.sqlite.nlp import _review
from storage.sqlite.rows import fetch_one


def _standing(standing: LinkStanding) -> tuple[str, list[str]]:
    """``(?, ...)`` and its arguments: the statuses of the links that stand."""
    statuses = sorted(standing.standing)
    return f"({','.join('?' * len(statuses))})", statuses


def _person(conn: sqlite3.Connection, person_id: int) -> Person:
    row = fetch_one(conn, "SELECT * FROM people WHERE id = ?", (person_id,), f"no person {person_id}")
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


Call = Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]


class SqlitePersonRows(PersonRows):
    """People in the unit of work (``call`` runs a function of its connection)."""

    def __init__(self, call: Call) -> None:
        self._call = call

    async def holders(self, identities: Sequence[Identity]) -> dict[Identity, tuple[int, str | None]]:
        by_platform: dict[str, list[str]] = {}
        for i in identities:
            by_platform.setdefault(i.platform, []).append(i.handle)

        def read(conn: sqlite3.Connection) -> dict[Identity, tuple[int, str | None]]:
            found: dict[Identity, tuple[int, str | None]] = {}
            for platform, handles in by_platform.items():
                for start in range(0, len(handles), 500):
                    chunk = handles[start:start + 500]
                    # platform = ? AND handle IN (...): a search of the primary key per handle.
                    for handle, person_id, name in conn.execute(
                            f"SELECT h.handle, p.id, p.name FROM person_handles h JOIN people p "
                            f"ON p.id = h.person_id WHERE h.platform = ? AND h.handle IN "
                            f"({','.join('?' * len(chunk))})", [platform, *chunk]):
                        found[Identity(platform, handle)] = (person_id, name)
            return found

        return await self._call(read)

    async def add(self, name: str | None, identity: Identity, now: datetime) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            at = to_db_time(now)
            person_id = conn.execute("INSERT INTO people (name, created_at, updated_at) VALUES (?, ?, ?)",
                                     (name, at, at)).lastrowid
            if conn.execute("INSERT INTO person_handles VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                            (identity.platform, identity.handle, person_id)).rowcount:
                return True
            conn.execute("DELETE FROM people WHERE id = ?", (person_id,))
            return False

        return await self._call(write)

    async def get(self, person_id: int) -> Person:
        return await self._call(lambda conn: _person(conn, person_id))

    async def set_name(self, person_id: int, name: str | None, now: datetime) -> None:
        await self._call(lambda conn: conn.execute(
            "UPDATE people SET name = ?, updated_at = ? WHERE id = ?", (name, to_db_time(now), person_id)))

    async def set_customer(self, person_id: int, customer_id: str, now: datetime) -> None:
        await self._call(lambda conn: conn.execute(
            "UPDATE people SET customer_id = ?, updated_at = ? WHERE id = ?",
            (customer_id, to_db_time(now), person_id)))

    async def move_handles(self, from_id: int, to_id: int) -> None:
        await self._call(lambda conn: conn.execute(
            "UPDATE person_handles SET person_id = ? WHERE person_id = ?", (to_id, from_id)))

    async def delete(self, person_id: int) -> None:
        await self._call(lambda conn: conn.execute("DELETE FROM people WHERE id = ?", (person_id,)))


class SqliteAuthorLinks(AuthorLinkRows):
    """Mention links by author in the unit of work."""

    def __init__(self, call: Call) -> None:
        self._call = call

    async def confirm(self, identity: Identity, link: CustomerLink, now: datetime,
                      standing: LinkStanding) -> int:
        # The same expression as the index mentions_author_lower, so the index is used.
        where = "source = ? AND lower(author_handle) IN (?, ?)"
        args = (identity.platform, identity.handle, "@" + identity.handle)
        kept, statuses = _standing(standing)

        def write(conn: sqlite3.Connection) -> int:
            conn.execute(
                f"""DELETE FROM mention_links WHERE customer_id = ? AND status NOT IN {kept}
                    AND mention_id IN (SELECT id FROM mentions WHERE {where})""",
                (link.customer_id, *statuses, *args))
            return conn.execute(
                f"""INSERT INTO mention_links (mention_id, customer_id, confidence, rule, evidence,
                                               span_start, span_end, status, decided_at)
                    SELECT m.id, ?, ?, ?, ?, ?, ?, ?, ? FROM mentions m
                    WHERE {where} AND NOT EXISTS (
                        SELECT 1 FROM mention_links k
                        WHERE k.mention_id = m.id AND k.customer_id = ? AND k.status IN {kept})""",
                (link.customer_id, link.confidence, link.rule, link.evidence, link.start, link.end,
                 link.status, to_db_time(now), *args, link.customer_id, *statuses)).rowcount

        return await self._call(write)

    async def review(self, link_id: int) -> LinkReview:
        return await self._call(lambda conn: _review(conn, link_id))

    async def confirm_pending(self, link_id: int, identity: Identity, customer_id: str,
                              now: datetime, standing: LinkStanding) -> None:
        await self._call(lambda conn: conn.execute(
            """UPDATE mention_links SET status = ?, confidence = ?, decided_at = ?
               WHERE id = ? OR (status = ? AND customer_id = ? AND mention_id IN
                    (SELECT id FROM mentions WHERE source = ? AND lower(author_handle) IN (?, ?)))""",
            (standing.decided, standing.confidence, to_db_time(now), link_id, standing.waiting,
             customer_id, identity.platform, identity.handle, "@" + identity.handle)))

    async def drop(self, link_id: int) -> None:
        await self._call(lambda conn: conn.execute("DELETE FROM mention_links WHERE id = ?", (link_id,)))

    async def add_negative(self, customer_id: str, identity: Identity, phrase: str, now: datetime) -> None:
        await self._call(lambda conn: conn.execute(
            "INSERT INTO link_negatives VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (customer_id, identity.platform, identity.handle, phrase, to_db_time(now))))

    async def confirmed_customers(self, mention_id: int, standing: LinkStanding) -> set[str] | None:
        kept, statuses = _standing(standing)

        def read(conn: sqlite3.Connection) -> set[str] | None:
            if conn.execute("SELECT 1 FROM mentions WHERE id = ?", (mention_id,)).fetchone() is None:
                return None
            return {r[0] for r in conn.execute("SELECT customer_id FROM mention_links WHERE mention_id = ? "
                                               f"AND status IN {kept}", (mention_id, *statuses))}

        return await self._call(read)

    async def replace_unconfirmed(self, mention_id: int, links: Sequence[CustomerLink],
                                  standing: LinkStanding) -> None:
        kept, statuses = _standing(standing)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(f"DELETE FROM mention_links WHERE mention_id = ? AND status NOT IN {kept}",
                         (mention_id, *statuses))
            insert_links(conn, mention_id, links)

        await self._call(write)


class SqlitePeople:
    """The people part of ``SqliteStore``."""

    _reader: ThreadedConnection

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
