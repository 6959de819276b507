"""Who may see the community manager's dashboard: staff only, never customers.

The operator (admin bearer token, or a loopback caller when no token is
configured) is always staff; otherwise the viewer's account must hold the role
``team`` or above (team, manager, admin).  Customers and anonymous callers get
401/403 on every dashboard page and data endpoint.
"""

from __future__ import annotations

from aiohttp import web

from api import identity
from api.auth import require_operator
from community.access import require_at_least
from crmsphere.errors import AuthFailed, Forbidden

#: The name recorded on triage changes and notes made as the operator.
OPERATOR = "operator"
STAFF_ROLE = "team"


async def require_staff(request: web.Request) -> str:
    """The viewer's name if they are staff; 401/403 otherwise."""
    try:
        require_operator(request)
        return OPERATOR
    except web.HTTPException as refused:
        operator_refused = refused
    try:
        who = await identity.viewer(request)
        if who.account is None:  # nobody signed in: the operator check's answer stands
            raise operator_refused
        require_at_least(who, STAFF_ROLE, "use the dashboard")
    except AuthFailed as exc:
        raise web.HTTPUnauthorized(reason=str(exc)) from None
    except Forbidden as exc:
        raise web.HTTPForbidden(reason=str(exc)) from None
    return who.account.name or f"account {who.account.id}"
