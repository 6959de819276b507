"""Who may see the community manager's dashboard: staff only, never customers.

The operator (the admin bearer token, or an anonymous loopback caller when no
token is configured and ``api.trust_loopback`` is on) is staff.  A signed-in
viewer is judged by their account alone, even on loopback, so a customer browsing from the server's own machine
(or through a reverse proxy on it) is still a customer: their account must hold
the role ``team`` or above (team, manager, admin).  Customers and anonymous
remote callers get 401/403 on every staff page and data endpoint.
"""

from __future__ import annotations

from aiohttp import web

from api import identity
from api.auth import has_admin_token, require_operator
from community.access import require_at_least
from domain.errors import AuthFailed, Forbidden

#: The name recorded on triage changes and notes made as the operator.
OPERATOR = "operator"
STAFF_ROLE = "team"


async def require_staff(request: web.Request) -> str:
    """The viewer's name if they are staff; 401/403 otherwise."""
    if has_admin_token(request):
        return OPERATOR
    try:
        who = await identity.viewer(request)
        if who.account is None:
            require_operator(request)
            return OPERATOR
        require_at_least(who, STAFF_ROLE, "use the dashboard")
    except AuthFailed as exc:
        raise web.HTTPUnauthorized(reason=str(exc)) from None
    except Forbidden as exc:
        raise web.HTTPForbidden(reason=str(exc)) from None
    return who.account.name or f"account {who.account.id}"


async def require_staff_write(request: web.Request) -> str:
    """``require_staff`` for a state-changing call: a browser session must also send its CSRF token."""
    name = await require_staff(request)
    # Judged by how the caller came, never by the name: an account may be called "operator".
    if not has_admin_token(request) and (await identity.viewer(request)).via == "session":
        await identity.check_csrf(request, None)
    return name


def account_key(account_id: int) -> str:
    """The owner key of things a staff account keeps for itself (e.g. saved views)."""
    return f"account:{int(account_id)}"


async def require_staff_key(request: web.Request) -> str:
    """The viewer's owner key if they are staff (``account:<id>``, or ``OPERATOR``); 401/403 otherwise.

    Display names are not unique (and one may read "operator"), so anything a staff member
    owns is keyed by account id, never by name."""
    await require_staff(request)
    return await _key(request)


async def require_staff_key_write(request: web.Request) -> str:
    """``require_staff_key`` for a state-changing call (a browser session must send its CSRF token)."""
    await require_staff_write(request)
    return await _key(request)


async def _key(request: web.Request) -> str:
    if has_admin_token(request):
        return OPERATOR
    who = await identity.viewer(request)
    return OPERATOR if who.account is None else account_key(who.account.id)


async def require_admin_write(request: web.Request, doing: str) -> str:
    """The admin token, the anonymous loopback operator, or a signed-in admin (a browser
    session with its CSRF token) may do an operator's ``doing``; 401/403 for anyone else.

    A signed-in account is judged by its role even on loopback, so a customer browsing from
    the server's machine (or through a reverse proxy on it) is not the operator."""
    if has_admin_token(request):
        return OPERATOR
    try:
        who = await identity.viewer(request)
        if who.account is None:
            require_operator(request)
            return OPERATOR
        require_at_least(who, "admin", doing)
    except AuthFailed as exc:
        raise web.HTTPUnauthorized(reason=str(exc)) from None
    except Forbidden as exc:
        raise web.HTTPForbidden(reason=str(exc)) from None
    if who.via == "session":
        await identity.check_csrf(request, None)
    return who.account.name or f"account {who.account.id}"
