"""The replies JSON API: draft a reply to a mention, edit, approve (one or a batch), send,
retry, mark sent by hand, list by state / team / batch.

Staff only (the operator, an admin token, or an account of role team or above); a browser
session sends its CSRF token on every write.  Who may approve and send, and the second-person
rule, are decided by ``community/replies.py``; this module only translates HTTP.
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import Field

from api import identity
from api.auth import has_admin_token
from api.contract import Body, Handler, add_operations, body_of, operation
from api.dashboard.access import OPERATOR, require_staff, require_staff_key_write
from api.dashboard.staff import staff_names
from api.edges import request_json
from api.keys import RUNTIME
from api.openapi.common import ID, STAFF, STAFF_WRITE, TIME, B, I, S, arr, nullable, obj, path_param, ref
from api.query_models import Query, query_of, text
from community.replies import ReplyActor, ReplyDesk
from domain.replies import REPLY_STATES, PlatformLimit, Reply, ReplyAudit
from domain.errors import BadInput, NotFound

#: How the moves made by crmsphere itself are shown.
ACTORS = {"system": "crmsphere (idea shipped)", "job:replies": "the replies job"}
#: Ids above this are no row of either store.
MAX_ID = 2**63 - 1
MAX_LIST = 500


class DraftBody(Body):
    """``POST /api/mentions/{id}/replies``: the text, or a saved reply by name."""

    text: str | None = Field(None, max_length=100_000, description="the reply; or give `saved`")
    saved: str | None = Field(None, max_length=100, description="a saved reply's name (replies.saved_replies)")
    idea_url: str | None = Field(None, max_length=2000, pattern=r"^https?://",
                                 description="fills {idea_url} in a saved reply")
    team: str | None = Field(None, max_length=50, description="the team whose queue it waits in")


class EditBody(Body):
    """``PATCH /api/replies/{id}``: new text (a failed reply becomes a draft again)."""

    text: str = Field(max_length=100_000)


class BatchBody(Body):
    """``POST /api/replies/approve-batch``: every draft of one batch."""

    batch: str = Field(min_length=1, max_length=200, description="e.g. idea:42:done")


class MarkSentBody(Body):
    """``POST /api/replies/{id}/mark-sent``: where the reply posted by hand is."""

    url: str = Field(min_length=8, max_length=2000)


class ReplyListing(Query):
    """Which replies to list."""

    state: Literal[REPLY_STATES] | None = None
    team: text(200) | None = None
    batch: text(200) | None = None
    limit: int = Field(200, ge=1, le=MAX_LIST)


#: The answers and documentation the routes share.
_ON = ("Staff only; approving and sending needs a manager or admin (or a team member with "
       "replies.team_members_may_send), and a second person where the team needs approval.")
_MENTION_ID = path_param("id", {"type": "integer", "minimum": 1}, "the mention's id")
_TAGS = ("replies",)
_AUDITED = {"allOf": [ref("Reply"), obj(audit=arr(obj(action=S, actor=S, at=TIME, detail=S)))]}


def _time(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def reply_json(reply: Reply, names: dict[str, str]) -> dict[str, Any]:
    """A reply as the API and pages show it (actor keys with their display names)."""
    def who(key: str | None) -> str | None:
        return None if key is None else names.get(key, ACTORS.get(key, key))

    return {"id": reply.id, "mention_id": reply.mention_id, "source": reply.source, "text": reply.text,
            "state": reply.state, "team": reply.team_key, "idea_id": reply.idea_id, "batch": reply.batch_key,
            "drafted_by": who(reply.drafted_by), "drafted_at": _time(reply.drafted_at),
            "approved_by": who(reply.approved_by), "approved_at": _time(reply.approved_at),
            "sent_by": who(reply.sent_by), "sent_at": _time(reply.sent_at),
            "platform_id": reply.platform_id, "url": reply.platform_url, "failure": reply.failure,
            "retry_after": _time(reply.retry_after), "attempts": reply.attempts}


async def replies_json(request: web.Request, replies: list[Reply]) -> list[dict[str, Any]]:
    """Replies serialised, the names of the people on them looked up once."""
    keys = {k for r in replies for k in (r.drafted_by, r.approved_by, r.sent_by) if k}
    names = await staff_names(request.app[RUNTIME].store, keys)
    return [reply_json(r, names) for r in replies]


def desk_of(request: web.Request) -> ReplyDesk:
    """The runtime's reply desk; 503 where this process has none."""
    desk = request.app[RUNTIME].replies
    if desk is None:
        raise web.HTTPServiceUnavailable(reason="replies are not set up in this process")
    return desk


async def actor_of(request: web.Request, key: str) -> ReplyActor:
    """The acting person: their key and role (the operator acts as an admin)."""
    if key == OPERATOR or has_admin_token(request):
        return ReplyActor(OPERATOR, "admin")
    who = await identity.viewer(request)
    return ReplyActor(key, who.role or "customer")


