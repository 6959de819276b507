"""Plain, frozen types of routing: what is routed, to whom, and what goes out.

Part of the domain leaf (like ``domain``): it imports no layer of crmsphere, so the NLP
stage, the ideas forum, storage and the API can all use it.  A ``RoutableItem``
is the one stable shape every producer (mentions now; ideas, votes and status
changes later) hands to the router.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ItemKind = Literal["mention", "idea", "spike"]
DeliveryState = Literal["pending", "sending", "sent", "dead"]

#: What can be routed: a mention, an idea, or a spike alert (a topic or a customer whose
#: mentions rose above their baseline, ``community.spike_alerts``).
ITEM_KINDS: tuple[str, ...] = ("mention", "idea", "spike")

#: Events the router listens to: the routing consumer (``community.routing_consumer``) turns
#: each recorded ``mention.stored`` into ``mention.analysed`` and hands on the three recorded
#: ``idea.*`` events; the dashboard's spike watch publishes ``spike.detected``.  Escalations route under "sla_overdue".
EVENTS: tuple[str, ...] = (
    "mention.analysed", "idea.created", "idea.vote_threshold", "idea.status_changed",
    "spike.detected",
)
#: Manual routing ("send to product") is recorded under this event name.
MANUAL_EVENT = "manual"

PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
#: Life of a routed item in a team queue.
ROUTED_STATUSES: tuple[str, ...] = ("new", "acknowledged", "in_progress", "done", "dismissed")
#: Statuses of items the team is finished with.
FINISHED_STATUSES: tuple[str, ...] = ("done", "dismissed")
#: Statuses of items that still need the team's work: what a team's queue page opens on.
NEEDS_WORK_STATUSES: tuple[str, ...] = tuple(s for s in ROUTED_STATUSES if s not in FINISHED_STATUSES)
DELIVERY_STATES: tuple[str, ...] = ("pending", "sending", "sent", "dead")
#: The audit log's action for a routed item's (first) acknowledgement.
ACKNOWLEDGED_ACTION = "acknowledged"


@dataclass(frozen=True, slots=True)
class SpikeFacts:
    """What a spike item is about: mentions of a topic or a customer over ``window_start`` to
    ``window_end`` (ISO 8601 UTC texts, so the item stays JSON-ready) against the baseline."""

    subject_kind: str
    subject: str
    day: str
    window_start: str
    window_end: str
    count: int
    baseline: float
    threshold: float
    subject_name: str | None = None
    alert_id: int | None = None


@dataclass(frozen=True, slots=True)
class RoutableItem:
    """A mention, an idea or a spike as rules see it, with the customer facts that weigh it.

    ``id`` is text so that mention ids (numbers), idea ids and spike keys
    (``topic:billing:2026-11-20``) share one column; ``sentiment`` runs from -1
    (negative) to 1, ``None`` when not analysed yet; ``spike`` is set on spike items only.
    ``signals`` holds ``(name, value)`` of every NLP signal of a mention (``domain.signals``:
    its label for sentiment, its intent, its language, any signal declared since), which
    routing rules test by name.
    """

    kind: ItemKind
    id: str
    text: str
    source: str | None = None
    title: str | None = None
    topics: tuple[str, ...] = ()
    intent: str | None = None
    sentiment: float | None = None
    votes: int = 0
    impact: float = 0.0
    customer_id: str | None = None
    customer_name: str | None = None
    company: str | None = None
    segment: str | None = None
    revenue: int | None = None
    author: str | None = None
    url: str | None = None
    spike: SpikeFacts | None = None
    signals: tuple[tuple[str, str], ...] = ()


def routable_item_from_dict(data: dict[str, Any]) -> RoutableItem:
    """The inverse of ``dataclasses.asdict`` on a ``RoutableItem`` (a stored snapshot)."""
    data = dict(data)
    data["topics"] = tuple(data.get("topics", ()))
    spike = data.get("spike")
    data["spike"] = SpikeFacts(**spike) if spike else None
    # Snapshots stored before signals were kept have none.
    data["signals"] = tuple((str(name), str(value)) for name, value in data.get("signals", ()))
    return RoutableItem(**data)


#: The flat team keys the first three channels were configured (and stored) with, before
#: ``channels`` tables: channel -> {flat key: field of the channel's configuration}.
FLAT_CHANNEL_KEYS: dict[str, dict[str, str]] = {
    "webhook": {"webhook_url": "url", "webhook_secret_env": "secret_env"},
    "mail": {"mail_to": "to"},
    "slack": {"slack_url": "url", "slack_url_env": "url_env"},
}
#: ... and which of those keys, when set, mean the team has the channel.
_FLAT_PRESENCE = {"webhook": ("webhook_url",), "mail": ("mail_to",),
                  "slack": ("slack_url", "slack_url_env")}


@dataclass(frozen=True, slots=True)
class TeamChannels:
    """Where a team hears about routed items: channel name -> that channel's configuration
    (JSON-ready, validated by the channel; secrets only as the names of variables)."""

    configs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def configured(self) -> tuple[str, ...]:
        """The channels this team can be reached on."""
        return tuple(self.configs)

    def config(self, channel: str) -> Mapping[str, Any] | None:
        """The team's configuration of ``channel``, or ``None``."""
        return self.configs.get(channel)

    @classmethod
    def from_flat(cls, **values: Any) -> TeamChannels:
        """Channels from the flat keys (``webhook_url=...``, ``mail_to=...``)."""
        unknown = set(values) - {k for keys in FLAT_CHANNEL_KEYS.values() for k in keys}
        if unknown:
            raise TypeError(f"not a flat channel key: {', '.join(sorted(unknown))}")
        configs: dict[str, dict[str, Any]] = {}
        for channel, keys in FLAT_CHANNEL_KEYS.items():
            if any(values.get(k) for k in _FLAT_PRESENCE[channel]):
                configs[channel] = {name: _json_ready(values.get(k)) for k, name in keys.items()}
        return cls(configs)

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> TeamChannels:
        """Channels as stored: ``{"configs": ...}``, or the flat keys older versions wrote."""
        if "configs" in data:
            return cls({name: dict(config) for name, config in data["configs"].items()})
        return cls.from_flat(**data)


