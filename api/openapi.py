"""``GET /api/openapi.json``: the OpenAPI 3 description of the forum API."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from crmsphere import __version__

_ERROR = {"$ref": "#/components/responses/Error"}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


_S, _I, _B = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
SCHEMAS: dict[str, Any] = {
    "Error": _obj(error=_obj(code=_S, message=_S, details={"type": "object"})),
    "Account": _obj(id=_I, name=_S, role={"type": "string", "enum": ["customer", "team", "manager", "admin"]},
                    email=_S, customer_id=_S, email_verified=_B, blocked=_B),
    "Idea": _obj(id=_I, title=_S, body=_S, body_html=_S, status=_S, status_response=_S, topic=_S,
                 tags={"type": "array", "items": _obj(name=_S, public=_B)}, vote_count=_I,
                 comment_count=_I, impact={"type": "number"}, voted=_B, merged_into=_I,
                 hidden=_B, locked=_B, approval={"type": "string", "enum": ["pending", "approved", "rejected"]},
                 spam=_B, created_at=_S, updated_at=_S, url=_S),
    "Comment": _obj(id=_I, idea_id=_I, parent_id=_I, internal=_B, deleted=_B, body=_S, body_html=_S,
                    created_at=_S, approval=_S, hidden=_B),
    "Vote": _obj(idea_id=_I, voted=_B, changed=_B, vote_count=_I),
    "Merge": _obj(id=_I, source_id=_I, target_id=_I, created_at=_S, undone_at=_S, moved={"type": "object"}),
    "Token": _obj(id=_I, name=_S, role=_S, created_at=_S, last_used_at=_S, revoked_at=_S, token=_S),
}


def _op(summary: str, ok: str | None = None, body: dict | None = None, params: list | None = None,
        status: str = "200") -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {
        status: {"description": "OK", **({"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ok}"}}}} if ok else {})},
        "400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR, "409": _ERROR}}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


def _q(name: str, schema: dict, description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _limited(op: dict[str, Any]) -> dict[str, Any]:
    """``op`` with its rate-limit answer: 429 with a Retry-After header (seconds)."""
    op["responses"]["429"] = {"description": "Rate limited: try again after Retry-After seconds",
                              "headers": {"Retry-After": {"schema": _I}},
                              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return op


_ACTION = {"type": "string", "enum": ["approve", "reject", "hide", "unhide", "lock", "unlock", "spam",
                                      "not-spam", "dismiss"]}

PATHS: dict[str, Any] = {
    "/api/auth/signup": {"post": _op("Create an account and sign in", "Account",
                                     _obj(email=_S, password=_S, name=_S), status="201")},
    "/api/auth/login": {"post": _op("Sign in: sets the session cookie, returns csrf_token", "Account",
                                    _obj(email=_S, password=_S))},
    "/api/auth/logout": {"post": _op("Sign out (send X-CSRF-Token)")},
    "/api/auth/verify": {"post": _op("Verify the e-mail and link the customer", "Account", _obj(token=_S))},
    "/api/auth/me": {"get": _op("Who the caller is")},
    "/api/tokens": {"get": _op("The caller's API tokens"),
                    "post": _op("Create an API token (value shown once)", "Token",
                                _obj(name=_S, role=_S), status="201")},
    "/api/tokens/{id}": {"delete": _op("Revoke a token", params=[_ID], status="204")},
    "/api/accounts/{id}": {"patch": _op("Set role (admin) or blocked (manager)", "Account",
                                        _obj(role=_S, blocked=_B), [_ID])},
    "/api/statuses": {"get": _op("The configured idea statuses")},
    "/api/ideas": {
        "get": _op("Browse ideas", params=[
            _q("sort", {"type": "string", "enum": ["trending", "top", "new", "impact"]}),
            _q("status", _S), _q("topic", _S), _q("tag", _S), _q("mine", _B), _q("q", _S, "full text"),
            _q("limit", _I), _q("offset", _I)]),
        "post": _limited(_op("Submit an idea (waits for approval when the queue is on)", "Idea",
                             _obj(title=_S, body=_S, topic=_S, tags={"type": "array", "items": _S}),
                             status="201"))},
    "/api/ideas/similar": {"get": _op("Ideas similar to a title being typed", params=[
        {**_q("title", _S), "required": True}, _q("exclude", _I)])},
    "/api/ideas/{id}": {
        "get": _op("An idea with comments, status history and impact breakdown", "Idea", params=[_ID]),
        "patch": _op("Edit an idea (author for a while, staff always)", "Idea",
                     _obj(title=_S, body=_S, topic=_S, tags={"type": "array", "items": _S}, hidden=_B, locked=_B),
                     [_ID]),
        "delete": _op("Delete an idea (staff)", params=[_ID], status="204")},
    "/api/ideas/{id}/vote": {
        "post": _limited(_op("Vote; staff may vote on behalf of a customer", "Vote",
                             _obj(customer_id=_S, note=_S, source={
                                 "type": "string", "enum": ["call", "mail", "social", "meeting", "other"]}),
                             [_ID])),
        "delete": _limited(_op("Take a vote back", "Vote", params=[_ID, _q("customer_id", _S, "staff only")]))},
    "/api/ideas/{id}/comments": {
        "get": _op("Comments (internal notes for staff only)", params=[_ID]),
        "post": _limited(_op("Comment, reply or internal note", "Comment",
                             _obj(body=_S, parent_id=_I, internal=_B), [_ID], status="201"))},
    "/api/comments/{id}": {"patch": _op("Edit a comment", "Comment", _obj(body=_S), [_ID]),
                           "delete": _op("Delete a comment", params=[_ID], status="204")},
    "/api/ideas/{id}/status": {"post": _op("Change status with a response (staff)", "Idea",
                                           _obj(status=_S, response=_S), [_ID])},
    "/api/ideas/{id}/merge": {"post": _op("Merge this idea into another (staff)", "Merge", _obj(into=_I),
                                          [_ID], status="201")},
    "/api/ideas/{id}/unmerge": {"post": _op("Undo this idea's merge exactly (staff)", "Merge", params=[_ID])},
    "/api/ideas/{id}/follow": {"post": _op("Follow", params=[_ID]), "delete": _op("Unfollow", params=[_ID])},
    "/api/ideas/{id}/mentions": {"post": _op("Link a social mention (staff)", body=_obj(mention_id=_I),
                                             params=[_ID], status="201")},
    "/api/ideas/votes": {"get": _op("Current vote counts of up to 100 ideas (live counts)", params=[
        {**_q("ids", _S, "idea ids separated by commas"), "required": True}])},
    "/api/moderation": {"get": _op("Moderation queue: unapproved ideas and comments, open reports, "
                                   "ideas marked spam (staff)", params=[_q("limit", _I)])},
    "/api/ideas/{id}/moderate": {"post": _op("Moderate an idea (staff)", "Idea", _obj(action=_ACTION), [_ID])},
    "/api/comments/{id}/moderate": {"post": _op("Moderate a comment (staff; no lock/unlock)", "Comment",
                                                _obj(action=_ACTION), [_ID])},
    "/api/ideas/{id}/report": {"post": _op("Report an idea to the moderators", body=_obj(reason=_S),
                                           params=[_ID], status="201")},
    "/api/comments/{id}/report": {"post": _op("Report a comment to the moderators", body=_obj(reason=_S),
                                              params=[_ID], status="201")},
    "/api/notifications": {"get": _op("The caller's notifications, newest first",
                                      params=[_q("unread", _B), _q("limit", _I)])},
    "/api/notifications/unread": {"get": _op("How many of the caller's notifications are unread")},
    "/api/notifications/read": {"post": _op("Mark notifications read (all without ids)",
                                            body=_obj(ids={"type": "array", "items": _I}))},
    "/api/notifications/settings": {
        "get": _op("The caller's notification settings"),
        "put": _op("Change mail and/or daily digest", body=_obj(mail=_B, digest=_B))},
    "/api/auth/login-link": {"post": _limited(_op("Mail a one-time sign-in link (same answer for any address)",
                                                  body=_obj(email=_S), status="202"))},
    "/api/auth/password-reset": {"post": _limited(_op("Mail a password-reset link (same answer for any address)",
                                                      body=_obj(email=_S), status="202"))},
    "/api/auth/password-reset/confirm": {"post": _op("Set a new password from a reset link",
                                                     body=_obj(token=_S, password=_S))},
}


def document() -> dict[str, Any]:
    """The OpenAPI 3.0 document."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "crmsphere ideas forum API", "version": __version__,
                 "description": "Errors: {\"error\": {\"code\", \"message\", \"details\"}}. "
                                "Browser sessions send X-CSRF-Token on writes; integrations use "
                                "Authorization: Bearer <token>."},
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "responses": {"Error": {"description": "Error", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "crmsphere_session"}},
        },
        "security": [{"bearer": []}, {"session": []}, {}],
    }


async def openapi_json(request: web.Request) -> web.Response:
    """GET /api/openapi.json"""
    return web.json_response(document())
