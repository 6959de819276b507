"""The OpenAPI paths and schemas of replies posted where the customer spoke."""

from __future__ import annotations

from typing import Any

from api.openapi_common import (
    ID,
    STAFF,
    STAFF_WRITE,
    TIME,
    I,
    S,
    arr,
    enum,
    int_query,
    model_schema,
    nullable,
    obj,
    op,
    path_param,
    query,
    ref,
    tagged,
    text_query,
)
from api.replies import MAX_LIST, BatchBody, DraftBody, EditBody, MarkSentBody
from crmsphere.domain_replies import REPLY_STATES

SCHEMAS: dict[str, Any] = {}
_DRAFT = model_schema(DraftBody, SCHEMAS)
_EDIT = model_schema(EditBody, SCHEMAS)
_BATCH = model_schema(BatchBody, SCHEMAS)
_MARK_SENT = model_schema(MarkSentBody, SCHEMAS)

SCHEMAS.update({
    "Reply": obj(
        id=I, mention_id=I, source=S, text=S, state=enum(*REPLY_STATES), team=nullable(S),
        idea_id=nullable(I), batch=nullable(S), drafted_by=S, drafted_at=TIME,
        approved_by=nullable(S), approved_at=nullable(TIME), sent_by=nullable(S), sent_at=nullable(TIME),
        platform_id=nullable(S), url=nullable(S),
        failure={**nullable(S), "description": "why the last attempt did not post (kept while rate limited)"},
        retry_after={**nullable(TIME), "description": "a rate-limited reply is not sent before this"},
        attempts=I),
})
_ON = "Staff only; approving and sending needs a manager or admin (or a team member with " \
      "replies.team_members_may_send), and a second person where the team needs approval."
_MENTION_ID = path_param("id", {"type": "integer", "minimum": 1}, "the mention's id")

_PATHS: dict[str, Any] = {
    "/api/mentions/{id}/replies": {
        "get": op("The replies to a mention, and whether a reply can be sent through the source "
                  "that read it",
                  obj(mention_id=I, source=S, can_send={"type": "boolean"},
                      off_reason={**nullable(S), "description": "which variable or table to set, or why "
                                  "the source that read it cannot be used (removed; several of the "
                                  "platform and unknown which)"},
                      items=arr(ref("Reply")), saved={"type": "object", "additionalProperties": S}),
                  params=[_MENTION_ID], errors=("401", "403", "404", "503"), security=STAFF),
        "post": op("Draft a reply to the mention (its text, or a saved reply)", "Reply", _DRAFT,
                   [_MENTION_ID], status="201", security=STAFF_WRITE, description=_ON,
                   errors=("400", "401", "403", "404", "503")),
    },
    "/api/replies": {"get": op(
        "Replies by state, team or batch, newest first; and the platform limits in force",
        obj(items=arr(ref("Reply")), limits={**arr(obj(
            platform=S, source={**S, "description": "the configured source that was limited"},
            until=TIME, reason=S)), "description": "replies through these sources wait until then "
                                                  "(kept in the store: every process, after restarts too)"}),
        params=[query("state", enum(*REPLY_STATES)), text_query("team", 200), text_query("batch", 200),
                int_query("limit", 200, 1, MAX_LIST)],
        errors=("400", "401", "403", "503"), security=STAFF)},
    "/api/replies/approve-batch": {"post": op(
        "Approve every draft of a batch (a shipped idea's replies) in one action; the replies "
        "job sends them", obj(batch=S, approved=I, approved_ids=arr(I), left_as_drafts=I), _BATCH,
        security=STAFF_WRITE, description=_ON)},
    "/api/replies/{id}": {
        "get": op("A reply with its audit trail (who drafted, approved, sent, when)",
                  {"allOf": [ref("Reply"), obj(audit=arr(obj(action=S, actor=S, at=TIME, detail=S)))]},
                  params=[ID], errors=("401", "403", "404"), security=STAFF),
        "patch": op("New text for a draft, or a failed reply (which becomes a draft again)", "Reply", _EDIT,
                    [ID], security=STAFF_WRITE),
    },
    "/api/replies/{id}/approve": {"post": op(
        "Approve a draft: answers with state approved at once, and the sender posts it off the "
        "request a moment later through the source that read the mention (poll GET "
        "/api/replies/{id}: sending, then sent or failed; a rate-limited send stays approved with "
        "failure and retry_after set, and the replies job sends it after the wait)", "Reply", None, [ID],
        security=STAFF_WRITE, description=_ON)},
    "/api/replies/{id}/send": {"post": op(
        "Send a draft of a team without approval, or an approved reply now: answers with state "
        "approved, and the sender posts it a moment later (as for approve)", "Reply", None, [ID],
        security=STAFF_WRITE, description=_ON)},
    "/api/replies/{id}/retry": {"post": op(
        "Approve a failed reply again (credentials fixed, platform back); the sender posts it a "
        "moment later", "Reply", None, [ID],
        security=STAFF_WRITE, description=_ON)},
    "/api/replies/{id}/mark-sent": {"post": op(
        "Record a reply a person posted by hand (Hacker News has no write API)", "Reply", _MARK_SENT,
        [ID], security=STAFF_WRITE, description=_ON)},
}

PATHS: dict[str, Any] = tagged(_PATHS, "replies")
