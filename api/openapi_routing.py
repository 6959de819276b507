"""The OpenAPI paths and schemas of routing: teams and their queues, routed items, routing by
hand, the delivery outbox, the rules and escalations admins edit, and a mention as a signal on
an idea."""

from __future__ import annotations

from typing import Any, get_args

from api.openapi_common import (
    ANY_OBJECT,
    ID,
    OPERATOR,
    STAFF,
    STAFF_WRITE,
    TIME,
    B,
    I,
    N,
    S,
    arr,
    enum,
    int_query,
    model_schema,
    nullable,
    obj,
    op,
    page_of,
    path_param,
    query,
    ref,
    tagged,
    text,
    text_query,
    with_fields,
)
from community.channels import CHANNELS
from community.routing_types import DELIVERY_STATES, ROUTED_STATUSES, ItemKind
from config.routing import EscalationBookSettings, RuleBookSettings, TeamSettings

SCHEMAS: dict[str, Any] = {}
_TEAM_BODY = with_fields(model_schema(TeamSettings, SCHEMAS), drop_required=("key",))
_TEAM_BODY["properties"]["key"]["description"] = "ignored: the key is the path's"
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

_BY = text(100, 1)
_ID_OF_IDEA = {"type": "integer", "minimum": 1}
_IDEA_FIELDS = obj(title=S, body=S, topic=S, hide_handle=B)
_ROUTE_BODY = obj(
    mention_id={"type": "integer", "minimum": 1, "description": "or `id` with `kind` \"mention\""},
    kind=enum("mention"), id={"type": "integer", "minimum": 1},
    team={**text(50, 1), "description": "required unless converting or attaching"},
    priority={**text(20, 1), "default": "normal"}, note=text(5000, 1), by=_BY,
    convert_to_idea={"anyOf": [_IDEA_FIELDS, {"type": "boolean"}],
                     "description": "make a new idea backed by the mention (not with attach_to_idea)"},
    attach_to_idea={**_ID_OF_IDEA, "description": "link the mention to this idea"})
_ROUTE_ANSWER = {"oneOf": [ref("RoutedItem"), {"allOf": [ref("IdeaSignal"), obj(
    created=B, routed=nullable(ref("RoutedItem")))]}]}
_ROUTING_OFF = ("400", "401", "403", "404", "409", "503")
_ADMIN = "Admins only: the admin token, an admin account (a session also sends X-CSRF-Token, " \
         "even to read), or the operator on loopback when api.trust_loopback is on and no " \
         "admin token is configured."
_PAGING = [int_query("limit", 50, 1, 500), text_query("cursor", 1000)]

