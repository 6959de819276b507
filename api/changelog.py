"""``/api/changelog``: the public changelog as JSON, and staff writing and publishing it —
thin views over ``community/changelog.py`` and ``community/changelog_publish.py``."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import Field

from api.contract import Body, add_operations, body_of, operation
from api.forum.serialize import iso, json_response
from api.identity import api_writer, forum_settings, store_of, viewer
from api.keys import RUNTIME
from api.markdown import render_markdown
from api.notify_access import idea_events
from api.openapi.common import ID, SIGNED_IN_WRITE, VIEWER, I, arr, obj, ref
from api.query_models import Query, query_of
from community.access import Viewer
from community.changelog import Changelog
from community.changelog_publish import ChangelogPublisher
from domain.changelog import ChangelogEntry
from domain.forum import Idea


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


_IDEA_IDS = Field(None, description=(
    "ids of the ideas the entry ships (a merged idea ships the idea it was merged into; an "
    "unknown id is a 400 listing it in details.unknown); also accepted as text: \"12, 15\""))


class NewEntryBody(Body):
    """``POST /api/changelog``: a draft entry.  Titles are text (3 to
    ``forum.changelog.title_max`` characters), bodies Markdown (1 to ``body_max``): the
    changelog checks them against the settings and names the field."""

    title: str = Field(max_length=1000)
    body: str = Field(description="Markdown")
    idea_ids: list[int] | str | None = _IDEA_IDS


class EntryChangeBody(Body):
    """``PATCH /api/changelog/{id}``: the fields to change (ideas: while a draft)."""

    title: str | None = Field(None, max_length=1000)
    body: str | None = Field(None, description="Markdown")
    idea_ids: list[int] | str | None = _IDEA_IDS


class ChangelogListing(Query):
    """A page of the changelog."""

    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)
    drafts: Literal["true", "false", "1", "0"] | None = Field(
        None, description="true: drafts too, drafts first (managers only)")


#: What publishing answers: the entry (a ``ChangelogEntry``) and what this call did.
PUBLISHED = {"allOf": [ref("ChangelogEntry"), obj(
    moved_idea_ids={**arr(I), "description": "ideas this call moved to the shipped status"},
    notified={**I, "description": "new notices this call queued (0 when published already)"})]}
_WRITE = "Managers and admins only; errors name the field in details.field."
_TAGS = ("changelog",)


def _entry_id(request: web.Request) -> int:
    return int(request.match_info["id"])


@operation("GET", "/api/changelog", "Changelog entries, newest published first",
           ok=obj(items=arr(ref("ChangelogEntry")), total=I, limit=I, offset=I),
           query=ChangelogListing, security=VIEWER, tags=_TAGS)
async def list_entries(request: web.Request) -> web.Response:
    """GET /api/changelog — published entries newest first; ``drafts=true``: staff see drafts."""
    who = await viewer(request)
    page = query_of(request, ChangelogListing)
    entries, total = await changelog_of(request).browse(who, page.limit, page.offset,
                                                        page.drafts in ("true", "1"))
    return json_response({"items": await entries_json(request, who, entries), "total": total,
                          "limit": page.limit, "offset": page.offset})


@operation("GET", r"/api/changelog/{id:\d+}", "One entry (a draft: managers only, 404 for others)",
           ok="ChangelogEntry", params=(ID,), security=VIEWER, tags=_TAGS)
async def get_entry(request: web.Request) -> web.Response:
    """GET /api/changelog/{id} — one entry (drafts: writers only)."""
    who = await viewer(request)
    entry = await changelog_of(request).get(who, _entry_id(request))
    return json_response((await entries_json(request, who, [entry]))[0])


@operation("POST", "/api/changelog", "Write a draft entry", ok="ChangelogEntry", status="201",
           body=NewEntryBody, json_only=True, security=SIGNED_IN_WRITE, description=_WRITE,
           tags=_TAGS)
async def create_entry(request: web.Request) -> web.Response:
    """POST /api/changelog — {title, body, idea_ids}: a new draft (managers and admins)."""
    who = await api_writer(request)
    body = await body_of(request, NewEntryBody)
    entry = await changelog_of(request).write(who, body.title, body.body, body.idea_ids)
    return json_response((await entries_json(request, who, [entry]))[0], 201)


@operation("PATCH", r"/api/changelog/{id:\d+}",
           "Edit an entry's title, body and (while a draft) ideas", ok="ChangelogEntry",
           body=EntryChangeBody, json_only=True, params=(ID,), security=SIGNED_IN_WRITE,
           description=_WRITE, tags=_TAGS)
async def patch_entry(request: web.Request) -> web.Response:
    """PATCH /api/changelog/{id} — change title, body, idea_ids (ideas: drafts only)."""
    who = await api_writer(request)
    body = await body_of(request, EntryChangeBody)
    # Only the fields sent change (a field sent as null is refused by the changelog).
    entry = await changelog_of(request).edit(who, _entry_id(request), body.model_dump(exclude_unset=True))
    return json_response((await entries_json(request, who, [entry]))[0])


@operation("POST", r"/api/changelog/{id:\d+}/publish",
           "Publish: move the shipped ideas to the closing status and tell everyone who voted, "
           "followed, commented or was linked, once", ok=PUBLISHED, params=(ID,),
           security=SIGNED_IN_WRITE, tags=_TAGS,
           description="Safe to repeat (a double click, a retry after a failure): nobody is "
                       "told twice and published_at keeps its first value. Managers and admins only.")
async def publish_entry(request: web.Request) -> web.Response:
    """POST /api/changelog/{id}/publish — publish (again: nothing more happens)."""
    who = await api_writer(request)
    done = await publisher_of(request).publish(who, _entry_id(request))
    out = (await entries_json(request, who, [done.entry]))[0]
    out["moved_idea_ids"] = list(done.moved_idea_ids)
    out["notified"] = done.notified
    return json_response(out)


def setup_changelog_api(app: web.Application) -> None:
    """Attach the changelog's JSON routes."""
    add_operations(app.router, list_entries, create_entry, get_entry, patch_entry, publish_entry)
