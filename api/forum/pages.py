"""The forum's server-rendered pages: browse, idea, submit, vote, comment, roadmap (the
sign-in pages are in ``api/forum/signin.py``).

Every flow works without JavaScript (plain forms, POST then redirect); every form carries
the CSRF token.  Domain errors become a page that says what went wrong.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from api import pending_vote
from api.identity import (
    check_csrf,
    csrf_token,
    forum_settings,
    remember_csrf,
    store_of,
    viewer,
)
from api.forum.cards import bylines, excerpts, moved_on, voters_line
from api.ids import form_id, page_number
from api.markdown import render_markdown
from api.notify_access import idea_events
from api.pending_vote import PendingVote, local_path
from community.engagement import Engagement
from community.ideas import SORTS, Ideas
from community.impact import idea_impact
from community.merging import merge, unmerge
from domain import utcnow
from domain.errors import (
    AuthFailed,
    BadInput,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
)

Page = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    """A forum page with the viewer, CSRF token and statuses every template needs."""
    settings, who = forum_settings(request), await viewer(request)
    unread = await store_of(request).unread_count(who.account.id) if who.account else 0
    base = {"viewer": who, "csrf": await csrf_token(request), "unread": unread,
            "statuses": settings.statuses, "status_labels": {s.key: s.label for s in settings.statuses},
            "markdown": render_markdown, "here": request.path_qs, "brand": settings,
            "section": _section(request.path)}
    response = aiohttp_jinja2.render_template(f"forum/{template}", request, {**base, **context}, status=status)
    remember_csrf(request, response)
    return response


def _section(path: str) -> str:
    """Which tab of the forum's navigation a page belongs to (shown as the current one)."""
    if path.startswith("/forum/roadmap"):
        return "roadmap"
    if path.startswith("/forum/changelog"):
        return "changelog"
    for section in ("submit", "notifications", "settings", "moderation"):
        if path.startswith(f"/forum/{section}"):
            return section
    return "ideas" if path == "/forum" or path.startswith("/forum/ideas/") else ""