_TEAMS: dict[str, Any] = {
    "/api/teams": {"get": op("Every team", obj(items=arr(ref("Team"))), errors=("401", "403"),
                             security=STAFF)},
    "/api/teams/{key}": {"put": op("Create or replace a team (operators only)", "Team", _TEAM_BODY,
                                   [path_param("key", {"type": "string",
                                                       "pattern": "^[a-z0-9][a-z0-9_-]{0,49}$"})],
                                   errors=("400", "401", "403"), security=OPERATOR)},
    "/api/teams/{key}/queue": {"get": op(
        "A team's queue: routed items with customer context and overdue flags",
        obj(team=ref("Team"), items=arr(ref("QueueEntry")), overdue=I, next_cursor=nullable(S)),
        params=[path_param("key", S),
                text_query("status", 200, f"statuses separated by commas ({', '.join(ROUTED_STATUSES)})"),
                *_PAGING], errors=("400", "401", "403", "404"), security=STAFF)},
    "/api/routed/{id}": {"get": op("A routed item with its audit log", "RoutedDetail", params=[ID],
                                   errors=("401", "403", "404"), security=STAFF)},
    "/api/routed/{id}/acknowledge": {"post": op("Acknowledge a routed item (body optional)", "RoutedItem",
                                                obj(by=_BY), [ID], security=STAFF_WRITE)},
    "/api/routed/{id}/status": {"post": op(
        "Set a routed item's status", "RoutedItem",
        obj("status", status={**text(40, 1), "description": ", ".join(ROUTED_STATUSES)}, by=_BY),
        [ID], security=STAFF_WRITE)},
    "/api/routed/{id}/comments": {"post": op("Comment on a routed item", "RoutedItem",
                                             obj("text", text=text(5000, 1), by=_BY), [ID],
                                             status="201", security=STAFF_WRITE)},
    "/api/route": {"post": op(
        "Route a mention to a team by hand, and/or send it to product (convert or attach to an idea)",
        _ROUTE_ANSWER, _ROUTE_BODY, status="201", errors=_ROUTING_OFF, security=STAFF_WRITE,
        description="201 when something new was made (routed, idea created or linked), else 200 "
                    "with the same shape. Without convert_to_idea/attach_to_idea the answer is the "
                    "routed item; with them, the idea the mention now backs and `routed`.")},
    "/api/deliveries": {"get": op("The delivery outbox, newest first", page_of(ref("Delivery")),
                                  params=[query("state", enum(*DELIVERY_STATES)), *_PAGING],
                                  errors=("400", "401", "403"), security=STAFF)},
    "/api/deliveries/{id}/resend": {"post": op("Put a dead delivery back in the outbox", "Delivery",
                                               params=[ID], status="202", security=STAFF_WRITE)},
}
# Routing by hand answers 200 when nothing new was made.
_TEAMS["/api/route"]["post"]["responses"]["200"] = {
    "description": "Already routed / linked", "content": {"application/json": {"schema": _ROUTE_ANSWER}}}

_RULES: dict[str, Any] = {
    "/api/routing/rules": {
        "get": op("The ordered routing rules in force, the rule sets and their version", "RoutingRules",
                  errors=("401", "403", "503"), description=_ADMIN, security=STAFF_WRITE),
        "put": op("Replace every routing rule (applies to new events only)", "RoutingRules",
                  with_fields(_RULE_BOOK, mode={**enum("first_match", "all_match"),
                                                "description": "short for rule_sets.default"}) | {
                      "required": ["rules"]},
                  errors=("400", "401", "403", "503"), description=_ADMIN, security=STAFF_WRITE)},
    "/api/routing/escalations": {
        "get": op("The escalation rules in force and their version", "RoutingEscalations",
                  errors=("401", "403", "503"), description=_ADMIN, security=STAFF_WRITE),
        "put": op("Replace every escalation rule", "RoutingEscalations",
                  _ESCALATION_BOOK | {"required": ["escalations"]},
                  errors=("400", "401", "403", "503"), description=_ADMIN, security=STAFF_WRITE)},
    "/api/mentions/{id}/idea": {"post": op("A new idea backed by the mention (body optional)",
                                           "IdeaSignal", _IDEA_FIELDS, [ID], status="201",
                                           security=STAFF_WRITE)},
    "/api/mentions/{id}/idea-draft": {"get": op(
        "What converting the mention would start from (nothing is created)",
        obj(mention_id=I, handle=S, source=S, title=S, body=S, body_without_handle=S,
            topic=nullable(S)), params=[ID], errors=("401", "403", "404"), security=STAFF)},
    "/api/mentions/{id}/attach": {"post": op("Link the mention to an idea (idempotent: 200 when linked "
                                             "already)", "IdeaSignal", obj("idea_id", idea_id=_ID_OF_IDEA),
                                             [ID], status="201", security=STAFF_WRITE)},
}
_RULES["/api/mentions/{id}/idea"]["post"]["requestBody"]["required"] = False
_RULES["/api/mentions/{id}/attach"]["post"]["responses"]["200"] = {
    "description": "Linked already", "content": {"application/json": {"schema": ref("IdeaSignal")}}}
_TEAMS["/api/routed/{id}/acknowledge"]["post"]["requestBody"]["required"] = False

PATHS: dict[str, Any] = {**tagged(_TEAMS, "routing"), **tagged(_RULES, "routing rules")}
