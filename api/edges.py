"""Text coming in over HTTP, held to the rules of ``crmsphere.text_edge``.

Every JSON body of ``/api/*`` is read by ``request_json`` (through the routes' body helpers),
and one middleware repairs query strings and headers before any handler reads them: bytes
that are not UTF-8 reach aiohttp's pure-Python parser as lone surrogates, which no store and
no JSON encoder accepts.  A NUL in an ``/api/`` query parameter is refused naming it, as a NUL
in a body field is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import CIMultiDict, MultiDict

from crmsphere.text_edge import (
    decode_json,
    needs_cleaning,
    third_party_text,
    typed_text,
    without_lone_surrogates,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def request_json(request: web.Request) -> Any:
    """The body decoded as JSON with its text cleaned; ``BadInput`` naming what is wrong
    (not UTF-8, not JSON, nested too deep, an integer beyond 64 bits, a NUL in a field)."""
    return decode_json(await request.read())


@web.middleware
async def text_at_the_edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Query strings and headers with acceptable text before any handler reads them."""
    query, headers = request.query, request.headers
    changes: dict[str, Any] = {}
    if any(needs_cleaning(v) for v in query.values()):
        if request.path.startswith("/api/"):  # a NUL is refused, as in a body field (400)
            items = [(k, typed_text(v, k)) for k, v in query.items()]
        else:  # pages already answer a NUL in a filter as any other unexpected character
            items = [(k, without_lone_surrogates(v)) for k, v in query.items()]
        changes["rel_url"] = request.rel_url.with_query(MultiDict(items))
    if any(needs_cleaning(v) for v in headers.values()):
        changes["headers"] = CIMultiDict((k, third_party_text(v)) for k, v in headers.items())
    if changes:
        return await handler(request.clone(**changes))
    return await handler(request)
