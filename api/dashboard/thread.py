"""A mention's conversation: the thread page (``/dashboard/mentions/{id}``) and its JSON.

Shows what the store holds of the thread — its first post, the post replied to, the other
posts of the thread and the replies — oldest first, the asked-for mention marked.  A post
that was never collected is not invented: the page says the parent is missing.
"""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from api.dashboard.access import require_staff
from api.contract import operation
from api.openapi.common import ID, STAFF
from api.dashboard.serialize import dashboard_mention_json, triage_keys
from community.replies import ReplyDesk
from api.dashboard.staff import staff_names
from api.keys import RUNTIME
from api.replies_pages import page_csrf, thread_replies
from domain import Mention
from domain.errors import NotFound
from storage.base import Store
from storage.contract.dashboard import THREAD_LIMIT

#: Replies deeper than this are drawn at this indentation (a phone has no room for more).
MAX_DEPTH = 4


def _depths(thread: list[Mention]) -> dict[int, int]:
    """How deep each post sits under the stored posts it replies to (0: nothing stored above)."""
    by_external = {m.post.external_id: m for m in thread}
    depths: dict[int, int] = {}
    for m in thread:
        depth, seen, parent = 0, {m.post.external_id}, m.post.parent_id
        # A loop of parent ids (a hostile or broken source) must not loop here.
        while parent in by_external and parent not in seen:
            seen.add(parent)
            depth += 1
            parent = by_external[parent].post.parent_id
        depths[m.id] = min(depth, MAX_DEPTH)
    return depths


async def thread_json(store: Store, mention_id: int, desk: ReplyDesk | None = None) -> dict[str, Any]:
    """The thread of a mention as the dashboard shows it; ``NotFound`` for an unknown id."""
    focus = await store.get_mention(mention_id)
    thread = await store.mention_thread(focus, THREAD_LIMIT)
    if all(m.id != focus.id for m in thread):  # cut by the limit: the asked-for post still shows
        thread = sorted([*thread[:-1], focus], key=lambda m: (m.post.created_at, m.id or 0))
    ids = sorted({k.customer_id for m in thread for k in m.analysis.links})
    customers = await store.get_customers(ids) if ids else {}
    triage = await store.get_triage([m.id for m in thread if m.id is not None])
    names = await staff_names(store, triage_keys(triage.values()))
    depths = _depths(thread)
    stored = {m.post.external_id for m in thread}
    items = []
    for m in thread:
        body = dashboard_mention_json(m, customers, triage.get(m.id), names, desk)
        body["depth"] = depths[m.id]
        body["parent_stored"] = m.post.parent_id is None or m.post.parent_id in stored
        items.append(body)
    return {"focus_id": focus.id, "source": focus.post.source,
            "thread_id": focus.post.thread_id or focus.post.parent_id or focus.post.external_id,
            "items": items, "truncated": len(thread) >= THREAD_LIMIT}


#: Ids above this are no row of either store (SQLite's INTEGER is 64-bit signed).
MAX_ID = 2**63 - 1


def _mention_id(request: web.Request) -> int:
    mention_id = int(request.match_info["id"])  # the route allows digits only
    if mention_id > MAX_ID:
        raise NotFound(f"no mention {request.match_info['id'][:30]}")
    return mention_id


@operation("GET", r"/api/dashboard/mentions/{id:\d+}/thread",
           "The stored posts of a mention's conversation (first post, parent, replies), oldest "
           "first", ok="MentionThread", params=(ID,), errors=("401", "403", "404"),
           security=STAFF, tags=("dashboard",), description="At most 200 posts; the mention asked for is always "
                                            "among them.")
async def thread_api(request: web.Request) -> web.Response:
    """GET /api/dashboard/mentions/{id}/thread — the stored posts of a mention's conversation."""
    await require_staff(request)
    return web.json_response(await thread_json(request.app[RUNTIME].store, _mention_id(request), request.app[RUNTIME].replies))


#: Customers shown beside a thread: those its mention is surely linked to, most confident first.
MAX_SHOWN_CUSTOMERS = 3


async def _speaking_customers(request: web.Request, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The customers the focused mention is linked to (a link awaiting review or rejected is
    no fact about them yet), with their CRM facts, for the panel beside the conversation."""
    focus = next(m for m in body["items"] if m["id"] == body["focus_id"])
    links = sorted((k for k in focus["links"] if k.get("status", "accepted") not in ("pending", "rejected")),
                   key=lambda k: -k["confidence"])
    ids = list(dict.fromkeys(k["customer_id"] for k in links))[:MAX_SHOWN_CUSTOMERS]
    found = await request.app[RUNTIME].store.get_customers(ids) if ids else {}
    return [{"id": c.id, "name": c.name, "kind": c.kind, "company": c.company, "segment": c.segment,
             "revenue": c.annual_revenue} for c in (found[i] for i in ids if i in found)]


async def thread_page(request: web.Request) -> web.Response:
    """GET /dashboard/mentions/{id} — the thread view, the mention highlighted, our replies
    under the posts they answer, and the reply box."""
    viewer = await require_staff(request)
    try:
        body = await thread_json(request.app[RUNTIME].store, _mention_id(request), request.app[RUNTIME].replies)
    except NotFound as exc:
        raise web.HTTPNotFound(reason=str(exc)) from None
    desk = request.app[RUNTIME].replies
    status: str | None = None  # None: no writer for the platform
    if desk is not None and body["source"] in desk.writers.platforms():
        # This mention's button: through the source that read it (removed: off, saying so).
        status = desk.reply_status_of(await request.app[RUNTIME].store.get_mention(body["focus_id"]))[1]
    return aiohttp_jinja2.render_template("dashboard/thread.html", request, {
        "viewer": viewer, "t": body, "about": await _speaking_customers(request, body),
        "awaiting_review": any(k.get("status") == "pending" for m in body["items"]
                               if m["id"] == body["focus_id"] for k in m["links"]), "csrf": await page_csrf(request),
        "replies": await thread_replies(request, [m["id"] for m in body["items"]]),
        "reply_status": status, "reply_note": desk.writers.note(body["source"]) if desk else "",
        "saved": dict(desk.settings.saved_replies) if desk else {},
        "back": f"/dashboard/mentions/{body['focus_id']}", "error": request.query.get("reply_error", "")[:300]})