def _json_ready(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True, slots=True)
class Team:
    """A design, product or service team with its members, channels and acknowledgement SLA."""

    key: str
    name: str
    members: tuple[str, ...] = ()
    channels: TeamChannels = field(default_factory=TeamChannels)
    ack_sla_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Acknowledging:
    """What acknowledging a routed item does to its status, as the routing rule decides: an
    item in one of the ``moves`` statuses goes to ``to``, one in any other status keeps it
    (the first acknowledgement's time and actor are recorded either way)."""

    moves: tuple[str, ...]
    to: str


@dataclass(frozen=True, slots=True)
class RoutedItem:
    """One item in one team's queue, put there by one rule (or by hand)."""

    item: RoutableItem
    rule_id: str
    team_key: str
    event: str
    priority: str = "normal"
    status: str = "new"
    routed_at: datetime | None = None
    routed_by: str = "rules"
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    updated_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class RoutingEntry:
    """One line of a routed item's audit log: who did what, when."""

    routed_id: int
    at: datetime
    actor: str
    action: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message in the outbox: a channel, its target, the payload, and how sending went.

    ``target`` holds no secrets, only the names of the variables that hold them;
    ``idempotency_key`` stays the same across every attempt and re-send.
    """

    routed_id: int | None
    team_key: str
    channel: str
    target: Mapping[str, Any]
    payload: Mapping[str, Any]
    idempotency_key: str
    state: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class StoredRules:
    """The routing rules in force: ``body`` is ``{"rule_sets": {...}, "rules": [...]}`` as the
    ``[routing]`` TOML spells them; ``version`` grows by one with every change."""

    body: Mapping[str, Any]
    version: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """How many of a team's items wait in one status, and how many of those are past the
    acknowledgement SLA with nobody having acknowledged them."""

    waiting: int
    overdue: int
