"""``/api/routing/escalations``: admins read and replace the escalation rules in force
(validated by the same models as ``[[routing.escalations]]``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.contract import body_of, operation
from api.keys import RUNTIME
from api.openapi.common import STAFF_WRITE
from api.routing.bodies import RoutingEscalationsBody
from api.routing.rules import ADMINS_ONLY, require_admin
from community.routing_escalation_book import EscalationBook, StoredEscalations
from config.routing_escalations import EscalationSettings


def escalations_json(stored: StoredEscalations | None,
                     configured: tuple[EscalationSettings, ...]) -> dict[str, Any]:
    """The escalations in force, their version and who set them."""
    if stored is None:
        return {"escalations": [e.model_dump(mode="json") for e in configured], "version": 0,
                "updated_at": None, "updated_by": "config"}
    return {**stored.book.body(), "version": stored.version,
            "updated_at": stored.updated_at.isoformat().replace("+00:00", "Z"),
            "updated_by": stored.updated_by}


def _configured(request: web.Request) -> tuple[EscalationSettings, ...]:
    runtime = request.app[RUNTIME]
    if runtime.router is None:
        raise web.HTTPServiceUnavailable(reason="routing is not running")
    return runtime.router.settings.escalations


@operation("GET", "/api/routing/escalations", "The escalation rules in force and their version",
           ok="RoutingEscalations", errors=("401", "403", "503"), description=ADMINS_ONLY,
           security=STAFF_WRITE, tags=("routing rules",))
async def get_escalations(request: web.Request) -> web.Response:
    """GET /api/routing/escalations — the escalation rules in force and their version."""
    await require_admin(request)
    configured = _configured(request)
    stored = await EscalationBook(request.app[RUNTIME].store).load()
    return web.json_response(escalations_json(stored, configured))


@operation("PUT", "/api/routing/escalations", "Replace every escalation rule",
           ok="RoutingEscalations", body=RoutingEscalationsBody,
           errors=("400", "401", "403", "503"), description=ADMINS_ONLY, security=STAFF_WRITE,
           tags=("routing rules",))
async def put_escalations(request: web.Request) -> web.Response:
    """PUT /api/routing/escalations — ``{"escalations": [...]}`` replaces every escalation rule."""
    actor = await require_admin(request)
    configured = _configured(request)
    body = await body_of(request, RoutingEscalationsBody)
    stored = await EscalationBook(request.app[RUNTIME].store).replace(body.book(), actor)
    return web.json_response(escalations_json(stored, configured))
