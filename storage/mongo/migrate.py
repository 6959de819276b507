"""Copying a SQLite store into MongoDB: one converter per table, resumable, verified by counts.

Every SQLite table becomes the documents the MongoDB backend writes itself (the
same ids, so links between records survive).  Tables whose rows live inside
another collection's documents (a mention's links, topics, triage and tags; a
customer's identities; an idea's tags) are copied with their parent.

Rows are copied in ``rowid`` order, ``CHUNK`` at a time, each chunk as upserts
by key (so copying a chunk twice changes nothing), and after each chunk a
checkpoint (``migration_checkpoints``: the table's last copied rowid) is saved.
Re-running the migration continues after the last checkpoint.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.mongo.changelog import copied_changelog_entries
from storage.mongo.migrate_docs import (
    by_id,
    keyed,
    rowwise,
    to_account,
    to_alert,
    to_crm_cursor,
    to_crm_outbound,
    to_crm_record,
    to_customers,
    to_event,
    to_event_cursor,
    to_handle,
    to_ideas,
    to_mentions,
    to_merge,
    to_person,
    to_prefs,
    to_replies,
    to_reply_limit,
    to_routed,
    to_rulebook,
    to_team,
    to_topic_label,
    Doc,
)
from storage.sqlite.db import from_db_time

CHUNK = 1000
CHECKPOINTS = "migration_checkpoints"



@dataclass(frozen=True, slots=True)
class TableCopy:
    """How one SQLite table reaches MongoDB."""

    table: str
    collection: str
    convert: Callable[[sqlite3.Connection, list[sqlite3.Row]], list[Doc]]
    #: Columns ordering a table without rowid (``()``: the rowid).
    key: tuple[str, ...] = ()


COPIES: tuple[TableCopy, ...] = (
    TableCopy("meta", "meta", rowwise(lambda r: ({"_id": r["key"]}, {"_id": r["key"], "value": r["value"]}))),
    TableCopy("customers", "customers", to_customers),
    TableCopy("mentions", "mentions", to_mentions),
    TableCopy("source_cursors", "cursors", rowwise(lambda r: ({"_id": r["source_key"]}, {
        "_id": r["source_key"], "cursor": r["cursor"], "updated_at": from_db_time(r["updated_at"])}))),
    TableCopy("source_health", "source_health", rowwise(lambda r: ({"_id": r["source_key"]}, {
        "_id": r["source_key"], "health": json.loads(r["health"])}))),
    TableCopy("link_negatives", "link_negatives",
              keyed("customer_id", "source", "author_handle", "phrase", times=("created_at",),
                     compound_id=True)),
    TableCopy("refused_aliases", "refused_aliases",
              keyed("customer_id", "alias_key", extra=("alias", "refused_by"), times=("refused_at",),
                     compound_id=True)),
    TableCopy("mention_notes", "mention_notes", by_id("mention_id", "author", "body", "legacy_author",
                                                     times=("created_at",))),
    TableCopy("accounts", "accounts", rowwise(to_account)),
    TableCopy("account_secrets", "account_secrets",
              by_id("account_id", "purpose", times=("expires_at", "used_at"), id_column="secret_hash")),
    TableCopy("sessions", "sessions",
              by_id("account_id", "csrf", times=("created_at", "expires_at"), id_column="token_hash")),
    TableCopy("api_tokens", "api_tokens", by_id("account_id", "name", "token_hash", "role",
                                                 times=("created_at", "last_used_at", "revoked_at"))),
    TableCopy("ideas", "ideas", to_ideas),
    TableCopy("votes", "votes", by_id("idea_id", "customer_id", "account_id", "proxy", "proxy_note",
                                       "proxy_source", times=("created_at",), bools=("proxy",))),
    TableCopy("comments", "comments", by_id(
        "idea_id", "parent_id", "author_id", "body", "internal", "deleted", "approval", "hidden", "spam",
        times=("created_at", "updated_at"), bools=("internal", "deleted", "hidden", "spam"))),
    TableCopy("idea_followers", "idea_followers", keyed("idea_id", "account_id")),
    TableCopy("idea_mentions", "idea_mentions", keyed("idea_id", "mention_id")),
    TableCopy("status_changes", "status_changes", by_id(
        "idea_id", "from_status", "to_status", "response", "account_id", times=("created_at",))),
    TableCopy("idea_merges", "idea_merges", rowwise(to_merge)),
    TableCopy("teams", "teams", rowwise(to_team)),
    TableCopy("routed_items", "routed_items", rowwise(to_routed)),
    TableCopy("routing_log", "routing_log", by_id("routed_id", "actor", "action", "detail", "note_key",
                                                 times=("at",))),
    TableCopy("deliveries", "deliveries", by_id(
        "routed_id", "team_key", "channel", "target", "payload", "idempotency_key", "state", "attempts",
        "claimed_by", "last_error",
        times=("next_attempt_at", "claimed_until", "created_at", "sent_at"))),
    TableCopy("notify_prefs", "notify_prefs", rowwise(to_prefs)),
    TableCopy("notifications", "notifications", by_id(
        "account_id", "idea_id", "kind", "title", "body", "url", "dedupe_key", times=("created_at", "read_at"))),
    TableCopy("idea_thresholds", "idea_thresholds",
              keyed("idea_id", "threshold", times=("crossed_at",), compound_id=True)),
    TableCopy("notify_opt_outs", "notify_opt_outs",
              keyed("idea_id", "account_id", times=("at",), rename={"at": "created_at"})),
    TableCopy("digests_sent", "digests_sent", keyed("account_id", "day", extra=("items",),
                                                     times=("queued_at",), compound_id=True,
                                                     rename={"queued_at": "sent_at"})),
    TableCopy("spike_alerts", "spike_alerts", rowwise(to_alert)),
    TableCopy("saved_views", "saved_views", by_id("owner", "name", "filters", times=("updated_at",))),
    TableCopy("content_reports", "content_reports", by_id(
        "kind", "item_id", "account_id", "reason", times=("created_at", "resolved_at"))),
    TableCopy("people", "people", rowwise(to_person)),
    TableCopy("person_handles", "person_handles", rowwise(to_handle), key=("platform", "handle")),
    TableCopy("routing_rulebook", "routing_rules", rowwise(to_rulebook)),
    TableCopy("routing_escalations", "routing_escalations",
              keyed("routed_id", "escalation_id", times=("at",))),
    TableCopy("routing_decisions", "routing_decisions",
              keyed("item_kind", "item_id", "event", times=("decided_at",))),
    TableCopy("crm_records", "crm_records", rowwise(to_crm_record)),
    TableCopy("crm_cursors", "crm_cursors", rowwise(to_crm_cursor)),
    TableCopy("crm_outbound", "crm_outbound", rowwise(to_crm_outbound)),
    TableCopy("mention_topic_labels", "mention_topic_labels", rowwise(to_topic_label)),
    TableCopy("changelog_entries", "changelog_entries", copied_changelog_entries),
    TableCopy("replies", "replies", to_replies),
    # Waits a platform asked for (0072): a copy made during one is still honoured.
    TableCopy("reply_limits", "reply_limits", rowwise(to_reply_limit), key=("platform", "source_key")),
    # The outbox (0070): events keep their ids, so every consumer's cursor stays valid.
    TableCopy("events", "events", rowwise(to_event)),
    TableCopy("event_cursors", "event_cursors", rowwise(to_event_cursor)),
)

#: Rows kept inside another collection's documents: (table, collection, array counted there).
EMBEDDED: tuple[tuple[str, str, str], ...] = (
    ("customer_identities", "customers", "identities"),
    ("mention_links", "mentions", "links"),
    ("mention_tags", "mentions", "tags"),
    ("mention_topics", "mentions", "topics"),
    ("mention_signals", "mentions", "signals"),
    ("idea_tags", "ideas", "tags"),
    ("mention_triage", "mentions", "triage"),
    ("changelog_ideas", "changelog_entries", "idea_ids"),
    ("reply_audit", "replies", "audit"),
)

#: Tables deliberately not copied, and why.
SKIPPED: dict[str, str] = {
    "leases": "runtime state: the new scheduler takes its own lease",
    "mention_day_source": "SQLite's trigger-kept dashboard summaries: MongoDB aggregates mentions",
    "mention_day_topic": "SQLite's trigger-kept dashboard summaries: MongoDB aggregates mentions",
    "mention_day_author": "SQLite's trigger-kept dashboard summaries: MongoDB aggregates mentions",
    "voice_day": "SQLite's trigger-kept dashboard summaries: MongoDB aggregates mentions",
    "author_window": "SQLite's cache of top-author periods: MongoDB aggregates mentions",
    "author_window_count": "SQLite's cache of top-author periods: MongoDB aggregates mentions",
    "idea_counts": "SQLite's trigger-kept forum totals: MongoDB counts ideas",
    "rate_hits": "rate-limit windows of a few minutes: they start afresh",
    "text_repeats": "spam-repeat fingerprints of a short window: they start afresh",
    "customer_words": "SQLite's word index of the customer search: MongoDB's customer documents "
                      "carry their words (search_words)",
    "schema_version": "SQLite's own bookkeeping (migrations applied)",
    "sqlite_sequence": "SQLite's own bookkeeping",
    "forum_version": "SQLite's trigger-kept stamp of the anonymous list cache: MongoDB caches none",
}

#: Id counters of the MongoDB backend and the table whose highest id they must pass.
COUNTERS: dict[str, str] = {
    "mentions": "mentions", "mention_links": "mention_links", "mention_notes": "mention_notes",
    "accounts": "accounts", "api_tokens": "api_tokens", "ideas": "ideas", "votes": "votes",
    "comments": "comments", "status_changes": "status_changes", "idea_merges": "idea_merges",
    "routed_items": "routed_items", "routing_log": "routing_log", "deliveries": "deliveries",
    "notifications": "notifications", "spike_alerts": "spike_alerts", "saved_views": "saved_views",
    "content_reports": "content_reports", "people": "people",
    "changelog_entries": "changelog_entries", "replies": "replies", "events": "events",
}


def read_chunk(conn: sqlite3.Connection, copy: TableCopy,
               after: list[Any] | None) -> tuple[list[Doc], list[Any] | None]:
    """The converted rows of ``copy.table`` after key ``after`` (one chunk) and the last key.

    The key is the rowid, or ``copy.key``'s columns for a table without one.
    """
    columns = list(copy.key) if copy.key else ["rowid"]
    select = ", ".join(f"{c} AS _k{n}" for n, c in enumerate(columns))
    sql = f"SELECT {select}, * FROM {copy.table}"
    args: list[Any] = []
    if after is not None:
        sql += f" WHERE ({', '.join(columns)}) > ({', '.join('?' * len(columns))})"
        args += list(after)
    sql += f" ORDER BY {', '.join(columns)} LIMIT ?"
    rows = conn.execute(sql, [*args, CHUNK]).fetchall()
    if not rows:
        return [], None
    return copy.convert(conn, rows), [rows[-1][f"_k{n}"] for n in range(len(columns))]


def source_tables(conn: sqlite3.Connection) -> list[str]:
    """Every table of the SQLite file (no FTS shadow tables)."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name")]
    shadows = {f"{v}_{suffix}" for v in ("mentions_fts", "ideas_fts")
               for suffix in ("data", "idx", "content", "docsize", "config")}
    return [n for n in names if n not in shadows]


def count_rows(conn: sqlite3.Connection, table: str) -> int:
    """How many rows ``table`` holds."""
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def embedded_source_count(conn: sqlite3.Connection, table: str) -> int:
    """Rows of an embedded table as MongoDB counts them (distinct topics per mention)."""
    if table == "mention_topics":
        return sum(len(set(json.loads(r[0]))) for r in conn.execute("SELECT topics FROM mentions"))
    return count_rows(conn, table)


async def embedded_target_count(db: Any, collection: str, field: str) -> int:
    """Entries of the array (or sub-document) ``field`` summed over ``collection``."""
    if field == "triage":
        return await db[collection].count_documents({"triage": {"$exists": True}})
    rows = await (await db[collection].aggregate([
        {"$match": {f"{field}.0": {"$exists": True}}},
        {"$group": {"_id": None, "n": {"$sum": {"$size": f"${field}"}}}},
    ])).to_list()
    return int(rows[0]["n"]) if rows else 0


def max_id(conn: sqlite3.Connection, table: str) -> int:
    """The highest integer id of ``table`` (0 when empty)."""
    return conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
