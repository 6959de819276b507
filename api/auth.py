"""Who may call operator endpoints (until forum accounts and roles exist)."""

from __future__ import annotations

import hmac
import ipaddress
import os

from aiohttp import web

from api.keys import SETTINGS


def has_admin_token(request: web.Request) -> bool:
    """True when an admin token is configured and the request carries it."""
    token = os.environ.get(request.app[SETTINGS].api.admin_token_env)
    sent = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


def require_operator(request: web.Request) -> None:
    """Allow the admin bearer token, or (when no token is configured) a loopback caller."""
    token = os.environ.get(request.app[SETTINGS].api.admin_token_env)
    if token:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            raise web.HTTPUnauthorized(reason="a valid admin bearer token is required")
        return
    peer = request.remote or ""
    try:
        loopback = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise web.HTTPForbidden(reason="operator endpoints answer only to this machine "
                                       "unless an admin token is configured")
