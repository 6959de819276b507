"""Migration 0075 makes mentions unique on (platform, identity): the table is made anew, and
no row, link, topic, tag, triage line, summary or full-text entry is lost; each identity is the
one ``mention_identity`` gives (a federated status stored twice before keeps both rows, the
later one marked); importing the same posts again adds nothing, and a second server's post
with a taken id is stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crmsphere.ingest import store_posts
from domain import Author, MentionQuery, RawPost
from domain.mention_identity import identity_of, repeated_identity
from storage import open_store
from storage.sqlite.db import connect, migrate
from tests.community.test_routing_events import NoNlp
from tests.conftest import T0
from tests.storage.old_schema import database_before

T = "2026-11-20T09:15:00.000000Z"
FEED = "https://status.nimbus.example/history.rss"
#: (source, external_id, url, thread_id, source_key, text) as releases before 0075 stored them.
OLD_ROWS = [
    ("mastodon", "115600000000000101", "https://mastodon.example/@target/115600000000000101",
     "115600000000000101", "mastodon-main", "Anyone tried the bulk routing API?"),
    # bob's status read through two instances: two local ids, one address (stored twice then).
    ("mastodon", "113877000000000388", "https://fosstodon.example/@bob/115600000000000102", None,
     "mastodon-social", "The new Nimbus pricing doubles our bill."),
    ("mastodon", "115600000000000102", "https://fosstodon.example/@bob/115600000000000102", None,
     "mastodon-main", "The new Nimbus pricing doubles our bill."),
    ("mastodon", "99", None, None, "push:crm", "pushed without an address"),
    ("discourse", "post:4521", "https://forum.nimbus.example/t/bulk-routing-limits/812/2", "812",
     "forum", "Bulk routing stops at 500 tickets"),
    ("rss", "post:1", None, FEED, "feeds", "Routing API degraded in eu-west"),
    ("rss", "https://nimbus.example/blog/bulk-routing", "https://nimbus.example/blog/bulk-routing",
     FEED, "feeds", "Bulk routing is generally available"),
    ("reddit", "t3_1abcde", "https://www.reddit.com/r/nimbus/comments/1abcde/", None, "reddit",
     "nimbus refund still pending after 3 weeks"),
]


def _old_store(path: Path) -> None:
    conn = database_before(path, 75)
    conn.execute("INSERT INTO customers (id, name, kind, updated_at) VALUES ('cus_target', "
                 "'Target Logistics', 'company', ?)", (T,))
    for n, (source, external_id, url, thread, key, text) in enumerate(OLD_ROWS, start=1):
        conn.execute(
            "INSERT INTO mentions (id, source, external_id, author_handle, text, created_at, url, "
            "thread_id, ingested_at, source_key, topics, sentiment) VALUES (?, ?, ?, 'target', ?, ?, ?, ?, ?, "
            "?, '[\"billing\"]', -0.5)", (n * 10, source, external_id, text, T, url, thread, T, key))
        conn.execute("INSERT INTO mention_links (mention_id, customer_id, confidence, rule, evidence) "
                     "VALUES (?, 'cus_target', 0.9, 'handle', '@target')", (n * 10,))
        conn.execute("INSERT INTO mention_topics (topic, mention_id) VALUES ('billing', ?)", (n * 10,))
        conn.execute("INSERT INTO mention_tags (mention_id, tag) VALUES (?, 'vip')", (n * 10,))
    conn.close()


def _counts(path: Path) -> dict[str, object]:
    conn = sqlite3.connect(path)
    try:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("mentions", "mention_links", "mention_topics", "mention_tags")} | {
            "by_day": conn.execute("SELECT day, source, mentions FROM mention_day_source "
                                   "ORDER BY source").fetchall()}
    finally:
        conn.close()


async def test_0075_keeps_every_row_and_gives_each_its_identity(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_store(path)
    before = _counts(path)

    store = await open_store(f"sqlite:///{path}")  # applies 0075
    try:
        found = (await store.list_mentions(MentionQuery(text="bulk routing", limit=50))).items
        linked = (await store.list_mentions(MentionQuery(customer_id="cus_target", limit=50))).items
    finally:
        await store.close()

    assert _counts(path) == before
    assert sorted(m.id for m in found) == [10, 50, 70]  # the full-text index still finds them
    assert len(linked) == len(OLD_ROWS) and all(m.analysis.links for m in linked)
    conn = sqlite3.connect(path)
    try:
        stored = {r[0]: r[1] for r in conn.execute("SELECT id, identity FROM mentions")}
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    expected = {n * 10: identity_of(source, external_id, url, thread)
                for n, (source, external_id, url, thread, _, _) in enumerate(OLD_ROWS, start=1)}
    expected[30] = repeated_identity(expected[30], 30)  # bob's status, stored twice before
    assert stored == expected
    assert stored[20] == "https://fosstodon.example/@bob/115600000000000102"
    assert stored[50] == "https://forum.nimbus.example post:4521"
    assert stored[60] == f"{FEED}#post:1"


def _post(source: str, external_id: str, url: str | None, thread: str | None, text: str) -> RawPost:
    return RawPost(source=source, external_id=external_id, author=Author("target"), text=text,
                   created_at=T0, url=url, thread_id=thread)


async def test_after_0075_the_same_posts_again_add_nothing_and_other_servers_posts_are_new(
        tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_store(path)
    store = await open_store(f"sqlite:///{path}")
    try:
        again = await store_posts(store, NoNlp(), "jsonl:/srv/import/mentions.jsonl",
                                  [_post(s, e, u, t, x) for s, e, u, t, _, x in OLD_ROWS], None)
        other_servers = await store_posts(store, NoNlp(), "mastodon-social", [
            # social.example's own status numbered like target's on mastodon.example.
            _post("mastodon", "115600000000000101", "https://social.example/@lee/115600000000000101",
                  "115600000000000101", "Our Nimbus rollout went fine"),
            # bob's status through a third instance.
            _post("mastodon", "1099", "https://fosstodon.example/@bob/115600000000000102", None,
                  "The new Nimbus pricing doubles our bill."),
        ], None)
    finally:
        await store.close()
    assert (again.accepted, again.duplicates) == (0, len(OLD_ROWS))
    assert (other_servers.accepted, other_servers.duplicates) == (1, 1)


#: Stored fields where the SQL of 0075 and ``identity_of`` could part ways if either were
#: careless: case, empty strings, a second "/t/", non-ASCII, ids that only look global.
AWKWARD = [
    ("mastodon", "1", "", None),
    ("mastodon", "2", "https://ÉCOLE.example/@zoé/2", None),
    ("discourse", "post:7", "https://forum.example/t/t/a-topic/9/1", None),
    ("discourse", "post:8", "https://forum.example/latest", None),
    ("discourse", "post:9", None, "9"),
    ("rss", "HTTPS://Nimbus.example/Post/1", None, FEED),
    ("rss", "Tag:nimbus.example,2026:1", None, FEED),
    ("rss", "2026-11-20T09:15:00Z", None, FEED),
    ("rss", "ＨＴＴＰ://fullwidth.example/1", None, FEED),
    ("rss", "İstanbul-1", None, FEED),
    ("rss", "42", None, ""),
    ("rss", "43", None, None),
    ("hackernews", "https://news.ycombinator.com/item?id=1", None, "1"),
]


def test_0075_computes_in_sql_what_identity_of_computes(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = database_before(path, 75)
    for n, (source, external_id, url, thread) in enumerate(AWKWARD, start=1):
        conn.execute("INSERT INTO mentions (id, source, external_id, author_handle, text, created_at, url, "
                     "thread_id, ingested_at) VALUES (?, ?, ?, 'someone', 'text', ?, ?, ?, ?)",
                     (n, source, external_id, T, url, thread, T))
    conn.close()
    conn = connect(str(path))
    try:
        migrate(conn)
        stored = dict(conn.execute("SELECT id, identity FROM mentions").fetchall())
    finally:
        conn.close()
    assert stored == {n: identity_of(*row) for n, row in enumerate(AWKWARD, start=1)}
