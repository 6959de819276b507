"""JSON errors for ``/api/*``: ``{"error": {"code", "message", "details"}}``, one shape everywhere."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from domain.errors import AuthFailed, BadInput, Conflict, Forbidden, NotFound, RateLimited

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> web.Response:
    """A JSON error response in the stable shape."""
    return web.json_response(
        {"error": {"code": code, "message": message, "details": details or {}}}, status=status)


def _code_for(status: int) -> str:
    return {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed", 409: "conflict", 413: "too_large",
            415: "unsupported_media_type", 422: "invalid", 429: "rate_limited"}.get(
                status, "server_error" if status >= 500 else "error")


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn domain and HTTP errors under /api/ into the JSON error shape."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    try:
        return await handler(request)
    except BadInput as exc:
        return error_response(400, "bad_request", str(exc), exc.details)
    except AuthFailed as exc:
        return error_response(401, "unauthorized", str(exc))
    except NotFound as exc:
        return error_response(404, "not_found", str(exc))
    except Forbidden as exc:
        return error_response(403, "forbidden", str(exc))
    except Conflict as exc:
        return error_response(409, "conflict", str(exc), exc.details)
    except RateLimited as exc:
        response = error_response(429, "rate_limited", str(exc), {"retry_after": exc.retry_after})
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error_response(exc.status, _code_for(exc.status), exc.reason)
        # The exception's own headers still hold (a 405's Allow, a 503's Retry-After).
        for name, value in exc.headers.items():
            if name.lower() not in ("content-type", "content-length"):
                response.headers.add(name, value)
        return response
    except Exception:  # the boundary: one traceback in the log, a clean 500 to the caller
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "server_error", "internal error")
