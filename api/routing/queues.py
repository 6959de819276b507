"""``/api/teams``, ``/api/routed``, ``/api/route`` and ``/api/deliveries``: queues, routing by hand, outbox.

Reads and queue work need staff (a team role or the operator; writes from a browser session
also need the CSRF token); editing teams and re-sending dead letters need the operator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from api.contract import body_of, operation
from api.dashboard.access import require_admin_write, require_staff, require_staff_write
from api.forum.serialize import iso
from api.keys import DELIVERY_WORKER, RUNTIME, SETTINGS
from api.openapi.common import (
    ID,
    OPERATOR,
    STAFF,
    STAFF_WRITE,
    S,
    arr,
    nullable,
    obj,
    page_of,
    path_param,
    ref,
)
from api.query_models import DeliveryPage, TeamQueuePage, query_of
from api.routing.bodies import (
    AcknowledgeBody,
    RouteBody,
    RoutedCommentBody,
    RoutedStatusBody,
    TeamBody,
)
from api.routing.rules import signal_by_route
from community.channels import CHANNELS, lookup
from community.deliveries import DeliveryWorker
from community.net_guard import guarded_session
from community.routing import QueueEntry, TeamQueue
from community.routing_items import item_json
from domain.routing import (
    Delivery,
    RoutedItem,
    RoutingEntry,
    Team,
)
from domain import utcnow
from domain.errors import BadInput


def team_json(team: Team) -> dict[str, Any]:
    """A team with its channels; secrets appear only as the names of their variables."""
    channels: dict[str, Any] = {}
    for name, channel in sorted(CHANNELS.items()):
        channels.update(channel.team_view(team.channels.config(name)))
    return {
        "key": team.key, "name": team.name, "members": list(team.members),
        "ack_sla_minutes": team.ack_sla_minutes, "channels": channels,
    }


def routed_json(routed: RoutedItem) -> dict[str, Any]:
    """A routed item with its item snapshot."""
    return {
        "id": routed.id, "team": routed.team_key, "rule": routed.rule_id, "event": routed.event,
        "priority": routed.priority, "status": routed.status,
        "routed_at": iso(routed.routed_at), "routed_by": routed.routed_by,
        "acknowledged_at": iso(routed.acknowledged_at), "acknowledged_by": routed.acknowledged_by,
        "updated_at": iso(routed.updated_at), "item": item_json(routed.item),
    }


def queue_entry_json(entry: QueueEntry) -> dict[str, Any]:
    """A queue line: the routed item, its customer context and its SLA state."""
    item = entry.routed.item
    body = routed_json(entry.routed)
    body["customer"] = {
        "id": item.customer_id, "name": item.customer_name, "company": item.company,
        "segment": item.segment, "revenue": item.revenue, "linked_mentions": entry.linked_mentions,
    }
    body["votes"], body["impact"] = item.votes, item.impact
    body["ack_due_at"], body["overdue"] = iso(entry.ack_due_at), entry.overdue
    return body


def log_json(entry: RoutingEntry) -> dict[str, Any]:
    """One audit-log line."""
    return {"at": iso(entry.at), "actor": entry.actor, "action": entry.action,
            "detail": dict(entry.detail)}


def delivery_json(d: Delivery) -> dict[str, Any]:
    """A delivery; a Slack URL (a secret in itself) is never shown."""
    channel = lookup(d.channel)
    target = channel.shown_target(d.target) if channel is not None else dict(d.target)
    return {
        "id": d.id, "routed_id": d.routed_id, "team": d.team_key, "channel": d.channel,
        "target": target, "idempotency_key": d.idempotency_key, "state": d.state,
        "attempts": d.attempts, "next_attempt_at": iso(d.next_attempt_at),
        "last_error": d.last_error, "created_at": iso(d.created_at), "sent_at": iso(d.sent_at),
    }


_ROUTE_ANSWER = {"oneOf": [ref("RoutedItem"), {"allOf": [ref("IdeaSignal"), obj(
    created={"type": "boolean"}, routed=nullable(ref("RoutedItem")))]}]}


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])  # the route pattern admits digits only


def _queue(request: web.Request) -> TeamQueue:
    return TeamQueue(request.app[RUNTIME].store)


# -- teams ---------------------------------------------------------------------------------
@operation("GET", "/api/teams", "Every team", ok=obj(items=arr(ref("Team"))),
           errors=("401", "403"), security=STAFF, tags=("routing",))
async def list_teams(request: web.Request) -> web.Response:
    """GET /api/teams — every team."""
    await require_staff(request)
    teams = await request.app[RUNTIME].store.list_teams()
    return web.json_response({"items": [team_json(t) for t in teams]})


@operation("PUT", "/api/teams/{key}", "Create or replace a team (operators only)", ok="Team",
           body=TeamBody, params=(path_param("key", {"type": "string",
                                                    "pattern": "^[a-z0-9][a-z0-9_-]{0,49}$"}),),
           errors=("400", "401", "403"), security=OPERATOR, tags=("routing",))
async def put_team(request: web.Request) -> web.Response:
    """PUT /api/teams/{key} — create or replace a team (the operator or an admin)."""
    await require_admin_write(request, "edit teams")
    settings = await body_of(request, TeamBody, key=request.match_info["key"])
    team = await request.app[RUNTIME].store.save_team(settings.to_team(), utcnow())
    return web.json_response(team_json(team))


@operation("GET", "/api/teams/{key}/queue",
           "A team's queue: routed items with customer context and overdue flags",
           ok=obj(team=ref("Team"), items=arr(ref("QueueEntry")), overdue={"type": "integer"},
                  next_cursor=nullable(S)),
           params=(path_param("key", S),), query=TeamQueuePage, errors=("400", "401", "403", "404"), security=STAFF,
           tags=("routing",))
async def team_queue(request: web.Request) -> web.Response:
    """GET /api/teams/{key}/queue — routed items with customer context and overdue flags."""
    await require_staff(request)
    given = query_of(request, TeamQueuePage)
    team, page = await _queue(request).entries(
        request.match_info["key"], given.statuses(), given.limit, given.cursor)
    items = [queue_entry_json(e) for e in page.items]
    return web.json_response({"team": team_json(team), "items": items,
                              "overdue": sum(1 for e in page.items if e.overdue),
                              "next_cursor": page.next_cursor})


# -- routed items ----------------------------------------------------------------------------
@operation("GET", r"/api/routed/{id:\d+}", "A routed item with its audit log", ok="RoutedDetail",
           params=(ID,), errors=("401", "403", "404"), security=STAFF, tags=("routing",))
async def get_routed(request: web.Request) -> web.Response:
    """GET /api/routed/{id} — a routed item with its audit log."""
    await require_staff(request)
    store = request.app[RUNTIME].store
    routed = await store.get_routed(_id(request))
    body = routed_json(routed)
    body["log"] = [log_json(e) for e in await store.routing_log(_id(request))]
    return web.json_response(body)


@operation("POST", r"/api/routed/{id:\d+}/acknowledge", "Acknowledge a routed item (body optional)",
           ok="RoutedItem", body=AcknowledgeBody, body_required=False, params=(ID,),
           security=STAFF_WRITE, tags=("routing",))
async def acknowledge(request: web.Request) -> web.Response:
    """POST /api/routed/{id}/acknowledge — ``{"by"}``."""
    await require_staff_write(request)
    body = await body_of(request, AcknowledgeBody)
    return web.json_response(routed_json(await _queue(request).acknowledge(_id(request), body.by)))


@operation("POST", r"/api/routed/{id:\d+}/status", "Set a routed item's status", ok="RoutedItem",
           body=RoutedStatusBody, params=(ID,), security=STAFF_WRITE, tags=("routing",))
async def set_status(request: web.Request) -> web.Response:
    """POST /api/routed/{id}/status — ``{"status", "by"}``."""
    await require_staff_write(request)
    body = await body_of(request, RoutedStatusBody)
    return web.json_response(routed_json(
        await _queue(request).set_status(_id(request), body.status, body.by)))


@operation("POST", r"/api/routed/{id:\d+}/comments", "Comment on a routed item", ok="RoutedItem",
           status="201", body=RoutedCommentBody, params=(ID,), security=STAFF_WRITE,
           tags=("routing",))
async def add_comment(request: web.Request) -> web.Response:
    """POST /api/routed/{id}/comments — ``{"text", "by"}``."""
    await require_staff_write(request)
    body = await body_of(request, RoutedCommentBody)
    return web.json_response(routed_json(
        await _queue(request).comment(_id(request), body.text, body.by)), status=201)


@operation("POST", "/api/route", "Route a mention to a team by hand, and/or send it to product "
           "(convert or attach to an idea)", ok=_ROUTE_ANSWER, status="201", body=RouteBody,
           errors=("400", "401", "403", "404", "409", "503"), security=STAFF_WRITE,
           tags=("routing",), more_answers={"200": ("Already routed / linked", _ROUTE_ANSWER)},
           description="201 when something new was made (routed, idea created or linked), else "
                       "200 with the same shape. Without convert_to_idea/attach_to_idea the "
                       "answer is the routed item; with them, the idea the mention now backs and "
                       "`routed`.")
async def route_by_hand(request: web.Request) -> web.Response:
    """POST /api/route — ``{"mention_id" | "kind": "mention", "id"; "team"?, "priority"?, "note"?,
    "by"?, "convert_to_idea"?: {title, body, topic}, "attach_to_idea"?: idea id}`` ("send to product").

    With ``convert_to_idea`` or ``attach_to_idea`` the answer is the idea the mention now backs
    (and ``routed`` when a team was given too); otherwise the routing.
    """
    await require_staff_write(request)
    router = request.app[RUNTIME].router
    if router is None:
        raise web.HTTPServiceUnavailable(reason="routing is not running")
    body = await body_of(request, RouteBody)
    mention_id = body.mention_id if body.mention_id is not None else body.id
    if mention_id is None:
        raise BadInput("field 'mention_id' is required (or 'id' with 'kind' \"mention\")",
                       {"field": "mention_id"})
    signal = await signal_by_route(request, mention_id, body)
    routed, created = None, False
    if signal is None or body.team is not None:
        if body.team is None:
            raise BadInput("field 'team' is required", {"field": "team"})
        routed, created = await router.route_mention(mention_id, body.team, body.by,
                                                     body.priority, body.note)
    if signal is None:
        assert routed is not None
        return web.json_response(routed_json(routed), status=201 if created else 200)
    signal["routed"] = routed_json(routed) if routed is not None else None
    fresh = signal["created"] or signal["linked"] or created
    return web.json_response(signal, status=201 if fresh else 200)


# -- deliveries ---------------------------------------------------------------------------------
@operation("GET", "/api/deliveries", "The delivery outbox, newest first", ok=page_of(ref("Delivery")),
           query=DeliveryPage,
           errors=("400", "401", "403"), security=STAFF, tags=("routing",))
async def list_deliveries(request: web.Request) -> web.Response:
    """GET /api/deliveries — the outbox newest first; ``state`` (e.g. ``dead``), ``limit``, ``cursor``."""
    await require_staff(request)
    given = query_of(request, DeliveryPage)
    page = await request.app[RUNTIME].store.list_deliveries(given.state, given.limit, given.cursor)
    return web.json_response({"items": [delivery_json(d) for d in page.items],
                              "next_cursor": page.next_cursor})


@operation("POST", r"/api/deliveries/{id:\d+}/resend", "Put a dead delivery back in the outbox",
           ok="Delivery", status="202", params=(ID,), security=STAFF_WRITE, tags=("routing",))
async def resend_delivery(request: web.Request) -> web.Response:
    """POST /api/deliveries/{id}/resend — put a dead delivery back in the outbox (staff, like the page)."""
    await require_staff_write(request)
    delivery = await request.app[RUNTIME].store.resend_delivery(_id(request), utcnow())
    return web.json_response(delivery_json(delivery), status=202)


# -- the worker -------------------------------------------------------------------------------------
async def delivery_worker_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the outbox worker beside the app (``routing.worker_enabled``), on the shared session."""
    settings, runtime = app[SETTINGS], app[RUNTIME]
    if not settings.routing.worker_enabled:
        yield
        return
    # Team URLs are typed in by admins: unless told otherwise, they may only reach public
    # addresses (community/net_guard.py); the shared session stays free for collectors.
    http = runtime.http if settings.routing.allow_private_targets else guarded_session(
        timeout=runtime.http.timeout, headers=runtime.http.headers)
    worker = DeliveryWorker(runtime.store, http, settings.routing, crm=runtime.crm_outbound)
    app[DELIVERY_WORKER] = worker
    task = asyncio.create_task(worker.run(), name="delivery-worker")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    if http is not runtime.http:
        await http.close()
