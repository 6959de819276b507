"""The OpenAPI answer schemas of the ideas forum: accounts and tokens, ideas, votes, comments,
moderation, notifications and the changelog."""

from __future__ import annotations

from typing import Any

from api.openapi.common import (
    ANY_OBJECT,
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

_ROLE = enum("customer", "team", "manager", "admin")
_AUTHOR = nullable(obj(id=I, name=S, staff=B))

SCHEMAS: dict[str, Any] = {
    "Account": obj(id=I, name=S, role=_ROLE, email=S, customer_id=nullable(S), email_verified=B,
                   blocked=B, created_at=TIME),
    "SignedIn": obj("account", "csrf_token", account=ref("Account"), csrf_token=S),
    "Viewer": obj(signed_in=B, via=enum("anonymous", "session", "token"), role=nullable(_ROLE),
                  account=nullable(ref("Account")), csrf_token=nullable(S)),
    "Idea": obj(id=I, title=S, body=S, body_html=S, status=S, status_response=nullable(S),
                status_changed_at=nullable(TIME), topic=nullable(S),
                tags=arr(obj(name=S, public=B)), vote_count=I, comment_count=I, impact=N,
                author=_AUTHOR, voted=nullable(B), merged_into=nullable(I), hidden=B, locked=B,
                approval=enum("pending", "approved", "rejected"), spam=B, created_at=TIME,
                updated_at=nullable(TIME), url=S),
    "Comment": obj(id=I, idea_id=I, parent_id=nullable(I), internal=B, deleted=B, body=S,
                   body_html=S, author=_AUTHOR, created_at=TIME, updated_at=nullable(TIME),
                   approval=S, hidden=B),
    "IdeaDetail": {"allOf": [ref("Idea"), obj(
        comments=arr(ref("Comment")),
        status_history=arr(obj(**{"from": nullable(S)}, to=S, response=nullable(S),
                               account_id=nullable(I), at=TIME)),
        impact_breakdown=ANY_OBJECT, voting_open=B,
        merges={**arr(ref("Merge")), "description": "staff only"},
        mention_ids={**arr(I), "description": "staff only"})]},
    "Vote": obj(idea_id=I, voted=B, changed=B, vote_count=I),
    "Merge": obj(id=I, source_id=I, target_id=I, account_id=nullable(I), created_at=TIME,
                 undone_at=nullable(TIME), moved=obj(votes=I, duplicate_votes=I)),
    "Token": obj(id=I, name=S, role=_ROLE, created_at=TIME, last_used_at=nullable(TIME),
                 revoked_at=nullable(TIME),
                 token={"type": "string", "description": "the value, in the create answer only"}),
    "ChangelogEntry": obj(
        id=I, title=S, body={**S, "description": "Markdown"},
        body_html={**S, "description": "the body rendered and sanitised"},
        state=enum("draft", "publishing", "published"), published_at=nullable(TIME),
        created_at=TIME, updated_at=TIME, url=S,
        ideas=arr(obj(id=I, title=S, status=S, vote_count=I, url=S))),
}

