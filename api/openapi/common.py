"""Building blocks of the OpenAPI document: schema shorthands, parameters, operations with their
error answers, and who may call (security requirements)."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

Schema = dict[str, Any]

S: Schema = {"type": "string"}
I: Schema = {"type": "integer"}
B: Schema = {"type": "boolean"}
N: Schema = {"type": "number"}
TIME: Schema = {"type": "string", "format": "date-time"}
DAY: Schema = {"type": "string", "format": "date"}
ANY_OBJECT: Schema = {"type": "object"}


def obj(*required: str, **props: Any) -> Schema:
    """An object schema with ``props``; the names in ``required`` must be present."""
    schema: Schema = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    return schema


def arr(items: Schema, max_items: int | None = None) -> Schema:
    """An array of ``items`` (at most ``max_items``)."""
    schema: Schema = {"type": "array", "items": items}
    if max_items is not None:
        schema["maxItems"] = max_items
    return schema


def ref(name: str) -> Schema:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """``schema`` or ``null`` (OpenAPI 3.1 / JSON Schema)."""
    return {"anyOf": [schema, {"type": "null"}]}


def enum(*values: str) -> Schema:
    """A string that is one of ``values``."""
    return {"type": "string", "enum": list(values)}


def text(max_len: int, min_len: int = 0) -> Schema:
    """A string of at most ``max_len`` characters."""
    schema: Schema = {"type": "string", "maxLength": max_len}
    if min_len:
        schema["minLength"] = min_len
    return schema


def page_of(item: Schema) -> Schema:
    """A cursor page: ``items`` and the opaque ``next_cursor`` (``null`` on the last page)."""
    return obj("items", "next_cursor", items=arr(item), next_cursor=nullable(S))


def items_of(item: Schema) -> Schema:
    """An answer of the shape ``{"items": [...]}``."""
    return obj("items", items=arr(item))


def path_param(name: str, schema: Schema | None = None, description: str = "") -> dict[str, Any]:
    """A path parameter (an integer id unless ``schema`` says otherwise)."""
    param: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": schema or I}
    if description:
        param["description"] = description
    return param


def query(name: str, schema: Schema, description: str = "", required: bool = False) -> dict[str, Any]:
    """A query parameter."""
    param: dict[str, Any] = {"name": name, "in": "query", "schema": schema}
    if description:
        param["description"] = description
    if required:
        param["required"] = True
    return param


def header(name: str, description: str, required: bool = True) -> dict[str, Any]:
    """A request header parameter."""
    return {"name": name, "in": "header", "required": required, "schema": S, "description": description}


ID = path_param("id")

# -- who may call -----------------------------------------------------------------------------
#: Anyone; a signed-in caller may see more.
VIEWER: list[dict[str, list]] = [{"bearer": []}, {"session": []}, {}]
#: No credentials.
PUBLIC: list[dict[str, list]] = [{}]
#: A signed-in caller; a browser session also sends X-CSRF-Token on writes.
SIGNED_IN: list[dict[str, list]] = [{"bearer": []}, {"session": []}]
SIGNED_IN_WRITE: list[dict[str, list]] = [{"bearer": []}, {"session": [], "csrf": []}]
#: Staff (role team or above), or the operator (admin token; loopback when trusted).
STAFF: list[dict[str, list]] = [{"admin": []}, {"bearer": []}, {"session": []}]
STAFF_WRITE: list[dict[str, list]] = [{"admin": []}, {"bearer": []}, {"session": [], "csrf": []}]
#: The operator only: the admin token (or a loopback caller with api.trust_loopback and no token).
OPERATOR: list[dict[str, list]] = [{"admin": []}]
#: A request signed with a shared secret (X-Crmsphere-Timestamp + X-Crmsphere-Signature).
SIGNED_BODY: list[dict[str, list]] = [{"signature": []}]

SIGNATURE_HEADERS = [
    header("X-Crmsphere-Timestamp", "Unix seconds when signed; refused when further from now "
           "than the allowed skew (5 minutes for push ingest, crm.bridge.max_skew for sync)"),
    header("X-Crmsphere-Signature", '"sha256=" + hex HMAC-SHA256 of timestamp + "." + body with '
           "the shared secret; a replayed signature is refused"),
]

SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "cst_...",
               "description": "An API token created with POST /api/tokens; no CSRF token needed."},
    "session": {"type": "apiKey", "in": "cookie", "name": "crmsphere_session",
                "description": "The browser session set by POST /api/auth/login."},
    "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
             "description": "The session's csrf_token (from login or GET /api/auth/me); a browser "
                            "session must send it on every state-changing call."},
    "admin": {"type": "http", "scheme": "bearer",
              "description": "The operator's admin token (the variable named by "
                             "api.admin_token_env). With no admin token configured, operator "
                             "routes answer only to callers on this machine (loopback), and "
                             "only when api.trust_loopback is on."},
    "signature": {"type": "apiKey", "in": "header", "name": "X-Crmsphere-Signature",
                  "description": 'HMAC-SHA256 signature "sha256=<hex>" of timestamp + "." + body '
                                 "with the shared secret, sent with X-Crmsphere-Timestamp."},
}

# -- answers ----------------------------------------------------------------------------------
ERROR_SCHEMA: Schema = obj("error", error=obj("code", "message", "details", code=S, message=S,
                                               details=ANY_OBJECT))
_ERROR_CONTENT = {"application/json": {"schema": ref("Error")}}
ERROR_RESPONSES: dict[str, Any] = {
    "Error": {"description": "Error", "content": _ERROR_CONTENT},
    "BadRequest": {"description": "Malformed input; details name the field or parameter",
                   "content": _ERROR_CONTENT},
    "Unauthorized": {"description": "Not signed in, or the token or signature is not valid",
                     "content": _ERROR_CONTENT},
    "Forbidden": {"description": "The caller's role may not do this, or the CSRF token is missing",
                  "content": _ERROR_CONTENT},
    "NotFound": {"description": "No such resource", "content": _ERROR_CONTENT},
    "Conflict": {"description": "Conflicts with the current state", "content": _ERROR_CONTENT},
    "RateLimited": {"description": "Rate limited: try again after Retry-After seconds",
                    "headers": {"Retry-After": {"schema": I}}, "content": _ERROR_CONTENT},
    "Unavailable": {"description": "The part of the service this needs is not running here",
                    "content": _ERROR_CONTENT},
    "TooLarge": {"description": "The body is over the server's limit (2 MB)",
                 "content": _ERROR_CONTENT},
    "UnsupportedMediaType": {"description": "The body is not sent as application/json",
                             "content": _ERROR_CONTENT},
    "MisdirectedRequest": {"description": "The Host header names a host this server does not "
                                          "serve (server.allowed_hosts)",
                           "content": _ERROR_CONTENT},
}
_NAMED = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound",
          "409": "Conflict", "413": "TooLarge", "415": "UnsupportedMediaType",
          "421": "MisdirectedRequest", "429": "RateLimited", "503": "Unavailable"}
#: The error answers an operation gets unless it names its own.
DEFAULT_ERRORS = ("400", "401", "403", "404", "409")


def json_content(schema: Schema) -> dict[str, Any]:
    """A JSON media type holding ``schema``."""
    return {"application/json": {"schema": schema}}


def op(summary: str, ok: str | Schema | None = None, body: Schema | None = None,
       params: list | None = None, status: str = "200", *, security: list | None = None,
       errors: tuple[str, ...] = DEFAULT_ERRORS, description: str = "",
       tags: tuple[str, ...] = ()) -> dict[str, Any]:
    """An operation: its success answer (``ok``: a component name or a schema) under ``status``,
    the error answers ``errors``, the JSON request ``body``, ``params`` and ``security``."""
    success: dict[str, Any] = {"description": "OK" if status in ("200", "201") else "Done"}
    if ok is not None:
        success["content"] = json_content(ref(ok) if isinstance(ok, str) else ok)
    responses: dict[str, Any] = {status: success}
    # api/host_guard.py answers every route before its handler when the Host is not served.
    for code in (*errors, "421"):
        responses[code] = {"$ref": f"#/components/responses/{_NAMED[code]}"}
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if description:
        operation["description"] = description
    if tags:
        operation["tags"] = list(tags)
    if body is not None:
        operation["requestBody"] = {"required": True, "content": json_content(body)}
        # Every JSON body is read by api/edges.py: malformed, too deep, a NUL in a field or an
        # integer beyond 64 bits is a 400, a body over the limit a 413.
        for code in ("400", "413"):
            responses.setdefault(code, {"$ref": f"#/components/responses/{_NAMED[code]}"})
    if params:
        operation["parameters"] = params
    if security is not None:
        operation["security"] = security
    return operation


def limited(operation: dict[str, Any]) -> dict[str, Any]:
    """``operation`` with its rate-limit answer: 429 with a Retry-After header (seconds)."""
    # Inline rather than a $ref, so a reader of the operation sees the Retry-After header.
    operation["responses"]["429"] = dict(ERROR_RESPONSES["RateLimited"])
    return operation


def model_schema(model: type[BaseModel], schemas: dict[str, Any]) -> Schema:
    """The JSON Schema of a pydantic ``model`` (the validator a handler uses), its nested models
    moved into ``schemas`` (the document's components) so every ``$ref`` resolves."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    return schema


def with_fields(schema: Schema, drop_required: tuple[str, ...] = (), **props: Any) -> Schema:
    """A copy of object ``schema`` with more ``props`` (and ``drop_required`` made optional)."""
    out = copy.deepcopy(schema)
    out.setdefault("properties", {}).update(props)
    required = [name for name in out.get("required", []) if name not in drop_required]
    if required:
        out["required"] = required
    else:
        out.pop("required", None)
    return out
