"""``/api/auth/*``, ``/api/tokens`` and ``/api/accounts``: sign-up, sign-in, sign-out, tokens, roles."""

from __future__ import annotations

from aiohttp import web

from api.contract import body_of, operation
from api.csrf_mask import mask
from api.forum.bodies import AccountChangeBody, SignInBody, SignUpBody, TokenBody, VerifyBody
from api.forum.serialize import account_json, token_json, viewer_json
from api.identity import (
    accounts_of,
    api_write,
    api_writer,
    clear_session_cookie,
    client_address,
    require_role,
    set_session_cookie,
    viewer,
)
from api.openapi.common import ID, PUBLIC, SIGNED_IN, SIGNED_IN_WRITE, VIEWER, B, S, items_of, obj, ref
from api.notify_access import SIGNED_UP, queue_verification
from community.access import require_signed_in
from community.accounts import NewSession
from domain.errors import BadInput


def _signed_in(request: web.Request, started: NewSession) -> web.Response:
    response = web.json_response({"account": account_json(started.session.account, full=True),
                                  "csrf_token": mask(started.session.csrf)})
    set_session_cookie(request, response, started.token, started.session.expires_at)
    return response


@operation("POST", "/api/auth/signup",
           "Create an account (the same answer for any address, and no session: sign in next; an "
           "address that has an account gets no second one, its owner is mailed instead)",
           ok=obj(message=S), status="202", body=SignUpBody, json_only=True, limited=True,
           security=PUBLIC, tags=("accounts",))
async def signup(request: web.Request) -> web.Response:
    """POST /api/auth/signup — {email, password, name}: 202 with the same answer whether or not
    the address has an account (a new one can sign in at once; the mail confirms the address,
    or tells an existing account's owner that someone tried)."""
    body = await body_of(request, SignUpBody)
    made = await accounts_of(request).sign_up(body.email, body.password, body.name,
                                              client_address(request))
    await queue_verification(request, made)
    return web.json_response({"message": SIGNED_UP}, status=202)


@operation("POST", "/api/auth/login",
           "Sign in: sets the session cookie, returns csrf_token (limited per account and per "
           "client address)", ok="SignedIn", body=SignInBody, json_only=True, limited=True,
           security=PUBLIC, tags=("accounts",))
async def login(request: web.Request) -> web.Response:
    """POST /api/auth/login — {email, password}; sets the session cookie, returns the CSRF token."""
    body = await body_of(request, SignInBody)
    return _signed_in(request, await accounts_of(request).sign_in(
        body.email, body.password, client_address(request)))


@operation("POST", "/api/auth/logout", "Sign out (a session sends X-CSRF-Token)",
           ok=obj(signed_in=B), security=SIGNED_IN_WRITE, tags=("accounts",))
async def logout(request: web.Request) -> web.Response:
    """POST /api/auth/logout — ends the session (send the X-CSRF-Token header)."""
    who, _ = await api_write(request)
    cookie = request.cookies.get("crmsphere_session")
    if who.via == "session" and cookie:
        await accounts_of(request).sign_out(cookie)
    response = web.json_response({"signed_in": False})
    clear_session_cookie(response)
    return response


@operation("POST", "/api/auth/verify", "Verify the e-mail and link the customer",
           ok=obj(account=ref("Account")), body=VerifyBody, json_only=True, security=PUBLIC,
           tags=("accounts",))
async def verify(request: web.Request) -> web.Response:
    """POST /api/auth/verify — {token} from the verification mail; links the customer."""
    body = await body_of(request, VerifyBody)
    account = await accounts_of(request).verify_email(body.token)
    return web.json_response({"account": account_json(account, True)})


@operation("GET", "/api/auth/me", "Who the caller is, and (for a session) the CSRF token",
           ok="Viewer", security=VIEWER, tags=("accounts",))
async def me(request: web.Request) -> web.Response:
    """GET /api/auth/me — who the caller is, and (for a session) the CSRF token."""
    who = await viewer(request)
    return web.json_response({**viewer_json(who), "csrf_token": mask(who.csrf) if who.via == "session" and who.csrf else None})


@operation("POST", "/api/tokens", "Create an API token (value shown once)", ok="Token",
           status="201", body=TokenBody, body_required=False, json_only=True,
           security=SIGNED_IN_WRITE, tags=("accounts",))
async def create_token(request: web.Request) -> web.Response:
    """POST /api/tokens — {name, role?}; the token value is shown once."""
    who = await api_writer(request)
    body = await body_of(request, TokenBody)
    plain, token = await accounts_of(request).create_token(who, body.name, body.role)
    return web.json_response({**token_json(token), "token": plain}, status=201)


@operation("GET", "/api/tokens", "The caller's API tokens (never their values)",
           ok=items_of(ref("Token")), security=SIGNED_IN, tags=("accounts",))
async def list_tokens(request: web.Request) -> web.Response:
    """GET /api/tokens — the caller's tokens (never their values)."""
    account = require_signed_in(await viewer(request))
    tokens = await accounts_of(request).store.list_api_tokens(account.id)
    return web.json_response({"items": [token_json(t) for t in tokens]})


@operation("DELETE", r"/api/tokens/{id:\d+}", "Revoke one of the caller's tokens", status="204",
           params=(ID,), security=SIGNED_IN_WRITE, tags=("accounts",))
async def revoke_token(request: web.Request) -> web.Response:
    """DELETE /api/tokens/{id} — revoke one of the caller's tokens."""
    who, _ = await api_write(request)
    await accounts_of(request).revoke_token(who, int(request.match_info["id"]))
    return web.Response(status=204)


@operation("PATCH", r"/api/accounts/{id:\d+}", "Set role (admin) and/or blocked (manager and above)",
           ok="Account", body=AccountChangeBody, body_required=False, json_only=True,
           params=(ID,), security=SIGNED_IN_WRITE, tags=("accounts",))
async def update_account(request: web.Request) -> web.Response:
    """PATCH /api/accounts/{id} — {role} (admin) and/or {blocked} (manager and above)."""
    who = await api_writer(request, "manager", "change accounts")
    body = (await body_of(request, AccountChangeBody)).given()
    svc, account_id = accounts_of(request), int(request.match_info["id"])
    if not body:
        raise BadInput("send role and/or blocked", {"field": "body"})
    account = None
    if "role" in body:
        account = await svc.set_role(who, account_id, body["role"])
    if "blocked" in body:
        account = await svc.set_blocked(who, account_id, body["blocked"])
    return web.json_response(account_json(account, full=True))  # type: ignore[arg-type]


@operation("GET", "/api/accounts", "Accounts (managers and above; at most 500)",
           ok=items_of(ref("Account")), security=SIGNED_IN, tags=("accounts",))
async def list_accounts(request: web.Request) -> web.Response:
    """GET /api/accounts — accounts for managers and above."""
    await require_role(request, "manager", "list accounts")
    items = await accounts_of(request).store.list_accounts(limit=500)
    return web.json_response({"items": [account_json(a, full=True) for a in items]})
