"""Mentions, their customer links and source cursors in SQLite."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from domain import (
    Analysis,
    Author,
    CustomerLink,
    Mention,
    MentionQuery,
    Page,
    RawPost,
    SaveResult,
    utcnow,
)
from domain.mention_identity import mention_identity
from storage.base import clamp_limit, cut_page, decode_cursor, storable_ids
from storage.contract.events import stored_events
from storage.sqlite.events import record_events
from storage.sqlite.signals import add_signal_conditions, insert_signals, signals_of
from storage.sqlite.db import ThreadedConnection, from_db_time, fts_query, rows_in, to_db_time
from storage.sqlite.text_pages import CURSOR_CONDITION, TEXT_CONDITION, read_text_page
from storage.topic_evidence import evidence_docs, evidence_from_docs
from storage.sqlite.rows import fetch_one


class SqliteMentions:
    """The mention part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def save_mentions(
        self, source_key: str, mentions: Sequence[Mention], cursor: dict[str, Any] | None
    ) -> SaveResult:
        ingested = utcnow()
        now = to_db_time(ingested)

        def write(conn: sqlite3.Connection) -> SaveResult:
            inserted = 0
            stored: list[Mention] = []
            for m in mentions:
                p, a = m.post, m.analysis
                row = conn.execute(
                    """INSERT INTO mentions (source, external_id, author_handle, author_name, text,
                                             created_at, url, parent_id, ingested_at,
                                             author_platform_id, thread_id, language, engagement,
                                             topics, sentiment, sentiment_label, intent,
                                             detected_language, flags, topic_evidence, backfill,
                                             source_key, identity)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (source, identity) DO NOTHING RETURNING id""",
                    (p.source, p.external_id, p.author.handle, p.author.name, p.text,
                     to_db_time(p.created_at), p.url, p.parent_id, now,
                     p.author.platform_id, p.thread_id, p.language,
                     json.dumps(dict(p.engagement), sort_keys=True),
                     json.dumps(list(a.topics)), a.sentiment, a.sentiment_label, a.intent,
                     a.language, json.dumps(list(a.flags)),
                     json.dumps(evidence_docs(a.topic_evidence)) if a.topic_evidence else "[]",
                     int(m.backfill), source_key, mention_identity(p)),
                ).fetchone()
                if row is None:
                    continue
                inserted += 1
                link_ids = insert_links(conn, row[0], m.analysis.links)
                conn.executemany(
                    "INSERT OR IGNORE INTO mention_topics (topic, mention_id) VALUES (?, ?)",
                    [(t, row[0]) for t in a.topics])
                insert_signals(conn, row[0], a)
                stored.append(as_stored(dataclasses.replace(m, source_key=source_key), row[0],
                                        link_ids, ingested))
            # In this transaction: a mention is never stored without its event, nor the
            # event without the mention.
            record_events(conn, stored_events(stored), ingested)
            if cursor is not None:
                conn.execute(
                    "INSERT INTO source_cursors VALUES (?, ?, ?) ON CONFLICT (source_key) "
                    "DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
                    (source_key, json.dumps(cursor), now),
                )
            return SaveResult(inserted=inserted, duplicates=len(mentions) - inserted,
                              stored=tuple(stored))

        return await self._writer.transaction(write)

    async def known_identities(self, source: str, identities: Sequence[str]) -> set[str]:
        ids = list(identities)

        def read(conn: sqlite3.Connection) -> set[str]:
            return {r[0] for r in rows_in(
                conn, "SELECT identity FROM mentions WHERE identity IN ({marks}) AND source = ?",
                ids, (source,))}

        return await self._reader.run(read)

    async def get_mention(self, mention_id: int) -> Mention:
        def read(conn: sqlite3.Connection) -> Mention:
            row = fetch_one(conn, "SELECT * FROM mentions WHERE id = ?", (mention_id,), f"no mention {mention_id}")
            return _mentions_from_rows(conn, [row])[0]

        return await self._reader.run(read)

    async def get_mentions(self, mention_ids: Sequence[int]) -> dict[int, Mention]:
        ids = storable_ids(mention_ids)

        def read(conn: sqlite3.Connection) -> dict[int, Mention]:
            found: dict[int, Mention] = {}
            for start in range(0, len(ids), 500):  # stay under SQLite's variable limit
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(f"SELECT * FROM mentions WHERE id IN ({marks})", chunk).fetchall()
                found.update((m.id or 0, m) for m in _mentions_from_rows(conn, rows))
            return found

        return await self._reader.run(read)

    async def list_mentions(self, query: MentionQuery) -> Page[Mention]:
        conditions = mention_conditions(query)
        if conditions is None:
            return Page(())
        where, args = conditions
        return await self._reader.run(page_reader("mentions m", where, args, query.limit))

    async def get_cursor(self, source_key: str) -> dict[str, Any] | None:
        def read(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute(
                "SELECT cursor FROM source_cursors WHERE source_key = ?", (source_key,)).fetchone()
            return json.loads(row[0]) if row else None

        return await self._reader.run(read)


def mention_conditions(query: MentionQuery) -> tuple[list[str], list[Any]] | None:
    """SQL conditions on ``mentions m`` for every filter of ``query``, its cursor included.

    ``None`` when no mention can match (a text query without a single word).
    """
    where: list[str] = []
    args: list[Any] = []
    if query.customer_id:
        where.append("m.id IN (SELECT mention_id FROM mention_links WHERE customer_id = ?)")
        args.append(query.customer_id)
    if query.topic:
        # EXISTS, not IN: a topic holds many mentions, and an IN list makes SQLite read all
        # of them and sort before the first page (1.6 s vs 1 ms with a million mentions).
        where.append("EXISTS (SELECT 1 FROM mention_topics mt WHERE mt.topic = ? AND mt.mention_id = m.id)")
        args.append(query.topic)
    if query.source:
        where.append("m.source = ?")
        args.append(query.source)
    add_signal_conditions(query, where, args)
    if query.since:
        where.append("m.created_at >= ?")
        args.append(to_db_time(query.since))
    if query.until:
        where.append("m.created_at < ?")
        args.append(to_db_time(query.until))
    if query.text:
        match = fts_query(query.text)
        if match is None:
            return None
        where.append(TEXT_CONDITION)
        args.append(match)
    if query.cursor:
        created, mid = decode_cursor(query.cursor, 2)
        where.append(CURSOR_CONDITION)
        args += [str(created), int(mid)]
    return where, args


def page_reader(
    from_sql: str, where: list[str], args: list[Any], limit: int
) -> Callable[[sqlite3.Connection], Page[Mention]]:
    """A read of one page of mentions newest first from ``from_sql`` (which names ``m``)."""
    limit = clamp_limit(limit)
    sql = f"SELECT m.* FROM {from_sql}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY m.created_at DESC, m.id DESC LIMIT ?"
    params = [*args, limit + 1]

    def read(conn: sqlite3.Connection) -> Page[Mention]:
        if TEXT_CONDITION in where:
            # Newest first in slices, so a common word does not read its whole match list.
            rows = read_text_page(conn, from_sql, where, args, limit + 1)
        else:
            rows = conn.execute(sql, params).fetchall()
        rows, nxt = cut_page(rows, limit, lambda r: (r["created_at"], r["id"]))
        return Page(tuple(_mentions_from_rows(conn, rows)), nxt)

    return read


def _mentions_from_rows(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Mention]:
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    marks = ",".join("?" * len(ids))
    links: dict[int, list[CustomerLink]] = {}
    for r in conn.execute(
        f"SELECT * FROM mention_links WHERE mention_id IN ({marks}) "
        f"ORDER BY mention_id, confidence DESC, id", ids
    ):
        links.setdefault(r["mention_id"], []).append(link_from_row(r))
    signals = signals_of(conn, ids, marks)
    # orjson reads the four JSON columns in a fifth of json's time (every listed or live mention).
    return [
        Mention(
            id=r["id"],
            post=RawPost(
                source=r["source"], external_id=r["external_id"],
                author=Author(r["author_handle"], r["author_name"], r["author_platform_id"]),
                text=r["text"], created_at=from_db_time(r["created_at"]), url=r["url"],
                parent_id=r["parent_id"], thread_id=r["thread_id"], language=r["language"],
                engagement=orjson.loads(r["engagement"]),
            ),
            analysis=Analysis(
                links=tuple(links.get(r["id"], ())), topics=tuple(orjson.loads(r["topics"])),
                sentiment=r["sentiment"], sentiment_label=r["sentiment_label"],
                intent=r["intent"], language=r["detected_language"],
                flags=tuple(orjson.loads(r["flags"])),
                topic_evidence=evidence_from_docs(orjson.loads(r["topic_evidence"])),
                signals=signals.get(r["id"], ())),
            ingested_at=from_db_time(r["ingested_at"]),
            backfill=bool(r["backfill"]),
            source_key=r["source_key"],
        )
        for r in rows
    ]


def insert_links(conn: sqlite3.Connection, mention_id: int, links: Sequence[CustomerLink]) -> list[int]:
    """Store a mention's customer links with their review status; their ids, in order."""
    return [conn.execute(
        "INSERT INTO mention_links (mention_id, customer_id, confidence, rule, evidence, "
        "span_start, span_end, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (mention_id, k.customer_id, k.confidence, k.rule, k.evidence, k.start, k.end, k.status),
    ).fetchone()[0] for k in links]


def as_stored(m: Mention, mention_id: int, link_ids: Sequence[int], ingested: datetime) -> Mention:
    """``m`` as reading it back would give it (ids, strongest link first, UTC times), without
    the read: the live feed publishes every new mention from this."""
    p, a = m.post, m.analysis
    if p.created_at.tzinfo is not UTC:
        p = dataclasses.replace(p, created_at=from_db_time(to_db_time(p.created_at)))
    if link_ids:
        links = sorted((dataclasses.replace(k, id=i) for k, i in zip(a.links, link_ids)),
                       key=lambda k: -k.confidence)  # stable: equal confidence in id order
        a = dataclasses.replace(a, links=tuple(links))
    return Mention(p, a, id=mention_id, ingested_at=ingested, backfill=m.backfill,
                   source_key=m.source_key)


def link_from_row(r: sqlite3.Row) -> CustomerLink:
    """A customer link from a ``mention_links`` row."""
    return CustomerLink(
        customer_id=r["customer_id"], confidence=r["confidence"], rule=r["rule"],
        evidence=r["evidence"], start=r["span_start"], end=r["span_end"],
        status=r["status"], id=r["id"])
