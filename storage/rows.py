"""Each table's row <-> domain mapping, declared once for both backends.

A ``RowShape`` names the domain type a row or document becomes and, per field, how the
field is stored: as is, a time, a flag (0/1 in SQLite, a boolean in MongoDB), JSON text, or a
list (JSON text in SQLite, an array in MongoDB).  ``storage.sqlite.rows`` and
``storage.mongo.rows`` turn a shape into their backend's reader and writer (SQLite: a
``sqlite3.Row`` and fixed-width time text; MongoDB: a document keyed ``_id`` and a BSON date
plus the microseconds it cannot hold), so a table's mapping is written here and nowhere else.
The column (and document field) is named as the domain field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Generic, Literal, TypeVar

from domain import TopicLabel
from domain.changelog import ChangelogEntry
from domain.crm import CrmLink
from domain.dashboard import SavedView, SpikeAlert
from domain.forum import ApiToken, Comment, ContentReport
from domain.notify import Notification
from domain.replies import Reply
from domain.routing import Delivery, RoutedItem, RoutingEntry, Team, TeamChannels, routable_item_from_dict
from domain.triage import TriageNote

T = TypeVar("T")

Kind = Literal["plain", "time", "optional_time", "flag", "json", "list"]
#: a field every document has (MongoDB reads it with ``doc[name]``)
REQUIRED: Any = object()


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class Col:
    """How one field is stored.  ``missing``: what a MongoDB document written before the field
    existed reads as (``REQUIRED``: every document has it).  ``decode``/``encode`` turn a JSON
    column's value into the domain's and back (JSON is written with sorted keys)."""

    kind: Kind = "plain"
    missing: Any = REQUIRED
    decode: Callable[[Any], Any] = _same
    encode: Callable[[Any], Any] = _same


PLAIN, TIME, OPTIONAL_TIME, FLAG = Col(), Col("time"), Col("optional_time"), Col("flag")
#: a plain field older MongoDB documents may lack (read as ``None``)
MAYBE = Col(missing=None)


@dataclass(frozen=True, slots=True)
class RowShape(Generic[T]):
    """A table's mapping: ``make(**fields)`` builds the domain value, ``columns`` says how each
    field is stored, ``key`` is the field MongoDB keeps as ``_id`` (``None``: no such field)."""

    make: Callable[..., T]
    columns: Mapping[str, Col]
    key: str | None = "id"


REPORT = RowShape(ContentReport, {
    "id": PLAIN, "kind": PLAIN, "item_id": PLAIN, "account_id": PLAIN, "reason": PLAIN,
    "created_at": TIME, "resolved_at": OPTIONAL_TIME})

NOTIFICATION = RowShape(Notification, {
    "id": PLAIN, "account_id": PLAIN, "idea_id": MAYBE, "kind": PLAIN, "title": PLAIN, "body": PLAIN,
    "url": MAYBE, "dedupe_key": PLAIN, "created_at": TIME, "read_at": OPTIONAL_TIME})

SPIKE_ALERT = RowShape(SpikeAlert, {
    "kind": PLAIN, "subject": PLAIN, "window_start": TIME, "detected_at": TIME, "count": PLAIN,
    "baseline": PLAIN, "threshold": PLAIN, "id": PLAIN})
#: What a new spike alert is written with (the store gives its id).
SPIKE_ALERT_FIELDS = tuple(name for name in SPIKE_ALERT.columns if name != "id")

TRIAGE_NOTE = RowShape(TriageNote, {
    "id": PLAIN, "mention_id": PLAIN, "author": PLAIN, "body": PLAIN, "created_at": TIME})

SAVED_VIEW = RowShape(SavedView, {
    "id": PLAIN, "owner": PLAIN, "name": PLAIN, "filters": Col("json"), "updated_at": TIME})

API_TOKEN = RowShape(ApiToken, {
    "id": PLAIN, "account_id": PLAIN, "name": PLAIN, "role": PLAIN, "created_at": TIME,
    "last_used_at": OPTIONAL_TIME, "revoked_at": OPTIONAL_TIME})

COMMENT = RowShape(Comment, {
    "id": PLAIN, "idea_id": PLAIN, "author_id": MAYBE, "body": PLAIN, "created_at": TIME,
    "parent_id": MAYBE, "internal": FLAG, "updated_at": OPTIONAL_TIME, "deleted": FLAG,
    # comments written before moderation existed are approved
    "approval": Col(missing="approved"), "hidden": FLAG, "spam": FLAG})

REPLY = RowShape(Reply, {
    "id": PLAIN, "mention_id": MAYBE, "source": MAYBE, "text": MAYBE, "state": MAYBE,
    "team_key": MAYBE, "idea_id": MAYBE, "batch_key": MAYBE, "drafted_by": MAYBE,
    "approved_by": MAYBE, "sent_by": MAYBE, "platform_id": MAYBE, "platform_url": MAYBE,
    "failure": MAYBE, "attempts": MAYBE, "drafted_at": OPTIONAL_TIME, "approved_at": OPTIONAL_TIME,
    "sending_at": OPTIONAL_TIME, "sent_at": OPTIONAL_TIME, "retry_after": OPTIONAL_TIME})

ROUTED_ITEM = RowShape(RoutedItem, {
    "id": PLAIN, "item": Col("json", decode=routable_item_from_dict, encode=asdict), "rule_id": PLAIN,
    "team_key": PLAIN, "event": PLAIN, "priority": PLAIN, "status": PLAIN,
    "routed_at": OPTIONAL_TIME, "routed_by": PLAIN, "acknowledged_at": OPTIONAL_TIME,
    "acknowledged_by": MAYBE, "updated_at": OPTIONAL_TIME})

DELIVERY = RowShape(Delivery, {
    "id": PLAIN, "routed_id": MAYBE, "team_key": PLAIN, "channel": PLAIN,
    "target": Col("json", encode=dict), "payload": Col("json", encode=dict),
    "idempotency_key": PLAIN, "state": PLAIN, "attempts": PLAIN, "next_attempt_at": OPTIONAL_TIME,
    "last_error": MAYBE, "created_at": OPTIONAL_TIME, "sent_at": OPTIONAL_TIME})

#: A line of a routed item's audit log (its id orders the log and is not part of the line).
ROUTING_ENTRY = RowShape(RoutingEntry, {
    "routed_id": PLAIN, "at": TIME, "actor": PLAIN, "action": PLAIN, "detail": Col("json", encode=dict)},
    key=None)

TEAM = RowShape(Team, {
    "key": PLAIN, "name": PLAIN, "members": Col("list", missing=()),
    "channels": Col("json", decode=TeamChannels.from_stored, encode=asdict), "ack_sla_minutes": MAYBE},
    key="key")
#: What a team is written with, its key first.
TEAM_FIELDS = tuple(TEAM.columns)

TOPIC_LABEL = RowShape(TopicLabel, {
    "mention_id": PLAIN, "topics": Col("list", missing=()), "labelled_by": PLAIN, "labelled_at": TIME},
    key="mention_id")

#: SQLite keeps ``idea_ids`` in a table of their own (``changelog_ideas``): only MongoDB reads
#: and writes an entry whole through this shape.
CHANGELOG_ENTRY = RowShape(ChangelogEntry, {
    "id": PLAIN, "title": PLAIN, "body": PLAIN, "idea_ids": Col("list", missing=()), "state": PLAIN,
    "author_id": MAYBE, "created_at": TIME, "updated_at": TIME, "published_at": OPTIONAL_TIME})

CRM_LINK = RowShape(CrmLink, {
    "connector": PLAIN, "object_type": PLAIN, "crm_id": PLAIN, "customer_id": PLAIN,
    "company_crm_id": MAYBE, "deleted": FLAG, "merged_into": MAYBE, "synced_at": OPTIONAL_TIME},
    key=None)


def routed_detail(routed: RoutedItem) -> dict[str, Any]:
    """The detail of the audit-log line that records an item's routing."""
    return {"team": routed.team_key, "rule": routed.rule_id, "event": routed.event,
            "priority": routed.priority}


