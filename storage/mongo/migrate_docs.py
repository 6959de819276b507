"""How each SQLite row becomes the MongoDB document the MongoDB backend writes itself (the
same ids, so links between records survive): the converters of ``storage.mongo.migrate``.
A table whose rows live inside another collection's documents is converted with its parent."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from domain import Customer, Identity
from storage.mongo.customers import _customer_doc
from storage.mongo.db import put_time
from storage.mongo.mentions import link_doc, mention_doc
from storage.search_stems import search_fields
from storage.sqlite.db import from_db_time
from storage.sqlite.mentions import _mentions_from_rows

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
def to_customers(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Doc]:
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


def to_mentions(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Doc]:
    mentions = _mentions_from_rows(conn, rows)
    ids = [m.id for m in mentions]
    triage = {r["mention_id"]: r for r in _in(
        conn, "SELECT * FROM mention_triage WHERE mention_id IN ({marks})", ids)}
    tags: dict[int, list[str]] = {}
    for r in _in(conn, "SELECT * FROM mention_tags WHERE mention_id IN ({marks}) ORDER BY tag", ids):
        tags.setdefault(r["mention_id"], []).append(r["tag"])
    # As stored: a mention kept beside an earlier one of the same identity (0075) keeps its mark.
    identities = {r["id"]: r["identity"] for r in rows}
    out = []
    for m in mentions:
        assert m.id is not None and all(k.id for k in m.analysis.links)  # read from a table: ids given
        doc = mention_doc(m.id, m, m.ingested_at, identity=identities[m.id])
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


def to_ideas(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Doc]:
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


def rowwise(fn: Callable[[sqlite3.Row], Doc]) -> Callable[[sqlite3.Connection, list[sqlite3.Row]], list[Doc]]:
    return lambda conn, rows: [fn(r) for r in rows]


def by_id(*columns: str, times: Iterable[str] = (), bools: Iterable[str] = (),
           id_column: str = "id") -> Callable[[sqlite3.Connection, list[sqlite3.Row]], list[Doc]]:
    """Rows copied field by field under ``_id`` = ``id_column``; times and flags converted."""
    def one(r: sqlite3.Row) -> Doc:
        doc = {"_id": r[id_column], **_fields(r, *columns, bools=bools)}
        _t(doc, r, *times)
        return {"_id": r[id_column]}, doc
    return rowwise(one)


def keyed(*key: str, times: Iterable[str] = (), extra: Iterable[str] = (),
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
    return rowwise(one)


def to_account(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["id"], **_fields(r, "email", "name", "password_hash", "role", "customer_id",
                                      "email_verified", "blocked", bools=("email_verified", "blocked")),
           "email_key": r["email"].lower()}
    _t(doc, r, "created_at")
    return {"_id": r["id"]}, doc


def to_merge(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["id"], **_fields(r, "source_id", "target_id", "account_id", "moved"), "in_progress": False}
    _t(doc, r, "created_at", "undone_at")
    return {"_id": r["id"]}, doc


def to_routed(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["id"], **_fields(r, "item_kind", "item_id", "rule_id", "team_key", "event", "priority",
                                      "status", "item", "routed_by", "acknowledged_by"), "complete": True}
    _t(doc, r, "routed_at", "updated_at", "acknowledged_at")
    return {"_id": r["id"]}, doc


def to_team(r: sqlite3.Row) -> Doc:
    channels = json.dumps(json.loads(r["channels"]), sort_keys=True)
    doc = {"_id": r["key"], "name": r["name"], "members": json.loads(r["members"]), "channels": channels,
           "ack_sla_minutes": r["ack_sla_minutes"], "seed_hash": r["seed_hash"]}
    _t(doc, r, "updated_at")
    return {"_id": r["key"]}, doc


def to_prefs(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["account_id"], "mail": bool(r["mail"]), "digest": bool(r["digest"])}
    _t(doc, r, "updated_at")
    return {"_id": r["account_id"]}, doc


def to_alert(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["id"], **_fields(r, "kind", "subject", "count", "baseline", "threshold")}
    _t(doc, r, "window_start", "detected_at")
    return {"_id": r["id"]}, doc


def to_person(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["id"], "name": r["name"], "customer_id": r["customer_id"]}
    _t(doc, r, "created_at", "updated_at")
    return {"_id": r["id"]}, doc


def to_handle(r: sqlite3.Row) -> Doc:
    key = {"platform": r["platform"], "handle": r["handle"]}
    return {"_id": key}, {"_id": key, "person_id": r["person_id"]}


def to_rulebook(r: sqlite3.Row) -> Doc:
    doc = {"_id": "rulebook", "body": json.dumps(json.loads(r["body"]), sort_keys=True),
           "seed_hash": r["seed_hash"], "version": r["version"], "updated_by": r["updated_by"]}
    _t(doc, r, "updated_at")
    return {"_id": "rulebook"}, doc


def to_crm_record(r: sqlite3.Row) -> Doc:
    key = {"connector": r["connector"], "object_type": r["object_type"], "crm_id": r["crm_id"]}
    doc = {"_id": key, **key, **_fields(r, "customer_id", "company_crm_id", "merged_into", "learned_written"),
           "deleted": bool(r["deleted"]), "crm_identities": json.loads(r["crm_identities"]),
           "crm_aliases": json.loads(r["crm_aliases"])}
    _t(doc, r, "synced_at")
    return {"_id": key}, doc


def to_crm_cursor(r: sqlite3.Row) -> Doc:
    key = {"connector": r["connector"], "object_type": r["object_type"]}
    doc = {"_id": key, **key, "cursor": r["cursor"]}
    _t(doc, r, "updated_at")
    return {"_id": key}, doc


def to_crm_outbound(r: sqlite3.Row) -> Doc:
    key = {"connector": r["connector"], "key": r["key"]}
    doc = {"_id": key, "connector": r["connector"], "crm_id": r["crm_id"]}
    _t(doc, r, "at")
    return {"_id": key}, doc


def to_topic_label(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["mention_id"], "topics": json.loads(r["topics"]), "labelled_by": r["labelled_by"]}
    _t(doc, r, "labelled_at")
    return {"_id": r["mention_id"]}, doc


def to_replies(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Doc]:
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
def to_reply_limit(r: sqlite3.Row) -> Doc:
    key = {"platform": r["platform"], "source_key": r["source_key"]}
    doc = put_time({"_id": key, **key, "reason": r["reason"]}, "until", from_db_time(r["until"]))
    return {"_id": key}, doc


def to_event(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["id"], "kind": r["kind"], "subject_id": r["subject_id"],
           "payload": json.loads(r["payload"])}
    _t(doc, r, "created_at")
    return {"_id": r["id"]}, doc


def to_event_cursor(r: sqlite3.Row) -> Doc:
    doc = {"_id": r["consumer"], "last_id": r["last_id"]}
    _t(doc, r, "updated_at")
    return {"_id": r["consumer"]}, doc


def as_time(value: str | None) -> datetime | None:
    """A SQLite text time as a datetime."""
    return from_db_time(value) if value else None
