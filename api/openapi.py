"""``GET /api/openapi.json``: the OpenAPI 3.1 description of the whole JSON API, assembled from
one module per area (``api/openapi_*.py``)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from api import (
    openapi_changelog,
    openapi_dashboard,
    openapi_forum,
    openapi_listening,
    openapi_replies,
    openapi_routing,
)
from api.openapi_common import (
    ERROR_RESPONSES,
    ERROR_SCHEMA,
    PUBLIC,
    SECURITY_SCHEMES,
    VIEWER,
    op,
)
from crmsphere import __version__

_AREAS = (openapi_listening, openapi_routing, openapi_dashboard, openapi_forum, openapi_changelog,
          openapi_replies)

_DESCRIPTION = """The complete reference of crmsphere's JSON API.

Every error under /api/ has one shape: `{"error": {"code", "message", "details"}}`. That holds
for a method a path does not serve (405, with an `Allow` header) and for requests the HTTP layer
refuses before any route (400: a request line or header over 8190 bytes, a malformed URL).

Text: a lone UTF-16 surrogate (`"\\ud83d"`, an emoji cut in half) in a body or query string is
stored as U+FFFD; a NUL in a body field or query parameter is a 400 naming it. JSON bodies may
nest at most 64 levels and hold integers within the signed 64-bit range (else 400, naming the
field).

Who may call: browser sessions (the `crmsphere_session` cookie from POST /api/auth/login) send
`X-CSRF-Token` on every state-changing call; integrations send `Authorization: Bearer <token>`
(an API token from POST /api/tokens); operator routes take the admin token
(`Authorization: Bearer`, the variable named by `api.admin_token_env`) or, with no admin token
configured and `api.trust_loopback` on, callers on the same machine. Staff routes need an
account of role team or above, or the operator. Push ingest and customer sync are signed with a
shared secret (`X-Crmsphere-Timestamp`, `X-Crmsphere-Signature`).

Every route answers 421 (`misdirected_request`) to a `Host` header that is not one of the
server's names (`server.allowed_hosts`)."""


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for area in _AREAS:
        for path, operations in area.PATHS.items():
            clash = set(paths.get(path, {})) & set(operations)
            if clash:  # two areas describing one operation: a mistake to catch at import
                raise ValueError(f"{path} {sorted(clash)} is described twice")
            paths.setdefault(path, {}).update(operations)
    paths["/api/openapi.json"] = {"get": op("This document", {"type": "object"}, errors=(),
                                            security=PUBLIC, tags=("meta",))}
    return paths


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for area in _AREAS:
        clash = set(schemas) & set(area.SCHEMAS)
        if clash:
            raise ValueError(f"schemas {sorted(clash)} are described twice")
        schemas.update(area.SCHEMAS)
    return schemas


_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "crmsphere API", "version": __version__, "description": _DESCRIPTION},
    "paths": _paths(),
    "components": {"schemas": _schemas(), "responses": ERROR_RESPONSES,
                   "securitySchemes": SECURITY_SCHEMES},
    "security": VIEWER,
}


#: Serialised once: the document is the same for every request and over 100 kB.
_BODY = json.dumps(_DOCUMENT)


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a copy: callers may change it)."""
    return json.loads(_BODY)


async def openapi_json(request: web.Request) -> web.Response:
    """GET /api/openapi.json"""
    return web.Response(text=_BODY, content_type="application/json")
