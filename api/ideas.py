"""``/api/ideas``: the ideas forum as JSON — thin views over community/."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from api.forum_serialize import (
    bytes_response,
    comment_json,
    idea_json,
    iso,
    json_bytes,
    json_response,
    keep,
    merge_json,
    status_change_json,
)
from api.identity import api_write, forum_settings, store_of, viewer
from api.keys import PUBLIC_CACHE
from api.notify_access import idea_events
from api.params import int_param, text_param
from community.access import Viewer
from community.engagement import Engagement
from community.ideas import Ideas
from community.impact import idea_impact
from community.merging import merge, unmerge
from community.similar import similar_ideas
from crmsphere.domain_forum import Account, Comment, Idea
from crmsphere.errors import BadInput, NotFound


def _ideas(request: web.Request) -> Ideas:
    return Ideas(store_of(request), forum_settings(request), idea_events(request))


def _engagement(request: web.Request) -> Engagement:
    return Engagement(store_of(request), forum_settings(request), idea_events(request))


def _idea_id(request: web.Request) -> int:
    return int(request.match_info["id"])


def _int_field(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{name} must be an integer id", {"field": name})
    return value


async def ideas_page_json(request: web.Request, who: Viewer, ideas: list[Idea],
                          accounts: dict[int, Account] | None = None,
                          when: Callable[[datetime | None], Any] = iso) -> list[dict[str, Any]]:
    """Ideas with authors (read here unless given) and the viewer's votes, ready to send
    (``when``: see ``idea_json``)."""
    store = store_of(request)
    if accounts is None:
        accounts = await store.get_accounts([i.author_id for i in ideas if i.author_id is not None])
    voted: set[int] = set()
    customer = who.account.customer_id if who.account else None
    if customer:
        voted = await store.voted(customer, [i.id for i in ideas])
    return [idea_json(i, accounts, (i.id in voted) if customer else None, when) for i in ideas]


async def comments_json(request: web.Request, comments: list[Comment]) -> list[dict[str, Any]]:
    """Comments with their authors."""
    accounts = await store_of(request).get_accounts([c.author_id for c in comments if c.author_id])
    return [comment_json(c, accounts) for c in comments]


def _minute() -> int:
    return int(time.time() // 60)


async def list_ideas(request: web.Request) -> web.Response:
    """GET /api/ideas — sort (trending|top|new|impact), status, topic, tag, mine, q, limit, offset."""
    who = await viewer(request)
    # Anonymous readers all get the same bytes while the store is unchanged (api/public_cache.py).
    cache = request.app.get(PUBLIC_CACHE) if who.account is None else None
    stamp = cache.stamp() if cache is not None else None
    key = request.path_qs
    if (request.query.get("sort") or "trending") == "trending":
        key += f"#{_minute()}"  # the order moves with the clock, not only with commits
    if cache is not None:
        kept = cache.get(key, stamp)
        if kept is not None:
            return bytes_response(kept)
    limit, offset = int_param(request, "limit", 20, 1, 100), int_param(request, "offset", 0, 0, 1_000_000)
    ideas, total, authors = await _ideas(request).browse_with_authors(
        who, sort=text_param(request, "sort", 20) or "trending", status=text_param(request, "status", 40),
        topic=text_param(request, "topic", 60), tag=text_param(request, "tag", 40),
        mine=text_param(request, "mine", 5) in ("1", "true", "yes"), text=text_param(request, "q", 300),
        limit=limit, offset=offset)
    body = json_bytes({"items": await ideas_page_json(request, who, ideas, authors, keep), "total": total,
                       "next_offset": offset + limit if offset + limit < total else None})
    if cache is not None:
        cache.put(key, stamp, body)
    return bytes_response(body)


async def create_idea(request: web.Request) -> web.Response:
    """POST /api/ideas — {title, body, topic?, tags?}."""
    who, body = await api_write(request)
    idea = await _ideas(request).submit(who, body.get("title"), body.get("body", ""), body.get("topic"),
                                        body.get("tags"))
    return web.json_response((await ideas_page_json(request, who, [idea]))[0], status=201)


async def get_idea(request: web.Request) -> web.Response:
    """GET /api/ideas/{id} — the idea with comments, status history and impact breakdown."""
    who, store = await viewer(request), store_of(request)
    idea = await _ideas(request).get(who, _idea_id(request))
    out = (await ideas_page_json(request, who, [idea]))[0]
    out["comments"] = await comments_json(request, await _engagement(request).comments(who, idea.id))
    out["status_history"] = [status_change_json(s) for s in await store.status_history(idea.id)]
    breakdown = (await idea_impact(store, idea.id, forum_settings(request).impact)).as_json()
    # Points by segment and revenue can reveal a voting customer's revenue: staff only.
    out["impact_breakdown"] = breakdown if who.staff else {
        key: breakdown[key] for key in ("total", "votes", "mentions", "mention_points") if key in breakdown}
    out["voting_open"] = _ideas(request).voting_open(idea)
    if who.staff:
        out["merges"] = [merge_json(m) for m in await store.merges_of(idea.id)]
        out["mention_ids"] = await store.idea_mentions(idea.id)
    return web.json_response(out)


async def patch_idea(request: web.Request) -> web.Response:
    """PATCH /api/ideas/{id} — title, body, topic, tags; staff also hidden, locked."""
    who, body = await api_write(request)
    idea = await _ideas(request).edit(who, _idea_id(request), body)
    return web.json_response((await ideas_page_json(request, who, [idea]))[0])


async def delete_idea(request: web.Request) -> web.Response:
    """DELETE /api/ideas/{id} — staff only."""
    who, _ = await api_write(request)
    await _ideas(request).delete(who, _idea_id(request))
    return web.Response(status=204)


async def vote(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/vote — vote; staff may send {customer_id, note, source} for a proxy vote."""
    who, body = await api_write(request)
    if body.get("customer_id") is not None:
        out = await _engagement(request).proxy_vote(who, _idea_id(request), body.get("customer_id"),
                                                     body.get("note"), body.get("source"))
    else:
        out = await _engagement(request).vote(who, _idea_id(request))
    return json_response({"idea_id": out.idea_id, "voted": out.voted, "changed": out.changed,
                          "vote_count": out.vote_count}, status=201 if out.changed else 200)


