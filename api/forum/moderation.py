"""Moderation over HTTP: the JSON API (queue, moderate ideas and comments, reports) and the
staff page ``/forum/moderation`` with its forms.  Thin views over community.moderation."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.contract import add_operations, body_of, operation
from api.forum.bodies import ModerationBody, ReportBody
from api.forum.pages import forum_page, render
from api.forum.serialize import comment_json, idea_json, iso
from api.identity import (
    accounts_of,
    api_writer,
    check_csrf,
    forum_settings,
    store_of,
    viewer,
)
from api.notify_access import idea_events
from api.query_models import ModerationPage, query_of
from api.openapi.common import (
    ID,
    SIGNED_IN,
    SIGNED_IN_WRITE,
    TIME,
    B,
    I,
    S,
    arr,
    nullable,
    obj,
    ref,
)
from community.moderation import Moderation, ModerationQueue
from domain.forum import ContentReport
from domain.errors import BadInput, NotFound

STAFF_ONLY = "Staff only (role team or above)."


def _moderation(request: web.Request) -> Moderation:
    return Moderation(store_of(request), forum_settings(request), idea_events(request))


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


def report_json(r: ContentReport) -> dict[str, Any]:
    """An open report."""
    return {"id": r.id, "kind": r.kind, "item_id": r.item_id, "account_id": r.account_id,
            "reason": r.reason, "created_at": iso(r.created_at)}


async def _authors(request: web.Request, queue: ModerationQueue) -> dict:
    ids = [i.author_id for i in queue.ideas + queue.spam if i.author_id is not None]
    ids += [c.author_id for c in queue.comments if c.author_id is not None]
    return await store_of(request).get_accounts(ids)


@operation("GET", "/api/moderation",
           "Moderation queue: unapproved ideas and comments, open reports, ideas marked spam",
           ok=obj(ideas=arr(ref("Idea")), comments=arr(ref("Comment")), reports=arr(obj(
               id=I, kind=S, item_id=I, account_id=nullable(I), reason=nullable(S),
               created_at=TIME)), spam=arr(ref("Idea"))),
           query=ModerationPage, description=STAFF_ONLY,
           security=SIGNED_IN, tags=("moderation",))
async def moderation_queue(request: web.Request) -> web.Response:
    """GET /api/moderation — unapproved ideas and comments, open reports, ideas marked spam."""
    limit = query_of(request, ModerationPage).limit
    queue = await _moderation(request).queue(await viewer(request), limit)
    authors = await _authors(request, queue)
    return web.json_response({
        "ideas": [idea_json(i, authors) for i in queue.ideas],
        "comments": [comment_json(c, authors) for c in queue.comments],
        "reports": [report_json(r) for r in queue.reports],
        "spam": [idea_json(i, authors) for i in queue.spam]})


@operation("POST", r"/api/ideas/{id:\d+}/moderate", "Moderate an idea", ok="Idea",
           body=ModerationBody, body_required=False, json_only=True, params=(ID,),
           description=STAFF_ONLY, security=SIGNED_IN_WRITE, tags=("moderation",))
async def moderate_idea(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/moderate — {action}: approve, reject, hide, unhide, lock, unlock,
    spam, not-spam, dismiss (staff)."""
    who = await api_writer(request, "team", "moderate ideas")
    body = await body_of(request, ModerationBody)
    idea = await _moderation(request).moderate_idea(who, _id(request), body.action)
    authors = await store_of(request).get_accounts([idea.author_id] if idea.author_id else [])
    return web.json_response(idea_json(idea, authors))


@operation("POST", r"/api/comments/{id:\d+}/moderate", "Moderate a comment (no lock/unlock)",
           ok="Comment", body=ModerationBody, body_required=False, json_only=True, params=(ID,),
           description=STAFF_ONLY, security=SIGNED_IN_WRITE, tags=("moderation",))
async def moderate_comment(request: web.Request) -> web.Response:
    """POST /api/comments/{id}/moderate — {action}: approve, reject, hide, unhide, spam,
    not-spam, dismiss (staff)."""
    who = await api_writer(request, "team", "moderate comments")
    body = await body_of(request, ModerationBody)
    comment = await _moderation(request).moderate_comment(who, _id(request), body.action)
    authors = await store_of(request).get_accounts([comment.author_id] if comment.author_id else [])
    return web.json_response(comment_json(comment, authors))


