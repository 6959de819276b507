"""``/api/routing/escalations``: admins read and replace the escalation rules in force
(validated by the same models as ``[[routing.escalations]]``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from api.keys import RUNTIME
from api.routing_rules import json_body, require_admin, validation_error
from community.routing_escalation_book import EscalationBook, StoredEscalations
from config.routing import EscalationBookSettings, EscalationSettings
from crmsphere.errors import BadInput


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


async def get_escalations(request: web.Request) -> web.Response:
    """GET /api/routing/escalations — the escalation rules in force and their version."""
    await require_admin(request)
    configured = _configured(request)
    stored = await EscalationBook(request.app[RUNTIME].store).load()
    return web.json_response(escalations_json(stored, configured))


async def put_escalations(request: web.Request) -> web.Response:
    """PUT /api/routing/escalations — ``{"escalations": [...]}`` replaces every escalation rule."""
    actor = await require_admin(request)
    configured = _configured(request)
    data = await json_body(request)
    if "escalations" not in data:
        raise BadInput("field 'escalations' is required (the whole list)", {"field": "escalations"})
    try:
        book = EscalationBookSettings.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    stored = await EscalationBook(request.app[RUNTIME].store).replace(book, actor)
    return web.json_response(escalations_json(stored, configured))
