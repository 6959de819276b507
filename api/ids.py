"""Ids in paths beyond what a store can hold are simply not found.

Routes take ``{id:\\d+}``; SQLite (and MongoDB) integers are 64-bit, so a longer number would
overflow in the driver (a 500) instead of matching nothing.  One middleware answers those
requests with 404 before any handler parses the id.  ``\\d`` also matches digits of other
scripts ("١٢", which ``int`` reads as 12): an id is written in ASCII digits, so those are not
found either, instead of being a second address of item 12.  Routes whose ``{id}`` takes any
text read it with ``store_id``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from domain.errors import BadInput, NotFound
from domain.ids import ascii_digits, id_number

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def ids_in_range(request: web.Request, handler: Handler) -> web.StreamResponse:
    """404 for a path whose ``id`` is a number no store can hold."""
    check_id_in_range(request)
    return await handler(request)


def check_id_in_range(request: web.Request) -> None:
    """``HTTPNotFound`` when the path's ``id`` is a number no store can hold (the check of
    ``ids_in_range``, for a middleware that makes it among others: api/edges.py)."""
    raw = request.match_info.get("id", "")
    if raw.isdigit() and id_number(raw) is None:
        raise web.HTTPNotFound(reason=f"no item {raw[:30]}")


def store_id(request: web.Request, what: str) -> int:
    """The path's ``id`` as a store id, for a route whose ``{id}`` matches any text: ``BadInput``
    naming ``what`` unless it is ASCII digits (``int`` would also take "-1", "+1", " 1", "1_0"
    and "١٢"), ``NotFound`` past 64 bits (the driver would overflow: a 500)."""
    raw = request.match_info["id"]
    if not ascii_digits(raw):
        raise BadInput(f"{what} id must be a positive integer", {"id": raw[:30]})
    number = id_number(raw)
    if number is None:
        raise NotFound(f"no {what} {raw[:30]}")
    return number


def form_id(value: object, field: str) -> int:
    """An id typed into a form field (``"12"``, ``"#12"``): ``BadInput`` naming ``field`` unless
    it is 1 to 18 ASCII digits (a longer number overflows the store's driver: it was a 500)."""
    number = id_number(value.strip().lstrip("#")) if isinstance(value, str) else None
    if not number:
        raise BadInput(f"{field} must be an idea number", {"field": field})
    return number


def page_number(raw: str | None, last: int = 10_000) -> int:
    """A ``?page=`` of a listing, 1 to ``last``: ASCII digits only, else the first page
    (``int`` would read "١٢" and "+2" as pages 12 and 2: other addresses of the same page)."""
    if raw is None or not ascii_digits(raw):
        return 1
    digits = raw.lstrip("0")
    # A number longer than ``last`` is past it: no int() of thousands of digits.
    return last if len(digits) > len(str(last)) else max(1, min(int(digits or "0"), last))
