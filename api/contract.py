"""One declaration per JSON route: its method and path, what it is for, who may call, the pydantic
model of its body and the answers it gives.

The declaration is the one home of a route's rules: ``add_operations`` registers the handler
under the declared method and path, ``body_of`` reads and validates the body with the declared
model (after the handler has checked who is calling, so a stranger learns nothing about the
body's rules), and ``api/openapi/document.py`` builds the OpenAPI document from the same declarations.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar, get_args

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from api.edges import request_json
from domain.errors import BadInput, clipped

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)
#: A success answer: a pydantic model, the name of a component schema, or a schema.
Answer = type[BaseModel] | str | dict[str, Any] | None
ModelT = TypeVar("ModelT", bound=BaseModel)

#: The error answers an operation gets unless it names its own.
DEFAULT_ERRORS = ("400", "401", "403", "404", "409")


class Body(BaseModel):
    """Base of every request body: unknown fields are refused (a misspelt field would otherwise
    be ignored in silence), and values are not coerced (``"5"`` is not the integer 5)."""

    model_config = ConfigDict(extra="forbid", strict=True)


@dataclass(frozen=True)
class Operation:
    """What one route is: the declaration ``api/openapi/document.py`` describes and the handlers obey."""

    method: str
    #: As registered, with aiohttp's patterns (``/api/ideas/{id:\\d+}``).
    path: str
    summary: str
    tags: tuple[str, ...]
    #: Who may call: one of the requirement lists of ``api/openapi/common.py``.
    security: list[dict[str, list]]
    ok: Answer = None
    status: str = "200"
    body: type[BaseModel] | None = None
    #: The schema of a body its handler parses itself (a signed batch, whose items are each
    #: checked and reported by index while the valid rest is kept).
    body_schema: dict[str, Any] | None = None
    body_required: bool = True
    #: The body must be sent as application/json (415 otherwise): a cross-site form cannot.
    json_only: bool = False
    #: Path and header parameters, and query parameters not yet read by a model (OpenAPI
    #: parameter objects).
    params: tuple[dict[str, Any], ...] = ()
    #: The query string's model (``api/query_models.py``), read with ``query_of``.
    query: type[BaseModel] | None = None
    errors: tuple[str, ...] = DEFAULT_ERRORS
    #: Rate limited: 429 with Retry-After.
    limited: bool = False
    description: str = ""
    #: Other success answers: status → (description, answer).
    more_answers: dict[str, tuple[str, Answer]] = field(default_factory=dict)
    #: A media type other than JSON for the success answer (CSV, an event stream).
    media_type: str = "application/json"

    @property
    def doc_path(self) -> str:
        """The path as OpenAPI writes it: ``{id:\\d+}`` becomes ``{id}``."""
        return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", self.path)


def operation(method: str, path: str, summary: str, **details: Any) -> Callable[[H], H]:
    """Declare the handler below as the operation ``method path`` (see ``Operation``)."""
    if "tags" in details:
        details["tags"] = tuple(details["tags"])
    declared = Operation(method=method.upper(), path=path, summary=summary,
                         **{"tags": (), "security": [{}], **details})

    def attach(handler: H) -> H:
        handler.operation = declared  # type: ignore[attr-defined]
        return handler

    return attach


def declared(handler: Any) -> Operation | None:
    """The declaration of ``handler``, or ``None`` for a route described by hand."""
    return getattr(handler, "operation", None)


def add_operations(router: web.UrlDispatcher, *handlers: Handler) -> None:
    """Register each declared handler under its declared method and path."""
    for handler in handlers:
        found = declared(handler)
        if found is None:
            raise ValueError(f"{handler.__qualname__} has no @operation declaration")
        if found.method == "GET":  # as add_get: HEAD answers too
            router.add_get(found.path, handler)
        else:
            router.add_route(found.method, found.path, handler)


def _operation_of(request: web.Request) -> Operation:
    found = declared(request.match_info.route.handler)
    if found is None or found.body is None:
        raise RuntimeError(f"{request.method} {request.path} declares no body model")
    return found


async def body_of(request: web.Request, model: type[ModelT], **from_path: Any) -> ModelT:
    """The request's JSON body validated by the route's declared ``model``.

    The text rules of ``api/edges.py`` run first (NUL, lone surrogates, depth, 64-bit
    integers); then the model: a 400 whose message and ``details.field`` name the field.
    A route whose body is optional reads a missing body (or ``null``) as ``{}``; ``from_path``
    fields (the key a path names) replace the body's before validation."""
    found = _operation_of(request)
    if found.body is not model:  # the handler and its declaration must agree
        raise RuntimeError(f"{request.path} declares {found.body.__name__}, read as {model.__name__}")
    if found.json_only and request.content_type != "application/json" and (
            request.body_exists or found.body_required):
        raise web.HTTPUnsupportedMediaType(reason="send the body as application/json")
    raw = await request_json(request) if request.body_exists else None
    if raw is None and not found.body_required:
        raw = {}
    if not isinstance(raw, dict):
        raise BadInput("the body must be a JSON object", {"field": "body"})
    try:
        return model.model_validate({**raw, **from_path})
    except ValidationError as exc:
        raise invalid(exc, model) from None


#: Parts of a pydantic error location that name a validator, not a field ("int", "list[int]").
_NOT_A_FIELD = re.compile(r"^(int|str|bool|float|dict|list|tuple|none|literal|tagged-union|"
                          r"constrained-\w+|function-\w+|model-\w+)(\[.*\])?$|^\[key\]$|^[A-Z]\w*$")


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as the text rules write it: ``rules[2].when``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif path and _NOT_A_FIELD.match(part):
            continue
        else:
            path = f"{path}.{part}" if path else part
    return path or "body"


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``annotation`` (``X | None``, ``list[X]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _known_fields(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the object holding the last part of ``loc``."""
    current = model
    for part in loc[:-1]:
        if current is None:
            return []
        if isinstance(part, int) or part not in current.model_fields:
            continue  # a list index, or a union member's name
        current = _model_in(current.model_fields[part].annotation)
    return list(current.model_fields) if current is not None else []


def invalid(exc: ValidationError, model: type[BaseModel] | None = None) -> BadInput:
    """The first problem of a validation error, naming the field (``field 'alias': ...``);
    for a field ``model`` does not take, the fields it does."""
    # A field the body does not take first: it is often a misspelling of one that is missing.
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    path = field_path(tuple(first["loc"]))
    where = clipped(path)
    if first["type"] == "extra_forbidden":
        known = _known_fields(model, tuple(first["loc"]))
        also = f" (known: {', '.join(known)})" if known else ""
        return BadInput(f"field '{where}' is unknown here{also}", {"field": where})
    if first["type"] == "missing":
        return BadInput(f"field '{where}' is required", {"field": where})
    # A value that fits no member of a union: what each member wanted.
    wanted = dict.fromkeys(e["msg"].removeprefix("Value error, ") for e in errors
                           if field_path(tuple(e["loc"])) == path)
    return BadInput(f"field '{where}': {' or '.join(wanted)}", {"field": where})


def text(max_len: int, min_len: int = 1) -> Any:
    """A string field of ``min_len``..``max_len`` characters, surrounding spaces removed."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_len,
                                            max_length=max_len)]


#: A positive database id.
PositiveId = Annotated[int, Field(ge=1)]
