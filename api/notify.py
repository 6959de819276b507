"""Closing the loop over HTTP: one-click unsubscribe, in-app notifications and mail settings,
and the account mails' routes (sign-in link, password reset). Thin views over community.notify.

Requests for a sign-in link or a password reset answer the same whether or not the address
has an account, so they never reveal who is registered.
"""

from __future__ import annotations

from aiohttp import web

from api import pending_vote
from api.contract import add_operations, body_of, operation
from api.forum.bodies import EmailBody, MarkReadBody, NotificationSettingsBody, PasswordResetBody
from api.forum.pages import forum_page, render
from api.forum.signin import demo_link, landing
from api.identity import (
    accounts_of,
    adopt_session,
    api_writer,
    check_csrf,
    client_address,
    forum_settings,
    set_session_cookie,
    store_of,
    viewer,
)
from api.keys import RUNTIME
from api.notify_access import notifier
from api.query_models import NotificationPage, query_of
from api.openapi.common import (
    ANY_OBJECT,
    PUBLIC,
    SIGNED_IN,
    SIGNED_IN_WRITE,
    B,
    I,
    S,
    items_of,
    obj,
)
from community.access import require_signed_in
from community.ideas import Ideas
from community.accounts import PASSWORD_RESET, SIGN_IN_LINK
from domain import utcnow
from domain.notify import Notification
from domain.errors import AuthFailed, BadInput, NotFound

SENT = ("If an account uses this address, a mail with a link is on its way. "
        "The link works once and expires soon.")


