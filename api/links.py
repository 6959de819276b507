"""``/api/links``: the review queue of low-confidence customer links, and managers' decisions.

Staff only (``api.dashboard.access``): the operator or an admin token, or a signed-in account
of role team or above (decisions from a browser session also need its CSRF token); customers
get 403.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import StringConstraints

from api.contract import Body, body_of, operation
from api.dashboard.access import require_staff, require_staff_write
from api.ids import store_id
from api.openapi.common import ID, STAFF, STAFF_WRITE, page_of, ref
from api.query_models import Paging, query_of
from api.keys import RUNTIME
from api.serialize import customer_json, link_json, mention_json
from crmsphere import link_review
from domain import Customer, LinkReview

#: An alias taught with a confirmation: what people call the customer.
Alias = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def review_json(review: LinkReview, customers: dict[str, Customer]) -> dict[str, Any]:
    """A queued link with its customer and mention."""
    customer = customers.get(review.link.customer_id)
    return {
        **link_json(review.link, customers),
        "customer": customer_json(customer) if customer else None,
        "mention": mention_json(review.mention, customers),
    }


def _link_id(request: web.Request) -> int:
    return store_id(request, "link")


@operation("GET", "/api/links/review", "Pending low-confidence links, oldest first",
           ok=page_of(ref("LinkReview")), query=Paging, errors=("400", "401", "403"),
           security=STAFF, tags=("people and links",))
async def list_reviews(request: web.Request) -> web.Response:
    """GET /api/links/review — pending links, oldest first; ``limit``, ``cursor``."""
    await require_staff(request)
    store = request.app[RUNTIME].store
    given = query_of(request, Paging)
    page = await store.list_link_reviews(given.limit, given.cursor)
    ids = {r.link.customer_id for r in page.items}
    ids |= {k.customer_id for r in page.items for k in r.mention.analysis.links}
    customers = await store.get_customers(sorted(ids))
    return web.json_response({"items": [review_json(r, customers) for r in page.items],
                              "next_cursor": page.next_cursor})


async def _decision_response(request: web.Request, decision: link_review.Decision,
                             status: str) -> web.Response:
    store = request.app[RUNTIME].store
    customers = await store.get_customers([decision.review.link.customer_id])
    return web.json_response({
        "decision": status,
        "link": review_json(decision.review, customers),
        "learned": decision.learned,
        "relinked_mentions": decision.relinked_mentions,
        "person_id": decision.person_id,
    })


class LinkConfirmBody(Body):
    """What a confirmation teaches the registry besides the link itself."""

    teach: Literal["none", "handle", "alias"] = "none"
    alias: Alias | None = None


@operation("POST", r"/api/links/{id:\d+}/confirm",
           "Confirm a link; optionally teach the author's handle or an alias", ok="LinkDecision",
           body=LinkConfirmBody, body_required=False, params=(ID,), security=STAFF_WRITE,
           tags=("people and links",))
async def confirm_link(request: web.Request) -> web.Response:
    """POST /api/links/{id}/confirm — body ``{"teach": "none"|"handle"|"alias", "alias"?}``."""
    await require_staff_write(request)
    link_id = _link_id(request)
    body = await body_of(request, LinkConfirmBody)
    decision = await link_review.confirm(request.app[RUNTIME], link_id, body.teach, body.alias)
    return await _decision_response(request, decision, "confirmed")


@operation("POST", r"/api/links/{id:\d+}/reject", "Reject a link (kept as a negative example)",
           ok="LinkDecision", params=(ID,), security=STAFF_WRITE, tags=("people and links",))
async def reject_link(request: web.Request) -> web.Response:
    """POST /api/links/{id}/reject — the link goes, the negative example stays."""
    await require_staff_write(request)
    decision = await link_review.reject(request.app[RUNTIME], _link_id(request))
    return await _decision_response(request, decision, "rejected")
