"""Who is asking: session cookies, bearer tokens, roles and CSRF tokens for views and pages.

A browser is known by an HttpOnly, SameSite=Lax session cookie (Secure over TLS) whose
value the store keeps only hashed; its forms carry the session's CSRF token.  Before
sign-in, forms carry a random token that must match a cookie (double submit).  Pages carry
the token masked afresh on every answer (api/csrf_mask.py: compressed pages must not leak it).  An
integration sends ``Authorization: Bearer cst_...``; bearer calls need no CSRF token.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import os
import secrets
from datetime import datetime
from typing import Any

from aiohttp import web

from api.csrf_mask import mask, unmask
from api.edges import request_json
from api.keys import RUNTIME, SETTINGS
from community.access import ANONYMOUS, Viewer, require_at_least
from community.accounts import TOKEN_REFUSED, Accounts
from config.forum import ForumSettings
from domain.forum import Account, Role
from domain.errors import AuthFailed, BadInput
from storage import Store

SESSION_COOKIE = "crmsphere_session"
CSRF_COOKIE = "crmsphere_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
_VIEWER = web.RequestKey("viewer", Viewer)
_NEW_CSRF = web.RequestKey("new_csrf", str)
#: The admin token on a route judged by account: no account of its own, so it reads what
#: anyone may read (staff and operator routes check the token themselves, see api/auth.py);
#: a bearer credential, so no CSRF token is asked of it.
ADMIN_TOKEN_VIEWER = Viewer(via="token")


def store_of(request: web.Request) -> Store:
    """The application's store."""
    return request.app[RUNTIME].store


def forum_settings(request: web.Request) -> ForumSettings:
    """The ``[forum]`` settings."""
    return request.app[SETTINGS].forum


def accounts_of(request: web.Request) -> Accounts:
    """The account service for this request."""
    return Accounts(store_of(request), forum_settings(request))


def has_admin_token(request: web.Request) -> bool:
    """True when an admin token is configured and the request carries it."""
    token = os.environ.get(request.app[SETTINGS].api.admin_token_env)
    if not token:
        return False
    sent = request.headers.get("Authorization", "")
    return hmac.compare_digest(sent.encode(), _admin_header(token))


@functools.lru_cache(maxsize=4)
def _admin_header(token: str) -> bytes:
    # The header the admin token is sent in, made once per token (read on every bearer call).
    return f"Bearer {token}".encode()


