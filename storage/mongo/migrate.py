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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import Customer, Identity
from storage.mongo.changelog import copied_changelog_entries
from storage.mongo.customers import _customer_doc
from storage.mongo.db import put_time
from storage.mongo.mentions import link_doc, mention_doc
from storage.search_stems import search_fields
from storage.sqlite.db import from_db_time
from storage.sqlite.mentions import _mentions_from_rows

CHUNK = 1000
CHECKPOINTS = "migration_checkpoints"

Doc = tuple[dict[str, Any], dict[str, Any]]  # (filter, document)


def _t(doc: dict[str, Any], row: sqlite3.Row, *columns: str, rename: dict[str, str] | None = None) -> None:
    """Put the text times ``columns`` of ``row`` into ``doc`` as BSON dates (+ microseconds)."""
    for column in columns:
        value = row[column]
        put_time(doc, (rename or {}).get(column, column), from_db_time(value) if value else None)


def _fields(row: sqlite3.Row, *columns: str, bools: Iterable[str] = ()) -> dict[str, Any]:
    flags = set(bools)
    return {c: (bool(row[c]) if c in flags else row[c]) for c in columns}


def _in(conn: sqlite3.Connection, sql: str, ids: list[Any]) -> list[sqlite3.Row]:
    return conn.execute(sql.format(marks=",".join("?" * len(ids))), ids).fetchall() if ids else []


# -- converters: (connection, rows of one chunk) -> [(filter, document)] ---------------------------
def _customers(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Doc]:
    ids = [r["id"] for r in rows]
    identities: dict[str, list[Identity]] = {}
    for r in _in(conn, "SELECT * FROM customer_identities WHERE customer_id IN ({marks})", ids):
        identities.setdefault(r["customer_id"], []).append(Identity(r["platform"], r["handle"]))
    out = []
    for r in rows:
        c = Customer(id=r["id"], name=r["name"], kind=r["kind"], company=r["company"],
                     segment=r["segment"], annual_revenue=r["annual_revenue"],
                     emails=tuple(json.loads(r["emails"])), domains=tuple(json.loads(r["domains"])),
                     aliases=tuple(json.loads(r["aliases"])),
                     identities=tuple(identities.get(r["id"], ())))
        out.append(({"_id": c.id}, _customer_doc(c, from_db_time(r["updated_at"]))))
    return out


def _mentions(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Doc]:
    mentions = _mentions_from_rows(conn, rows)
    ids = [m.id for m in mentions]
    triage = {r["mention_id"]: r for r in _in(
        conn, "SELECT * FROM mention_triage WHERE mention_id IN ({marks})", ids)}
    tags: dict[int, list[str]] = {}
    for r in _in(conn, "SELECT * FROM mention_tags WHERE mention_id IN ({marks}) ORDER BY tag", ids):
        tags.setdefault(r["mention_id"], []).append(r["tag"])
    out = []
    for m in mentions:
        assert m.id is not None and all(k.id for k in m.analysis.links)  # read from a table: ids given
        doc = mention_doc(m.id, m, m.ingested_at)
        doc["links"] = [link_doc(k, k.id or 0) for k in sorted(m.analysis.links, key=lambda k: -k.confidence)]
        if m.id in tags:
            doc["tags"] = tags[m.id]
        if m.id in triage:
            t = triage[m.id]
            entry = {"status": t["status"], "assignee": t["assignee"], "updated_by": t["updated_by"]}
            if t["legacy_assignee"]:  # a name from before account keys (migration 0037), kept
                entry["legacy_assignee"] = t["legacy_assignee"]
            _t(entry, t, "updated_at", *(["first_action_at"] if "first_action_at" in t.keys() else []))  # noqa: SIM118 - a Row iterates values
            doc["triage"] = entry
        out.append(({"_id": m.id}, doc))
    return out


def _ideas(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Doc]:
    tags: dict[int, list[dict[str, Any]]] = {}
    for r in _in(conn, "SELECT * FROM idea_tags WHERE idea_id IN ({marks}) ORDER BY tag",
                 [r["id"] for r in rows]):
        tags.setdefault(r["idea_id"], []).append({"name": r["tag"], "public": bool(r["public"])})
    out = []
    for r in rows:
        doc = {"_id": r["id"], **_fields(r, "title", "body", "author_id", "topic", "status",
                                          "status_response", "vote_count", "comment_count", "impact",
                                          "merged_into", "approval", bools=()),
               "hidden": bool(r["hidden"]), "locked": bool(r["locked"]), "spam": bool(r["spam"]),
               "tags": tags.get(r["id"], []), **search_fields(r["title"], r["body"])}
        _t(doc, r, "created_at", "updated_at", "status_changed_at")
        out.append(({"_id": r["id"]}, doc))
    return out


