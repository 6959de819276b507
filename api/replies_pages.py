"""Replies on the dashboard's pages: the reply box and the replies of a thread, the replies
queue (``/dashboard/replies``: drafts by team, shipped-idea batches approved in one action,
rate-limited and failed replies with their reason), and the form posts behind them.

Every form works without JavaScript: it posts here, and the answer is a 303 back to the page
(with the refusal in ``reply_error`` when the desk said no).  Browser sessions send their CSRF
token in the form.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn
from urllib.parse import quote, urlencode

import aiohttp_jinja2
from aiohttp import web

from api import identity
from api.auth import has_admin_token
from api.dashboard.access import OPERATOR, require_staff, require_staff_key
from api.keys import RUNTIME
from api.replies import MAX_ID, actor_of, desk_of, limit_json, replies_json
from community.replies import ReplyActor, ReplyDesk
from domain.errors import BadInput, Conflict, Forbidden, NotFound

#: Longest text a form field may hold (the desk applies ``replies.max_chars`` after).
MAX_FORM_TEXT = 100_000


async def page_csrf(request: web.Request) -> str:
    """The CSRF token forms on a page carry (empty for the operator, who has no session)."""
    return "" if await require_staff_key(request) == OPERATOR else await identity.csrf_token(request)


async def thread_replies(request: web.Request, mention_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The replies to each of ``mention_ids``, oldest first, as the thread page shows them."""
    desk = request.app[RUNTIME].replies
    if desk is None or not mention_ids:
        return {}
    found = await desk.store.list_replies(mention_ids=mention_ids, limit=500)
    by_mention: dict[int, list[dict[str, Any]]] = {}
    for reply in reversed(await replies_json(request, found)):
        by_mention.setdefault(reply["mention_id"], []).append(reply)
    return by_mention


async def _form(request: web.Request) -> Any:
    """The posted form, after checking the caller is staff and the session's CSRF token."""
    await require_staff(request)
    form = await request.post()
    if not has_admin_token(request) and (await identity.viewer(request)).via == "session":
        await identity.check_csrf(request, form)
    return form


def _back(form: Any, fallback: str) -> str:
    back = form.get("back")
    # Only pages of the dashboard and team queues: never an address another site gave the form.
    if isinstance(back, str) and back.startswith(("/dashboard", "/teams/")) and "//" not in back \
            and "\\" not in back:
        return back
    return fallback


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_FORM_TEXT:
        raise BadInput(f"{name} must be text of at most {MAX_FORM_TEXT} characters", {"field": name})
    return value


def _with_error(back: str, message: str) -> str:
    path, _, fragment = back.partition("#")
    joiner = "&" if "?" in path else "?"
    return f"{path}{joiner}{urlencode({'reply_error': message[:300]})}" + (f"#{fragment}" if fragment else "")


async def reply_form(request: web.Request) -> web.Response:
    """POST /dashboard/mentions/{id}/replies — the reply box: draft (``action=draft``) or
    draft and send at once where the team needs no approval (``action=send``)."""
    form = await _form(request)
    mention_id = int(request.match_info["id"])
    back = _back(form, f"/dashboard/mentions/{mention_id}")
    if mention_id > MAX_ID:
        raise web.HTTPNotFound(reason="no such mention")
    desk = desk_of(request)
    actor = await actor_of(request, await require_staff_key(request))
    try:
        reply = await desk.draft(actor, mention_id, text=_field(form, "text"), saved=_field(form, "saved"),
                                 idea_url=_field(form, "idea_url"), team_key=_field(form, "team"))
        if form.get("action") == "send":
            if desk.settings.needs_approval(reply.team_key):
                raise web.HTTPSeeOther(back + "#reply-" + str(reply.id))  # stays a draft for a second person
            await desk.send(actor, reply.id or 0)
    except (BadInput, Conflict, Forbidden, NotFound) as exc:
        raise web.HTTPSeeOther(_with_error(back, str(exc))) from None
    raise web.HTTPSeeOther(f"{back}#reply-{reply.id}")


async def _form_action(request: web.Request, act: Callable[[ReplyDesk, ReplyActor, Any], Awaitable[str]]) -> NoReturn:
    """A reply form's one shape: read the form, act as the signed-in staff member, then go
    back — to the anchor ``act`` returns, or with the error when the move is refused."""
    form = await _form(request)
    back = _back(form, "/dashboard/replies")
    desk = desk_of(request)
    actor = await actor_of(request, await require_staff_key(request))
    try:
        anchor = await act(desk, actor, form)
    except (BadInput, Conflict, Forbidden, NotFound) as exc:
        raise web.HTTPSeeOther(_with_error(back, str(exc))) from None
    raise web.HTTPSeeOther(f"{back}{anchor}")


