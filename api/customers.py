"""``/api/customers``: the customer registry."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.contract import operation
from api.dashboard.access import require_staff
from api.keys import RUNTIME
from api.openapi.common import STAFF, S, page_of, path_param, ref
from api.query_models import CustomerView, SearchPage, query_of
from api.serialize import customer_json, linked_customer_ids, mention_json
from crm.records import feeding_link, learned_identities
from domain import MentionQuery
from storage.base import Store


@operation("GET", "/api/customers",
           "Customers by name; q matches the start of a word of the name, company, e-mail or handle",
           ok=page_of(ref("Customer")), query=SearchPage,
           errors=("400", "401", "403"), security=STAFF, tags=("listening",))
async def list_customers(request: web.Request) -> web.Response:
    """GET /api/customers — by name; ``q``: each term starts a word of the name, company,
    e-mail address or a handle (case and accents ignored), the name itself first; cursor pages."""
    await require_staff(request)
    given = query_of(request, SearchPage)
    page = await request.app[RUNTIME].store.list_customers(given.q, given.limit, given.cursor)
    return web.json_response({
        "items": [customer_json(c) for c in page.items],
        "next_cursor": page.next_cursor,
    })


@operation("GET", "/api/customers/{id}",
           "A customer with CRM facts and their most recent linked mentions", ok="CustomerDetail",
           params=(path_param("id", S, "a customer id"),), query=CustomerView,
           errors=("400", "401", "403", "404"), security=STAFF, tags=("listening",))
async def get_customer(request: web.Request) -> web.Response:
    """GET /api/customers/{id} — the customer and their most recent linked mentions."""
    await require_staff(request)
    store = request.app[RUNTIME].store
    customer = await store.get_customer(request.match_info["id"])
    recent = await store.list_mentions(MentionQuery(
        customer_id=customer.id, limit=query_of(request, CustomerView).mentions or 1))
    customers = await store.get_customers(sorted(linked_customer_ids(recent.items)))
    body = customer_json(customer)
    body["crm"] = await _crm_facts(store, customer.id)
    body["recent_mentions"] = [mention_json(m, customers) for m in recent.items]
    return web.json_response(body)


async def _crm_facts(store: Store, customer_id: str) -> dict[str, Any] | None:
    """Where the customer comes from in the CRM, and what crmsphere learned beyond it."""
    link = await feeding_link(store, customer_id)
    if link is None:
        return None
    learned = next((item for item in await learned_identities(store, link.connector)
                    if item.link.customer_id == customer_id), None)
    handles: dict[str, list[str]] = {}
    for ident in learned.identities if learned else ():
        handles.setdefault(ident.platform, []).append(ident.handle)
    return {
        "connector": link.connector, "object_type": link.object_type, "crm_id": link.crm_id,
        "deleted": link.deleted, "merged_into": link.merged_into,
        "synced_at": link.synced_at.isoformat() if link.synced_at else None,
        # Learned: confirmed by managers here, kept on re-sync, written back when configured.
        "learned": {"handles": handles, "aliases": list(learned.aliases) if learned else []},
    }