def _rowwise(fn: Callable[[sqlite3.Row], Doc]) -> Callable[[sqlite3.Connection, list[sqlite3.Row]], list[Doc]]:
    return lambda conn, rows: [fn(r) for r in rows]


def _by_id(*columns: str, times: Iterable[str] = (), bools: Iterable[str] = (),
           id_column: str = "id") -> Callable[[sqlite3.Connection, list[sqlite3.Row]], list[Doc]]:
    """Rows copied field by field under ``_id`` = ``id_column``; times and flags converted."""
    def one(r: sqlite3.Row) -> Doc:
        doc = {"_id": r[id_column], **_fields(r, *columns, bools=bools)}
        _t(doc, r, *times)
        return {"_id": r[id_column]}, doc
    return _rowwise(one)


def _keyed(*key: str, times: Iterable[str] = (), extra: Iterable[str] = (),
           compound_id: bool = False, rename: dict[str, str] | None = None
           ) -> Callable[[sqlite3.Connection, list[sqlite3.Row]], list[Doc]]:
    """Rows keyed by the columns ``key`` (an ``_id`` document when ``compound_id``)."""
    def one(r: sqlite3.Row) -> Doc:
        fields = {k: r[k] for k in key}
        doc = {**fields, **{c: r[c] for c in extra}}
        _t(doc, r, *times, rename=rename)
        if compound_id:
            return {"_id": fields}, {"_id": fields, **doc}
        return fields, doc
    return _rowwise(one)


def _account(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["id"], **_fields(r, "email", "name", "password_hash", "role", "customer_id",
                                      "email_verified", "blocked", bools=("email_verified", "blocked")),
           "email_key": r["email"].lower()}
    _t(doc, r, "created_at")
    return {"_id": r["id"]}, doc


def _merge(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["id"], **_fields(r, "source_id", "target_id", "account_id", "moved"), "in_progress": False}
    _t(doc, r, "created_at", "undone_at")
    return {"_id": r["id"]}, doc


def _routed(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["id"], **_fields(r, "item_kind", "item_id", "rule_id", "team_key", "event", "priority",
                                      "status", "item", "routed_by", "acknowledged_by"), "complete": True}
    _t(doc, r, "routed_at", "updated_at", "acknowledged_at")
    return {"_id": r["id"]}, doc


def _team(r: sqlite3.Row) -> Doc:
    channels = json.dumps(json.loads(r["channels"]), sort_keys=True)
    doc = {"_id": r["key"], "name": r["name"], "members": json.loads(r["members"]), "channels": channels,
           "ack_sla_minutes": r["ack_sla_minutes"], "seed_hash": r["seed_hash"]}
    _t(doc, r, "updated_at")
    return {"_id": r["key"]}, doc


def _prefs(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["account_id"], "mail": bool(r["mail"]), "digest": bool(r["digest"])}
    _t(doc, r, "updated_at")
    return {"_id": r["account_id"]}, doc


def _alert(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["id"], **_fields(r, "kind", "subject", "count", "baseline", "threshold")}
    _t(doc, r, "window_start", "detected_at")
    return {"_id": r["id"]}, doc


def _person(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["id"], "name": r["name"], "customer_id": r["customer_id"]}
    _t(doc, r, "created_at", "updated_at")
    return {"_id": r["id"]}, doc


def _handle(r: sqlite3.Row) -> Doc:
    key = {"platform": r["platform"], "handle": r["handle"]}
    return {"_id": key}, {"_id": key, "person_id": r["person_id"]}


def _rulebook(r: sqlite3.Row) -> Doc:
    doc = {"_id": "rulebook", "body": json.dumps(json.loads(r["body"]), sort_keys=True),
           "seed_hash": r["seed_hash"], "version": r["version"], "updated_by": r["updated_by"]}
    _t(doc, r, "updated_at")
    return {"_id": "rulebook"}, doc


def _crm_record(r: sqlite3.Row) -> Doc:
    key = {"connector": r["connector"], "object_type": r["object_type"], "crm_id": r["crm_id"]}
    doc = {"_id": key, **key, **_fields(r, "customer_id", "company_crm_id", "merged_into", "learned_written"),
           "deleted": bool(r["deleted"]), "crm_identities": json.loads(r["crm_identities"]),
           "crm_aliases": json.loads(r["crm_aliases"])}
    _t(doc, r, "synced_at")
    return {"_id": key}, doc


