"""Text coming in over HTTP, held to the rules of ``domain.text_edge``.

Every JSON body of ``/api/*`` is read by ``request_json`` (through the routes' body helpers),
and one middleware repairs query strings and headers before any handler reads them (bytes
that are not UTF-8 reach handlers as lone surrogates, which no store and no JSON encoder
accepts) and reads forms once: a form that is not UTF-8 is a 400, and so is a NUL in a form
field or in an ``/api/`` query parameter, naming it, as a NUL in a JSON body field is.  A body
that cannot be read as its headers say (``Content-Encoding: gzip`` on bytes that are not) is a
400 too, whichever handler read it, and a client's fault: aiohttp's report of it is a warning
without a traceback (``quiet_client_body_errors``), not a server error.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from multidict import CIMultiDict, MultiDict

from api.errors import error_response
from api.ids import check_id_in_range
from domain.errors import BadInput
from domain.text_edge import (
    decode_json,
    needs_cleaning,
    third_party_text,
    typed_text,
    without_lone_surrogates,
)

#: The logger aiohttp's request handlers report their failures on.
SERVER_LOG = logging.getLogger("aiohttp.server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def request_json(request: web.Request) -> Any:
    """The body decoded as JSON with its text cleaned; ``BadInput`` naming what is wrong
    (not UTF-8, not JSON, nested too deep, an integer beyond 64 bits, a NUL in a field)."""
    return decode_json(await request.read())


@web.middleware
async def request_edges(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Ids beyond a store's integers not found (``api.ids.ids_in_range``), then the text rules
    (``text_at_the_edge``), in one middleware layer: each layer is a call and a coroutine more
    on every request, the vote's included (bench/forum.py)."""
    check_id_in_range(request)
    return await text_at_the_edge(request, handler)


@web.middleware
async def text_at_the_edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Query strings, headers and forms held to the text rules before any handler reads them."""
    headers = request.headers
    query = request.query if request.query_string else None  # most requests have none
    changes: dict[str, Any] = {}
    if query is not None and any(needs_cleaning(v) for v in query.values()):
        if request.path.startswith("/api/"):  # a NUL is refused, as in a body field (400)
            items = [(k, typed_text(v, k)) for k, v in query.items()]
        else:  # pages already answer a NUL in a filter as any other unexpected character
            items = [(k, without_lone_surrogates(v)) for k, v in query.items()]
        changes["rel_url"] = request.rel_url.with_query(MultiDict(items))
    # One search over every value (a surrogate or a NUL in any of them is found in the whole).
    if needs_cleaning("".join(headers.values())):
        changes["headers"] = CIMultiDict((k, third_party_text(v)) for k, v in headers.items())
    if changes:
        request = request.clone(**changes)
    try:
        if request.method in _WITH_FORMS and request.content_type in _FORMS:
            await _check_form(request)
        return await handler(request)
    except RequestPayloadError:
        # Raised by whatever reads the body first: a Content-Encoding the body does not have
        # (gzip that is not gzip) or a body cut short.  It was a 500 on a connection the server
        # then dropped; now a 400 that says the connection closes (the rest of the body cannot
        # be read, so no next request can be found in it).
        return await _unreadable_body(request)


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_WITH_FORMS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


async def _check_form(request: web.Request) -> None:
    """Read a form once (handlers get aiohttp's cached copy): bytes that are not UTF-8 and a NUL
    in a field are refused here instead of failing deep in a handler or being stored."""
    try:
        form = await request.post()
    except UnicodeDecodeError:
        _refuse(request, "the form is not UTF-8 text", None)
    except ValueError as exc:
        # aiohttp's multipart reader: no boundary in the Content-Type, or a body that does not
        # start with it.  A client's malformed form, which was a 500 (crash) on every form.
        _refuse(request, f"the form cannot be read as {request.content_type}: {exc}"[:300], None)
    for name, value in form.items():
        if isinstance(value, str) and "\x00" in value:
            _refuse(request, f"field '{name}' contains a NUL character", name)


_UNREADABLE = "the request body is not encoded as its headers say (Content-Encoding) or ended early"


async def _unreadable_body(request: web.Request) -> web.StreamResponse:
    if request.path.startswith("/api/"):
        response: web.StreamResponse = error_response(400, "bad_request", _UNREADABLE)
    else:  # a person behind a broken client or proxy: the site's page, saying what was wrong
        # Imported here: the pages' modules read JSON bodies through this module.
        from api.error_pages import error_page

        response = await error_page(request, 400, _UNREADABLE)
    response.force_close()
    return response


def _refuse(request: web.Request, message: str, field: str | None) -> NoReturn:
    if request.path.startswith("/api/"):
        raise BadInput(message, {"field": field} if field else None)
    raise web.HTTPBadRequest(text=message)


class ClientBodyErrors(logging.Filter):
    """Turns aiohttp's ``Unhandled exception`` report of a request body that cannot be read
    (``RequestPayloadError``: a Content-Encoding the body does not have, a body cut short)
    into a warning without a traceback.  The 400 has been answered by then: aiohttp tries to
    read the rest of the body before keeping the connection, and the read raises again."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, RequestPayloadError):
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
            record.msg = "a client sent a request body that cannot be read (%s); its connection is closed"
            record.args = (" ".join(str(exc).split()),)  # aiohttp's message spans lines
            record.exc_info, record.exc_text = None, None
        return True


def quiet_client_body_errors() -> None:
    """Report unreadable request bodies on ``aiohttp.server`` as the client's fault (once per
    process, however many apps are made)."""
    if not any(isinstance(f, ClientBodyErrors) for f in SERVER_LOG.filters):
        SERVER_LOG.addFilter(ClientBodyErrors())
