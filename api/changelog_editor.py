"""The staff changelog editor in the dashboard: write, preview, pick ideas by search, publish.

Plain forms that work without JavaScript: one form whose buttons say what to do (preview,
search ideas, save, publish); ``static/dashboard/changelog_editor.js`` adds searching while
typing.  Errors come back as the form with a summary linking to each field.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from api import identity
from api.changelog import changelog_of, entries_json, publisher_of
from api.dashboard.access import require_staff
from api.identity import forum_settings, store_of, viewer
from api.markdown import render_markdown
from community.access import Viewer
from community.changelog import WRITER_ROLE, parse_idea_ids
from community.ideas import Ideas
from domain.changelog import ChangelogEntry
from domain.forum import Idea
from domain.errors import AuthFailed, BadInput, Conflict, Forbidden, NotFound

_ACTIONS = ("preview", "search", "save", "publish")


#: Why the admin token (a program's credential, no account) cannot write: entries carry a name.
_TOKEN_CANNOT_WRITE = ("the admin token reads the changelog but cannot write it: an entry is "
                       "published in a manager's name (use a manager's API token, or sign in)")


async def _staff_viewer(request: web.Request) -> Viewer:
    """The staff viewer (401/403 pages otherwise; a bad bearer token is a 401)."""
    await require_staff(request)
    return await viewer(request)


def _sign_in_first(request: web.Request, who: Viewer) -> None:
    """Send the machine's operator in a browser (no account, no credential sent) to sign in.

    Following the nav's "Changelog", the way on is signing in, not a 403.  A request that
    sends a bearer token is a program: it gets what its token allows, never a sign-in page
    (a redirect to HTML is no answer to an API client)."""
    if not who.signed_in and request.method == "GET" and "Authorization" not in request.headers:
        raise web.HTTPSeeOther("/forum/signin?" + urlencode({"next": request.path_qs}))


def _wants_json(request: web.Request) -> bool:
    """Whether the client asked for JSON rather than a page (an API client's Accept)."""
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


async def _writer(request: web.Request) -> Viewer:
    """A signed-in manager or admin, by session or API token (401/403 pages otherwise)."""
    who = await _staff_viewer(request)
    _sign_in_first(request, who)
    if not who.at_least(WRITER_ROLE):
        raise web.HTTPForbidden(reason=_TOKEN_CANNOT_WRITE if not who.signed_in
                                else "sign in as a manager or admin to write the changelog")
    return who


def _render(request: web.Request, template: str, context: dict[str, Any],
            status: int = 200) -> web.Response:
    response = aiohttp_jinja2.render_template(f"dashboard/{template}", request, context, status=status)
    identity.remember_csrf(request, response)
    return response


async def changelog_list(request: web.Request) -> web.Response:
    """GET /dashboard/changelog — every entry, drafts first, for writers; the admin token
    (a program's credential) reads the published entries, as a page or as JSON."""
    who = await _staff_viewer(request)
    _sign_in_first(request, who)
    writer = who.at_least(WRITER_ROLE)
    if not writer and who.signed_in:
        raise web.HTTPForbidden(reason="sign in as a manager or admin to write the changelog")
    entries, total = await changelog_of(request).browse(who, 100, 0, drafts=writer)
    if _wants_json(request):
        return web.json_response({"items": await entries_json(request, who, entries), "total": total})
    return _render(request, "changelog_list.html", {
        "viewer": who.account.name if who.account else "", "entries": entries, "total": total,
        "writer": writer, "csrf": await identity.csrf_token(request)})


async def _picked(request: web.Request, ids: tuple[int, ...]) -> list[Idea]:
    found = await store_of(request).get_ideas(list(ids)) if ids else {}
    return [found[i] for i in ids if i in found]


async def _editor(request: web.Request, who: Viewer, entry: ChangelogEntry | None, *,
                  title: str, body: str, picked: list[Idea], find: str = "",
                  found: list[Idea] | None = None, preview: bool = False,
                  errors: dict[str, str] | None = None, message: str = "",
                  status: int = 200) -> web.Response:
    return _render(request, "changelog_editor.html", {
        "viewer": who.account.name if who.account else "", "entry": entry, "title": title,
        "body": body, "picked": picked, "find": find, "found": found or [],
        "preview_html": render_markdown(body) if preview else None, "errors": errors or {},
        "message": message, "csrf": await identity.csrf_token(request),
        "statuses": {s.key: s.label for s in forum_settings(request).statuses}}, status)


async def editor_page(request: web.Request) -> web.Response:
    """GET /dashboard/changelog/new and /dashboard/changelog/{id} — the editor."""
    who = await _writer(request)
    entry = None
    if "id" in request.match_info:
        try:
            entry = await changelog_of(request).get(who, int(request.match_info["id"]))
        except NotFound as exc:
            raise web.HTTPNotFound(reason=str(exc)) from None
    message = "Published: everyone who asked has been told." if request.query.get("published") else (
        "Saved." if request.query.get("saved") else "")
    return await _editor(request, who, entry, title=entry.title if entry else "",
                         body=entry.body if entry else "",
                         picked=await _picked(request, entry.idea_ids if entry else ()),
                         message=message)


async def editor_submit(request: web.Request) -> web.StreamResponse:
    """POST /dashboard/changelog/new and /dashboard/changelog/{id} — preview, search ideas,
    save or publish (the ``action`` button pressed)."""
    who = await _writer(request)
    form = await request.post()
    await identity.check_csrf(request, form)
    action = form.get("action") if form.get("action") in _ACTIONS else "save"
    service = changelog_of(request)
    entry = None
    if "id" in request.match_info:
        try:
            entry = await service.get(who, int(request.match_info["id"]))
        except NotFound as exc:
            raise web.HTTPNotFound(reason=str(exc)) from None
    title, body = str(form.get("title", "")), str(form.get("body", ""))
    find = str(form.get("find", ""))[:200].strip()
    try:
        ids = parse_idea_ids(",".join(str(v) for v in form.getall("idea", [])),
                             forum_settings(request).changelog.max_ideas)
    except BadInput as exc:
        return await _editor(request, who, entry, title=title, body=body, picked=[], find=find,
                             errors={"idea_ids": str(exc)}, status=400)
    picked = await _picked(request, ids)
    if action in ("preview", "search"):
        found: list[Idea] = []
        if action == "search" and find:
            found, _ = await Ideas(store_of(request), forum_settings(request)).browse(
                who, sort="top", text=find, limit=10)
            found = [i for i in found if i.id not in ids]
        return await _editor(request, who, entry, title=title, body=body, picked=picked, find=find,
                             found=found, preview=action == "preview")
    fields: dict[str, Any] = {"title": title, "body": body}
    if entry is None or not entry.public:
        fields["idea_ids"] = list(ids)
    try:
        if entry is None:
            entry = await service.write(who, title, body, list(ids))
        else:
            entry = await service.edit(who, entry.id, fields)
        if action == "publish":
            await publisher_of(request).publish(who, entry.id)
    except BadInput as exc:
        field = str(exc.details.get("field", "body"))
        return await _editor(request, who, entry, title=title, body=body, picked=picked, find=find,
                             errors={field: str(exc)}, status=400)
    except (AuthFailed, Forbidden, Conflict) as exc:
        return await _editor(request, who, entry, title=title, body=body, picked=picked, find=find,
                             errors={"form": str(exc)}, status=409 if isinstance(exc, Conflict) else 403)
    done = "published" if action == "publish" else "saved"
    raise web.HTTPSeeOther(f"/dashboard/changelog/{entry.id}?{done}=1")


def setup_changelog_editor(app: web.Application) -> None:
    """Attach the editor's pages."""
    r = app.router
    r.add_get("/dashboard/changelog", changelog_list)
    r.add_get("/dashboard/changelog/new", editor_page)
    r.add_post("/dashboard/changelog/new", editor_submit)
    r.add_get(r"/dashboard/changelog/{id:\d+}", editor_page)
    r.add_post(r"/dashboard/changelog/{id:\d+}", editor_submit)