def _crm_cursor(r: sqlite3.Row) -> Doc:
    key = {"connector": r["connector"], "object_type": r["object_type"]}
    doc = {"_id": key, **key, "cursor": r["cursor"]}
    _t(doc, r, "updated_at")
    return {"_id": key}, doc


def _crm_outbound(r: sqlite3.Row) -> Doc:
    key = {"connector": r["connector"], "key": r["key"]}
    doc = {"_id": key, "connector": r["connector"], "crm_id": r["crm_id"]}
    _t(doc, r, "at")
    return {"_id": key}, doc


def _topic_label(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["mention_id"], "topics": json.loads(r["topics"]), "labelled_by": r["labelled_by"]}
    _t(doc, r, "labelled_at")
    return {"_id": r["mention_id"]}, doc


def _replies(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Doc]:
    """Replies with their audit trail embedded (storage/mongo/replies.py)."""
    ids = [r["id"] for r in rows]
    audit: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for a in conn.execute(f"SELECT * FROM reply_audit WHERE reply_id IN ({','.join('?' * len(chunk))}) "
                              "ORDER BY rowid", chunk):
            audit.setdefault(a["reply_id"], []).append(put_time(
                {"action": a["action"], "actor": a["actor"], "detail": a["detail"]}, "at", from_db_time(a["at"])))
    out = []
    for r in rows:
        doc = {"_id": r["id"], **_fields(r, "mention_id", "source", "text", "state", "team_key", "idea_id",
                                          "batch_key", "drafted_by", "approved_by", "sent_by", "platform_id",
                                          "platform_url", "failure", "attempts", bools=()),
               "audit": audit.get(r["id"], [])}
        for name in ("drafted_at", "approved_at", "sending_at", "sent_at", "retry_after"):
            put_time(doc, name, as_time(r[name]))
        if r["idea_id"] is not None:
            doc["idea_key"] = f"{r['idea_id']}:{r['mention_id']}"
        out.append(({"_id": r["id"]}, doc))
    return out
def _reply_limit(r: sqlite3.Row) -> Doc:
    key = {"platform": r["platform"], "source_key": r["source_key"]}
    doc = put_time({"_id": key, **key, "reason": r["reason"]}, "until", from_db_time(r["until"]))
    return {"_id": key}, doc


def _event(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["id"], "kind": r["kind"], "subject_id": r["subject_id"],
           "payload": json.loads(r["payload"])}
    _t(doc, r, "created_at")
    return {"_id": r["id"]}, doc


def _event_cursor(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["consumer"], "last_id": r["last_id"]}
    _t(doc, r, "updated_at")
    return {"_id": r["consumer"]}, doc


@dataclass(frozen=True, slots=True)
class TableCopy:
    """How one SQLite table reaches MongoDB."""

    table: str
    collection: str
    convert: Callable[[sqlite3.Connection, list[sqlite3.Row]], list[Doc]]
    #: Columns ordering a table without rowid (``()``: the rowid).
    key: tuple[str, ...] = ()


