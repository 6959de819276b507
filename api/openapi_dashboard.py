"""The OpenAPI paths and schemas of the community manager's dashboard: the filtered mention
stream with triage, notes, CSV export, facets, spike alerts, saved views, analytics and the
customer 360."""

from __future__ import annotations

from typing import Any

from api.dashboard_api import MAX_BULK
from api.dashboard_insights import VIEW_FILTERS
from api.link_queue import MAX_BULK_GROUPS, MAX_BULK_LINKS
from api.openapi_common import (
    DAY,
    ID,
    STAFF,
    STAFF_WRITE,
    TIME,
    B,
    I,
    N,
    S,
    arr,
    enum,
    header,
    int_query,
    items_of,
    nullable,
    obj,
    op,
    page_of,
    path_param,
    query,
    ref,
    tagged,
    text,
    text_query,
)
from api.openapi_listening import MENTION_FILTERS
from crmsphere.domain_triage import TRIAGE_STATUSES

_TAG = {"type": "string", "pattern": r"^[\w][\w .:/-]{0,39}$",
        "description": "letters, digits, space . : / -; at most 40 characters"}
_SERIES = {"type": "object", "additionalProperties": arr(I), "description": "key → count per day"}
_VOLUME = obj(days=arr(DAY), total=arr(I), baseline=arr(nullable(N)), threshold=arr(nullable(N)),
              spikes=arr(DAY), spike_rule=obj(k=N, min_volume=I, baseline_days=I))

SCHEMAS: dict[str, Any] = {
    # assignee / updated_by / author are account keys ("account:<id>", "operator"); the *_name
    # fields are display names looked up at answer time ("former staff" for a deleted account).
    "Triage": obj(mention_id=I, status=enum(*TRIAGE_STATUSES), assignee=nullable(S),
                  assignee_name=nullable(S), tags=arr(S), updated_at=nullable(TIME),
                  updated_by=nullable(S), updated_by_name=nullable(S)),
    "DashboardMention": {"allOf": [ref("Mention"), obj(
        analysis=obj(topics=arr(S), sentiment=nullable(N), sentiment_label=nullable(S),
                     intent=nullable(S), language=nullable(S)),
        triage=ref("Triage"))]},
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
                      baseline=N, threshold=N),
    "Volume": {"allOf": [_VOLUME, obj(by_source=_SERIES)]},
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
}

#: The stream's filters: the listing's plus triage status, assignee ("-": unassigned) and tag.
_FILTERS = [*MENTION_FILTERS, query("status", enum(*TRIAGE_STATUSES), "triage status"),
            text_query("assignee", 100, 'a staff account id, or "-" for unassigned'),
            text_query("tag", 40)]
_PERIOD_DAY = {"type": "string", "format": "date", "maxLength": 10}
#: The period of an analytics answer: the last ``days``, or ``since`` .. ``until`` (either wins).
_DAYS = [int_query("days", 30, 1, 365, "the last so many whole UTC days (without since/until)"),
         query("since", _PERIOD_DAY, "first day (YYYY-MM-DD, UTC); at most 365 days before until"),
         query("until", _PERIOD_DAY, "last day, included (YYYY-MM-DD, UTC); default today")]
_READ_ERRORS = ("400", "401", "403")

