"""The OpenAPI answer schemas and shared parameters of social listening: mentions, customers and the CRM bridge,
the link review queue, people, sources and push ingest."""

from __future__ import annotations

from typing import Any, get_args

from api.openapi.common import (
    TIME,
    B,
    I,
    N,
    S,
    arr,
    enum,
    nullable,
    obj,
    ref,
    text,
)
from collectors.push import MAX_POSTS
from domain import SourceState
from nlp.signals import signals

_HANDLES = {"type": "object", "additionalProperties": arr(S), "description": "platform → handles"}
_SPAN = nullable(arr(I, 2))

SCHEMAS: dict[str, Any] = {
    "Customer": obj(id=S, name=S, kind=S, company=nullable(S), segment=nullable(S),
                    annual_revenue=nullable(I), emails=arr(S), domains=arr(S), aliases=arr(S),
                    handles=_HANDLES),
    "CustomerLink": obj(id=nullable(I), customer_id=S, customer_name=nullable(S), confidence=N,
                        status=enum("accepted", "pending", "confirmed"), rule=S, evidence=S,
                        span=_SPAN),
    "Mention": obj(
        id=I, source=S, external_id=S, author=obj(handle=S, name=nullable(S), platform_id=nullable(S)),
        text=S, created_at=TIME, url=nullable(S), parent_id=nullable(S), thread_id=nullable(S),
        language=nullable(S), engagement={"type": "object", "additionalProperties": I},
        ingested_at=nullable(TIME), links=arr(ref("CustomerLink")), topics=arr(S),
        flags=arr(S), topic_evidence=arr(obj(topic=S, rule=S, phrase=nullable(S), span=_SPAN))),
    "TopicLabel": obj(topics=arr(S), by=S, at=TIME),
    "MentionDetail": {"allOf": [ref("Mention"), obj(topic_label=nullable(ref("TopicLabel")))]},
    "CustomerDetail": {"allOf": [ref("Customer"), obj(
        crm=nullable(obj(connector=S, object_type=S, crm_id=S, deleted=B, merged_into=nullable(S),
                         synced_at=nullable(TIME), learned=obj(handles=_HANDLES, aliases=arr(S)))),
        recent_mentions=arr(ref("Mention")))]},
    "LinkReview": {"allOf": [ref("CustomerLink"), obj(customer=nullable(ref("Customer")),
                                                      mention=ref("Mention"))]},
    "LinkDecision": obj(decision=enum("confirmed", "rejected"), link=ref("LinkReview"),
                        learned={**nullable(S), "description": "what the registry learned from "
                                 "a confirmation (\"handle @jo on reddit\"), else null"},
                        relinked_mentions=I, person_id=nullable(I)),
    "Person": obj(id=I, name=nullable(S), handles=_HANDLES, customer_id=nullable(S)),
    "PersonAttachment": obj(person=ref("Person"), attached_mentions=I, relinked_mentions=I),
    "SourceHealth": obj(
        key=S, kind=S,
        state={**enum(*get_args(SourceState)), "description": (
            "ok: the last run worked; degraded: it raised nothing, but part of the source (a "
            "feed, a search) failed or every item fetched was rejected, so nothing usable was "
            "stored, and error says which; failing: the last run failed and is retried with "
            "back-off; auth_failed: credentials refused, stopped until resumed. A push source's "
            "run is each push.")},
        paused=B, last_run_at=nullable(TIME),
        last_success_at=nullable(TIME), last_items=I, total_items=I,
        error={**nullable(S), "description": "why the source is degraded or failing, or a note "
                                             "of the items the last run rejected"},
        error_since=nullable(TIME), failures=I, next_attempt_at=nullable(TIME),
        rate_limit_remaining=nullable(I), rate_limit_reset=nullable(TIME),
        requests_day=nullable(S), requests_today=I),
    "SourceStatus": {"allOf": [ref("SourceHealth"), obj(interval=N, enabled=B, problem=nullable(S))]},
    "Started": obj("status", "source", status=enum("started"), source=S),
    "PushPost": obj(
        "source", "external_id", "author", "text", "created_at",
        source=text(64), external_id=text(2000), text=text(100_000), created_at=TIME,
        author=obj("handle", handle=text(320), name=text(320), platform_id=text(200)),
        url=text(2000), parent_id=text(2000), thread_id=text(2000), language=text(16),
        engagement={"type": "object", "additionalProperties": I, "maxProperties": 20}),
    "CrmRecord": obj(
        "type", "id", type=enum("company", "contact"),
        id={"type": "string", "pattern": r"^[A-Za-z0-9_.:@-]{1,100}$"},
        properties={"type": "object", "description": "mapped by [crm.bridge.mapping]"},
        company_id=S, deleted=B, merged_into=S),
}



def signal_schemas(schemas: dict[str, Any]) -> None:
    """Add each NLP signal's field to the Mention schema (``nlp.signals``, read when the
    document is built, so a signal declared after start-up is described too)."""
    schemas["Mention"] = {**schemas["Mention"], "properties": {
        **schemas["Mention"]["properties"], **{s.key: s.schema() for s in signals()}}}


#: The items of a batch that were refused, by index, while the rest was kept.
REJECTED = arr(obj(where=S, reason=S))
#: The signed batch of CRM records of POST /api/customers/sync (crm/bridge.py parses it).
SYNC_BODY = obj("source", "records", source={"type": "string", "pattern": "^[a-z][a-z0-9_-]{0,39}$",
                                             "description": "not a built-in connector's name"},
                records=arr(ref("CrmRecord")))
#: The signed batch of posts of POST /api/ingest/{name} (collectors/push.py parses it).
PUSH_BODY = {"oneOf": [arr(ref("PushPost"), MAX_POSTS),
                       obj("posts", posts=arr(ref("PushPost"), MAX_POSTS))]}