def _reply_id(request: web.Request) -> int:
    reply_id = int(request.match_info["id"])
    if reply_id > MAX_ID:
        raise NotFound(f"no reply {reply_id}")
    return reply_id


async def act_form(request: web.Request) -> web.Response:
    """POST /dashboard/replies/{id}/approve|send|retry — a button of a reply."""
    action = request.path.rstrip("/").rsplit("/", 1)[1]

    async def act(desk: ReplyDesk, actor: ReplyActor, form: Any) -> str:
        reply_id = _reply_id(request)
        await {"approve": desk.approve, "send": desk.send, "retry": desk.retry}[action](actor, reply_id)
        return f"#reply-{reply_id}"

    await _form_action(request, act)


async def batch_form(request: web.Request) -> web.Response:
    """POST /dashboard/replies/approve-batch — approve every draft of a shipped idea's batch."""

    async def act(desk: ReplyDesk, actor: ReplyActor, form: Any) -> str:
        batch = _field(form, "batch")
        if not batch or len(batch) > 200:
            raise BadInput("choose a batch to approve", {"field": "batch"})
        approved = await desk.approve_batch(actor, batch)
        back = _back(form, "/dashboard/replies")
        return f"{'&' if '?' in back else '?'}approved={len(approved)}"

    await _form_action(request, act)


async def mark_sent_form(request: web.Request) -> web.Response:
    """POST /dashboard/replies/{id}/mark-sent — a person posted the reply by hand (``url``)."""

    async def act(desk: ReplyDesk, actor: ReplyActor, form: Any) -> str:
        reply_id = _reply_id(request)
        await desk.mark_sent(actor, reply_id, _field(form, "url"))
        return f"#reply-{reply_id}"

    await _form_action(request, act)


def _group(replies: list[dict[str, Any]]) -> dict[str, Any]:
    """Drafts in batches (a shipped idea: one to read, all approved at once) and single ones."""
    batches: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    single = []
    for reply in replies:
        if reply["batch"]:
            batches.setdefault(reply["batch"], []).append(reply)
        else:
            single.append(reply)
    return {"batches": [{"key": k, "team": v[0]["team"], "sample": v[0], "count": len(v), "idea_id": v[0]["idea_id"]}
                        for k, v in batches.items()], "single": single}


@aiohttp_jinja2.template("dashboard/replies.html")
async def queue_page(request: web.Request) -> dict[str, Any]:
    """GET /dashboard/replies?team= — the replies waiting for people, by team."""
    viewer = await require_staff(request)
    desk = desk_of(request)
    team = request.query.get("team") or None
    if team is not None and len(team) > 50:
        raise web.HTTPBadRequest(reason="team is longer than 50 characters")
    drafts = await replies_json(request, await desk.store.list_replies(states=["draft"], team_key=team, limit=500))
    waiting = await replies_json(request, await desk.store.list_replies(
        states=["approved", "sending"], team_key=team, limit=200))
    failed = await replies_json(request, await desk.store.list_replies(states=["failed"], team_key=team, limit=200))
    sent = await replies_json(request, await desk.store.list_replies(states=["sent"], team_key=team, limit=20))
    # Kept in the store by whichever process was told: shown here whatever process answers.
    limits = [limit_json(limit) for limit in await desk.store.platform_limits(desk.clock())]
    return {"limits": limits,"viewer": viewer, "csrf": await page_csrf(request), "team": team, "drafts": _group(drafts),
            "waiting": waiting, "failed": failed, "sent": sent, "error": request.query.get("reply_error", "")[:300],
            "approved": request.query.get("approved", ""), "back": "/dashboard/replies" + (
                f"?team={quote(team)}" if team else "")}


def setup_reply_pages(app: web.Application) -> None:
    """Attach the replies queue page and the form posts of the reply buttons."""
    app.router.add_get("/dashboard/replies", queue_page)
    app.router.add_post(r"/dashboard/mentions/{id:\d+}/replies", reply_form)
    app.router.add_post("/dashboard/replies/approve-batch", batch_form)
    for action in ("approve", "send", "retry"):
        app.router.add_post(rf"/dashboard/replies/{{id:\d+}}/{action}", act_form)
    app.router.add_post(r"/dashboard/replies/{id:\d+}/mark-sent", mark_sent_form)
