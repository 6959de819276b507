"""The site's root: everybody lands on the face made for them."""

from __future__ import annotations

from aiohttp import web

from api.dashboard.access import require_staff


async def home(request: web.Request) -> web.Response:
    """GET / — staff land on the dashboard's live stream of mentions (customers linked, each
    to their 360), everybody else on the ideas forum."""
    try:
        await require_staff(request)
    except web.HTTPException:
        raise web.HTTPFound("/forum") from None
    raise web.HTTPFound("/dashboard")
