"""The embedded SQLite backend of ``Store`` (WAL, foreign keys, FTS5)."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from crmsphere.domain import (
    Analysis,
    Author,
    Customer,
    CustomerLink,
    Identity,
    Mention,
    MentionQuery,
    Page,
    RawPost,
    SaveResult,
    SourceHealth,
    utcnow,
)
from crmsphere.errors import ConfigError, NotFound
from storage.base import (
    Store,
    clamp_limit,
    decode_cursor,
    encode_cursor,
    health_from_json,
    health_to_json,
)
from storage.sqlite_db import ThreadedConnection, migrate, sqlite_path

_WORD = re.compile(r"\w+", re.UNICODE)


def to_db_time(value: datetime) -> str:
    """Fixed-width UTC text, so that text order is time order."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(value: str) -> datetime:
    """The inverse of ``to_db_time``."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def fts_query(text: str) -> str | None:
    """A safe FTS5 query: every word quoted (no operators from users), all required."""
    words = _WORD.findall(text)
    if not words:
        return None
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


async def open_sqlite_store(url: str) -> "SqliteStore":
    """Open the SQLite file named by ``url``, migrating its schema forward."""
    try:
        path = sqlite_path(url)
    except ValueError as exc:
        raise ConfigError("store.url", url, f"a SQLite file URL ({exc})") from exc
    store = SqliteStore(path)
    await store.open()
    return store


class SqliteStore(Store):
    """``Store`` on one SQLite file: a writer connection and a reader connection."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._writer = ThreadedConnection(path, "sqlite-writer")
        self._reader = ThreadedConnection(path, "sqlite-reader")

    async def open(self) -> None:
        """Open both connections and bring the schema up to date."""
        await self._writer.open()
        await self._writer.run(migrate)
        await self._reader.open()

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()

    # -- customers ---------------------------------------------------------
    async def upsert_customers(self, customers: Sequence[Customer]) -> SaveResult:
        now = to_db_time(utcnow())

        def write(conn: sqlite3.Connection) -> SaveResult:
            inserted = 0
            for c in customers:
                existed = conn.execute("SELECT 1 FROM customers WHERE id = ?", (c.id,)).fetchone()
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
                     json.dumps(c.emails), json.dumps(c.domains), json.dumps(c.aliases), now),
                )
                conn.execute("DELETE FROM customer_identities WHERE customer_id = ?", (c.id,))
                conn.executemany(
                    "INSERT OR IGNORE INTO customer_identities VALUES (?, ?, ?)",
                    [(c.id, i.platform, i.handle) for i in c.identities],
                )
                inserted += existed is None
            conn.execute(
                "INSERT INTO meta VALUES ('customers_changed_at', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (now,))
            return SaveResult(inserted=inserted, duplicates=len(customers) - inserted)

        return await self._writer.transaction(write)

    async def get_customer(self, customer_id: str) -> Customer:
        def read(conn: sqlite3.Connection) -> Customer:
            row = conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
            if row is None:
                raise NotFound(f"no customer {customer_id!r}")
            return _customers_from_rows(conn, [row])[0]

        return await self._reader.run(read)

    async def get_customers(self, customer_ids: Sequence[str]) -> dict[str, Customer]:
        ids = sorted(set(customer_ids))

        def read(conn: sqlite3.Connection) -> dict[str, Customer]:
            rows: list[sqlite3.Row] = []
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows += conn.execute(f"SELECT * FROM customers WHERE id IN ({marks})", chunk).fetchall()
            return {c.id: c for c in _customers_from_rows(conn, rows)}

        return await self._reader.run(read)

    async def list_customers(
        self, text: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[Customer]:
        limit = clamp_limit(limit)
        where, args = [], []
        if text:
            pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(lower(name) LIKE ? ESCAPE '\\' OR lower(coalesce(company, '')) LIKE ? ESCAPE '\\')")
            args += [pattern, pattern]
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
            rows = conn.execute(sql, args).fetchall()
            more = len(rows) > limit
            items = _customers_from_rows(conn, rows[:limit])
            nxt = encode_cursor(items[-1].name, items[-1].id) if more else None
            return Page(tuple(items), nxt)

        return await self._reader.run(read)

    async def all_customers(self) -> list[Customer]:
        def read(conn: sqlite3.Connection) -> list[Customer]:
            rows = conn.execute("SELECT * FROM customers ORDER BY id").fetchall()
            return _customers_from_rows(conn, rows)

        return await self._reader.run(read)

    # -- mentions ----------------------------------------------------------
    async def save_mentions(
        self, source_key: str, mentions: Sequence[Mention], cursor: dict[str, Any] | None
    ) -> SaveResult:
        now = to_db_time(utcnow())

        def write(conn: sqlite3.Connection) -> SaveResult:
            inserted = 0
            for m in mentions:
                p = m.post
                row = conn.execute(
                    """INSERT INTO mentions (source, external_id, author_handle, author_name, text,
                                             created_at, url, parent_id, ingested_at,
                                             author_platform_id, thread_id, language, engagement)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (source, external_id) DO NOTHING RETURNING id""",
                    (p.source, p.external_id, p.author.handle, p.author.name, p.text,
                     to_db_time(p.created_at), p.url, p.parent_id, now,
                     p.author.platform_id, p.thread_id, p.language,
                     json.dumps(dict(p.engagement), sort_keys=True)),
                ).fetchone()
                if row is None:
                    continue
                inserted += 1
                conn.executemany(
                    "INSERT INTO mention_links VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(row[0], k.customer_id, k.confidence, k.rule, k.evidence, k.start, k.end)
                     for k in m.analysis.links],
                )
            if cursor is not None:
                conn.execute(
                    "INSERT INTO source_cursors VALUES (?, ?, ?) ON CONFLICT (source_key) "
                    "DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
                    (source_key, json.dumps(cursor), now),
                )
            return SaveResult(inserted=inserted, duplicates=len(mentions) - inserted)

        return await self._writer.transaction(write)

    async def known_external_ids(self, source: str, external_ids: Sequence[str]) -> set[str]:
        ids = list(external_ids)

        def read(conn: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            for start in range(0, len(ids), 500):  # stay under SQLite's variable limit
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(r[0] for r in conn.execute(
                    f"SELECT external_id FROM mentions WHERE source = ? AND external_id IN ({marks})",
                    [source, *chunk]))
            return found

        return await self._reader.run(read)

    async def get_mention(self, mention_id: int) -> Mention:
        def read(conn: sqlite3.Connection) -> Mention:
            row = conn.execute("SELECT * FROM mentions WHERE id = ?", (mention_id,)).fetchone()
            if row is None:
                raise NotFound(f"no mention {mention_id}")
            return _mentions_from_rows(conn, [row])[0]

        return await self._reader.run(read)

    async def list_mentions(self, query: MentionQuery) -> Page[Mention]:
        limit = clamp_limit(query.limit)
        where, args = [], []
        if query.customer_id:
            where.append("m.id IN (SELECT mention_id FROM mention_links WHERE customer_id = ?)")
            args.append(query.customer_id)
        if query.source:
            where.append("m.source = ?")
            args.append(query.source)
        if query.since:
            where.append("m.created_at >= ?")
            args.append(to_db_time(query.since))
        if query.until:
            where.append("m.created_at < ?")
            args.append(to_db_time(query.until))
        if query.text:
            match = fts_query(query.text)
            if match is None:
                return Page(())
            where.append("m.id IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?)")
            args.append(match)
        if query.cursor:
            created, mid = decode_cursor(query.cursor, 2)
            where.append("(m.created_at, m.id) < (?, ?)")
            args += [str(created), int(mid)]
        sql = "SELECT m.* FROM mentions m"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY m.created_at DESC, m.id DESC LIMIT ?"
        args.append(limit + 1)

        def read(conn: sqlite3.Connection) -> Page[Mention]:
            rows = conn.execute(sql, args).fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
            items = _mentions_from_rows(conn, rows)
            nxt = encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more else None
            return Page(tuple(items), nxt)

        return await self._reader.run(read)

    # -- cursors and metadata -----------------------------------------------
    async def get_cursor(self, source_key: str) -> dict[str, Any] | None:
        def read(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute(
                "SELECT cursor FROM source_cursors WHERE source_key = ?", (source_key,)).fetchone()
            return json.loads(row[0]) if row else None

        return await self._reader.run(read)

    async def get_meta(self, key: str) -> str | None:
        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None

        return await self._reader.run(read)

    async def set_meta(self, key: str, value: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value))

        await self._writer.transaction(write)

    async def get_source_health(self, source_key: str) -> SourceHealth | None:
        def read(conn: sqlite3.Connection) -> SourceHealth | None:
            row = conn.execute(
                "SELECT health FROM source_health WHERE source_key = ?", (source_key,)).fetchone()
            return health_from_json(json.loads(row[0])) if row else None

        return await self._reader.run(read)

    async def list_source_health(self) -> list[SourceHealth]:
        def read(conn: sqlite3.Connection) -> list[SourceHealth]:
            rows = conn.execute("SELECT health FROM source_health ORDER BY source_key").fetchall()
            return [health_from_json(json.loads(r[0])) for r in rows]

        return await self._reader.run(read)

    async def save_source_health(self, health: SourceHealth) -> None:
        body = json.dumps(health_to_json(health))

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO source_health VALUES (?, ?) "
                "ON CONFLICT (source_key) DO UPDATE SET health = excluded.health",
                (health.key, body))

        await self._writer.transaction(write)

    async def acquire_lease(self, name: str, holder: str, ttl: float, now: float) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            conn.execute(
                """INSERT INTO leases VALUES (?, ?, ?)
                   ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                                                    expires_at = excluded.expires_at
                   WHERE leases.holder = excluded.holder OR leases.expires_at <= ?""",
                (name, holder, now + ttl, now))
            row = conn.execute("SELECT holder FROM leases WHERE name = ?", (name,)).fetchone()
            return row is not None and row[0] == holder

        return await self._writer.transaction(write)

    async def release_lease(self, name: str, holder: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

        await self._writer.transaction(write)

    async def counts(self) -> dict[str, int]:
        def read(conn: sqlite3.Connection) -> dict[str, int]:
            return {
                table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("customers", "mentions", "mention_links")
            }

        return await self._reader.run(read)


def _customers_from_rows(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Customer]:
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    identities: dict[str, list[Identity]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for cid, platform, handle in conn.execute(
            f"SELECT customer_id, platform, handle FROM customer_identities "
            f"WHERE customer_id IN ({marks}) ORDER BY platform, handle", chunk
        ):
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


def _mentions_from_rows(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Mention]:
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    marks = ",".join("?" * len(ids))
    links: dict[int, list[CustomerLink]] = {}
    for r in conn.execute(
        f"SELECT * FROM mention_links WHERE mention_id IN ({marks}) "
        f"ORDER BY mention_id, confidence DESC, rowid", ids
    ):
        links.setdefault(r["mention_id"], []).append(CustomerLink(
            customer_id=r["customer_id"], confidence=r["confidence"], rule=r["rule"],
            evidence=r["evidence"], start=r["span_start"], end=r["span_end"]))
    return [
        Mention(
            id=r["id"],
            post=RawPost(
                source=r["source"], external_id=r["external_id"],
                author=Author(r["author_handle"], r["author_name"], r["author_platform_id"]),
                text=r["text"], created_at=from_db_time(r["created_at"]), url=r["url"],
                parent_id=r["parent_id"], thread_id=r["thread_id"], language=r["language"],
                engagement=json.loads(r["engagement"]),
            ),
            analysis=Analysis(links=tuple(links.get(r["id"], ()))),
            ingested_at=from_db_time(r["ingested_at"]),
        )
        for r in rows
    ]
