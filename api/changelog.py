"""``/api/changelog``: the public changelog as JSON, and staff writing and publishing it —
thin views over ``community/changelog.py`` and ``community/changelog_publish.py``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.forum_serialize import iso, json_response
from api.identity import api_write, forum_settings, store_of, viewer
from api.keys import RUNTIME
from api.markdown import render_markdown
from api.notify_access import idea_events
from api.params import choice_param, int_param
from community.access import Viewer
from community.changelog import Changelog
from community.changelog_publish import ChangelogPublisher
from crmsphere.domain_changelog import ChangelogEntry
from crmsphere.domain_forum import Idea
from crmsphere.errors import BadInput


def changelog_of(request: web.Request) -> Changelog:
    """The changelog service of this request."""
    return Changelog(store_of(request), forum_settings(request))


def publisher_of(request: web.Request) -> ChangelogPublisher:
    """The publisher of this request (status changes and notices through the runtime's)."""
    return ChangelogPublisher(store_of(request), forum_settings(request), idea_events(request),
                              request.app[RUNTIME].notifier)


def entry_json(entry: ChangelogEntry, ideas: dict[int, Idea]) -> dict[str, Any]:
    """An entry with its rendered body and the shipped ideas the viewer may see."""
    return {
        "id": entry.id, "title": entry.title, "body": entry.body,
        "body_html": str(render_markdown(entry.body)), "state": entry.state,
        "published_at": iso(entry.published_at), "created_at": iso(entry.created_at),
        "updated_at": iso(entry.updated_at), "url": f"/forum/changelog/{entry.id}",
        "ideas": [{"id": i.id, "title": i.title, "status": i.status, "vote_count": i.vote_count,
                   "url": f"/forum/ideas/{i.id}"} for i in (ideas[n] for n in entry.idea_ids if n in ideas)],
    }


async def entries_json(request: web.Request, who: Viewer,
                       entries: list[ChangelogEntry]) -> list[dict[str, Any]]:
    """Entries ready to send, their ideas read together."""
    ideas = await changelog_of(request).ideas_of(who, entries)
    return [entry_json(e, ideas) for e in entries]


#: What an entry's body may hold (``csrf`` is the form's token, checked before).
ENTRY_FIELDS = ("title", "body", "idea_ids")


def _only_entry_fields(body: dict[str, Any]) -> dict[str, Any]:
    """``body``, or ``BadInput`` naming the first field an entry does not take (often a
    misspelling of one it does)."""
    for name in body:
        if name not in ENTRY_FIELDS and name != "csrf":
            raise BadInput(f"field '{name}' is unknown here (known: {', '.join(ENTRY_FIELDS)})",
                           {"field": name})
    return body


def _entry_id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def list_entries(request: web.Request) -> web.Response:
    """GET /api/changelog — published entries newest first; ``drafts=true``: staff see drafts."""
    who = await viewer(request)
    limit = int_param(request, "limit", 20, 1, 100)
    offset = int_param(request, "offset", 0, 0, 1_000_000)
    drafts = choice_param(request, "drafts", ("true", "false", "1", "0")) in ("true", "1")
    entries, total = await changelog_of(request).browse(who, limit, offset, drafts)
    return json_response({"items": await entries_json(request, who, entries), "total": total,
                          "limit": limit, "offset": offset})


async def get_entry(request: web.Request) -> web.Response:
    """GET /api/changelog/{id} — one entry (drafts: writers only)."""
    who = await viewer(request)
    entry = await changelog_of(request).get(who, _entry_id(request))
    return json_response((await entries_json(request, who, [entry]))[0])


async def create_entry(request: web.Request) -> web.Response:
    """POST /api/changelog — {title, body, idea_ids}: a new draft (managers and admins)."""
    who, body = await api_write(request)
    _only_entry_fields(body)
    entry = await changelog_of(request).write(who, body.get("title"), body.get("body"),
                                              body.get("idea_ids"))
    return json_response((await entries_json(request, who, [entry]))[0], 201)


async def patch_entry(request: web.Request) -> web.Response:
    """PATCH /api/changelog/{id} — change title, body, idea_ids (ideas: drafts only)."""
    who, body = await api_write(request)
    entry = await changelog_of(request).edit(who, _entry_id(request), _only_entry_fields(body))
    return json_response((await entries_json(request, who, [entry]))[0])


async def publish_entry(request: web.Request) -> web.Response:
    """POST /api/changelog/{id}/publish — publish (again: nothing more happens)."""
    who, _ = await api_write(request)
    done = await publisher_of(request).publish(who, _entry_id(request))
    out = (await entries_json(request, who, [done.entry]))[0]
    out["moved_idea_ids"] = list(done.moved_idea_ids)
    out["notified"] = done.notified
    return json_response(out)


def setup_changelog_api(app: web.Application) -> None:
    """Attach the changelog's JSON routes."""
    r = app.router
    r.add_get("/api/changelog", list_entries)
    r.add_post("/api/changelog", create_entry)
    r.add_get(r"/api/changelog/{id:\d+}", get_entry)
    r.add_patch(r"/api/changelog/{id:\d+}", patch_entry)
    r.add_post(r"/api/changelog/{id:\d+}/publish", publish_entry)