COPIES: tuple[TableCopy, ...] = (
    TableCopy("meta", "meta", _rowwise(lambda r: ({"_id": r["key"]}, {"_id": r["key"], "value": r["value"]}))),
    TableCopy("customers", "customers", _customers),
    TableCopy("mentions", "mentions", _mentions),
    TableCopy("source_cursors", "cursors", _rowwise(lambda r: ({"_id": r["source_key"]}, {
        "_id": r["source_key"], "cursor": r["cursor"], "updated_at": from_db_time(r["updated_at"])}))),
    TableCopy("source_health", "source_health", _rowwise(lambda r: ({"_id": r["source_key"]}, {
        "_id": r["source_key"], "health": json.loads(r["health"])}))),
    TableCopy("link_negatives", "link_negatives",
              _keyed("customer_id", "source", "author_handle", "phrase", times=("created_at",),
                     compound_id=True)),
    TableCopy("refused_aliases", "refused_aliases",
              _keyed("customer_id", "alias_key", extra=("alias", "refused_by"), times=("refused_at",),
                     compound_id=True)),
    TableCopy("mention_notes", "mention_notes", _by_id("mention_id", "author", "body", "legacy_author",
                                                     times=("created_at",))),
    TableCopy("accounts", "accounts", _rowwise(_account)),
    TableCopy("account_secrets", "account_secrets",
              _by_id("account_id", "purpose", times=("expires_at", "used_at"), id_column="secret_hash")),
    TableCopy("sessions", "sessions",
              _by_id("account_id", "csrf", times=("created_at", "expires_at"), id_column="token_hash")),
    TableCopy("api_tokens", "api_tokens", _by_id("account_id", "name", "token_hash", "role",
                                                 times=("created_at", "last_used_at", "revoked_at"))),
    TableCopy("ideas", "ideas", _ideas),
    TableCopy("votes", "votes", _by_id("idea_id", "customer_id", "account_id", "proxy", "proxy_note",
                                       "proxy_source", times=("created_at",), bools=("proxy",))),
    TableCopy("comments", "comments", _by_id(
        "idea_id", "parent_id", "author_id", "body", "internal", "deleted", "approval", "hidden", "spam",
        times=("created_at", "updated_at"), bools=("internal", "deleted", "hidden", "spam"))),
    TableCopy("idea_followers", "idea_followers", _keyed("idea_id", "account_id")),
    TableCopy("idea_mentions", "idea_mentions", _keyed("idea_id", "mention_id")),
    TableCopy("status_changes", "status_changes", _by_id(
        "idea_id", "from_status", "to_status", "response", "account_id", times=("created_at",))),
    TableCopy("idea_merges", "idea_merges", _rowwise(_merge)),
    TableCopy("teams", "teams", _rowwise(_team)),
    TableCopy("routed_items", "routed_items", _rowwise(_routed)),
    TableCopy("routing_log", "routing_log", _by_id("routed_id", "actor", "action", "detail", times=("at",))),
    TableCopy("deliveries", "deliveries", _by_id(
        "routed_id", "team_key", "channel", "target", "payload", "idempotency_key", "state", "attempts",
        "claimed_by", "last_error",
        times=("next_attempt_at", "claimed_until", "created_at", "sent_at"))),
    TableCopy("notify_prefs", "notify_prefs", _rowwise(_prefs)),
    TableCopy("notifications", "notifications", _by_id(
        "account_id", "idea_id", "kind", "title", "body", "url", "dedupe_key", times=("created_at", "read_at"))),
    TableCopy("idea_thresholds", "idea_thresholds",
              _keyed("idea_id", "threshold", times=("crossed_at",), compound_id=True)),
    TableCopy("notify_opt_outs", "notify_opt_outs",
              _keyed("idea_id", "account_id", times=("at",), rename={"at": "created_at"})),
    TableCopy("digests_sent", "digests_sent", _keyed("account_id", "day", extra=("items",),
                                                     times=("queued_at",), compound_id=True,
                                                     rename={"queued_at": "sent_at"})),
    TableCopy("spike_alerts", "spike_alerts", _rowwise(_alert)),
    TableCopy("saved_views", "saved_views", _by_id("owner", "name", "filters", times=("updated_at",))),
    TableCopy("content_reports", "content_reports", _by_id(
        "kind", "item_id", "account_id", "reason", times=("created_at", "resolved_at"))),
    TableCopy("people", "people", _rowwise(_person)),
    TableCopy("person_handles", "person_handles", _rowwise(_handle), key=("platform", "handle")),
    TableCopy("routing_rulebook", "routing_rules", _rowwise(_rulebook)),
    TableCopy("routing_escalations", "routing_escalations",
              _keyed("routed_id", "escalation_id", times=("at",))),
    TableCopy("routing_decisions", "routing_decisions",
              _keyed("item_kind", "item_id", "event", times=("decided_at",))),
    TableCopy("crm_records", "crm_records", _rowwise(_crm_record)),
    TableCopy("crm_cursors", "crm_cursors", _rowwise(_crm_cursor)),
    TableCopy("crm_outbound", "crm_outbound", _rowwise(_crm_outbound)),
    TableCopy("mention_topic_labels", "mention_topic_labels", _rowwise(_topic_label)),
    TableCopy("changelog_entries", "changelog_entries", copied_changelog_entries),
    TableCopy("replies", "replies", _replies),
    # Waits a platform asked for (0072): a copy made during one is still honoured.
    TableCopy("reply_limits", "reply_limits", _rowwise(_reply_limit), key=("platform", "source_key")),
    # The outbox (0070): events keep their ids, so every consumer's cursor stays valid.
    TableCopy("events", "events", _rowwise(_event)),
    TableCopy("event_cursors", "event_cursors", _rowwise(_event_cursor)),
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


def as_time(value: str | None) -> datetime | None:
    """A SQLite text time as a datetime."""
    return from_db_time(value) if value else None
