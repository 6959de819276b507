"""``/api/mentions``: the listening feed."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from api.contract import Body, body_of, operation
from api.dashboard.access import require_staff, require_staff_write
from api.keys import RUNTIME
from api.openapi.common import ID, STAFF, STAFF_WRITE, page_of, ref
from api.query_models import MentionPage, query_of
from api.serialize import linked_customer_ids, mention_json, topic_label_json
from domain import MentionQuery
from domain.errors import NotFound
from nlp.topics import topic_keys


def mention_query(request: web.Request) -> MentionQuery:
    """Filters and page of a mentions listing from the query string."""
    return query_of(request, MentionPage).mention_query()


def _mention_id(request: web.Request) -> int:
    raw = request.match_info["id"]  # digits, by the route
    # Beyond a 64-bit integer no mention can exist (and SQLite would overflow).
    if len(raw) > 18:
        raise NotFound(f"no mention {raw[:30]}")
    return int(raw)


@operation("GET", "/api/mentions", "Mentions, newest first, filtered; cursor pages",
           ok=page_of(ref("Mention")), query=MentionPage, errors=("400", "401", "403"),
           security=STAFF, tags=("listening",))
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


@operation("GET", r"/api/mentions/{id:\d+}", "A mention with the manager's topic label",
           ok="MentionDetail", params=(ID,), errors=("401", "403", "404"), security=STAFF,
           tags=("listening",))
async def get_mention(request: web.Request) -> web.Response:
    """GET /api/mentions/{id}"""
    await require_staff(request)
    store = request.app[RUNTIME].store
    mention = await store.get_mention(_mention_id(request))
    customers = await store.get_customers(sorted(linked_customer_ids([mention])))
    label = await store.get_topic_label(mention.id)
    return web.json_response({**mention_json(mention, customers),
                              "topic_label": topic_label_json(label) if label else None})


class TopicLabelBody(Body):
    """A manager's topic set for a mention."""

    topics: list[str] = Field(description="keys of the topic taxonomy; [] says none of them")


@operation("POST", r"/api/mentions/{id:\d+}/topics",
           "Set a mention's topics (a manager's label; also a training example)",
           ok="MentionDetail", body=TopicLabelBody, params=(ID,), security=STAFF_WRITE,
           description="Keys must be in the topic taxonomy; an empty list says the mention is "
                       "about none of them.", tags=("listening",))
async def label_topics(request: web.Request) -> web.Response:
    """POST /api/mentions/{id}/topics — body ``{"topics": [keys]}``: a manager's topic set.

    The set becomes the mention's topics and a training example for ``crmsphere nlp train
    --from-store``; keys must be in the taxonomy (an empty list: about none of them).  The
    mention is then routed again by the rules; ``routed`` says how many routings were new.
    """
    who = await require_staff_write(request)
    mention_id = _mention_id(request)
    rt = request.app[RUNTIME]
    body = await body_of(request, TopicLabelBody)
    topics = topic_keys(body.topics, rt.analyzer.options.topics)
    label = await rt.store.set_topic_label(mention_id, topics, who)
    mention = await rt.store.get_mention(mention_id)
    # New topics may match rules the analysed ones did not; a rule that already routed the
    # mention routes nothing again, so labelling twice is safe.
    routed = 0
    if rt.router is not None and rt.router.has_rules:
        routed = await rt.router.route_stored_mentions([mention])
    if rt.live is not None:  # open dashboards show the new topics in place
        await rt.live.publish_updated([mention])
    customers = await rt.store.get_customers(sorted(linked_customer_ids([mention])))
    return web.json_response({**mention_json(mention, customers), "topic_label": topic_label_json(label),
                              "routed": routed})