async def _report(request: web.Request, kind: str) -> web.Response:
    who = await api_writer(request)
    body = await body_of(request, ReportBody)
    added = await _moderation(request).report(who, kind, _id(request), body.reason)
    return web.json_response({"reported": True, "new": added}, status=201 if added else 200)


_REPORTED = obj(reported=B, new={"type": "boolean", "description": "false when reported already"})


@operation("POST", r"/api/ideas/{id:\d+}/report", "Report an idea to the moderators", ok=_REPORTED,
           status="201", body=ReportBody, body_required=False, json_only=True, params=(ID,),
           security=SIGNED_IN_WRITE, tags=("moderation",),
           more_answers={"200": ("Reported already", _REPORTED)})
async def report_idea(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/report — {reason?}."""
    return await _report(request, "idea")


@operation("POST", r"/api/comments/{id:\d+}/report", "Report a comment to the moderators",
           ok=_REPORTED, status="201", body=ReportBody, body_required=False, json_only=True,
           params=(ID,), security=SIGNED_IN_WRITE, tags=("moderation",),
           more_answers={"200": ("Reported already", _REPORTED)})
async def report_comment(request: web.Request) -> web.Response:
    """POST /api/comments/{id}/report — {reason?}."""
    return await _report(request, "comment")


# -- the staff page and its forms ---------------------------------------------------------
@forum_page
async def moderation_page(request: web.Request) -> web.Response:
    """GET /forum/moderation — the queue with a button per action, and blocking accounts."""
    queue = await _moderation(request).queue(await viewer(request))
    store = store_of(request)
    authors = await _authors(request, queue)
    reporters = await store.get_accounts([r.account_id for r in queue.reports])
    reported_ideas = await store.get_ideas([r.item_id for r in queue.reports if r.kind == "idea"])
    # A moderator judges a reported comment by its text: show it next to the report.
    reported_comments = {}
    for r in queue.reports:
        if r.kind == "comment" and r.item_id not in reported_comments:
            try:
                reported_comments[r.item_id] = await store.get_comment(r.item_id)
            except NotFound:
                continue  # deleted since it was reported
    return await render(request, "moderation.html", {
        "queue": queue, "authors": authors, "reporters": reporters, "reported_ideas": reported_ideas,
        "reported_comments": reported_comments})


@forum_page
async def moderation_form(request: web.Request) -> web.StreamResponse:
    """POST /forum/moderation/{ideas|comments|accounts}/{id} — one moderation action."""
    form = await request.post()
    await check_csrf(request, form)
    who, item_id, kind = await viewer(request), _id(request), request.match_info["kind"]
    action = form.get("action")
    if kind == "ideas":
        await _moderation(request).moderate_idea(who, item_id, action)
    elif kind == "comments":
        await _moderation(request).moderate_comment(who, item_id, action)
    else:
        if action not in ("block", "unblock"):
            raise BadInput("action must be block or unblock", {"field": "action"})
        await _moderation(request).block(who, accounts_of(request), item_id, action == "block")
    back = form.get("next")
    raise web.HTTPSeeOther(back if isinstance(back, str) and back.startswith("/forum/")
                           and not back.startswith("//") else "/forum/moderation")


@forum_page
async def report_form(request: web.Request) -> web.StreamResponse:
    """POST /forum/ideas/{id}/report and /forum/comments/{id}/report — the "report" button."""
    form = await request.post()
    await check_csrf(request, form)
    kind = "comment" if request.path.startswith("/forum/comments/") else "idea"
    await _moderation(request).report(await viewer(request), kind, _id(request), form.get("reason"))
    return await render(request, "error.html", {
        "title": "Reported", "done": True, "message": "Thanks: a moderator will look at it."})


def setup_moderation_routes(app: web.Application) -> None:
    """Attach the moderation API routes and pages."""
    r = app.router
    add_operations(r, moderation_queue, moderate_idea, moderate_comment, report_idea,
                   report_comment)
    r.add_get("/forum/moderation", moderation_page)
    r.add_post(r"/forum/moderation/{kind:ideas|comments|accounts}/{id:\d+}", moderation_form)
    r.add_post(r"/forum/ideas/{id:\d+}/report", report_form)
    r.add_post(r"/forum/comments/{id:\d+}/report", report_form)
