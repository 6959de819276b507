"""``GET /api/openapi.json``: the OpenAPI 3.1 description of the whole JSON API, generated from
the app's router: each route's declaration (``api/contract.py``: summary, who may call, the
pydantic model of its body, its answers), the answer schemas of each area
(``api/openapi/*.py``) and, while a route is described by hand, its hand-written fragment."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from api.openapi import dashboard as openapi_dashboard, forum as openapi_forum, listening as openapi_listening, routing as openapi_routing
from api.contract import Answer, Operation, declared, operation
from api.keys import OPENAPI_CACHE
from api.openapi.common import (
    ERROR_RESPONSES,
    ERROR_SCHEMA,
    PUBLIC,
    SECURITY_SCHEMES,
    VIEWER,
    limited,
    op,
    ref,
)
from api.query_models import query_parameters
from crmsphere import __version__

#: The answer schemas (components) of each area.
_AREAS: tuple[ModuleType, ...] = (openapi_listening, openapi_routing, openapi_dashboard,
                                  openapi_forum)

_DESCRIPTION = """The complete reference of crmsphere's JSON API.

Every error under /api/ has one shape: `{"error": {"code", "message", "details"}}`. That holds
for a method a path does not serve (405, with an `Allow` header) and for requests the HTTP layer
refuses before any route (400: a request line or header over 8190 bytes, a malformed URL).

Bodies: every JSON body is checked against its schema here; a field the schema does not name,
a value of another type (`"5"` for an integer) or out of its bounds is a 400 whose message and
`details.field` name the field (`field 'mention_ids[1]': ...`).

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


def _add_schema(schemas: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    if name in schemas and schemas[name] != schema:  # two models of one name: caught in tests
        raise ValueError(f"two different schemas are named {name}")
    schemas[name] = schema


def model_ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """A reference to ``model``'s JSON Schema, put among the components with the models it
    nests (pydantic's ``$defs``), every ``$ref`` rewritten to point there."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, nested in schema.pop("$defs", {}).items():
        _add_schema(schemas, name, nested)
    _add_schema(schemas, model.__name__, schema)
    return ref(model.__name__)


def _answer(answer: Answer, schemas: dict[str, Any]) -> str | dict[str, Any] | None:
    if isinstance(answer, type) and issubclass(answer, BaseModel):
        return model_ref(answer, schemas)
    return answer


def describe(found: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI operation object of a declaration (its models added to ``schemas``)."""
    body = model_ref(found.body, schemas) if found.body is not None else found.body_schema
    params = [*found.params, *(query_parameters(found.query) if found.query else ())]
    described = op(found.summary, _answer(found.ok, schemas), body, params or None,
                   found.status, security=found.security, errors=found.errors,
                   description=found.description, tags=found.tags)
    responses = described["responses"]
    if found.media_type != "application/json":
        responses[found.status]["content"] = {found.media_type: {"schema": {"type": "string"}}}
    for status, (what, answer) in found.more_answers.items():
        responses[status] = {"description": what}
        if answer is not None:
            schema = _answer(answer, schemas)
            responses[status]["content"] = {"application/json": {
                "schema": ref(schema) if isinstance(schema, str) else schema}}
    if body is not None:
        # A body whose model requires a field is required, even where no body reads as {}.
        described["requestBody"]["required"] = found.body_required or (
            found.body is not None and any(f.is_required() for f in found.body.model_fields.values()))
        if found.json_only:
            responses["415"] = {"$ref": "#/components/responses/UnsupportedMediaType"}
    if found.limited:
        limited(described)
    return described


def build_document(router: web.UrlDispatcher) -> dict[str, Any]:
    """The OpenAPI document of every ``/api/`` route of ``router``."""
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for area in _AREAS:
        for name, schema in area.SCHEMAS.items():
            _add_schema(schemas, name, schema)
    for area in _AREAS:  # fields that come from a registry (the NLP signals)
        if hasattr(area, "signal_schemas"):
            area.signal_schemas(schemas)
    paths: dict[str, dict[str, Any]] = {}
    for route in router.routes():
        found = declared(route.handler)
        if found is None or route.method != found.method:  # HEAD beside GET; not under /api/
            continue
        operations = paths.setdefault(found.doc_path, {})
        if found.method.lower() in operations:
            raise ValueError(f"{found.method} {found.doc_path} is declared twice")
        operations[found.method.lower()] = describe(found, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "crmsphere API", "version": __version__, "description": _DESCRIPTION},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "responses": ERROR_RESPONSES,
                       "securitySchemes": SECURITY_SCHEMES},
        "security": VIEWER,
    }


@operation("GET", "/api/openapi.json", "This document", ok={"type": "object"}, errors=(),
           security=PUBLIC, tags=("meta",))
async def openapi_json(request: web.Request) -> web.Response:
    """GET /api/openapi.json"""
    cache = request.app[OPENAPI_CACHE]
    if "body" not in cache:  # the same for every request and over 100 kB: built once
        cache["body"] = json.dumps(build_document(request.app.router))
    return web.Response(text=cache["body"], content_type="application/json")
