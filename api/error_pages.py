"""Errors of the pages (everything outside ``/api/``) as pages of the site: a 404, 403, 405
or 500 is shown in the forum's layout with a way back, never as aiohttp's bare text.
``/api/*`` keeps its JSON errors (``api/errors.py``); assets and the health probe keep
plain answers."""

from __future__ import annotations

import logging
import re

import jinja2
from aiohttp import web

from api.errors import Handler, json_errors
from api.forum.pages import render
from domain.errors import (
    AuthFailed,
    BadInput,
    Conflict,
    CrmsphereError,
    Forbidden,
    NotFound,
    RateLimited,
)

log = logging.getLogger(__name__)

_DOMAIN_STATUS = {BadInput: 400, AuthFailed: 401, Forbidden: 403, NotFound: 404, Conflict: 409}
_PLAIN = ("/api/", "/static/", "/healthz")
_IDEA_PAGE = re.compile(r"^/forum/ideas/\d+")
_TITLES = {
    400: "That request was not understood",
    401: "Sign in first",
    403: "Not allowed",
    404: "Page not found",
    405: "Nothing to see at this address",
    413: "That was too large",
    429: "Too many requests",
}


def _message(status: int, reason: str | None) -> str:
    if status == 404:
        return "There is no page at this address: it may have moved, or the link has a typo."
    if status == 405:
        # A form's address opened directly (a bookmark, a reload after sign-in, a crawler).
        return "This address receives a form; it is not a page of its own."
    if status >= 500:
        return "Something went wrong on our side. It is logged; please try again in a moment."
    return reason or _TITLES.get(status, "That did not work")


def _back(path: str) -> tuple[str, str]:
    match = _IDEA_PAGE.match(path)
    if match:
        return match[0], "Back to the idea"
    if path.startswith(("/dashboard", "/teams", "/deliveries")):
        return "/dashboard", "Back to the dashboard"
    return "/forum", "Back to the ideas"


async def error_page(request: web.Request, status: int, reason: str | None,
                     headers: dict[str, str] | None = None) -> web.StreamResponse:
    """The site's page for an error ``status`` of ``request`` saying ``reason`` (in the
    forum's layout, with a way back); plain text only if the page itself cannot be made."""
    back, back_label = _back(request.path)
    title = _TITLES.get(status, "Something went wrong" if status >= 500 else "That did not work")
    try:
        response = await render(request, "http_error.html", {
            "title": title, "status": status, "message": _message(status, reason),
            "back": back, "back_label": back_label}, status)
    except (CrmsphereError, jinja2.TemplateError, web.HTTPException, OSError, LookupError,
            RuntimeError) as exc:
        # The page itself failed (a bearer token that is wrong, the store down...): still an
        # answer with the status, and why in the log.
        log.warning("error page for %s %s could not be rendered: %s", request.method, request.path, exc)
        response = web.Response(status=status, text=f"{status} {title}")
    for name, value in (headers or {}).items():
        if name in ("Allow", "Retry-After"):
            response.headers[name] = value
    return response


@web.middleware
async def error_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The errors of every answer, in one middleware layer (each layer is a call and a
    coroutine more on every request, the vote's included: bench/forum.py): the JSON shape
    under ``/api/`` (``json_errors``), pages of the site elsewhere (``html_errors``)."""
    if request.path.startswith("/api/"):
        return await json_errors(request, handler)
    return await html_errors(request, handler)


@web.middleware
async def html_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn HTTP errors and crashes of the pages into pages of the site."""
    if request.path.startswith(_PLAIN):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        # A handler's own explanation (text=...) beats the status's stock phrase.
        said = (exc.text or "").strip()
        detail = exc.reason if not said or said == f"{exc.status}: {exc.reason}" else said
        return await error_page(request, exc.status, detail[:500], dict(exc.headers))
    except (BadInput, AuthFailed, Forbidden, NotFound, Conflict) as exc:
        status = next(code for kind, code in _DOMAIN_STATUS.items() if isinstance(exc, kind))
        return await error_page(request, status, str(exc))
    except RateLimited as exc:
        return await error_page(request, 429, str(exc), {"Retry-After": str(exc.retry_after)})
    except Exception:  # the boundary: one traceback in the log, a page to the visitor
        log.exception("unhandled error on %s %s", request.method, request.path)
        return await error_page(request, 500, None)
