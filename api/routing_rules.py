"""``/api/routing/rules`` (admins edit the ordered rules) and a mention as a signal on an idea
(``/api/mentions/{id}/idea``, ``/api/mentions/{id}/attach``).

Converting and attaching need staff (a browser session also its CSRF token), like every
routing write; reading and replacing the rules need an admin.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from api.dashboard_access import require_admin_write, require_staff, require_staff_write
from api.edges import request_json
from api.forum_serialize import idea_json, iso
from api.keys import RUNTIME, SETTINGS
from community.routing import Router
from community.routing_signals import MentionSignals, SignalOutcome, idea_draft
from community.routing_types import StoredRules
from config.routing import RuleBookSettings
from crmsphere.errors import BadInput


async def require_admin(request: web.Request) -> str:
    """The admin bearer token, a signed-in admin account (with CSRF), or (no account) the
    loopback operator; the actor's name."""
    return await require_admin_write(request, "edit routing rules")


def _router(request: web.Request) -> Router:
    router = request.app[RUNTIME].router
    if router is None:
        raise web.HTTPServiceUnavailable(reason="routing is not running")
    return router


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; ``BadInput`` otherwise."""
    data = await request_json(request)
    if not isinstance(data, dict):
        raise BadInput("the request body must be a JSON object")
    return data


def rules_json(stored: StoredRules | None, router: Router) -> dict[str, Any]:
    """The rules in force, their version and who set them."""
    if stored is None:
        book = router.settings.rule_book()
        return {**book.body(), "version": 0, "updated_at": None, "updated_by": "config"}
    return {"rule_sets": dict(stored.body.get("rule_sets", {})),
            "rules": list(stored.body.get("rules", [])), "version": stored.version,
            "updated_at": iso(stored.updated_at), "updated_by": stored.updated_by}


def validation_error(exc: ValidationError) -> BadInput:
    """The first problem of a pydantic error, naming the field as ``rules.2.team``."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "body"
    return BadInput(f"field '{field}': {first['msg']}", {"field": field, "errors": len(exc.errors())})


async def get_rules(request: web.Request) -> web.Response:
    """GET /api/routing/rules — the ordered rules, the rule sets (first/all match) and the version."""
    await require_admin(request)
    router = _router(request)
    return web.json_response(rules_json(await request.app[RUNTIME].store.get_routing_rules(), router))


async def put_rules(request: web.Request) -> web.Response:
    """PUT /api/routing/rules — ``{"rule_sets"?, "rules": [...]}`` replaces every rule (new events only).

    ``mode`` (``first_match``/``all_match``) is short for ``rule_sets = {"default": mode}``.
    """
    actor = await require_admin(request)
    data = await json_body(request)
    if "mode" in data:
        mode = data.pop("mode")
        data.setdefault("rule_sets", {})
        if isinstance(data["rule_sets"], dict):
            data["rule_sets"] = {**data["rule_sets"], "default": mode}
    if "rules" not in data:
        raise BadInput("field 'rules' is required (the whole ordered list)", {"field": "rules"})
    try:
        book = RuleBookSettings.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    router = _router(request)
    stored = await router.set_rules(book, actor)
    return web.json_response(rules_json(stored, router))


# -- a mention as a signal on an idea ------------------------------------------------------------
def _signals(request: web.Request) -> MentionSignals:
    runtime = request.app[RUNTIME]
    return MentionSignals(runtime.store, request.app[SETTINGS].forum, runtime.idea_events)


async def outcome_json(request: web.Request, outcome: SignalOutcome) -> dict[str, Any]:
    """The idea a mention now backs, with its linked mentions."""
    store = request.app[RUNTIME].store
    idea = outcome.idea
    accounts = await store.get_accounts([idea.author_id] if idea.author_id is not None else [])
    body = idea_json(idea, accounts)
    body["mention_ids"] = await store.idea_mentions(idea.id)
    return {"idea": body, "mention_id": outcome.mention_id, "linked": outcome.linked}


def _mention_id(request: web.Request) -> int:
    return int(request.match_info["id"])  # the route pattern admits digits only


def idea_fields(value: Any) -> dict[str, Any]:
    """The optional ``title``/``body``/``topic`` of a conversion; ``BadInput`` if not an object."""
    if value is None or value is True:
        return {}
    if not isinstance(value, dict):
        raise BadInput("convert_to_idea must be an object with title, body, topic",
                       {"field": "convert_to_idea"})
    return value


def idea_id_field(data: dict[str, Any], field: str) -> int:
    """A positive integer idea id from ``data[field]``."""
    value = data.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadInput(f"field '{field}' must be a positive integer idea id", {"field": field})
    return value


async def mention_to_idea(request: web.Request) -> web.Response:
    """POST /api/mentions/{id}/idea — ``{"title"?, "body"?, "topic"?, "hide_handle"?}``: a new
    idea backed by the mention (``hide_handle``: the author's handle and the post's link stay
    out of it)."""
    await require_staff_write(request)
    data = await json_body(request) if request.can_read_body else {}
    outcome = await _signals(request).convert(_mention_id(request), data)
    return web.json_response(await outcome_json(request, outcome), status=201)


async def idea_draft_of_mention(request: web.Request) -> web.Response:
    """GET /api/mentions/{id}/idea-draft — what "convert to idea" starts from (nothing is created):
    ``title``, ``body``, ``body_without_handle``, ``handle``, ``source``, ``topic``."""
    await require_staff(request)
    mention = await request.app[RUNTIME].store.get_mention(_mention_id(request))
    return web.json_response(idea_draft(mention, request.app[RUNTIME].settings.forum))


async def attach_mention(request: web.Request) -> web.Response:
    """POST /api/mentions/{id}/attach — ``{"idea_id"}``: link the mention to an idea (idempotent)."""
    await require_staff_write(request)
    data = await json_body(request)
    outcome = await _signals(request).attach(_mention_id(request), idea_id_field(data, "idea_id"))
    return web.json_response(await outcome_json(request, outcome), status=201 if outcome.linked else 200)


async def signal_by_route(request: web.Request, mention_id: int, data: dict[str, Any]) -> dict[str, Any] | None:
    """The ``convert_to_idea`` / ``attach_to_idea`` part of ``POST /api/route``, or ``None``."""
    if "convert_to_idea" in data and "attach_to_idea" in data:
        raise BadInput("give convert_to_idea or attach_to_idea, not both", {"field": "attach_to_idea"})
    if "convert_to_idea" in data:
        outcome = await _signals(request).convert(mention_id, idea_fields(data["convert_to_idea"]))
    elif "attach_to_idea" in data:
        outcome = await _signals(request).attach(mention_id, idea_id_field(data, "attach_to_idea"))
    else:
        return None
    return {**await outcome_json(request, outcome), "created": outcome.created}
