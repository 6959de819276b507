"""``/api/ideas``: the ideas forum as JSON — thin views over community/."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from api.forum.serialize import (
    bytes_response,
    comment_json,
    idea_json,
    json_bytes,
    json_response,
    listed_idea,
    merge_json,
    status_change_json,
)
from api.contract import body_of, operation
from api.forum.bodies import (
    CommentBody,
    CommentEditBody,
    IdeaBody,
    IdeaEditBody,
    MentionLinkBody,
    MergeBody,
    StatusChangeBody,
    VoteBody,
)
from api.identity import (
    api_write, api_writer, bearer_token, forum_settings, known_viewer, store_of, viewer,
)
from api.keys import PUBLIC_CACHE
from api.notify_access import idea_events
from api.openapi.common import (
    ID,
    SIGNED_IN_WRITE,
    VIEWER,
    B,
    I,
    N,
    S,
    arr,
    items_of,
    nullable,
    obj,
    ref,
)
from api.forum.queries import IdeaListQuery, SimilarQuery, UnvoteQuery, VoteCountsQuery
from api.query_models import query_of
from community.access import Viewer
from community.engagement import Engagement
from community.ideas import Ideas
from community.impact import idea_impact
from community.merging import merge, unmerge
from community.similar import similar_ideas
from domain.forum import Account, Comment, Idea
from domain.errors import BadInput, NotFound


_ID = r"{id:\d+}"


def _ideas(request: web.Request) -> Ideas:
    return Ideas(store_of(request), forum_settings(request), idea_events(request))


def _engagement(request: web.Request) -> Engagement:
    return Engagement(store_of(request), forum_settings(request), idea_events(request))


def _idea_id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def _votes_of(request: web.Request, who: Viewer, ideas: list[Idea]) -> set[int] | None:
    """Which of ``ideas`` the viewer's customer voted for; ``None`` with no customer."""
    customer = who.account.customer_id if who.account else None
    return await store_of(request).voted(customer, [i.id for i in ideas]) if customer else None


async def ideas_page_json(request: web.Request, who: Viewer, ideas: list[Idea],
                          accounts: dict[int, Account] | None = None) -> list[dict[str, Any]]:
    """Ideas with authors (read here unless given) and the viewer's votes, ready to send."""
    if accounts is None:
        accounts = await store_of(request).get_accounts([i.author_id for i in ideas if i.author_id is not None])
    voted = await _votes_of(request, who, ideas)
    return [idea_json(i, accounts, None if voted is None else i.id in voted) for i in ideas]


async def ideas_page_fragments(request: web.Request, who: Viewer, ideas: list[Idea],
                               accounts: dict[int, Account]) -> list[Any]:
    """A listed page's ideas for ``json_bytes``: as ``ideas_page_json`` gives them, each
    already encoded (``listed_idea``)."""
    voted = await _votes_of(request, who, ideas)
    return [listed_idea(i, accounts.get(i.author_id) if i.author_id is not None else None,
                        None if voted is None else i.id in voted) for i in ideas]


async def comments_json(request: web.Request, comments: list[Comment]) -> list[dict[str, Any]]:
    """Comments with their authors."""
    accounts = await store_of(request).get_accounts([c.author_id for c in comments if c.author_id])
    return [comment_json(c, accounts) for c in comments]


