"""Server-rendered pages."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from api.dashboard.access import require_staff
from api.keys import RUNTIME
from api.mentions import mention_query
from api.serialize import linked_customer_ids
from domain import Customer, Mention
from domain.errors import BadInput


def highlighted(mention: Mention, customers: dict[str, Customer]) -> list[dict[str, Any]]:
    """The mention's text cut into plain and linked segments (the template escapes them)."""
    spans = sorted(
        (k for k in mention.analysis.links if k.start is not None and k.end is not None),
        key=lambda k: (k.start, -k.confidence))
    text = mention.post.text
    segments: list[dict[str, Any]] = []
    pos = 0
    for link in spans:
        if link.start < pos or link.end > len(text):  # overlaps an earlier, stronger span
            continue
        if link.start > pos:
            segments.append({"text": text[pos:link.start], "customer": None, "link": None})
        segments.append({"text": text[link.start:link.end], "customer": customers.get(link.customer_id),
                         "link": link})
        pos = link.end
    if pos < len(text):
        segments.append({"text": text[pos:], "customer": None, "link": None})
    return segments


@aiohttp_jinja2.template("mentions.html")
async def mentions_page(request: web.Request) -> dict[str, Any]:
    """GET / — the latest mentions, linked customers highlighted (staff); others go to the forum."""
    try:
        await require_staff(request)
    except web.HTTPException:
        raise web.HTTPFound("/forum") from None
    store = request.app[RUNTIME].store
    try:
        page = await store.list_mentions(mention_query(request))
    except BadInput as exc:  # a hand-edited address: say what is wrong, as the API does
        raise web.HTTPBadRequest(text=f"Bad request: {exc}") from None
    customers = await store.get_customers(sorted(linked_customer_ids(page.items)))
    rows = [
        {"mention": m, "segments": highlighted(m, customers),
         "links": [(k, customers.get(k.customer_id)) for k in m.analysis.links]}
        for m in page.items
    ]
    return {"rows": rows, "next_cursor": page.next_cursor, "query": request.query}