def _id(request: web.Request, what: str = "reply") -> int:
    value = int(request.match_info["id"])  # the route allows digits only
    if value > MAX_ID:
        raise NotFound(f"no {what} {request.match_info['id'][:30]}")
    return value


@operation("GET", r"/api/mentions/{id:\d+}/replies",
           "The replies to a mention, and whether a reply can be sent through the source that "
           "read it",
           ok=obj(mention_id=I, source=S, can_send=B,
                  off_reason={**nullable(S), "description": "which variable or table to set, or why "
                              "the source that read it cannot be used (removed; several of the "
                              "platform and unknown which)"},
                  items=arr(ref("Reply")), saved={"type": "object", "additionalProperties": S}),
           params=(_MENTION_ID,), errors=("401", "403", "404", "503"), security=STAFF, tags=_TAGS)
async def mention_replies(request: web.Request) -> web.Response:
    """GET /api/mentions/{id}/replies — the replies to a mention, and whether one can be sent."""
    await require_staff(request)
    desk = desk_of(request)
    mention = await request.app[RUNTIME].store.get_mention(_id(request, "mention"))
    ready, why = desk.reply_status_of(mention)
    replies = await desk.store.list_replies(mention_ids=[mention.id or 0])
    return web.json_response({"mention_id": mention.id, "source": mention.post.source, "can_send": ready,
                              "off_reason": why or None, "items": await replies_json(request, replies),
                              "saved": dict(desk.settings.saved_replies)})


@operation("POST", r"/api/mentions/{id:\d+}/replies", "Draft a reply to the mention (its text, or a saved reply)",
           ok="Reply", status="201", body=DraftBody, params=(_MENTION_ID,), security=STAFF_WRITE,
           description=_ON, errors=("400", "401", "403", "404", "503"), tags=_TAGS)
async def draft_reply(request: web.Request) -> web.Response:
    """POST /api/mentions/{id}/replies — a new draft."""
    key = await require_staff_key_write(request)
    body = await body_of(request, DraftBody)
    if not body.text and not body.saved:
        raise BadInput("give 'text' or 'saved'", {"field": "text"})
    reply = await desk_of(request).draft(await actor_of(request, key), _id(request, "mention"),
                                         text=body.text, saved=body.saved, idea_url=body.idea_url,
                                         team_key=body.team)
    return web.json_response((await replies_json(request, [reply]))[0], status=201)


@operation("GET", "/api/replies",
           "Replies by state, team or batch, newest first; and the platform limits in force",
           ok=obj(items=arr(ref("Reply")), limits={**arr(obj(
               platform=S, source={**S, "description": "the configured source that was limited"},
               until=TIME, reason=S)), "description": "replies through these sources wait until "
               "then (kept in the store: every process, after restarts too)"}), query=ReplyListing, errors=("400", "401", "403", "503"),
           security=STAFF, tags=_TAGS)
async def list_replies(request: web.Request) -> web.Response:
    """GET /api/replies?state=&team=&batch=&limit= — replies, newest first, and the platform
    limits in force (which source must wait, until when)."""
    await require_staff(request)
    want = query_of(request, ReplyListing)
    desk = desk_of(request)
    replies = await desk.list_replies(state=want.state, team_key=want.team,
                                      batch_key=want.batch, limit=want.limit)
    limits = await desk.store.platform_limits(desk.clock())
    return web.json_response({"items": await replies_json(request, replies),
                              "limits": [limit_json(limit) for limit in limits]})


def limit_json(limit: PlatformLimit) -> dict[str, str]:
    """A platform's wait (kept in the store) as the API and the pages show it."""
    return {"platform": limit.platform, "source": limit.source_key, "reason": limit.reason,
            "until": _time(limit.until) or ""}


def _audit_json(audit: ReplyAudit, names: dict[str, str]) -> dict[str, Any]:
    return {"action": audit.action, "actor": ACTORS.get(audit.actor) or names.get(audit.actor, audit.actor),
            "at": _time(audit.at),
            "detail": audit.detail}


@operation("GET", r"/api/replies/{id:\d+}", "A reply with its audit trail (who drafted, approved, sent, when)",
           ok=_AUDITED, params=(ID,), errors=("401", "403", "404"), security=STAFF, tags=_TAGS)
async def get_reply(request: web.Request) -> web.Response:
    """GET /api/replies/{id} — one reply with its audit trail."""
    await require_staff(request)
    store = request.app[RUNTIME].store
    reply = await store.get_reply(_id(request))
    audit = await store.reply_audit(reply.id or 0)
    names = await staff_names(store, {a.actor for a in audit} | {
        k for k in (reply.drafted_by, reply.approved_by, reply.sent_by) if k})
    return web.json_response({**reply_json(reply, names), "audit": [_audit_json(a, names) for a in audit]})


