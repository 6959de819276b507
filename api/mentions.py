"""``/api/mentions``: the listening feed."""

from __future__ import annotations

from aiohttp import web

from api.dashboard_access import require_staff
from api.keys import RUNTIME
from api.params import choice_param, int_param, text_param, time_param
from api.serialize import linked_customer_ids, mention_json
from crmsphere.domain import MentionQuery
from storage.base import MAX_PAGE


def mention_query(request: web.Request) -> MentionQuery:
    """Filters of a mentions listing from the query string."""
    return MentionQuery(
        customer_id=text_param(request, "customer", 200),
        source=text_param(request, "source", 64),
        text=text_param(request, "q", 500),
        topic=text_param(request, "topic", 64),
        sentiment=choice_param(request, "sentiment", ("positive", "negative", "neutral")),
        intent=choice_param(request, "intent", ("complaint", "question", "praise", "idea", "other")),
        language=text_param(request, "language", 16),
        since=time_param(request, "since"),
        until=time_param(request, "until"),
        limit=int_param(request, "limit", 50, 1, MAX_PAGE),
        cursor=text_param(request, "cursor", 500),
    )


async def list_mentions(request: web.Request) -> web.Response:
    """GET /api/mentions — newest first; filters customer, source, q, since, until; cursor pages."""
    await require_staff(request)
    store = request.app[RUNTIME].store
    page = await store.list_mentions(mention_query(request))
    customers = await store.get_customers(sorted(linked_customer_ids(page.items)))
    return web.json_response({
        "items": [mention_json(m, customers) for m in page.items],
        "next_cursor": page.next_cursor,
    })


async def get_mention(request: web.Request) -> web.Response:
    """GET /api/mentions/{id}"""
    await require_staff(request)
    store = request.app[RUNTIME].store
    mention = await store.get_mention(int(request.match_info["id"]))
    customers = await store.get_customers(sorted(linked_customer_ids([mention])))
    return web.json_response(mention_json(mention, customers))
