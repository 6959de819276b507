"""The idea page's buttons as plain forms: edit an idea (author within the edit window, staff
always), delete it (staff), edit or delete a comment.  Every form carries the CSRF token; the
rules live in community.ideas and community.engagement."""

from __future__ import annotations

from aiohttp import web

from api.forum.pages import forum_page, render
from api.identity import check_csrf, forum_settings, store_of, viewer
from api.notify_access import idea_events
from community.access import require_signed_in
from community.engagement import Engagement
from community.ideas import Ideas
from domain.errors import NotFound


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


@forum_page
async def edit_idea_form(request: web.Request) -> web.Response:
    """GET /forum/ideas/{id}/edit — the idea's title, body and tags in a form."""
    who = await viewer(request)
    require_signed_in(who)
    idea = await Ideas(store_of(request), forum_settings(request)).get(who, _id(request))
    return await render(request, "edit.html", {"idea": idea, "comment": None,
                                               "tags": ", ".join(t.name if t.public else f"private:{t.name}"
                                                                 for t in idea.tags)})


@forum_page
async def edit_idea(request: web.Request) -> web.StreamResponse:
    """POST /forum/ideas/{id}/edit"""
    form = await request.post()
    await check_csrf(request, form)
    fields = {k: form.get(k, "") for k in ("title", "body", "tags")}
    await Ideas(store_of(request), forum_settings(request), idea_events(request)).edit(
        await viewer(request), _id(request), fields)
    raise web.HTTPSeeOther(f"/forum/ideas/{_id(request)}")


@forum_page
async def delete_idea(request: web.Request) -> web.StreamResponse:
    """POST /forum/ideas/{id}/delete — staff only."""
    form = await request.post()
    await check_csrf(request, form)
    await Ideas(store_of(request), forum_settings(request)).delete(await viewer(request), _id(request))
    raise web.HTTPSeeOther("/forum")


@forum_page
async def edit_comment_form(request: web.Request) -> web.Response:
    """GET /forum/comments/{id}/edit"""
    who = await viewer(request)
    require_signed_in(who)
    engagement = Engagement(store_of(request), forum_settings(request))
    comment = await store_of(request).get_comment(_id(request))
    if comment.id not in {c.id for c in await engagement.comments(who, comment.idea_id)} or comment.deleted:
        raise NotFound(f"no comment {comment.id}")
    return await render(request, "edit.html", {"idea": None, "comment": comment, "tags": ""})


@forum_page
async def edit_comment(request: web.Request) -> web.StreamResponse:
    """POST /forum/comments/{id}/edit"""
    form = await request.post()
    await check_csrf(request, form)
    comment = await Engagement(store_of(request), forum_settings(request)).edit_comment(
        await viewer(request), _id(request), form.get("body"))
    raise web.HTTPSeeOther(f"/forum/ideas/{comment.idea_id}#comment-{comment.id}")


@forum_page
async def delete_comment(request: web.Request) -> web.StreamResponse:
    """POST /forum/comments/{id}/delete — the author within the edit window, staff always."""
    form = await request.post()
    await check_csrf(request, form)
    store = store_of(request)
    idea_id = (await store.get_comment(_id(request))).idea_id
    await Engagement(store, forum_settings(request)).delete_comment(await viewer(request), _id(request))
    raise web.HTTPSeeOther(f"/forum/ideas/{idea_id}#comments")


def setup_edit_routes(app: web.Application) -> None:
    """Attach the edit and delete forms."""
    r = app.router
    r.add_get(r"/forum/ideas/{id:\d+}/edit", edit_idea_form)
    r.add_post(r"/forum/ideas/{id:\d+}/edit", edit_idea)
    r.add_post(r"/forum/ideas/{id:\d+}/delete", delete_idea)
    r.add_get(r"/forum/comments/{id:\d+}/edit", edit_comment_form)
    r.add_post(r"/forum/comments/{id:\d+}/edit", edit_comment)
    r.add_post(r"/forum/comments/{id:\d+}/delete", delete_comment)