def forum_page(handler: Page) -> Page:
    """Turn domain errors into readable pages (and 'sign in first' into a redirect)."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except AuthFailed as exc:
            if request.headers.get("Authorization"):
                # A wrong bearer token: signing in again would not change it (and every page,
                # the sign-in page too, refuses it): say so instead of redirecting for ever.
                raise web.HTTPUnauthorized(text=f"401: {exc}") from exc
            if request.method == "GET" or "signin" not in request.path:
                # Back to the page after sign-in: a form's POST address has no page (GET: 405).
                back = request.path_qs if request.method == "GET" else _page_of(request.path)
                raise web.HTTPSeeOther(f"/forum/signin?next={quote(back)}") from exc
            return await render(request, "error.html", {"message": str(exc)}, 401)
        except (Forbidden, web.HTTPForbidden) as exc:
            return await render(request, "error.html", {"message": getattr(exc, "reason", None) or str(exc)}, 403)
        except NotFound as exc:
            return await render(request, "error.html", {"message": str(exc)}, 404)
        except (BadInput, Conflict) as exc:
            return await render(request, "error.html", {"message": str(exc)}, 400 if isinstance(exc, BadInput) else 409)
        except RateLimited as exc:
            response = await render(request, "error.html", {"message": str(exc)}, 429)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response

    return wrapped


def _back(path: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(path)


_IDEA_PAGE = re.compile(r"^/forum/ideas/\d+")


def _page_of(path: str) -> str:
    """The page a form posting to ``path`` sits on (an idea's page, else the ideas)."""
    match = _IDEA_PAGE.match(path)
    return match[0] if match else "/forum"


@forum_page
async def browse(request: web.Request) -> web.Response:
    """GET /forum — ideas sorted and filtered, with vote buttons."""
    who = await viewer(request)
    q = request.query
    sort = q.get("sort", "trending") if q.get("sort") in SORTS else "trending"
    page = page_number(q.get("page"))
    board = Ideas(store_of(request), forum_settings(request))
    ideas, total = await board.browse(
        who, sort=sort, status=q.get("status") or None, tag=q.get("tag") or None,
        text=(q.get("q") or "")[:300] or None, mine=q.get("mine") == "1" and who.signed_in,
        limit=20, offset=(page - 1) * 20)
    voted: set[int] = set()
    if who.account and who.account.customer_id:
        voted = await store_of(request).voted(who.account.customer_id, [i.id for i in ideas])
    return await render(request, "list.html", {
        "ideas": ideas, "total": total, "voted": voted, "sort": sort, "sorts": SORTS, "query": q,
        "bylines": await bylines(store_of(request), ideas), "excerpts": excerpts(ideas),
        "page": page, "more": page * 20 < total,
        # a closed idea (done, locked, merged) shows its count, not a button that would fail
        "open": {idea.id for idea in ideas if board.voting_open(idea)}})


@forum_page
async def idea_page(request: web.Request) -> web.Response:
    """GET /forum/ideas/{id} — the idea, its status, votes, comments and (staff) tools."""
    who, store, settings = await viewer(request), store_of(request), forum_settings(request)
    ideas = Ideas(store, settings)
    idea = await ideas.get(who, int(request.match_info["id"]))
    comments = await Engagement(store, settings).comments(who, idea.id)
    authors = await store.get_accounts([c.author_id for c in comments if c.author_id]
                                       + ([idea.author_id] if idea.author_id else []))
    voted = bool(who.account and who.account.customer_id
                 and await store.voted(who.account.customer_id, [idea.id]))
    window = timedelta(minutes=settings.edit_window_minutes)

    def editable(author_id: int | None, created_at: datetime) -> bool:
        # The same rule the edit itself checks; here only to show or leave out the buttons.
        return who.signed_in and (who.staff or (author_id == who.account_id
                                                and utcnow() - created_at <= window))

    return await render(request, "idea.html", {
        "idea": idea, "authors": authors, "voted": voted, "voting_open": ideas.voting_open(idea),
        "following": bool(who.account_id and who.account_id in await store.followers(idea.id)),
        "can_edit": editable(idea.author_id, idea.created_at),
        "editable_comments": {c.id for c in comments if not c.deleted and editable(c.author_id, c.created_at)},
        "threads": [(c, [r for r in comments if r.parent_id == c.id]) for c in comments if c.parent_id is None],
        "history": await store.status_history(idea.id), "voters": await voters_line(store, idea.id),
        "impact": await idea_impact(store, idea.id, settings.impact), "viewer_staff": who.staff,
        "merged_into": idea.merged_into})


@forum_page
async def submit_form(request: web.Request) -> web.Response:
    """GET /forum/submit — the new idea form (similar ideas appear while typing, with JS)."""
    if not (await viewer(request)).signed_in:
        raise AuthFailed("sign in first")
    # ?title= : what a visitor searched for and did not find, offered as the new idea's title,
    # cut where the configured title length ends (the form's maxlength says the same).
    title_max = forum_settings(request).title_max
    return await render(request, "submit.html", {"form": {"title": request.query.get("title", "")[:title_max].strip()}})


@forum_page
async def submit(request: web.Request) -> web.StreamResponse:
    """POST /forum/submit"""
    form = await request.post()
    await check_csrf(request, form)
    idea = await Ideas(store_of(request), forum_settings(request), idea_events(request)).submit(
        await viewer(request), form.get("title"), form.get("body", ""), form.get("topic") or None,
        form.get("tags") or None)
    raise _back(f"/forum/ideas/{idea.id}")


@forum_page
async def toggle_vote(request: web.Request) -> web.StreamResponse:
    """POST /forum/ideas/{id}/vote — vote, or take the vote back (``action=unvote``)."""
    form = await request.post()
    await check_csrf(request, form)
    idea_id = int(request.match_info["id"])
    back = local_path(form.get("next"), f"/forum/ideas/{idea_id}")
    return await _cast_vote(request, idea_id, form.get("action") == "unvote", back)


@forum_page
async def list_vote(request: web.Request) -> web.StreamResponse:
    """POST /forum/votes — a vote button of the ideas list: ``vote=<id>`` or ``unvote=<id>``
    (the button pressed), back to that idea's card on the page in ``next``."""
    form = await request.post()
    await check_csrf(request, form)
    pressed = [(name, form.get(name)) for name in ("vote", "unvote") if form.get(name) is not None]
    if len(pressed) != 1 or not isinstance(pressed[0][1], str) or not _IDEA_NUMBER.match(pressed[0][1]):
        raise BadInput("press one vote button: vote or unvote with an idea number")
    name, value = pressed[0]
    idea_id = int(str(value))
    page = local_path(form.get("next"), "/forum").split("#", 1)[0]
    return await _cast_vote(request, idea_id, name == "unvote", f"{page}#idea-{idea_id}")


_IDEA_NUMBER = re.compile(r"^[1-9][0-9]{0,17}$")


async def _cast_vote(request: web.Request, idea_id: int, unvote: bool, back: str) -> web.StreamResponse:
    """Vote for ``idea_id`` (or take the vote back), then see ``back``; signed out, sign in
    first and the vote is cast then (api/pending_vote.py)."""
    who = await viewer(request)
    if not who.signed_in:
        response = web.HTTPSeeOther(f"/forum/signin?next={quote(back)}")
        if not unvote:
            pending_vote.remember(request, response, PendingVote(idea_id, back))
        raise response
    engagement = Engagement(store_of(request), forum_settings(request), idea_events(request))
    if unvote:
        await engagement.unvote(who, idea_id)
    else:
        await engagement.vote(who, idea_id)
    raise _back(back)


@forum_page
async def comment(request: web.Request) -> web.StreamResponse:
    """POST /forum/ideas/{id}/comments — a comment, a reply, or (staff) an internal note."""
    form = await request.post()
    await check_csrf(request, form)
    idea_id = int(request.match_info["id"])
    await Engagement(store_of(request), forum_settings(request), idea_events(request)).comment(
        await viewer(request), idea_id, form.get("body"), form.get("parent_id") or None,
        form.get("internal") == "1")
    raise _back(f"/forum/ideas/{idea_id}#comments")


@forum_page
async def change_status(request: web.Request) -> web.StreamResponse:
    """POST /forum/ideas/{id}/status — staff only."""
    form = await request.post()
    await check_csrf(request, form)
    idea_id = int(request.match_info["id"])
    await Ideas(store_of(request), forum_settings(request), idea_events(request)).change_status(
        await viewer(request), idea_id, form.get("status"), form.get("response"))
    raise _back(f"/forum/ideas/{idea_id}")


@forum_page
async def merge_form(request: web.Request) -> web.StreamResponse:
    """POST /forum/ideas/{id}/merge (``into``) and /unmerge — staff only."""
    form = await request.post()
    await check_csrf(request, form)
    who, idea_id = await viewer(request), int(request.match_info["id"])
    if request.path.endswith("/unmerge"):
        await unmerge(store_of(request), forum_settings(request), who, idea_id)
        raise _back(f"/forum/ideas/{idea_id}")
    into = form_id(form.get("into"), "into")
    await merge(store_of(request), forum_settings(request), who, idea_id, into)
    raise _back(f"/forum/ideas/{into}")


@forum_page
async def roadmap(request: web.Request) -> web.Response:
    """GET /forum/roadmap — planned, in progress and done, for everyone."""
    who, store = await viewer(request), store_of(request)
    ideas = Ideas(store, forum_settings(request))
    lanes = await ideas.roadmap(who)
    now = ideas.clock()
    cards = [idea for _, column in lanes for idea in column]
    # When each card moved to its column, from the time its last status change was stored.
    moved = {idea.id: moved_on(idea.status_changed_at, now) for idea in cards}
    voted: set[int] = set()
    if who.account and who.account.customer_id:
        voted = await store.voted(who.account.customer_id, [idea.id for idea in cards])
    # A card votes like the board's (one form, POST /forum/votes) while its idea takes votes;
    # a closed one (done, locked, merged) shows its count only.
    return await render(request, "roadmap.html", {
        "lanes": lanes, "moved": moved, "voted": voted,
        "open": {idea.id for idea in cards if ideas.voting_open(idea)}})
