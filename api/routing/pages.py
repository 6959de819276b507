"""Staff pages of routing: the teams, a team's queue (acknowledge, status, comment) and the
dead letters (re-send).  Server-rendered, usable without JavaScript; every form carries the
CSRF token and answers with a redirect back to the page (post/redirect/get)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from api import identity
from api.dashboard.access import OPERATOR, require_staff
from api.keys import RUNTIME
from api.routing.queues import delivery_json, queue_entry_json
from api.dashboard.serialize import reply_json
from community.channels import CHANNELS
from community.routing import QueueEntry, TeamQueue
from domain.routing import DELIVERY_STATES, NEEDS_WORK_STATUSES, ROUTED_STATUSES
from domain import utcnow
from domain.events import subject_number
from domain.errors import BadInput, NotFound

_TEAM = r"{key:[a-z0-9][a-z0-9_-]{0,49}}"
#: The queue page's status filter that shows every status (none given: the items needing work).
EVERY_STATUS = "all"
_ID = r"{id:\d{1,18}}"


async def _csrf(request: web.Request, viewer: str) -> str:
    # The operator (admin token or loopback) has no session to protect, as on the dashboard.
    return "" if viewer == OPERATOR else await identity.csrf_token(request)


async def _staff_form(request: web.Request) -> tuple[str, Any]:
    """The staff member posting a form, after checking its CSRF token."""
    viewer = await require_staff(request)
    form = await request.post()
    if viewer != OPERATOR and (await identity.viewer(request)).via == "session":
        await identity.check_csrf(request, form)
    return viewer, form


def _back(path: str, **query: str) -> web.HTTPSeeOther:
    query = {k: v for k, v in query.items() if v}
    return web.HTTPSeeOther(path + ("?" + urlencode(query) if query else ""))


def _not_found(exc: NotFound) -> web.HTTPNotFound:
    return web.HTTPNotFound(text=str(exc))


async def teams_page(request: web.Request) -> web.Response:
    """GET /teams — every team with its SLA, channels and how many items wait or are overdue."""
    viewer = await require_staff(request)
    store = request.app[RUNTIME].store
    queue = TeamQueue(store)
    teams = await store.list_teams()
    counts = await queue.counts_of_teams(teams)  # every team in one read, not two per team
    rows = [{"team": team, "waiting": counts[team.key].waiting, "overdue": counts[team.key].overdue}
            for team in teams]
    return aiohttp_jinja2.render_template("routing/teams.html", request, {
        "viewer": viewer, "rows": rows, "csrf": await _csrf(request, viewer)})


async def team_page(request: web.Request) -> web.Response:
    """GET /teams/{key} — the team's queue with customer context, SLA state and actions."""
    viewer = await require_staff(request)
    key = request.match_info["key"]
    status = request.query.get("status", "")
    if status and status not in ROUTED_STATUSES and status != EVERY_STATUS:
        raise web.HTTPBadRequest(text=f"status must be one of {', '.join(ROUTED_STATUSES)} "
                                      f"or {EVERY_STATUS}")
    # A queue opens on what needs work (as a support inbox opens on open conversations):
    # done and dismissed items are one choice of the filter away.
    shown = (NEEDS_WORK_STATUSES if not status else () if status == EVERY_STATUS else (status,))
    cursor = request.query.get("cursor") or None
    queue = TeamQueue(request.app[RUNTIME].store)
    try:
        team, page = await queue.entries(key, shown, 50, cursor)
    except NotFound as exc:
        raise _not_found(exc) from None
    except BadInput as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    # Counted over the whole queue: the page holds 50 items at most.
    waiting = await queue.counts(team)
    in_status = (sum([(await queue.counts(team, s)).waiting for s in shown])
                 if shown else None)
    return aiohttp_jinja2.render_template("routing/team.html", request, {
        "viewer": viewer, "team": team, "entries": [queue_entry_json(e) for e in page.items],
        "waiting": waiting.waiting, "overdue": waiting.overdue, "in_status": in_status,
        "statuses": ROUTED_STATUSES, "needs_work": NEEDS_WORK_STATUSES, "every_status": EVERY_STATUS,
        "shown_statuses": shown, "status": status, "next_cursor": page.next_cursor, "csrf": await _csrf(request, viewer),
        "notice": request.query.get("done", ""), "error": request.query.get("error", "") or
        request.query.get("reply_error", ""), "item_replies": await _item_replies(request, page.items)})


