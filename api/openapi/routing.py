"""The OpenAPI answer schemas of routing: teams and their queues, routed items, routing by
hand, the delivery outbox, the rules and escalations admins edit, and a mention as a signal on
an idea."""

from __future__ import annotations

from typing import Any, get_args

from api.openapi.common import (
    ANY_OBJECT,
    TIME,
    B,
    I,
    N,
    S,
    arr,
    enum,
    model_schema,
    nullable,
    obj,
    ref,
    with_fields,
)
from community.channels import CHANNELS
from community.routing_items import carried_keys
from domain.routing import DELIVERY_STATES, ItemKind
from config.routing import RuleBookSettings
from config.routing_escalations import EscalationBookSettings

SCHEMAS: dict[str, Any] = {}
_RULE_BOOK = model_schema(RuleBookSettings, SCHEMAS)
_ESCALATION_BOOK = model_schema(EscalationBookSettings, SCHEMAS)
_VERSIONED = {"version": {"type": "integer", "description": "0: the configuration file's"},
              "updated_at": nullable(TIME), "updated_by": S}
_PRIORITY = enum("low", "normal", "high", "urgent")

SCHEMAS.update({
    "Team": obj(key=S, name=S, members=arr(S), ack_sla_minutes=nullable(I), channels=obj(
        **{k: v for _, ch in sorted(CHANNELS.items()) for k, v in ch.view_schema().items()})),
    "RoutableItem": obj(
        kind=enum(*get_args(ItemKind)), id=S, text=S, source=nullable(S), title=nullable(S),
        topics=arr(S), intent=nullable(S), sentiment=nullable(N), votes=I, impact=N,
        customer_id=nullable(S), customer_name=nullable(S), company=nullable(S), segment=nullable(S),
        revenue=nullable(I), author=nullable(S), url=nullable(S), spike=nullable(obj(
            subject_kind=S, subject=S, day=S, window_start=S, window_end=S, count=I, baseline=N,
            threshold=N, subject_name=nullable(S)))),
    "RoutedItem": obj(id=I, team=S, rule=nullable(S), event=S, priority=_PRIORITY,
                      status=S, routed_at=nullable(TIME), routed_by=nullable(S),
                      acknowledged_at=nullable(TIME), acknowledged_by=nullable(S),
                      updated_at=nullable(TIME), item=ref("RoutableItem")),
    "QueueEntry": {"allOf": [ref("RoutedItem"), obj(
        customer=obj(id=nullable(S), name=nullable(S), company=nullable(S), segment=nullable(S),
                     revenue=nullable(I), linked_mentions=I),
        votes=I, impact=N, ack_due_at=nullable(TIME), overdue=B)]},
    "RoutedDetail": {"allOf": [ref("RoutedItem"), obj(log=arr(obj(at=TIME, actor=S, action=S,
                                                                  detail=ANY_OBJECT)))]},
    "Delivery": obj(id=I, routed_id=nullable(I), team=nullable(S), channel=S, target=ANY_OBJECT,
                    idempotency_key=S, state=enum(*DELIVERY_STATES), attempts=I,
                    next_attempt_at=nullable(TIME), last_error=nullable(S), created_at=TIME,
                    sent_at=nullable(TIME)),
    "RoutingRules": with_fields(_RULE_BOOK, **_VERSIONED),
    "RoutingEscalations": with_fields(_ESCALATION_BOOK, **_VERSIONED),
    "IdeaSignal": obj(idea={"allOf": [ref("Idea"), obj(mention_ids=arr(I))]}, mention_id=I,
                      linked={"type": "boolean", "description": "false when it was linked already"}),
})



def signal_schemas(schemas: dict[str, Any]) -> None:
    """Add each NLP signal a routed item carries beside its fields to the RoutableItem schema
    (``community.routing_items.carried_signals``; read when the document is built, so a
    signal declared after start-up is described too)."""
    schemas["RoutableItem"] = {**schemas["RoutableItem"], "properties": {
        **schemas["RoutableItem"]["properties"], **{s.key: s.schema() for s in carried_keys()}}}
