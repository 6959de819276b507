"""Forum objects as JSON-ready dicts (the ideas API's wire format)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from api.markdown import render_markdown
from community.access import Viewer
from domain.forum import (
    Account,
    ApiToken,
    Comment,
    Idea,
    MergeRecord,
    StatusChange,
)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """``web.json_response`` with orjson: encoding a page of ideas costs a tenth of the
    standard library's (bench/forum.py).  Same JSON; keys must be strings."""
    return bytes_response(json_bytes(data), status, headers)


def json_bytes(data: Any) -> bytes:
    """``data`` as JSON (orjson); datetimes are written as ``iso`` writes them."""
    return orjson.dumps(data, option=orjson.OPT_UTC_Z)


def bytes_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A response of JSON already encoded."""
    return web.Response(body=body, status=status, headers=headers, content_type="application/json")


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, or ``None`` (orjson writes it in C: a third of the time of
    ``isoformat``, which counts at three per listed idea; the same text)."""
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)[1:-1].decode() if value else None


def account_json(a: Account, full: bool = False) -> dict[str, Any]:
    """An account: name and role for everyone; e-mail and links for its owner and staff."""
    out: dict[str, Any] = {"id": a.id, "name": a.name, "role": a.role}
    if full:
        out.update(email=a.email, customer_id=a.customer_id, email_verified=a.email_verified,
                   blocked=a.blocked, created_at=iso(a.created_at))
    return out


def author_json(author_id: int | None, accounts: dict[int, Account]) -> dict[str, Any] | None:
    """The public face of an author, ``None`` when the account is gone."""
    a = accounts.get(author_id) if author_id is not None else None
    return {"id": a.id, "name": a.name, "staff": a.role != "customer"} if a else None


def idea_json(i: Idea, accounts: dict[int, Account], voted: bool | None = None,
              when: Callable[[datetime | None], Any] = iso) -> dict[str, Any]:
    """An idea as listed (tags already filtered for the viewer).  ``when`` writes its times:
    ``iso`` by default; a page encoded with ``json_bytes`` passes them through as they are
    (``keep``) and orjson writes all of a page's at once, the same text."""
    return {
        "id": i.id, "title": i.title, "body": i.body, "body_html": str(render_markdown(i.body)),
        "status": i.status, "status_response": i.status_response,
        "status_changed_at": when(i.status_changed_at), "topic": i.topic,
        "tags": [{"name": t.name, "public": t.public} for t in i.tags],
        "vote_count": i.vote_count, "comment_count": i.comment_count, "impact": round(i.impact, 2),
        "author": author_json(i.author_id, accounts), "merged_into": i.merged_into,
        "hidden": i.hidden, "locked": i.locked, "approval": i.approval, "spam": i.spam,
        "created_at": when(i.created_at),
        "updated_at": when(i.updated_at), "voted": voted, "url": f"/forum/ideas/{i.id}",
    }


def keep(value: Any) -> Any:
    """``when`` for ``idea_json`` on a page encoded by ``json_bytes``."""
    return value


@functools.lru_cache(maxsize=4096)
def listed_idea(i: Idea, author: Account | None, voted: bool | None) -> orjson.Fragment:
    """``idea_json`` of a listed idea, already encoded, for a page ``json_bytes`` writes.

    Writing an idea's dict cost more than the rest of serving a page of 20 (bench/forum.py,
    the top list with the cache off). Ideas and accounts are immutable values: the same idea,
    author and vote give the same bytes, so an idea changed in any way (a vote, a rename, an
    author's new name) is a new key and is written afresh; nothing stale can be served."""
    return orjson.Fragment(json_bytes(idea_json(i, {author.id: author} if author else {}, voted, keep)))


def comment_json(c: Comment, accounts: dict[int, Account]) -> dict[str, Any]:
    """A comment, reply or internal note; a deleted one keeps its place without text."""
    return {
        "id": c.id, "idea_id": c.idea_id, "parent_id": c.parent_id, "internal": c.internal,
        "deleted": c.deleted, "body": "" if c.deleted else c.body,
        "body_html": "" if c.deleted else str(render_markdown(c.body)),
        "author": author_json(c.author_id, accounts), "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at), "approval": c.approval, "hidden": c.hidden,
    }


def status_change_json(s: StatusChange) -> dict[str, Any]:
    """One entry of an idea's status history."""
    return {"from": s.from_status, "to": s.to_status, "response": s.response,
            "account_id": s.account_id, "at": iso(s.created_at)}


def token_json(t: ApiToken) -> dict[str, Any]:
    """An API token's metadata (never its value)."""
    return {"id": t.id, "name": t.name, "role": t.role, "created_at": iso(t.created_at),
            "last_used_at": iso(t.last_used_at), "revoked_at": iso(t.revoked_at)}


def merge_json(m: MergeRecord) -> dict[str, Any]:
    """A merge record with counts of what moved."""
    moved = m.moved
    return {"id": m.id, "source_id": m.source_id, "target_id": m.target_id, "account_id": m.account_id,
            "created_at": iso(m.created_at), "undone_at": iso(m.undone_at),
            "moved": {"votes": len(moved.get("votes_moved", ())),
                      "duplicate_votes": len(moved.get("votes_dropped", ())),
                      "comments": len(moved.get("comments_moved", ())),
                      "followers": len(moved.get("followers", ())),
                      "mentions": len(moved.get("mentions", ()))}}


def viewer_json(v: Viewer) -> dict[str, Any]:
    """Who the caller is."""
    return {"signed_in": v.signed_in, "via": v.via, "role": v.role,
            "account": account_json(v.account, full=True) if v.account else None}
