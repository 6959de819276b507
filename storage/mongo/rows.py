"""``storage.rows`` shapes read from and written to MongoDB documents: the shape's key as
``_id``, times as a BSON date plus the microseconds it cannot hold, flags as booleans, JSON as
text and lists as arrays."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from domain.errors import NotFound
from storage.mongo.db import get_time, need_time, put_time
from storage.rows import REQUIRED, Col, RowShape

T = TypeVar("T")
Doc = Mapping[str, Any]


def _reading(name: str, col: Col, stored_as: str) -> Callable[[Doc], Any]:
    if col.kind == "time":
        return lambda doc: need_time(doc, name)
    if col.kind == "optional_time":
        return lambda doc: get_time(doc, name)
    if col.kind == "flag":
        return lambda doc: bool(doc.get(name))
    if col.kind == "json":
        return lambda doc: col.decode(json.loads(doc[name]))
    if col.kind == "list":
        return lambda doc: tuple(doc.get(name, col.missing))
    if col.missing is REQUIRED:
        return lambda doc: col.decode(doc[stored_as])
    return lambda doc: col.decode(doc.get(stored_as, col.missing))


def doc_reader(shape: RowShape[T]) -> Callable[[Doc], T]:
    """The function making ``shape``'s domain value from one of its documents."""
    fields = [(name, _reading(name, col, "_id" if name == shape.key else name))
              for name, col in shape.columns.items()]
    make = shape.make
    return lambda doc: make(**{name: read(doc) for name, read in fields})


def put_field(doc: dict[str, Any], shape: RowShape[Any], name: str, value: Any) -> dict[str, Any]:
    """Set the domain field ``name`` to ``value`` in ``doc`` as documents store it; ``doc``."""
    col = shape.columns[name]
    if col.kind in ("time", "optional_time"):
        put_time(doc, name, value)
    elif col.kind == "flag":
        doc[name] = bool(value)
    elif col.kind == "json":
        doc[name] = json.dumps(col.encode(value), sort_keys=True)
    elif col.kind == "list":
        doc[name] = list(value)
    else:
        doc["_id" if name == shape.key else name] = col.encode(value)
    return doc


def doc_of(shape: RowShape[Any], value: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """``value`` (or its ``fields``) as a document's fields, the key as ``_id``."""
    doc: dict[str, Any] = {}
    for name in shape.columns if fields is None else fields:
        put_field(doc, shape, name, getattr(value, name))
    return doc


async def found(lookup: Awaitable[T | None], missing: str) -> T:
    """The document ``lookup`` finds; ``NotFound(missing)`` when it finds none."""
    doc = await lookup
    if doc is None:
        raise NotFound(missing)
    return doc
