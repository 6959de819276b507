"""The OpenAPI paths and schemas of the ideas forum: accounts and tokens, ideas, votes, comments,
moderation and notifications."""

from __future__ import annotations

from typing import Any

from api.openapi_common import (
    ANY_OBJECT,
    ID,
    PUBLIC,
    SIGNED_IN,
    SIGNED_IN_WRITE,
    TIME,
    VIEWER,
    B,
    I,
    N,
    S,
    arr,
    enum,
    int_query,
    items_of,
    json_only,
    limited,
    nullable,
    obj,
    op,
    query,
    ref,
    tagged,
    text_query,
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
}

_ACTION = enum("approve", "reject", "hide", "unhide", "lock", "unlock", "spam", "not-spam", "dismiss")
_TAGS = arr(S)
_STAFF = "Staff only (role team or above)."

_AUTH_PATHS: dict[str, Any] = {
    "/api/auth/signup": {"post": limited(op(
        "Create an account (the same answer for any address, and no session: sign in next; an "
        "address that has an account gets no second one, its owner is mailed instead)",
        obj(message=S), obj("email", "password", email=S, password=S, name=S),
        status="202", security=PUBLIC))},
    "/api/auth/login": {"post": limited(op(
        "Sign in: sets the session cookie, returns csrf_token (limited per account and per "
        "client address)", "SignedIn", obj("email", "password", email=S, password=S),
        security=PUBLIC))},
    "/api/auth/logout": {"post": op("Sign out (a session sends X-CSRF-Token)", obj(signed_in=B),
                                    security=SIGNED_IN_WRITE)},
    "/api/auth/verify": {"post": op("Verify the e-mail and link the customer",
                                    obj(account=ref("Account")), obj("token", token=S), security=PUBLIC)},
    "/api/auth/me": {"get": op("Who the caller is, and (for a session) the CSRF token", "Viewer",
                               security=VIEWER)},
    "/api/auth/login-link": {"post": limited(op(
        "Mail a one-time sign-in link (same answer for any address)", body=obj("email", email=S),
        status="202", security=PUBLIC))},
    "/api/auth/password-reset": {"post": limited(op(
        "Mail a password-reset link (same answer for any address)", body=obj("email", email=S),
        status="202", security=PUBLIC))},
    "/api/auth/password-reset/confirm": {"post": op(
        "Set a new password from a reset link", body=obj("token", "password", token=S, password=S),
        security=PUBLIC)},
    "/api/tokens": {"get": op("The caller's API tokens (never their values)", items_of(ref("Token")),
                              security=SIGNED_IN),
                    "post": op("Create an API token (value shown once)", "Token",
                               obj("name", name=S, role=_ROLE), status="201", security=SIGNED_IN_WRITE)},
    "/api/tokens/{id}": {"delete": op("Revoke one of the caller's tokens", params=[ID], status="204",
                                      security=SIGNED_IN_WRITE)},
    "/api/accounts": {"get": op("Accounts (managers and above; at most 500)", items_of(ref("Account")),
                                security=SIGNED_IN)},
    "/api/accounts/{id}": {"patch": op("Set role (admin) and/or blocked (manager and above)", "Account",
                                       obj(role=_ROLE, blocked=B), [ID], security=SIGNED_IN_WRITE)},
}

