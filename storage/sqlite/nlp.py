"""The link review queue, teaching and re-linking in SQLite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import timedelta

from domain import (
    LINK_PENDING,
    LinkNegative,
    LinkReview,
    Mention,
    Page,
    TopicLabel,
    normalise_handle,
    relabelled_evidence,
    utcnow,
)
from storage.base import clamp_limit, cut_page, decode_cursor
from storage.sqlite.db import ThreadedConnection, to_db_time
from storage.sqlite.mentions import _mentions_from_rows, link_from_row
from storage.topic_evidence import evidence_docs, evidence_from_docs
from storage.rows import TOPIC_LABEL
from storage.sqlite.rows import fetch_one, row_reader


def _review(conn: sqlite3.Connection, link_id: int) -> LinkReview:
    row = fetch_one(conn, "SELECT * FROM mention_links WHERE id = ?", (link_id,), f"no customer link {link_id}")
    mention = conn.execute("SELECT * FROM mentions WHERE id = ?", (row["mention_id"],)).fetchone()
    return LinkReview(link_from_row(row), _mentions_from_rows(conn, [mention])[0])


class SqliteNlp:
    """The NLP part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def list_link_reviews(self, limit: int = 50, cursor: str | None = None) -> Page[LinkReview]:
        limit = clamp_limit(limit)
        after = int(decode_cursor(cursor, 1)[0]) if cursor else 0

        def read(conn: sqlite3.Connection) -> Page[LinkReview]:
            rows, nxt = cut_page(conn.execute(
                "SELECT * FROM mention_links WHERE status = ? AND id > ? ORDER BY id LIMIT ?",
                (LINK_PENDING, after, limit + 1)).fetchall(), limit, lambda r: (r["id"],))
            ids = sorted({r["mention_id"] for r in rows})
            marks = ",".join("?" * len(ids))
            mentions = {m.id: m for m in _mentions_from_rows(conn, conn.execute(
                f"SELECT * FROM mentions WHERE id IN ({marks})", ids).fetchall())} if ids else {}
            items = tuple(LinkReview(link_from_row(r), mentions[r["mention_id"]]) for r in rows)
            return Page(items, nxt)

        return await self._reader.run(read)

    async def get_link(self, link_id: int) -> LinkReview:
        return await self._reader.run(lambda conn: _review(conn, link_id))

    async def link_negatives(self) -> list[LinkNegative]:
        def read(conn: sqlite3.Connection) -> list[LinkNegative]:
            return [LinkNegative(r["customer_id"], r["source"], r["author_handle"], r["phrase"] or None)
                    for r in conn.execute("SELECT * FROM link_negatives ORDER BY created_at, rowid")]

        return await self._reader.run(read)

    async def author_mentions(self, source: str, author_handle: str, limit: int = 10_000) -> list[Mention]:
        def read(conn: sqlite3.Connection) -> list[Mention]:
            # lower(author_handle) is the expression of the index mentions_author_lower.
            handle = normalise_handle(author_handle)
            rows = conn.execute(
                "SELECT * FROM mentions WHERE source = ? AND lower(author_handle) IN (?, ?) "
                "ORDER BY created_at, id LIMIT ?", (source, handle, "@" + handle, limit)).fetchall()
            return _mentions_from_rows(conn, rows)

        return await self._reader.run(read)

    async def count_text_authors(self, texts: Sequence[tuple[str, str]], window: timedelta) -> list[int]:
        pairs = list(texts)
        if not pairs:
            return []
        now = utcnow()
        stamp, oldest = to_db_time(now), to_db_time(now - window)

        def write(conn: sqlite3.Connection) -> list[int]:
            conn.execute("DELETE FROM text_repeats WHERE seen_at < ?", (oldest,))
            conn.executemany(
                "INSERT INTO text_repeats VALUES (?, ?, ?) "
                "ON CONFLICT (fingerprint, author) DO UPDATE SET seen_at = excluded.seen_at",
                [(fp, author, stamp) for fp, author in pairs])
            counts: dict[str, int] = {}
            for fp in {fp for fp, _ in pairs}:
                counts[fp] = conn.execute(
                    "SELECT count(*) FROM text_repeats WHERE fingerprint = ?", (fp,)).fetchone()[0]
            return [counts[fp] for fp, _ in pairs]

        return await self._writer.transaction(write)


_label_from_row = row_reader(TOPIC_LABEL)


class SqliteTopicLabels:
    """Managers' topic labels in SQLite (part of ``SqliteStore``)."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def set_topic_label(self, mention_id: int, topics: Sequence[str], labelled_by: str) -> TopicLabel:
        keys = tuple(dict.fromkeys(topics))
        now = to_db_time(utcnow())

        def write(conn: sqlite3.Connection) -> TopicLabel:
            row = fetch_one(conn, "SELECT topic_evidence FROM mentions WHERE id = ?", (mention_id,), f"no mention {mention_id}")
            evidence = evidence_docs(relabelled_evidence(evidence_from_docs(json.loads(row[0])), keys))
            conn.execute(
                "INSERT INTO mention_topic_labels VALUES (?, ?, ?, ?) ON CONFLICT (mention_id) DO UPDATE "
                "SET topics = excluded.topics, labelled_by = excluded.labelled_by, "
                "labelled_at = excluded.labelled_at",
                (mention_id, json.dumps(list(keys)), labelled_by, now))
            conn.execute("UPDATE mentions SET topics = ?, topic_evidence = ? WHERE id = ?",
                         (json.dumps(list(keys)), json.dumps(evidence), mention_id))
            # Only the rows that change, so the dashboard's per-topic counts (kept by
            # triggers on mention_topics) move by exactly the difference.
            current = {r[0] for r in conn.execute(
                "SELECT topic FROM mention_topics WHERE mention_id = ?", (mention_id,))}
            conn.executemany("DELETE FROM mention_topics WHERE topic = ? AND mention_id = ?",
                             [(t, mention_id) for t in current - set(keys)])
            conn.executemany("INSERT OR IGNORE INTO mention_topics (topic, mention_id) VALUES (?, ?)",
                             [(t, mention_id) for t in keys if t not in current])
            return _label_from_row(conn.execute(
                "SELECT * FROM mention_topic_labels WHERE mention_id = ?", (mention_id,)).fetchone())

        return await self._writer.transaction(write)

    async def get_topic_label(self, mention_id: int) -> TopicLabel | None:
        def read(conn: sqlite3.Connection) -> TopicLabel | None:
            row = conn.execute("SELECT * FROM mention_topic_labels WHERE mention_id = ?",
                               (mention_id,)).fetchone()
            return _label_from_row(row) if row else None

        return await self._reader.run(read)

    async def topic_label_examples(self, limit: int = 100_000) -> list[tuple[str, tuple[str, ...]]]:
        def read(conn: sqlite3.Connection) -> list[tuple[str, tuple[str, ...]]]:
            return [(r[0], tuple(json.loads(r[1]))) for r in conn.execute(
                "SELECT m.text, l.topics FROM mention_topic_labels l JOIN mentions m ON m.id = l.mention_id "
                "ORDER BY l.labelled_at, l.mention_id LIMIT ?", (limit,))]

        return await self._reader.run(read)