def _minute() -> int:
    return int(time.time() // 60)


@operation("GET", "/api/ideas", "Browse ideas",
           ok=obj(items=arr(ref("Idea")), total=I, next_offset=nullable(I)),
           query=IdeaListQuery, security=VIEWER, tags=("forum",))
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
    given = query_of(request, IdeaListQuery)
    limit, offset = given.limit, given.offset
    ideas, total, authors = await _ideas(request).browse_with_authors(
        who, sort=given.sort, status=given.status, topic=given.topic, tag=given.tag,
        mine=given.mine, text=given.q, limit=limit, offset=offset)
    body = json_bytes({"items": await ideas_page_fragments(request, who, ideas, authors), "total": total,
                       "next_offset": offset + limit if offset + limit < total else None})
    if cache is not None:
        cache.put(key, stamp, body)
    return bytes_response(body)


@operation("POST", "/api/ideas", "Submit an idea (waits for approval when the queue is on)",
           ok="Idea", status="201", body=IdeaBody, body_required=False, json_only=True,
           limited=True, security=SIGNED_IN_WRITE, tags=("forum",))
async def create_idea(request: web.Request) -> web.Response:
    """POST /api/ideas — {title, body, topic?, tags?}."""
    who = await api_writer(request)
    body = await body_of(request, IdeaBody)
    idea = await _ideas(request).submit(who, body.title, body.body, body.topic, body.tags)
    return web.json_response((await ideas_page_json(request, who, [idea]))[0], status=201)


@operation("GET", f"/api/ideas/{_ID}", "An idea with comments, status history and impact breakdown",
           ok="IdeaDetail", params=(ID,), security=VIEWER, tags=("forum",))
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


@operation("PATCH", f"/api/ideas/{_ID}", "Edit an idea (author for a while, staff always)",
           ok="Idea", body=IdeaEditBody, body_required=False, json_only=True, params=(ID,),
           security=SIGNED_IN_WRITE, tags=("forum",))
async def patch_idea(request: web.Request) -> web.Response:
    """PATCH /api/ideas/{id} — title, body, topic, tags; staff also hidden, locked."""
    who = await api_writer(request)
    body = await body_of(request, IdeaEditBody)
    idea = await _ideas(request).edit(who, _idea_id(request), body.given())
    return web.json_response((await ideas_page_json(request, who, [idea]))[0])


@operation("DELETE", f"/api/ideas/{_ID}", "Delete an idea (staff)", status="204", params=(ID,),
           security=SIGNED_IN_WRITE, tags=("forum",))
async def delete_idea(request: web.Request) -> web.Response:
    """DELETE /api/ideas/{id} — staff only."""
    who, _ = await api_write(request)
    await _ideas(request).delete(who, _idea_id(request))
    return web.Response(status=204)


@operation("POST", f"/api/ideas/{_ID}/vote", "Vote; staff may vote on behalf of a customer",
           ok="Vote", body=VoteBody, body_required=False, json_only=True, limited=True,
           params=(ID,), security=SIGNED_IN_WRITE, tags=("forum",),
           more_answers={"201": ("A new vote", "Vote")})
async def vote(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/vote — vote; staff may send {customer_id, note, source} for a proxy vote."""
    token = bearer_token(request)
    if token is not None and not request.body_exists:
        # An integration's own vote (bench/forum.py's hot path): its token is read and judged
        # in the vote's transaction, one round trip to the store, nothing read on the loop.
        # A bearer call needs no CSRF token; an empty body is the vote of the token's owner.
        found, out = await _engagement(request).token_vote(token, _idea_id(request))
        known_viewer(request, found)
        return json_response({"idea_id": out.idea_id, "voted": out.voted, "changed": out.changed,
                              "vote_count": out.vote_count}, status=201 if out.changed else 200)
    who = await api_writer(request)
    body = await body_of(request, VoteBody)
    if body.customer_id is not None:
        out = await _engagement(request).proxy_vote(who, _idea_id(request), body.customer_id,
                                                     body.note, body.source)
    else:
        out = await _engagement(request).vote(who, _idea_id(request))
    return json_response({"idea_id": out.idea_id, "voted": out.voted, "changed": out.changed,
                          "vote_count": out.vote_count}, status=201 if out.changed else 200)


@operation("DELETE", f"/api/ideas/{_ID}/vote", "Take a vote back", ok="Vote", limited=True,
           params=(ID,), query=UnvoteQuery, security=SIGNED_IN_WRITE,
           tags=("forum",))
async def unvote(request: web.Request) -> web.Response:
    """DELETE /api/ideas/{id}/vote — take the vote back (staff: ``?customer_id=`` for anyone's)."""
    who, _ = await api_write(request)
    customer_id = query_of(request, UnvoteQuery).customer_id
    out = await _engagement(request).unvote(who, _idea_id(request), customer_id)
    return web.json_response({"idea_id": out.idea_id, "voted": out.voted, "changed": out.changed,
                              "vote_count": out.vote_count})


@operation("GET", f"/api/ideas/{_ID}/comments", "Comments (internal notes for staff only)",
           ok=items_of(ref("Comment")), params=(ID,), security=VIEWER, tags=("forum",))
async def list_comments(request: web.Request) -> web.Response:
    """GET /api/ideas/{id}/comments — internal notes only for staff."""
    who = await viewer(request)
    comments = await _engagement(request).comments(who, _idea_id(request))
    return web.json_response({"items": await comments_json(request, comments)})


@operation("POST", f"/api/ideas/{_ID}/comments", "Comment, reply or internal note", ok="Comment",
           status="201", body=CommentBody, body_required=False, json_only=True, limited=True,
           params=(ID,), security=SIGNED_IN_WRITE, tags=("forum",))
async def add_comment(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/comments — {body, parent_id?, internal?}."""
    who = await api_writer(request)
    body = await body_of(request, CommentBody)
    comment = await _engagement(request).comment(who, _idea_id(request), body.body,
                                                 body.parent_id, body.internal)
    return web.json_response((await comments_json(request, [comment]))[0], status=201)


@operation("PATCH", f"/api/comments/{_ID}", "Edit a comment", ok="Comment", body=CommentEditBody,
           body_required=False, json_only=True, params=(ID,), security=SIGNED_IN_WRITE, tags=("forum",))
async def patch_comment(request: web.Request) -> web.Response:
    """PATCH /api/comments/{id} — {body}."""
    who = await api_writer(request)
    body = await body_of(request, CommentEditBody)
    comment = await _engagement(request).edit_comment(who, int(request.match_info["id"]), body.body)
    return web.json_response((await comments_json(request, [comment]))[0])


@operation("DELETE", f"/api/comments/{_ID}", "Delete a comment", status="204", params=(ID,),
           security=SIGNED_IN_WRITE, tags=("forum",))
async def delete_comment(request: web.Request) -> web.Response:
    """DELETE /api/comments/{id}"""
    who, _ = await api_write(request)
    await _engagement(request).delete_comment(who, int(request.match_info["id"]))
    return web.Response(status=204)


@operation("POST", f"/api/ideas/{_ID}/status", "Change status with a response (staff)", ok="Idea",
           body=StatusChangeBody, body_required=False, json_only=True, params=(ID,),
           security=SIGNED_IN_WRITE, tags=("forum",))
async def set_status(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/status — {status, response}; staff only."""
    who = await api_writer(request, "team", "change an idea's status")
    body = await body_of(request, StatusChangeBody)
    changed = await _ideas(request).change_status(who, _idea_id(request), body.status,
                                                  body.response)
    out = (await ideas_page_json(request, who, [changed.idea]))[0]
    out["notified_followers"] = len(changed.notify_account_ids)
    return web.json_response(out)


@operation("POST", f"/api/ideas/{_ID}/merge", "Merge this idea into another (staff)", ok="Merge",
           status="201", body=MergeBody, body_required=False, json_only=True, params=(ID,),
           security=SIGNED_IN_WRITE, tags=("forum",))
async def merge_idea(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/merge — {into}: merge this idea (the duplicate) into ``into``."""
    who = await api_writer(request, "team", "merge ideas")
    body = await body_of(request, MergeBody)
    record = await merge(store_of(request), forum_settings(request), who, _idea_id(request),
                         body.into)
    return web.json_response(merge_json(record), status=201)


@operation("POST", f"/api/ideas/{_ID}/unmerge", "Undo this idea's merge exactly (staff)", ok="Merge",
           params=(ID,), security=SIGNED_IN_WRITE, tags=("forum",))
async def unmerge_idea(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/unmerge — undo this idea's merge exactly."""
    who, _ = await api_write(request)
    record = await unmerge(store_of(request), forum_settings(request), who, _idea_id(request))
    return web.json_response(merge_json(record))


async def _follow(request: web.Request, on: bool) -> web.Response:
    who, _ = await api_write(request)
    await _engagement(request).follow(who, _idea_id(request), on)
    return web.json_response({"idea_id": _idea_id(request), "following": on})


@operation("POST", f"/api/ideas/{_ID}/follow", "Follow", params=(ID,), security=SIGNED_IN_WRITE,
           tags=("forum",))
async def follow(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/follow"""
    return await _follow(request, True)


@operation("DELETE", f"/api/ideas/{_ID}/follow", "Unfollow", params=(ID,),
           security=SIGNED_IN_WRITE, tags=("forum",))
async def unfollow(request: web.Request) -> web.Response:
    """DELETE /api/ideas/{id}/follow"""
    return await _follow(request, False)


@operation("POST", f"/api/ideas/{_ID}/mentions", "Link a social mention (staff); 200 when already linked",
           ok=obj(linked=B), status="201", body=MentionLinkBody, body_required=False,
           json_only=True, params=(ID,), security=SIGNED_IN_WRITE, tags=("forum",))
async def link_mention(request: web.Request) -> web.Response:
    """POST /api/ideas/{id}/mentions — {mention_id}: staff link a social mention."""
    who = await api_writer(request, "team", "link mentions to ideas")
    body = await body_of(request, MentionLinkBody)
    linked = await _engagement(request).link_mention(who, _idea_id(request), body.mention_id)
    return web.json_response({"linked": linked}, status=201 if linked else 200)


@operation("GET", "/api/ideas/similar", "Ideas similar to a title being typed",
           ok=items_of(obj(id=I, title=S, score=N, url=S, vote_count=I, status=S, status_label=S)),
           query=SimilarQuery,
           security=VIEWER, tags=("forum",))
async def similar(request: web.Request) -> web.Response:
    """GET /api/ideas/similar?title= — ideas that look like a title being typed."""
    given = query_of(request, SimilarQuery)
    store, settings = store_of(request), forum_settings(request)
    found = await similar_ideas(store, settings, given.title, given.exclude or None)
    # Votes and status beside each title, as the box that offers them shows them ("vote there
    # instead?"): one read of the few ideas found.
    ideas = await store.get_ideas([s.id for s in found]) if found else {}
    labels = {s.key: s.label for s in settings.statuses}
    items = []
    for s in found:
        idea = ideas.get(s.id)
        if idea is None:  # deleted between the two reads
            continue
        items.append({"id": s.id, "title": s.title, "score": s.score, "url": f"/forum/ideas/{s.id}",
                      "vote_count": idea.vote_count, "status": idea.status,
                      "status_label": labels.get(idea.status, idea.status)})
    return web.json_response({"items": items})


@operation("GET", "/api/ideas/votes", "Current vote counts of up to 100 ideas (live counts)",
           ok=obj(items={"type": "object", "additionalProperties": I,
                         "description": "idea id → votes"}),
           query=VoteCountsQuery, errors=("400",), security=VIEWER, tags=("forum",))
async def vote_counts(request: web.Request) -> web.Response:
    """GET /api/ideas/votes?ids=1,2,3 — current vote counts of up to 100 ideas (for the live
    count on the pages); ideas the caller may not see are left out."""
    raw = query_of(request, VoteCountsQuery).ids
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


@operation("GET", "/api/statuses", "The configured idea statuses in order",
           ok=items_of(obj(key=S, label=S, closed=B, roadmap=B, color=S)), security=VIEWER, tags=("forum",))
async def statuses(request: web.Request) -> web.Response:
    """GET /api/statuses — the configured statuses in order."""
    return web.json_response({"items": [s.model_dump() for s in forum_settings(request).statuses]})
