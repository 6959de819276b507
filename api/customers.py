"""``/api/customers``: the customer registry."""

from __future__ import annotations

from aiohttp import web

from api.dashboard_access import require_staff
from api.keys import RUNTIME
from api.params import int_param, text_param
from api.serialize import customer_json, linked_customer_ids, mention_json
from crmsphere.domain import MentionQuery
from storage.base import MAX_PAGE


async def list_customers(request: web.Request) -> web.Response:
    """GET /api/customers — by name; ``q`` filters on name or company; cursor pages."""
    await require_staff(request)
    page = await request.app[RUNTIME].store.list_customers(
        text_param(request, "q", 200),
        int_param(request, "limit", 50, 1, MAX_PAGE),
        text_param(request, "cursor", 500),
    )
    return web.json_response({
        "items": [customer_json(c) for c in page.items],
        "next_cursor": page.next_cursor,
    })


async def get_customer(request: web.Request) -> web.Response:
    """GET /api/customers/{id} — the customer and their most recent linked mentions."""
    await require_staff(request)
    store = request.app[RUNTIME].store
    customer = await store.get_customer(request.match_info["id"])
    recent = await store.list_mentions(MentionQuery(
        customer_id=customer.id, limit=int_param(request, "mentions", 20, 0, 100) or 1))
    customers = await store.get_customers(sorted(linked_customer_ids(recent.items)))
    body = customer_json(customer)
    body["recent_mentions"] = [mention_json(m, customers) for m in recent.items]
    return web.json_response(body)