async def unvote(request: web.Request) -> web.Response:
    """DELETE /api/ideas/{id}/vote — take the vote back (staff: ``?customer_id=`` for anyone's)."""
    who, _ = await api_write(request)
    out = await _engagement(request).unvote(who, _idea_id(request), text_param(request, "customer_id", 200))
    return web.json_response({"idea_id": out.idea_id, "voted": out.voted, "changed": out.changed,
                              "vote_count": out.vote_count})


async def list_comments(request: web.Request) -> web.Response:
    """GET /api/ideas/{id}/comments — internal notes only for staff."""
    who = await viewer(request)
    comments = await _engagement(request).comments(who, _idea_id(request))
    return web.json_response({"items": await comments_json(request, comments)})


async def add_comment(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/comments — {body, parent_id?, internal?}."""
    who, body = await api_write(request)
    comment = await _engagement(request).comment(who, _idea_id(request), body.get("body"),
                                                 body.get("parent_id"), body.get("internal", False))
    return web.json_response((await comments_json(request, [comment]))[0], status=201)


async def patch_comment(request: web.Request) -> web.Response:
    """PATCH /api/comments/{id} — {body}."""
    who, body = await api_write(request)
    comment = await _engagement(request).edit_comment(who, int(request.match_info["id"]), body.get("body"))
    return web.json_response((await comments_json(request, [comment]))[0])


async def delete_comment(request: web.Request) -> web.Response:
    """DELETE /api/comments/{id}"""
    who, _ = await api_write(request)
    await _engagement(request).delete_comment(who, int(request.match_info["id"]))
    return web.Response(status=204)


async def set_status(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/status — {status, response}; staff only."""
    who, body = await api_write(request)
    changed = await _ideas(request).change_status(who, _idea_id(request), body.get("status"),
                                                  body.get("response"))
    out = (await ideas_page_json(request, who, [changed.idea]))[0]
    out["notified_followers"] = len(changed.notify_account_ids)
    return web.json_response(out)


async def merge_idea(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/merge — {into}: merge this idea (the duplicate) into ``into``."""
    who, body = await api_write(request)
    record = await merge(store_of(request), forum_settings(request), who, _idea_id(request),
                         _int_field(body, "into"))
    return web.json_response(merge_json(record), status=201)


async def unmerge_idea(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/unmerge — undo this idea's merge exactly."""
    who, _ = await api_write(request)
    record = await unmerge(store_of(request), forum_settings(request), who, _idea_id(request))
    return web.json_response(merge_json(record))


async def follow(request: web.Request) -> web.Response:
    """POST (follow) or DELETE (unfollow) /api/ideas/{id}/follow."""
    who, _ = await api_write(request)
    on = request.method == "POST"
    await _engagement(request).follow(who, _idea_id(request), on)
    return web.json_response({"idea_id": _idea_id(request), "following": on})


async def link_mention(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/mentions — {mention_id}: staff link a social mention."""
    who, body = await api_write(request)
    linked = await _engagement(request).link_mention(who, _idea_id(request), _int_field(body, "mention_id"))
    return web.json_response({"linked": linked}, status=201 if linked else 200)


async def similar(request: web.Request) -> web.Response:
    """GET /api/ideas/similar?title= — ideas that look like a title being typed."""
    title = text_param(request, "title", 300)
    if title is None:
        raise BadInput("parameter 'title' is required", {"parameter": "title"})
    exclude = int_param(request, "exclude", 0, 0, 2**62) or None
    found = await similar_ideas(store_of(request), forum_settings(request), title, exclude)
    return web.json_response({"items": [{"id": s.id, "title": s.title, "score": s.score,
                                         "url": f"/forum/ideas/{s.id}"} for s in found]})


async def vote_counts(request: web.Request) -> web.Response:
    """GET /api/ideas/votes?ids=1,2,3 — current vote counts of up to 100 ideas (for the live
    count on the pages); ideas the caller may not see are left out."""
    raw = text_param(request, "ids", 1200) or ""
    try:
        ids = sorted({int(part) for part in raw.split(",") if part.strip()})
    except ValueError:
        raise BadInput("ids must be idea ids separated by commas", {"parameter": "ids"}) from None
    if not ids or len(ids) > 100 or not all(0 < i < 2**63 for i in ids):
        raise BadInput("send 1 to 100 idea ids, each a positive number", {"parameter": "ids"})
    who, ideas = await viewer(request), _ideas(request)
    counts = {}
    for idea in (await store_of(request).get_ideas(ids)).values():
        try:
            counts[str(idea.id)] = ideas.visible(who, idea).vote_count
        except NotFound:
            continue
    return web.json_response({"items": counts}, headers={"Cache-Control": "no-store"})


async def statuses(request: web.Request) -> web.Response:
    """GET /api/statuses — the configured statuses in order."""
    return web.json_response({"items": [s.model_dump() for s in forum_settings(request).statuses]})
