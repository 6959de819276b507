"""Ids in paths beyond what a store can hold are simply not found.

Routes take ``{id:\\d+}``; SQLite (and MongoDB) integers are 64-bit, so a longer number would
overflow in the driver (a 500) instead of matching nothing.  One middleware answers those
requests with 404 before any handler parses the id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

#: Digits of the largest id any store hands out (2**63 - 1 has 19 digits).
MAX_ID_DIGITS = 18

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def ids_in_range(request: web.Request, handler: Handler) -> web.StreamResponse:
    """404 for a path whose ``id`` is a number no store can hold."""
    raw = request.match_info.get("id", "")
    if len(raw) > MAX_ID_DIGITS and raw.isdigit():
        raise web.HTTPNotFound(reason=f"no item {raw[:30]}")
    return await handler(request)
