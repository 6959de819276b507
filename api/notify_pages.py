"""The notification pages of the forum: the in-app list (mark read), per-account settings
(mail, daily digest, the ideas followed) and the follow / unfollow button.  Plain forms with
CSRF tokens; thin views over community.notify and community.engagement."""

from __future__ import annotations

from aiohttp import web

from api.forum.pages import forum_page, render
from api.identity import check_csrf, forum_settings, store_of, viewer
from api.notify_access import notifier
from community.access import require_signed_in
from community.engagement import Engagement
from community.ideas import Ideas
from domain import utcnow
from domain.errors import BadInput, NotFound


def _local(value: object, default: str) -> str:
    # Only paths on this site: a form must not be able to send people elsewhere.
    text = value if isinstance(value, str) else ""
    return text if text.startswith("/forum") and "\\" not in text and "//" not in text else default


@forum_page
async def notifications_page(request: web.Request) -> web.Response:
    """GET /forum/notifications — the signed-in person's notifications, newest first."""
    account = require_signed_in(await viewer(request))
    notes = await store_of(request).list_notifications(account.id, False, 100)
    return await render(request, "notifications.html", {"notes": notes})


@forum_page
async def mark_read_form(request: web.Request) -> web.StreamResponse:
    """POST /forum/notifications/read — ``id`` marks one, none marks all."""
    form = await request.post()
    await check_csrf(request, form)
    account = require_signed_in(await viewer(request))
    ids = None
    if form.get("id"):
        try:
            ids = [int(str(form.get("id")))]
            if not 0 < ids[0] < 2**63:  # beyond a store's integers: not a notification
                raise ValueError
        except ValueError:
            raise BadInput("id must be a notification id", {"field": "id"}) from None
    await store_of(request).mark_notifications_read(account.id, ids, utcnow())
    raise web.HTTPSeeOther(_local(form.get("next"), "/forum/notifications"))


@forum_page
async def settings_page(request: web.Request) -> web.Response:
    """GET /forum/settings — mail and digest switches, and the ideas followed."""
    who = await viewer(request)
    account = require_signed_in(who)
    store = store_of(request)
    current = await notifier(request).settings_of(who)
    ideas = Ideas(store, forum_settings(request))
    followed = []
    for idea in (await store.get_ideas(await store.followed_ideas(account.id))).values():
        try:
            followed.append(ideas.visible(who, idea))
        except NotFound:
            continue  # hidden since: nothing to show, and unfollowing it changes nothing
    return await render(request, "settings.html", {
        "settings": current, "followed": sorted(followed, key=lambda i: -i.id),
        "saved": request.query.get("saved") == "1"})


@forum_page
async def settings_form(request: web.Request) -> web.StreamResponse:
    """POST /forum/settings — checkboxes ``mail`` and ``digest`` (unticked: off)."""
    form = await request.post()
    await check_csrf(request, form)
    await notifier(request).change_settings(await viewer(request), form.get("mail") == "1",
                                            form.get("digest") == "1")
    raise web.HTTPSeeOther("/forum/settings?saved=1")


@forum_page
async def follow_form(request: web.Request) -> web.StreamResponse:
    """POST /forum/ideas/{id}/follow — ``action`` follow or unfollow."""
    form = await request.post()
    await check_csrf(request, form)
    idea_id = int(request.match_info["id"])
    action = form.get("action")
    if action not in ("follow", "unfollow"):
        raise BadInput("action must be follow or unfollow", {"field": "action"})
    await Engagement(store_of(request), forum_settings(request)).follow(
        await viewer(request), idea_id, action == "follow")
    raise web.HTTPSeeOther(_local(form.get("next"), f"/forum/ideas/{idea_id}"))


def setup_notify_pages(app: web.Application) -> None:
    """Attach the notification and settings pages."""
    r = app.router
    r.add_get("/forum/notifications", notifications_page)
    r.add_post("/forum/notifications/read", mark_read_form)
    r.add_get("/forum/settings", settings_page)
    r.add_post("/forum/settings", settings_form)
    r.add_post(r"/forum/ideas/{id:\d+}/follow", follow_form)
