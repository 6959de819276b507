"""Requests aiohttp refuses before the app sees them, answered in the JSON error shape.

aiohttp's HTTP parser refuses a request line or header over 8190 bytes, a malformed URL or
header, or an unknown method with a ``text/plain`` 400 that quotes the offending bytes back,
before any middleware runs.  ``JsonErrorRunner`` serves the app with a protocol whose
``handle_error`` answers ``{"error": {...}}`` instead, without echoing what was sent.
"""

from __future__ import annotations

from typing import Any

from aiohttp import http_exceptions, web
from aiohttp.web_protocol import RequestHandler

from api.errors import error_response

#: What a client is told for each refusal of the parser (the most specific class first).
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (http_exceptions.LineTooLong,
     "the request line or a header is longer than the server accepts (8190 bytes)"),
    (http_exceptions.InvalidURLError, "the request URL is not valid"),
    (http_exceptions.BadHttpMethod, "the request method is not a valid HTTP method"),
    (http_exceptions.BadStatusLine, "the request line is not valid HTTP"),
    (http_exceptions.InvalidHeader, "a request header is not valid"),
    (http_exceptions.PayloadEncodingError, "the request body is not encoded as its headers say"),
)


def _reason(status: int, exc: BaseException | None) -> str:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    if status >= 500:
        return "gateway timeout" if status == 504 else "internal error"
    return "the request is not valid HTTP"


class JsonErrorRequestHandler(RequestHandler):
    """aiohttp's protocol, answering its own refusals as JSON."""

    def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """The JSON error for a request the app never handled (logged as aiohttp logs it)."""
        fallback = super().handle_error(request, status, exc, message)
        path = getattr(request, "path", "") or ""
        if status >= 500 and path and not path.startswith("/api/"):
            return fallback  # a page's crash keeps aiohttp's page (HTML for a browser)
        codes = {400: "bad_request", 504: "gateway_timeout"}
        response = error_response(status, codes.get(status, "server_error" if status >= 500
                                                     else "error"), _reason(status, exc))
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return JsonErrorRequestHandler(self, loop=self._loop, **self._kwargs)


class JsonErrorRunner(web.AppRunner):
    """``web.AppRunner`` whose connections use ``JsonErrorRequestHandler``."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # The app builds its web.Server itself; the server is the protocol factory, so only
        # the class that makes each connection's protocol changes (it keeps no other state).
        server.__class__ = _JsonErrorServer
        return server