_STREAM: dict[str, Any] = {
    "/api/dashboard/mentions": {"get": op("The filtered stream's page of mentions with triage",
                                          page_of(ref("DashboardMention")), params=_FILTERS,
                                          errors=_READ_ERRORS, security=STAFF)},
    "/api/dashboard/mentions.csv": {"get": op(
        "Every mention of the filtered list as CSV (at most 50,000 rows)",
        params=[p for p in _FILTERS if p["name"] not in ("limit", "cursor")],
        errors=_READ_ERRORS, security=STAFF)},
    "/api/dashboard/mentions/{id}/notes": {
        "get": op("A mention's private notes", items_of(ref("Note")), params=[ID],
                  errors=("401", "403", "404"), security=STAFF),
        "post": op("Keep a private note on a mention", "Note", obj("body", body=text(5000, 1)), [ID],
                   status="201", security=STAFF_WRITE)},
    "/api/dashboard/mentions/{id}/thread": {"get": op(
        "The stored posts of a mention's conversation (first post, parent, replies), oldest first",
        "MentionThread", params=[ID], errors=("401", "403", "404"), security=STAFF,
        description="At most 200 posts; the mention asked for is always among them.")},
    "/api/dashboard/triage": {"post": op(
        "One triage change to one or many mentions (bulk actions)", items_of(ref("Triage")),
        obj("mention_ids", mention_ids={**arr({"type": "integer", "minimum": 1}, MAX_BULK), "minItems": 1},
            status=enum(*TRIAGE_STATUSES),
            assignee={"anyOf": [{"type": "integer", "minimum": 1}, text(100)],
                      "description": 'a staff account id (or "account:<id>"); "" unassigns'},
            add_tags=arr(_TAG, 20), remove_tags=arr(_TAG, 20)),
        description="Give at least one of status, assignee, add_tags, remove_tags.",
        security=STAFF_WRITE)},
    "/api/dashboard/staff": {"get": op("Active staff accounts, to pick an assignee from",
                                       items_of(ref("Staff")), errors=("401", "403"),
                                       security=STAFF)},
    "/api/dashboard/facets": {"get": op(
        "Counts per source, topic, sentiment, intent and status for the stream's filters",
        {"type": "object", "properties": {"since": TIME},
         "additionalProperties": arr(obj(value=S, count=I))},
        params=_FILTERS, errors=_READ_ERRORS, security=STAFF,
        description="Without `since` the counts cover the last 7 days (the answer's `since`).")},
    "/api/dashboard/alerts": {"get": op("Spike alerts of the last `days`, newest first",
                                        items_of(ref("SpikeAlert")),
                                        params=[int_query("days", 7, 1, 90), *_DAYS[1:], int_query("limit", 50, 1, 500)],
                                        errors=_READ_ERRORS, security=STAFF)},
    "/api/dashboard/views": {
        "get": op("The viewer's saved views", items_of(ref("SavedView")), errors=("401", "403"),
                  security=STAFF),
        "post": op("Keep (or replace by name) a saved view; at most 100 per person", "SavedView",
                   obj("name", name=text(80, 1),
                       filters={"type": "object", "additionalProperties": False,
                                "properties": {name: text(500) for name in VIEW_FILTERS}}),
                   status="201", errors=_READ_ERRORS, security=STAFF_WRITE)},
    "/api/dashboard/views/{id}": {"delete": op("Forget one of the viewer's saved views",
                                               obj(deleted=B), params=[ID], errors=("401", "403", "404"),
                                               security=STAFF_WRITE)},
}
_STREAM["/api/stream/mentions"] = {"get": op(
    "Live mentions matching the stream's filters, as Server-Sent Events",
    params=[p for p in _FILTERS if p["name"] not in ("limit", "cursor")] + [
        query("after", {"type": "integer", "minimum": 0}, "catch up from after this mention id"),
        header("Last-Event-ID", "sent by EventSource on reconnect; same as after", required=False)],
    errors=("400", "401", "403", "503"), security=STAFF,
    description="Events: `ready` first, then `mention` events whose data is a DashboardMention "
                "(without the listing-only fields). Deflate when the client accepts it.")}
_STREAM["/api/stream/mentions"]["get"]["responses"]["200"] = {
    "description": "An endless event stream", "content": {"text/event-stream": {"schema": S}}}
_STREAM["/api/dashboard/mentions.csv"]["get"]["responses"]["200"] = {
    "description": "CSV with a header row", "content": {"text/csv": {"schema": S}}}

