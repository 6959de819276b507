"""``/healthz``: is the service up and can it reach its store."""

from __future__ import annotations

from aiohttp import web

from api.keys import RUNTIME


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz — 200 with row counts when the store answers."""
    counts = await request.app[RUNTIME].store.counts()
    return web.json_response({"status": "ok", "counts": counts})
