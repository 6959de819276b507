"""``/api/auth/*``, ``/api/tokens`` and ``/api/accounts``: sign-up, sign-in, sign-out, tokens, roles."""

from __future__ import annotations

from aiohttp import web

from api.forum_serialize import account_json, token_json, viewer_json
from api.identity import (
    accounts_of,
    api_write,
    clear_session_cookie,
    client_address,
    read_json,
    require_role,
    set_session_cookie,
    viewer,
)
from api.notify_access import SIGNED_UP, queue_verification
from community.access import require_signed_in
from community.accounts import NewSession
from crmsphere.errors import BadInput


def _signed_in(request: web.Request, started: NewSession) -> web.Response:
    response = web.json_response({"account": account_json(started.session.account, full=True),
                                  "csrf_token": started.session.csrf})
    set_session_cookie(request, response, started.token, started.session.expires_at)
    return response


async def signup(request: web.Request) -> web.Response:
    """POST /api/auth/signup — {email, password, name}: 202 with the same answer whether or not
    the address has an account (a new one can sign in at once; the mail confirms the address,
    or tells an existing account's owner that someone tried)."""
    body = await read_json(request)
    made = await accounts_of(request).sign_up(body.get("email"), body.get("password"),
                                              body.get("name"), client_address(request))
    await queue_verification(request, made)
    return web.json_response({"message": SIGNED_UP}, status=202)


async def login(request: web.Request) -> web.Response:
    """POST /api/auth/login — {email, password}; sets the session cookie, returns the CSRF token."""
    body = await read_json(request)
    return _signed_in(request, await accounts_of(request).sign_in(
        body.get("email"), body.get("password"), client_address(request)))


async def logout(request: web.Request) -> web.Response:
    """POST /api/auth/logout — ends the session (send the X-CSRF-Token header)."""
    who, _ = await api_write(request)
    cookie = request.cookies.get("crmsphere_session")
    if who.via == "session" and cookie:
        await accounts_of(request).sign_out(cookie)
    response = web.json_response({"signed_in": False})
    clear_session_cookie(response)
    return response


async def verify(request: web.Request) -> web.Response:
    """POST /api/auth/verify — {token} from the verification mail; links the customer."""
    body = await read_json(request)
    token = body.get("token")
    if not isinstance(token, str) or not token:
        raise BadInput("token is required", {"field": "token"})
    return web.json_response({"account": account_json(await accounts_of(request).verify_email(token), True)})


async def me(request: web.Request) -> web.Response:
    """GET /api/auth/me — who the caller is, and (for a session) the CSRF token."""
    who = await viewer(request)
    return web.json_response({**viewer_json(who), "csrf_token": who.csrf if who.via == "session" else None})


async def create_token(request: web.Request) -> web.Response:
    """POST /api/tokens — {name, role?}; the token value is shown once."""
    who, body = await api_write(request)
    plain, token = await accounts_of(request).create_token(who, body.get("name"), body.get("role"))
    return web.json_response({**token_json(token), "token": plain}, status=201)


async def list_tokens(request: web.Request) -> web.Response:
    """GET /api/tokens — the caller's tokens (never their values)."""
    account = require_signed_in(await viewer(request))
    tokens = await accounts_of(request).store.list_api_tokens(account.id)
    return web.json_response({"items": [token_json(t) for t in tokens]})


async def revoke_token(request: web.Request) -> web.Response:
    """DELETE /api/tokens/{id} — revoke one of the caller's tokens."""
    who, _ = await api_write(request)
    await accounts_of(request).revoke_token(who, int(request.match_info["id"]))
    return web.Response(status=204)


async def update_account(request: web.Request) -> web.Response:
    """PATCH /api/accounts/{id} — {role} (admin) and/or {blocked} (manager and above)."""
    who, body = await api_write(request)
    svc, account_id = accounts_of(request), int(request.match_info["id"])
    unknown = set(body) - {"role", "blocked"}
    if unknown or not body:
        raise BadInput("send role and/or blocked", {"fields": sorted(unknown)})
    account = None
    if "role" in body:
        account = await svc.set_role(who, account_id, body["role"])
    if "blocked" in body:
        if not isinstance(body["blocked"], bool):
            raise BadInput("blocked must be true or false", {"field": "blocked"})
        account = await svc.set_blocked(who, account_id, body["blocked"])
    return web.json_response(account_json(account, full=True))  # type: ignore[arg-type]


async def list_accounts(request: web.Request) -> web.Response:
    """GET /api/accounts — accounts for managers and above."""
    await require_role(request, "manager", "list accounts")
    items = await accounts_of(request).store.list_accounts(limit=500)
    return web.json_response({"items": [account_json(a, full=True) for a in items]})