@operation("PATCH", r"/api/replies/{id:\d+}",
           "New text for a draft, or a failed reply (which becomes a draft again)", ok="Reply",
           body=EditBody, params=(ID,), security=STAFF_WRITE, tags=_TAGS)
async def edit_reply(request: web.Request) -> web.Response:
    """PATCH /api/replies/{id} — new text for a draft or a failed reply."""
    key = await require_staff_key_write(request)
    body = await body_of(request, EditBody)
    reply = await desk_of(request).edit(await actor_of(request, key), _id(request), body.text)
    return web.json_response((await replies_json(request, [reply]))[0])


async def _act_on_reply(request: web.Request, action: str) -> web.Response:
    """Approve (and send), send now, or approve a failed reply again."""
    key = await require_staff_key_write(request)
    desk, actor, reply_id = desk_of(request), await actor_of(request, key), _id(request)
    if request.can_read_body:
        await request_json(request)  # a body is allowed (empty object) but carries nothing
    moves = {"approve": desk.approve, "send": desk.send, "retry": desk.retry}
    reply = await moves[action](actor, reply_id)
    return web.json_response((await replies_json(request, [reply]))[0])


@operation("POST", r"/api/replies/{id:\d+}/approve",
           "Approve a draft: answers with state approved at once, and the sender posts it off the "
           "request a moment later through the source that read the mention (poll GET "
           "/api/replies/{id}: sending, then sent or failed; a rate-limited send stays approved "
           "with failure and retry_after set, and the replies job sends it after the wait)", ok="Reply",
           params=(ID,), security=STAFF_WRITE, description=_ON, tags=_TAGS)
async def approve_reply(request: web.Request) -> web.Response:
    """POST /api/replies/{id}/approve — approve a draft and send it."""
    return await _act_on_reply(request, "approve")


@operation("POST", r"/api/replies/{id:\d+}/send",
           "Send a draft of a team without approval, or an approved reply now: answers with "
           "state approved, and the sender posts it a moment later (as for approve)", ok="Reply",
           params=(ID,), security=STAFF_WRITE, description=_ON, tags=_TAGS)
async def send_reply(request: web.Request) -> web.Response:
    """POST /api/replies/{id}/send — send now."""
    return await _act_on_reply(request, "send")


@operation("POST", r"/api/replies/{id:\d+}/retry",
           "Approve a failed reply again (credentials fixed, platform back); the sender posts it "
           "a moment later", ok="Reply",
           params=(ID,), security=STAFF_WRITE, description=_ON, tags=_TAGS)
async def retry_reply(request: web.Request) -> web.Response:
    """POST /api/replies/{id}/retry — approve a failed reply again."""
    return await _act_on_reply(request, "retry")


@operation("POST", r"/api/replies/{id:\d+}/mark-sent",
           "Record a reply a person posted by hand (Hacker News has no write API)", ok="Reply",
           body=MarkSentBody, params=(ID,), security=STAFF_WRITE, description=_ON, tags=_TAGS)
async def mark_sent(request: web.Request) -> web.Response:
    """POST /api/replies/{id}/mark-sent — a person posted it by hand; where it is."""
    key = await require_staff_key_write(request)
    body = await body_of(request, MarkSentBody)
    reply = await desk_of(request).mark_sent(await actor_of(request, key), _id(request), body.url)
    return web.json_response((await replies_json(request, [reply]))[0])


@operation("POST", "/api/replies/approve-batch",
           "Approve every draft of a batch (a shipped idea's replies) in one action; the replies "
           "job sends them", ok=obj(batch=S, approved=I, approved_ids=arr(I), left_as_drafts=I),
           body=BatchBody, security=STAFF_WRITE, description=_ON, tags=_TAGS)
async def approve_batch(request: web.Request) -> web.Response:
    """POST /api/replies/approve-batch — approve every draft of a batch in one action."""
    key = await require_staff_key_write(request)
    body = await body_of(request, BatchBody)
    desk = desk_of(request)
    approved = await desk.approve_batch(await actor_of(request, key), body.batch)
    left = await desk.store.list_replies(batch_key=body.batch, states=["draft"], limit=MAX_LIST)
    return web.json_response({"batch": body.batch, "approved": len(approved),
                              "approved_ids": [r.id for r in approved], "left_as_drafts": len(left)})


#: The routes of this module, registered under their declarations.
ROUTES: tuple[Handler, ...] = (mention_replies, draft_reply, list_replies, approve_batch, get_reply,
                               edit_reply, approve_reply, send_reply, retry_reply, mark_sent)


def setup_reply_routes(app: web.Application) -> None:
    """Attach the replies JSON API."""
    add_operations(app.router, *ROUTES)