def of_routed(deliveries: Sequence[Delivery], routed_id: int | None) -> list[Delivery]:
    """``deliveries`` belonging to ``routed_id`` (``None``: to no routed item), as written."""
    return [replace(d, routed_id=routed_id) for d in deliveries]


#: The times a demo refresh (``move_forward``) moves, per table or collection, on both backends
#: (each adds where it keeps a mention's triage).  When something was ingested stays true.
DEMO_TIMES: dict[str, tuple[str, ...]] = {
    "mentions": ("created_at",),
    "spike_alerts": ("window_start", "detected_at"),
    "ideas": ("created_at", "updated_at", "status_changed_at"),
    "votes": ("created_at",),
    "comments": ("created_at", "updated_at"),
    "status_changes": ("created_at",),
    "idea_merges": ("created_at", "undone_at"),
    "idea_thresholds": ("crossed_at",),
    "notifications": ("created_at", "read_at"),
    # Team queues: when an item arrived (its due time is routed_at plus the team's SLA),
    # was acknowledged, escalated, and what its log says happened when.
    "routed_items": ("routed_at", "acknowledged_at", "updated_at"),
    "routing_log": ("at",),
    "routing_escalations": ("at",),
    "routing_decisions": ("decided_at",),
    "deliveries": ("created_at", "next_attempt_at", "claimed_until", "sent_at"),
    "mention_notes": ("created_at",),
}