_ANALYTICS: dict[str, Any] = {
    "/api/dashboard/analytics/volume": {"get": op(
        "Daily volume per source with the 7-day baseline and spike days", "Volume",
        params=[*_DAYS, text_query("customer", 200, "a customer id")], errors=_READ_ERRORS,
        security=STAFF)},
    "/api/dashboard/analytics/top-authors": {"get": op(
        "The most active authors over whole UTC days",
        items_of(obj(source=S, handle=S, name=nullable(S), mentions=I, engagement=I)),
        params=[*_DAYS, int_query("limit", 10, 1, 100)], errors=_READ_ERRORS, security=STAFF)},
    "/api/dashboard/analytics/topics": {"get": op(
        "Topic share and daily volume per topic with baseline and spike days",
        {"allOf": [_VOLUME, obj(share=arr(obj(topic=S, mentions=I, share=N)), by_topic=_SERIES)]},
        params=_DAYS, errors=_READ_ERRORS, security=STAFF)},
    "/api/dashboard/analytics/sentiment": {"get": op(
        "Mean sentiment per day", items_of(obj(day=DAY, sentiment=nullable(N), mentions=I)),
        params=_DAYS, errors=_READ_ERRORS, security=STAFF)},
    "/api/dashboard/analytics/share-of-voice": {"get": op(
        "Mentions naming our brand and each configured competitor, with shares",
        obj(configured=B, items=arr(obj(name=S, mentions=I, share=N, ours=B))),
        params=_DAYS, errors=_READ_ERRORS, security=STAFF)},
    "/api/dashboard/analytics/first-response": {"get": op(
        "Median and p90 time from posting to the first staff action, per day of posting",
        items_of(obj(day=DAY, median_seconds=nullable(N), p90_seconds=nullable(N), responded=I)),
        params=_DAYS, errors=_READ_ERRORS, security=STAFF)},
    "/api/dashboard/customers/{id}": {"get": op(
        "The customer 360: identities, mention timeline with triage, volume and sentiment trend, "
        "forum ideas, votes and routed items (the newest 20 of each, with counts)",
        "Customer360", params=[path_param("id", S, "a customer id")], errors=("401", "403", "404"),
        security=STAFF)},
}

_GROUP_KEY = obj("customer_id", "rule", "phrase", customer_id=text(200, 1), rule=text(64, 1),
                 phrase=text(500, 1))
_LINK_QUEUE: dict[str, Any] = {
    "/api/links/review/groups": {"get": op(
        "Every pending link grouped by customer, rule and matched words, biggest group first",
        obj(groups=arr(ref("LinkGroup")), pending=I, truncated=B), errors=("401", "403"),
        security=STAFF, description="At most the 20,000 oldest pending links are grouped (`truncated`).")},
    "/api/links/review/bulk": {"post": op(
        "Confirm or reject every link of the groups and ids given, in one request",
        obj(action=S, decided=I, decided_ids=arr(I), skipped=arr(obj(id=I, reason=S)),
            relinked_mentions=I),
        obj("action", action=enum("confirm", "reject"),
            groups=arr(_GROUP_KEY, MAX_BULK_GROUPS),
            link_ids=arr({"type": "integer", "minimum": 1}, MAX_BULK_LINKS)),
        description=f"Give groups, link_ids or both; at most {MAX_BULK_LINKS} links in all. A link "
                    "decided meanwhile is listed in `skipped`, the others are decided.",
        security=STAFF_WRITE)},
    "/api/links/refused-aliases": {
        "get": op("Aliases refused as words (never linked), oldest first", items_of(ref("RefusedAlias")),
                  errors=("401", "403"), security=STAFF),
        "post": op("Never link a customer's alias as a word: the gazetteer is rebuilt without it and "
                   "the pending links it made are removed",
                   obj(customer_id=S, alias=S, newly_refused=B, dropped_links=I),
                   obj("customer_id", "alias", customer_id=text(200, 1), alias=text(200, 1)),
                   status="201", errors=("400", "401", "403", "404"), security=STAFF_WRITE,
                   description="200 when the alias was refused already.")},
}

PATHS: dict[str, Any] = {**tagged(_STREAM, "dashboard"), **tagged(_ANALYTICS, "analytics"),
                         **tagged(_LINK_QUEUE, "people and links")}
