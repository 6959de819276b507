"""Who may call operator endpoints (until forum accounts and roles exist)."""

from __future__ import annotations

import hmac
import ipaddress
import os
from urllib.parse import urlsplit

from aiohttp import web

from api.identity import SESSION_COOKIE, client_address, has_admin_token
from api.keys import SETTINGS

__all__ = ["SAFE_METHODS", "has_admin_token", "require_operator"]

#: Methods that change nothing (a link followed from another site may still open a page).
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def require_operator(request: web.Request) -> None:
    """Allow the admin bearer token, or (when no token is configured and ``api.trust_loopback``
    is on) a loopback caller."""
    api = request.app[SETTINGS].api
    token = os.environ.get(api.admin_token_env)
    if token:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            raise web.HTTPUnauthorized(reason="a valid admin bearer token is required")
        return
    if not api.trust_loopback:
        # Behind a reverse proxy on this machine every request is loopback: trusting it must
        # be an explicit choice, never what an unconfigured install does.
        raise web.HTTPUnauthorized(reason=f"operator endpoints need the admin bearer token "
                                          f"(set {api.admin_token_env}), or api.trust_loopback "
                                          f"on a single-user machine")
    peer = client_address(request)  # behind a trusted proxy: the client, not the proxy
    try:
        loopback = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise web.HTTPForbidden(reason="operator endpoints answer only to this machine "
                                       "unless an admin token is configured")
    if SESSION_COOKIE in request.cookies:
        # Callers with a live session never get here (they are judged by their account); a
        # cookie that no longer counts (blocked, signed out elsewhere, expired) must not turn
        # its browser into the operator either.
        raise web.HTTPForbidden(reason="this browser's session has ended: sign in again, "
                                       "or sign out to act as the operator on this machine")
    if request.method not in SAFE_METHODS and _cross_site(request):
        # The loopback address is an ambient credential like a cookie: a page on another site,
        # open in a browser on this machine, must not be able to post a form as the operator.
        raise web.HTTPForbidden(reason="a cross-site request cannot act as the operator")


def _cross_site(request: web.Request) -> bool:
    """Whether a browser says this request comes from another site (Fetch metadata, or an
    Origin that is not this host)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:  # modern browsers: exact, and untouched by a proxy's Host rewrite
        return fetch_site.lower() in ("cross-site", "same-site")
    origin = request.headers.get("Origin")
    if origin is None:
        return False  # curl, scripts and same-origin navigations of old browsers
    return origin == "null" or urlsplit(origin).netloc.lower() != (request.host or "").lower()