def client_address(request: web.Request) -> str:
    """The network address the request came from, as the sign-in and mail limits count it and
    the operator check judges it.

    Behind the reverse proxies of ``server.trusted_proxies`` it is the nearest address of
    ``X-Forwarded-For`` that is not one of them (each proxy appends the peer it saw, so the
    entries left of that are whatever the client wrote and are not believed).
    """
    peer = request.remote or "unknown"
    proxies = _networks(request.app[SETTINGS].server.trusted_proxies)
    if not proxies or not _within(peer, proxies):
        return peer
    hops = [h.strip() for v in request.headers.getall("X-Forwarded-For", ()) for h in v.split(",")]
    for hop in reversed(hops):
        if not _within(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:  # a proxy of ours would not write this: believe none of it
                return peer
    return peer


@functools.lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


def _within(address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


async def viewer(request: web.Request) -> Viewer:
    """The viewer behind ``request`` (looked up once per request).

    A bearer token that is unknown or revoked is refused outright (401) rather than
    treated as anonymous, so an integration learns its token stopped working.  The admin
    token is known: it reads what anyone may (``ADMIN_TOKEN_VIEWER``).
    """
    if _VIEWER in request:
        return request[_VIEWER]
    found = ANONYMOUS
    auth = request.headers.get("Authorization", "")
    if auth and has_admin_token(request):
        found = ADMIN_TOKEN_VIEWER
    elif auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthFailed("Authorization must be 'Bearer <token>'")
        token_viewer = await accounts_of(request).token_viewer(value.strip())
        if token_viewer is None:
            raise AuthFailed(TOKEN_REFUSED)
        found = token_viewer
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            session = await accounts_of(request).session(cookie)
            if session is not None and not session.account.blocked:
                found = Viewer(account=session.account, role=session.account.role, via="session",
                               csrf=session.csrf)
    request[_VIEWER] = found
    return found


def bearer_token(request: web.Request) -> str | None:
    """The API token of ``Authorization: Bearer <token>``, for a route that judges it in its
    own unit of work (the vote); ``None`` when the request carries another credential or none,
    the admin token, or a header ``viewer`` refuses as malformed — ``viewer`` judges those —
    or when the viewer is already known."""
    auth = request.headers.get("Authorization", "")
    if not auth or _VIEWER in request or has_admin_token(request):
        return None
    scheme, _, value = auth.partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def known_viewer(request: web.Request, who: Viewer) -> None:
    """From here on ``viewer(request)`` is ``who`` (judged from ``bearer_token`` elsewhere)."""
    request[_VIEWER] = who


async def require_role(request: web.Request, role: Role, doing: str) -> Viewer:
    """The viewer if signed in with ``role`` or above; 401/403 otherwise."""
    who = await viewer(request)
    require_at_least(who, role, doing)
    return who


#: Bytes of a new CSRF token: 128 bits cannot be guessed, and every form carries it.
CSRF_BYTES = 16


async def csrf_token(request: web.Request) -> str:
    """The CSRF token a form on this page must send back, masked afresh for this call
    (api/csrf_mask.py)."""
    who = await viewer(request)
    if who.via == "session" and who.csrf:
        return mask(who.csrf)
    existing = request.cookies.get(CSRF_COOKIE) or request.get(_NEW_CSRF)
    if existing and 20 <= len(existing) <= 100:
        return mask(existing)
    request[_NEW_CSRF] = secrets.token_urlsafe(CSRF_BYTES)
    return mask(request[_NEW_CSRF])


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def _matches(sent: object, expected: str | None) -> bool:
    """Whether ``sent`` is the token ``expected``, masked (as pages write it) or as it is (as
    a client that kept the sign-in answer's ``csrf_token`` of an older version sends it)."""
    if not isinstance(sent, str) or not expected:
        return False
    return _same(sent, expected) or _same(unmask(sent), expected)


async def check_csrf(request: web.Request, form: Any) -> None:
    """Refuse (403) a state-changing browser request without the right CSRF token.

    The token comes from the form field ``csrf`` or the ``X-CSRF-Token`` header.
    Bearer-token calls carry no ambient credentials and need none.
    """
    who = await viewer(request)
    if who.via == "token":
        return
    sent = (form.get(CSRF_FIELD) if form is not None else None) or request.headers.get(CSRF_HEADER)
    expected = who.csrf if who.via == "session" else request.cookies.get(CSRF_COOKIE)
    if not _matches(sent, expected):
        raise web.HTTPForbidden(reason="missing or wrong CSRF token; reload the page and try again")


def secure_cookie(request: web.Request) -> bool:
    """Whether cookies set for this request get the Secure flag (``[forum] secure_cookies``)."""
    mode = forum_settings(request).secure_cookies
    return mode == "always" or (mode == "auto" and request.secure)


def remember_csrf(request: web.Request, response: web.StreamResponse) -> None:
    """Set the pre-sign-in CSRF cookie if this request made a new token."""
    token = request.get(_NEW_CSRF)
    if token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="Lax", secure=secure_cookie(request),
                            path="/", max_age=7 * 86400)


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str,
                       expires_at: datetime) -> None:
    """Hand the browser its session cookie (HttpOnly, SameSite=Lax, Secure over TLS)."""
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax", secure=secure_cookie(request),
                        path="/", expires=expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT"))
    response.del_cookie(CSRF_COOKIE, path="/")


def adopt_session(request: web.Request, account: Account, csrf: str) -> Viewer:
    """From here on this request acts as ``account`` signed in with a new session (whose
    cookie goes out with the answer): the page rendered and any action taken are theirs."""
    found = Viewer(account=account, role=account.role, via="session", csrf=csrf)
    request[_VIEWER] = found
    return found


def clear_session_cookie(response: web.StreamResponse) -> None:
    """Forget the session cookie (sign-out)."""
    response.del_cookie(SESSION_COOKIE, path="/")


async def read_json(request: web.Request) -> dict[str, Any]:
    """A JSON object body; 415 for another content type (which also stops cross-site form
    posts), 400 when it is not a JSON object."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(reason="send the body as application/json")
    body = await request_json(request)
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object")
    return body


async def api_writer(request: web.Request, at_least: Role | None = None,
                     doing: str = "") -> Viewer:
    """The viewer of a state-changing API call, CSRF-checked for sessions and, for a staff
    route, of role ``at_least`` or above (``Forbidden`` naming ``doing``) — all before its body
    is read: a caller who may not write learns nothing of the body's rules."""
    who = await viewer(request)
    if who.via == "session":
        await check_csrf(request, None)
    if at_least is not None:
        require_at_least(who, at_least, doing)
    return who


async def api_write(request: web.Request) -> tuple[Viewer, dict[str, Any]]:
    """The viewer and JSON body of a state-changing API call, CSRF-checked for sessions."""
    who = await viewer(request)
    body = await read_json(request) if request.body_exists else {}
    if who.via == "session":
        await check_csrf(request, None)
    return who, body