async def _item_replies(request: web.Request, entries: Sequence[QueueEntry]) -> dict[str, Any]:
    """Item id -> how a reply to each routed mention would go out (``reply_json``: the source
    that read it, not just its platform), for the queue's reply folds."""
    runtime = request.app[RUNTIME]
    desk = runtime.replies
    if desk is None:
        return {}
    platforms = set(desk.writers.platforms())
    # A routed mention's id is written as its event subject is (``subject_number``: ASCII
    # digits); whether the number is one a store can hold is the store's rule.
    numbers = {item.id: subject_number(item.id) for item in (entry.routed.item for entry in entries)
               if item.kind == "mention" and item.source in platforms}
    wanted = {item_id: number for item_id, number in numbers.items() if number is not None}
    # One read for the whole page (it once cost a store round trip per item, 50 a page).
    mentions = await runtime.store.get_mentions(list(wanted.values())) if wanted else {}
    # A mention pruned since it was routed is not read back: nothing to reply to.
    return {item_id: reply_json(desk, mentions[mention_id])
            for item_id, mention_id in wanted.items() if mention_id in mentions}


async def _routed_of_team(request: web.Request) -> tuple[str, int]:
    key, routed_id = request.match_info["key"], int(request.match_info["id"])
    try:
        routed = await request.app[RUNTIME].store.get_routed(routed_id)
    except NotFound as exc:
        raise _not_found(exc) from None
    if routed.team_key != key:  # a form of one team's page acts on that team's items only
        raise web.HTTPNotFound(text=f"item {routed_id} is not in team {key}'s queue")
    return key, routed_id


async def team_action(request: web.Request) -> web.Response:
    """POST /teams/{key}/routed/{id}/{action} — acknowledge, status (``status``) or comment (``text``)."""
    viewer, form = await _staff_form(request)
    key, routed_id = await _routed_of_team(request)
    queue, action = TeamQueue(request.app[RUNTIME].store), request.match_info["action"]
    page = f"/teams/{key}"
    try:
        if action == "acknowledge":
            await queue.acknowledge(routed_id, viewer)
            done = f"Item {routed_id} acknowledged."
        elif action == "status":
            status = str(form.get("status", ""))
            await queue.set_status(routed_id, status, viewer)
            done = f"Item {routed_id} is now {status}."
        else:
            await queue.comment(routed_id, str(form.get("text", "")), viewer)
            done = f"Comment added to item {routed_id}."
    except BadInput as exc:
        raise _back(page, error=str(exc)) from None
    raise _back(page, done=done)


async def deliveries_page(request: web.Request) -> web.Response:
    """GET /deliveries?state=dead — the outbox in one state (dead letters by default)."""
    viewer = await require_staff(request)
    state = request.query.get("state", "dead")
    if state not in DELIVERY_STATES:
        raise web.HTTPBadRequest(text=f"state must be one of {', '.join(DELIVERY_STATES)}")
    try:
        page = await request.app[RUNTIME].store.list_deliveries(
            state, 50, request.query.get("cursor") or None)
    except BadInput as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return aiohttp_jinja2.render_template("routing/deliveries.html", request, {
        "viewer": viewer, "state": state, "states": DELIVERY_STATES,
        "deliveries": [delivery_json(d) for d in page.items], "next_cursor": page.next_cursor,
        "channels": sorted(CHANNELS),
        "csrf": await _csrf(request, viewer), "notice": request.query.get("done", ""),
        "error": request.query.get("error", "")})


async def resend_form(request: web.Request) -> web.Response:
    """POST /deliveries/{id}/resend — put a dead letter back in the outbox (same idempotency key)."""
    await _staff_form(request)
    delivery_id = int(request.match_info["id"])
    try:
        await request.app[RUNTIME].store.resend_delivery(delivery_id, utcnow())
    except NotFound as exc:
        raise _not_found(exc) from None
    except BadInput as exc:
        raise _back("/deliveries", state="dead", error=str(exc)) from None
    raise _back("/deliveries", state="dead", done=f"Delivery {delivery_id} is queued again.")


def setup_page_routes(app: web.Application) -> None:
    """Attach the team and dead-letter pages."""
    app.router.add_get("/teams", teams_page)
    app.router.add_get(f"/teams/{_TEAM}", team_page)
    app.router.add_post(f"/teams/{_TEAM}/routed/{_ID}/{{action:acknowledge|status|comment}}",
                        team_action)
    app.router.add_get("/deliveries", deliveries_page)
    app.router.add_post(f"/deliveries/{_ID}/resend", resend_form)
