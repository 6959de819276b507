"""Migration 0071 keeps what stored each mention; for mentions stored before, it names the
source where only one of the platform ever ran, and leaves the rest unknown."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from storage.sqlite.db import migrate
from storage.sqlite.schema import MIGRATIONS
from tests.storage.old_schema import database_before
from tests.storage.test_migration_staff_keys import T


def _health(conn: sqlite3.Connection, key: str, kind: str) -> None:
    conn.execute("INSERT INTO source_health VALUES (?, ?)",
                 (key, json.dumps({"key": key, "kind": kind, "state": "ok", "paused": False})))


def _mention(conn: sqlite3.Connection, source: str, external_id: str) -> None:
    conn.execute("INSERT INTO mentions (source, external_id, author_handle, text, created_at, ingested_at) "
                 "VALUES (?, ?, 'ana', 'hello', ?, ?)", (source, external_id, T, T))


def test_0071_names_the_only_source_of_a_platform_and_leaves_the_ambiguous_unknown(tmp_path: Path) -> None:
    # A release before 0071 (later migrations, such as 0075's rebuild of mentions, read the column).
    conn = database_before(tmp_path / "old.db", 71)
    _health(conn, "bsky_main", "bluesky")
    _health(conn, "mastodon_a", "mastodon")
    _health(conn, "mastodon_b", "mastodon")  # two instances: which read a status is unknown
    _mention(conn, "bluesky", "at://did:plc:abc/app.bsky.feed.post/3k2")
    _mention(conn, "mastodon", "115600000000000101")
    _mention(conn, "reddit", "t3_1abc")  # no reddit source ever ran (an import)

    assert migrate(conn) == max(MIGRATIONS)

    keys = dict(conn.execute("SELECT source, source_key FROM mentions").fetchall())
    assert keys == {"bluesky": "bsky_main", "mastodon": None, "reddit": None}