_IDEA_PATHS: dict[str, Any] = {
    "/api/statuses": {"get": op("The configured idea statuses in order", items_of(obj(key=S, label=S, closed=B, roadmap=B, color=S)),
                                security=VIEWER)},
    "/api/ideas": {
        "get": op("Browse ideas", obj(items=arr(ref("Idea")), total=I, next_offset=nullable(I)), params=[
            query("sort", enum("trending", "top", "new", "impact")),
            text_query("status", 40), text_query("topic", 60), text_query("tag", 40),
            query("mine", S, "1, true or yes: only the caller's ideas"),
            text_query("q", 300, "full text"), int_query("limit", 20, 1, 100),
            int_query("offset", 0, 0, 1_000_000)], security=VIEWER),
        "post": limited(op("Submit an idea (waits for approval when the queue is on)", "Idea",
                           obj("title", "body", title=S, body=S, topic=S, tags=_TAGS),
                           status="201", security=SIGNED_IN_WRITE))},
    "/api/ideas/similar": {"get": op(
        "Ideas similar to a title being typed",
        items_of(obj(id=I, title=S, score=N, url=S)),
        params=[{**text_query("title", 300), "required": True},
                int_query("exclude", 0, 0, 2**62, "an idea id to leave out")], security=VIEWER)},
    "/api/ideas/votes": {"get": op(
        "Current vote counts of up to 100 ideas (live counts)",
        obj(items={"type": "object", "additionalProperties": I, "description": "idea id → votes"}),
        params=[{**text_query("ids", 1200, "1 to 100 idea ids separated by commas"), "required": True}],
        errors=("400",), security=VIEWER)},
    "/api/ideas/{id}": {
        "get": op("An idea with comments, status history and impact breakdown", "IdeaDetail", params=[ID],
                  security=VIEWER),
        "patch": op("Edit an idea (author for a while, staff always)", "Idea",
                    obj(title=S, body=S, topic=S, tags=_TAGS, hidden=B, locked=B), [ID],
                    security=SIGNED_IN_WRITE),
        "delete": op("Delete an idea (staff)", params=[ID], status="204", security=SIGNED_IN_WRITE)},
    "/api/ideas/{id}/vote": {
        "post": limited(op("Vote; staff may vote on behalf of a customer", "Vote",
                           obj(customer_id=S, note=S,
                               source=enum("call", "mail", "social", "meeting", "other")),
                           [ID], security=SIGNED_IN_WRITE)),
        "delete": limited(op("Take a vote back", "Vote",
                             params=[ID, text_query("customer_id", 200, "staff only")],
                             security=SIGNED_IN_WRITE))},
    "/api/ideas/{id}/comments": {
        "get": op("Comments (internal notes for staff only)", items_of(ref("Comment")), params=[ID],
                  security=VIEWER),
        "post": limited(op("Comment, reply or internal note", "Comment",
                           obj("body", body=S, parent_id=I, internal=B), [ID], status="201",
                           security=SIGNED_IN_WRITE))},
    "/api/comments/{id}": {
        "patch": op("Edit a comment", "Comment", obj("body", body=S), [ID], security=SIGNED_IN_WRITE),
        "delete": op("Delete a comment", params=[ID], status="204", security=SIGNED_IN_WRITE)},
    "/api/ideas/{id}/status": {"post": op("Change status with a response (staff)", "Idea",
                                          obj("status", status=S, response=S), [ID],
                                          security=SIGNED_IN_WRITE)},
    "/api/ideas/{id}/merge": {"post": op("Merge this idea into another (staff)", "Merge",
                                         obj("into", into=I), [ID], status="201",
                                         security=SIGNED_IN_WRITE)},
    "/api/ideas/{id}/unmerge": {"post": op("Undo this idea's merge exactly (staff)", "Merge", params=[ID],
                                           security=SIGNED_IN_WRITE)},
    "/api/ideas/{id}/follow": {"post": op("Follow", params=[ID], security=SIGNED_IN_WRITE),
                               "delete": op("Unfollow", params=[ID], security=SIGNED_IN_WRITE)},
    "/api/ideas/{id}/mentions": {"post": op("Link a social mention (staff); 200 when already linked",
                                            obj(linked=B), obj("mention_id", mention_id=I), [ID],
                                            status="201", security=SIGNED_IN_WRITE)},
}

_MODERATION_PATHS: dict[str, Any] = {
    "/api/moderation": {"get": op("Moderation queue: unapproved ideas and comments, open reports, "
                                  "ideas marked spam", params=[int_query("limit", 100, 1, 500)],
                                  description=_STAFF, security=SIGNED_IN)},
    "/api/ideas/{id}/moderate": {"post": op("Moderate an idea", "Idea", obj("action", action=_ACTION),
                                            [ID], description=_STAFF, security=SIGNED_IN_WRITE)},
    "/api/comments/{id}/moderate": {"post": op("Moderate a comment (no lock/unlock)", "Comment",
                                               obj("action", action=_ACTION), [ID], description=_STAFF,
                                               security=SIGNED_IN_WRITE)},
    "/api/ideas/{id}/report": {"post": op("Report an idea to the moderators", body=obj(reason=S),
                                          params=[ID], status="201", security=SIGNED_IN_WRITE)},
    "/api/comments/{id}/report": {"post": op("Report a comment to the moderators", body=obj(reason=S),
                                             params=[ID], status="201", security=SIGNED_IN_WRITE)},
}

_NOTIFY_PATHS: dict[str, Any] = {
    "/api/notifications": {"get": op("The caller's notifications, newest first",
                                     items_of(ANY_OBJECT), params=[query("unread", S, "1, true or yes: unread only"),
                                             int_query("limit", 50, 1, 200)], security=SIGNED_IN)},
    "/api/notifications/unread": {"get": op("How many of the caller's notifications are unread", obj(unread=I),
                                            security=SIGNED_IN)},
    "/api/notifications/read": {"post": op("Mark notifications read (all without ids)",
                                           obj(marked=I), body=obj(ids=arr(I)), security=SIGNED_IN_WRITE)},
    "/api/notifications/settings": {
        "get": op("The caller's notification settings", obj(mail=B, digest=B), security=SIGNED_IN),
        "put": op("Change mail and/or daily digest", obj(mail=B, digest=B), obj(mail=B, digest=B),
                  security=SIGNED_IN_WRITE)},
}

#: Every forum, account and notification body is read by ``read_json`` (415 for another type).
PATHS: dict[str, Any] = json_only({
    **tagged(_AUTH_PATHS, "accounts"), **tagged(_IDEA_PATHS, "forum"),
    **tagged(_MODERATION_PATHS, "moderation"), **tagged(_NOTIFY_PATHS, "notifications"),
})
