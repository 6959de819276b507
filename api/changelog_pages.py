"""The public changelog pages: the list (newest first), one entry, and the Atom feed.

Entries' bodies are Markdown rendered by ``api.markdown`` (raw HTML off, then sanitised);
titles are text, escaped by the templates and by the XML writer of the feed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from aiohttp import web
from markupsafe import escape
from pydantic import Field

from api.changelog import changelog_of
from api.forum.pages import forum_page, render
from api.identity import forum_settings, viewer
from api.keys import RUNTIME, SETTINGS
from api.markdown import render_markdown
from api.query_models import Query, query_of
from community.access import ANONYMOUS
from domain.changelog import ChangelogEntry
from domain.forum import Idea

ATOM = "http://www.w3.org/2005/Atom"
# Once, at import: the feed's elements are written without a prefix.
ET.register_namespace("", ATOM)
#: ``updated`` of a feed with no entry yet (Atom asks for one; a fixed date never moves).
_NEVER = datetime(2000, 1, 1, tzinfo=UTC)


class ChangelogPageNumber(Query):
    """Which page of the changelog a reader asks for."""

    page: int = Field(1, ge=1, le=10_000)


@forum_page
async def changelog_page(request: web.Request) -> web.Response:
    """GET /forum/changelog — published entries, newest first, a page at a time."""
    who, settings = await viewer(request), forum_settings(request)
    size = settings.changelog.page_entries
    page = query_of(request, ChangelogPageNumber).page
    service = changelog_of(request)
    entries, total = await service.browse(who, size, (page - 1) * size)
    return await render(request, "changelog.html", {
        "entries": entries, "ideas": await service.ideas_of(who, entries), "page": page,
        "more": page * size < total, "total": total})


@forum_page
async def entry_page(request: web.Request) -> web.Response:
    """GET /forum/changelog/{id} — one published entry (drafts: writers only)."""
    who = await viewer(request)
    service = changelog_of(request)
    entry = await service.get(who, int(request.match_info["id"]))
    return await render(request, "changelog_entry.html", {
        "entry": entry, "ideas": await service.ideas_of(who, [entry])})


def public_base(request: web.Request) -> str:
    """The public address links in the feed start with (the notifier's, else the routing
    setting's)."""
    notifier = request.app[RUNTIME].notifier
    base = notifier.base_url if notifier is not None else request.app[SETTINGS].routing.public_url
    return base.rstrip("/")


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _updated(entry: ChangelogEntry) -> datetime:
    return max(entry.updated_at, entry.published_at or entry.updated_at)


def entry_html(entry: ChangelogEntry, ideas: dict[int, Idea], base: str) -> str:
    """The HTML an entry's feed content carries: the rendered body and its shipped ideas."""
    shipped = [ideas[i] for i in entry.idea_ids if i in ideas]
    items = "".join(
        f'<li><a href="{base}/forum/ideas/{i.id}">{escape(i.title)}</a> ({i.vote_count} votes)</li>'
        for i in shipped)
    return str(render_markdown(entry.body)) + (f"<h3>Shipped ideas</h3><ul>{items}</ul>" if items else "")


async def atom_feed(request: web.Request) -> web.Response:
    """GET /forum/changelog.atom — the newest published entries as an Atom 1.0 feed."""
    # The same for every caller (feed readers and caches share it): what a visitor sees.
    settings, service = forum_settings(request), changelog_of(request)
    entries, _ = await service.browse(ANONYMOUS, settings.changelog.page_entries, 0)
    ideas = await service.ideas_of(ANONYMOUS, entries)
    base = public_base(request)

    def child(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        node.text = text
        return node

    # xml:base resolves the relative links an entry's Markdown may hold ("/forum/ideas/3").
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}base": f"{base}/forum/changelog"})
    child(feed, "id", f"{base}/forum/changelog")
    child(feed, "title", f"{settings.brand_name} changelog", type="text")
    child(feed, "updated", _stamp(max((_updated(e) for e in entries), default=_NEVER)))
    child(feed, "link", rel="alternate", type="text/html", href=f"{base}/forum/changelog")
    child(feed, "link", rel="self", type="application/atom+xml", href=f"{base}/forum/changelog.atom")
    child(child(feed, "author"), "name", settings.brand_name)
    for entry in entries:
        item = child(feed, "entry")
        child(item, "id", f"{base}/forum/changelog/{entry.id}")
        child(item, "title", entry.title, type="text")
        child(item, "link", rel="alternate", type="text/html", href=f"{base}/forum/changelog/{entry.id}")
        child(item, "published", _stamp(entry.published_at or entry.created_at))
        child(item, "updated", _stamp(_updated(entry)))
        child(item, "content", entry_html(entry, ideas, base), type="html")
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return web.Response(body=body, content_type="application/atom+xml", charset="utf-8")


def setup_changelog_pages(app: web.Application) -> None:
    """Attach the public changelog pages and feed."""
    r = app.router
    r.add_get("/forum/changelog", changelog_page)
    r.add_get("/forum/changelog.atom", atom_feed)
    r.add_get(r"/forum/changelog/{id:\d+}", entry_page)