def _token(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 200:
        raise BadInput("token is required", {"field": "token"})
    return value


# -- unsubscribe ----------------------------------------------------------------------------
@forum_page
async def unsubscribe_page(request: web.Request) -> web.Response:
    """GET /forum/unsubscribe?token= — the link in every follower mail: stop that follow."""
    idea_id = await notifier(request).unsubscribe(request.query.get("token", "")[:200])
    return await render(request, "error.html", {
        "title": "Unsubscribed", "done": True,
        "message": f"Done: you no longer follow {await _idea_named(request, idea_id)} and get no "
                   "more mail about it. Voting or commenting on it again follows it again."})


async def _idea_named(request: web.Request, idea_id: int) -> str:
    # The idea by its title, as the mail named it; by number when this visitor may not see it
    # (hidden or removed since): the page must not show what the forum hides.
    try:
        idea = await Ideas(store_of(request), forum_settings(request)).get(await viewer(request), idea_id)
    except NotFound:
        return f"idea #{idea_id}"
    return f"\u201c{idea.title}\u201d"


async def unsubscribe_one_click(request: web.Request) -> web.Response:
    """POST /forum/unsubscribe?token= — RFC 8058 one-click (``List-Unsubscribe-Post``); mail
    clients send no cookies and no CSRF token: the signed token is the authority."""
    token = request.query.get("token") or (await request.post()).get("token")
    try:
        idea_id = await notifier(request).unsubscribe(str(token or "")[:200])
    except BadInput as exc:
        return web.json_response({"error": {"code": "bad_input", "message": str(exc),
                                            "details": exc.details}}, status=400)
    return web.json_response({"unsubscribed": True, "idea_id": idea_id})


# -- in-app notifications and settings ------------------------------------------------------
def _note_json(n: Notification) -> dict:
    return {"id": n.id, "kind": n.kind, "idea_id": n.idea_id, "title": n.title, "body": n.body,
            "url": n.url, "created_at": n.created_at.isoformat().replace("+00:00", "Z"),
            "read": n.read_at is not None}


@operation("GET", "/api/notifications", "The caller's notifications, newest first",
           ok=items_of(ANY_OBJECT),
           query=NotificationPage,
           security=SIGNED_IN, tags=("notifications",))
async def list_notifications(request: web.Request) -> web.Response:
    """GET /api/notifications — the caller's notifications, newest first (``unread=1``, ``limit``)."""
    account = require_signed_in(await viewer(request))
    given = query_of(request, NotificationPage)
    notes = await request.app[RUNTIME].store.list_notifications(account.id, given.unread,
                                                                given.limit)
    return web.json_response({"items": [_note_json(n) for n in notes]})


@operation("GET", "/api/notifications/unread", "How many of the caller's notifications are unread",
           ok=obj(unread=I), security=SIGNED_IN, tags=("notifications",))
async def unread_count(request: web.Request) -> web.Response:
    """GET /api/notifications/unread — {unread}: how many of the caller's are unread."""
    account = require_signed_in(await viewer(request))
    return web.json_response({"unread": await request.app[RUNTIME].store.unread_count(account.id)})


@operation("POST", "/api/notifications/read", "Mark notifications read (all without ids)",
           ok=obj(marked=I), body=MarkReadBody, body_required=False, json_only=True,
           security=SIGNED_IN_WRITE, tags=("notifications",))
async def mark_read(request: web.Request) -> web.Response:
    """POST /api/notifications/read — {ids?}: mark those (or all) of the caller's read."""
    who = await api_writer(request)
    body = await body_of(request, MarkReadBody)
    account = require_signed_in(who)
    changed = await request.app[RUNTIME].store.mark_notifications_read(account.id, body.ids,
                                                                       utcnow())
    return web.json_response({"marked": changed})


@operation("GET", "/api/notifications/settings", "The caller's notification settings",
           ok=obj(mail=B, digest=B), security=SIGNED_IN, tags=("notifications",))
async def get_settings(request: web.Request) -> web.Response:
    """GET /api/notifications/settings — {mail}."""
    return web.json_response(await notifier(request).settings_of(await viewer(request)))


@operation("PUT", "/api/notifications/settings", "Change mail and/or daily digest",
           ok=obj(mail=B, digest=B), body=NotificationSettingsBody, body_required=False,
           json_only=True, security=SIGNED_IN_WRITE, tags=("notifications",))
async def put_settings(request: web.Request) -> web.Response:
    """PUT /api/notifications/settings — {mail?: bool, digest?: bool}."""
    who = await api_writer(request)
    body = await body_of(request, NotificationSettingsBody)
    if not body.model_fields_set:
        raise BadInput("send mail and/or digest, each true or false", {"field": "body"})
    return web.json_response(await notifier(request).change_settings(who, body.mail, body.digest))


# -- sign-in link and password reset (API) --------------------------------------------------
async def _request_link(request: web.Request, kind: str, email: object) -> str | None:
    svc, client = accounts_of(request), client_address(request)
    # Limited per network address and per mailbox (Accounts), so nobody floods an inbox.
    found = await (svc.request_sign_in_link(email, client) if kind == SIGN_IN_LINK
                   else svc.request_password_reset(email, client))
    if found is None:
        return None
    await notifier(request).account_mail(kind, *found)
    return found[1]


@operation("POST", "/api/auth/login-link", "Mail a one-time sign-in link (same answer for any address)",
           ok=obj(message=S), status="202", body=EmailBody, json_only=True, limited=True,
           security=PUBLIC, tags=("accounts",))
async def login_link(request: web.Request) -> web.Response:
    """POST /api/auth/login-link — {email}: mail a one-time sign-in link (same answer for any address)."""
    body = await body_of(request, EmailBody)
    await _request_link(request, SIGN_IN_LINK, body.email)
    return web.json_response({"message": SENT}, status=202)


@operation("POST", "/api/auth/password-reset", "Mail a password-reset link (same answer for any address)",
           ok=obj(message=S), status="202", body=EmailBody, json_only=True, limited=True,
           security=PUBLIC, tags=("accounts",))
async def password_reset(request: web.Request) -> web.Response:
    """POST /api/auth/password-reset — {email}: mail a reset link (same answer for any address)."""
    body = await body_of(request, EmailBody)
    await _request_link(request, PASSWORD_RESET, body.email)
    return web.json_response({"message": SENT}, status=202)


@operation("POST", "/api/auth/password-reset/confirm", "Set a new password from a reset link",
           ok=obj(reset=B), body=PasswordResetBody, json_only=True, security=PUBLIC, tags=("accounts",))
async def password_reset_confirm(request: web.Request) -> web.Response:
    """POST /api/auth/password-reset/confirm — {token, password}: set the new password; every
    session of the account ends."""
    body = await body_of(request, PasswordResetBody)
    await accounts_of(request).reset_password(body.token, body.password)
    return web.json_response({"reset": True})


# -- the same as forms ------------------------------------------------------------------------
@forum_page
async def link_form(request: web.Request) -> web.Response:
    """GET /forum/signin-link and /forum/password-reset — ask for a link by e-mail."""
    reset = request.path.endswith("password-reset")
    return await render(request, "email_link.html", {"reset": reset, "sent": False, "error": None,
                                                     "demo_link": None})


@forum_page
async def link_request(request: web.Request) -> web.Response:
    """POST /forum/signin-link and /forum/password-reset"""
    form = await request.post()
    await check_csrf(request, form)
    reset = request.path.endswith("password-reset")
    kind = PASSWORD_RESET if reset else SIGN_IN_LINK
    try:
        secret = await _request_link(request, kind, form.get("email"))
    except BadInput as exc:
        return await render(request, "email_link.html", {"reset": reset, "sent": False,
                                                         "error": str(exc), "demo_link": None}, 400)
    return await render(request, "email_link.html", {
        "reset": reset, "sent": True, "error": None,
        "demo_link": demo_link(request, kind, secret) if secret else None}, 202)


@forum_page
async def token_form(request: web.Request) -> web.Response:
    """GET /forum/signin-link/use and /forum/password-reset/confirm — a button (and a password
    field) rather than acting on GET, so mail scanners opening links use up nothing."""
    reset = request.path.endswith("confirm")
    return await render(request, "token_form.html", {
        "reset": reset, "token": request.query.get("token", "")[:200], "error": None})


@forum_page
async def token_use(request: web.Request) -> web.StreamResponse:
    """POST /forum/signin-link/use and /forum/password-reset/confirm"""
    form = await request.post()
    await check_csrf(request, form)
    reset = request.path.endswith("confirm")
    svc = accounts_of(request)
    try:
        token = _token(form.get("token"))
        if reset:
            await svc.reset_password(token, form.get("password"))
        else:
            started = await svc.sign_in_with_link(token)
    except (AuthFailed, BadInput) as exc:
        return await render(request, "token_form.html", {
            "reset": reset, "token": str(form.get("token", ""))[:200], "error": str(exc)},
            401 if isinstance(exc, AuthFailed) else 400)
    if reset:
        raise web.HTTPSeeOther("/forum/signin")
    response = web.HTTPSeeOther(landing(started.session.account, ""))
    vote = await pending_vote.cast(request, response, adopt_session(request, started.session.account,
                                                                    started.session.csrf))
    if vote is not None:
        response.headers["Location"] = vote.next_path
    set_session_cookie(request, response, started.token, started.session.expires_at)
    raise response


def setup_notify_routes(app: web.Application) -> None:
    """Attach the notification, unsubscribe and account-mail routes."""
    r = app.router
    r.add_get("/forum/unsubscribe", unsubscribe_page)
    r.add_post("/forum/unsubscribe", unsubscribe_one_click)
    add_operations(r, list_notifications, mark_read, get_settings, put_settings, unread_count,
                   login_link, password_reset, password_reset_confirm)
    for path in ("/forum/signin-link", "/forum/password-reset"):
        r.add_get(path, link_form)
        r.add_post(path, link_request)
    for path in ("/forum/signin-link/use", "/forum/password-reset/confirm"):
        r.add_get(path, token_form)
        r.add_post(path, token_use)
