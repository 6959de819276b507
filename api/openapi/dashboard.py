"""The OpenAPI answer schemas and shared parameters of the community manager's dashboard: the filtered mention
stream with triage, notes, CSV export, facets, spike alerts, saved views, analytics and the
customer 360."""

from __future__ import annotations

from typing import Any

from api.openapi.common import (
    DAY,
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
)
from domain.replies import REPLY_STATES
from domain.triage import TRIAGE_STATUSES
from nlp.signals import signals

SERIES = {"type": "object", "additionalProperties": arr(I), "description": "key → count per day"}
VOLUME = obj(days=arr(DAY), total=arr(I), baseline=arr(nullable(N)), threshold=arr(nullable(N)),
             spikes=arr(DAY), spike_rule=obj(k=N, min_volume=I, baseline_days=I))



def signal_schemas(schemas: dict[str, Any]) -> None:
    """Add each NLP signal's value to the dashboard's ``analysis`` (``nlp.signals``)."""
    mention = schemas["DashboardMention"]
    own = mention["allOf"][1]
    analysis = own["properties"]["analysis"]
    analysis = {**analysis, "properties": {
        **analysis["properties"], **{s.analysis_key: nullable(S) for s in signals()}}}
    schemas["DashboardMention"] = {**mention, "allOf": [
        mention["allOf"][0], {**own, "properties": {**own["properties"], "analysis": analysis}}]}


SCHEMAS: dict[str, Any] = {
    # assignee / updated_by / author are account keys ("account:<id>", "operator"); the *_name
    # fields are display names looked up at answer time ("former staff" for a deleted account).
    "Triage": obj(mention_id=I, status=enum(*TRIAGE_STATUSES), assignee=nullable(S),
                  assignee_name=nullable(S), tags=arr(S), updated_at=nullable(TIME),
                  updated_by=nullable(S), updated_by_name=nullable(S)),
    "DashboardMention": {"allOf": [ref("Mention"), obj(
        # Each NLP signal's value is added by ``signal_schemas``.
        analysis=obj(topics=arr(S), sentiment=nullable(N)),
        triage=ref("Triage"),
        # How a reply would go out: through which configured source (null: none can, or the
        # platform needs no account) and why sending is off; null: not replied to from here.
        reply=nullable(obj(source=nullable(S), off=S)))]},
    "MentionThread": obj(
        focus_id=I, source=S, thread_id=S, truncated=B,
        items=arr({"allOf": [ref("DashboardMention"), obj(
            depth={"type": "integer", "minimum": 0, "maximum": 4,
                   "description": "how many stored posts above it replies under (at most 4)"},
            parent_stored={"type": "boolean", "description": "false when it replies to a post "
                                                             "that was not collected"})]})),
    "PendingLinkExample": obj(
        id=I, mention_id=I, source=S, author_handle=S, confidence=N, evidence=S, created_at=TIME,
        snippet=obj(text=S, start=nullable(I), end=nullable(I), cut_before=B)),
    "LinkGroup": obj(
        customer_id=S, customer_name=S, rule=S, phrase=S, phrase_key=S, count=I, link_ids=arr(I),
        confidence=N, examples=arr(ref("PendingLinkExample")), can_refuse_alias=B, alias_refused=B),
    "RefusedAlias": obj(customer_id=S, customer_name=S, alias=S, refused_by=S, refused_at=TIME),
    "Note": obj(id=I, mention_id=I, author=S, author_name=S, body=S, created_at=TIME),
    "Staff": obj(id=I, key=S, name=S, role=S),
    "SavedView": obj(id=I, name=S, filters={"type": "object", "additionalProperties": S},
                     updated_at=TIME),
    "SpikeAlert": obj(id=I, kind=S, subject=S, subject_name=S, day=DAY, detected_at=TIME, count=I,
                      baseline=N, threshold=N, summary=S),
    "Volume": {"allOf": [VOLUME, obj(by_source=SERIES)]},
    "Customer360Idea": obj(id=I, title=S, status=S, status_label=S, votes=I, comments=I,
                           created_at=TIME, hidden=B, approval=S, url=S),
    "Customer360Routed": obj(id=I, team=S, team_name=S, queue_url=S, status=S, priority=S,
                             routed_at=TIME, item_kind=S, item_id=S, summary=S,
                             item_url=nullable(S)),
    "Customer360": {"allOf": [ref("Customer"), obj(
        timeline=arr(ref("DashboardMention")), more_mentions=B, volume=ref("Volume"),
        sentiment_trend=arr(obj(day=DAY, sentiment=nullable(N), mentions=I)),
        ideas=obj(count=I, items=arr(ref("Customer360Idea"))),
        votes=obj(count=I, items=arr({"allOf": [ref("Customer360Idea"),
                                                obj(voted_at=TIME, proxy=B)]})),
        routed=obj(count=I, more=B, items=arr(ref("Customer360Routed"))))]},
    "Reply": obj(
        id=I, mention_id=I, source=S, text=S, state=enum(*REPLY_STATES), team=nullable(S),
        idea_id=nullable(I), batch=nullable(S), drafted_by=S, drafted_at=TIME,
        approved_by=nullable(S), approved_at=nullable(TIME), sent_by=nullable(S), sent_at=nullable(TIME),
        platform_id=nullable(S), url=nullable(S),
        failure={**nullable(S), "description": "why the last attempt did not post (kept while rate limited)"},
        retry_after={**nullable(TIME), "description": "a rate-limited reply is not sent before this"},
        attempts=I),
}

READ_ERRORS = ("400", "401", "403")
