"""``/api/routing/rules`` (admins edit the ordered rules) and a mention as a signal on an idea
(``/api/mentions/{id}/idea``, ``/api/mentions/{id}/attach``).

Converting and attaching need staff (a browser session also its CSRF token), like every
routing write; reading and replacing the rules need an admin.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.contract import body_of, operation
from api.dashboard.access import require_admin_write, require_staff, require_staff_write
from api.forum.serialize import idea_json, iso
from api.keys import RUNTIME, SETTINGS
from api.openapi.common import ID, STAFF, STAFF_WRITE, I, S, nullable, obj
from api.routing.bodies import AttachMentionBody, IdeaFields, RouteBody, RoutingRulesBody
from community.routing import Router
from community.routing_signals import MentionSignals, SignalOutcome, idea_draft
from domain.routing import StoredRules
from domain.errors import BadInput


async def require_admin(request: web.Request) -> str:
    """The admin bearer token, a signed-in admin account (with CSRF), or (no account) the
    loopback operator; the actor's name."""
    return await require_admin_write(request, "edit routing rules")


def _router(request: web.Request) -> Router:
    router = request.app[RUNTIME].router
    if router is None:
        raise web.HTTPServiceUnavailable(reason="routing is not running")
    return router


def rules_json(stored: StoredRules | None, router: Router) -> dict[str, Any]:
    """The rules in force, their version and who set them."""
    if stored is None:
        book = router.settings.rule_book()
        return {**book.body(), "version": 0, "updated_at": None, "updated_by": "config"}
    return {"rule_sets": dict(stored.body.get("rule_sets", {})),
            "rules": list(stored.body.get("rules", [])), "version": stored.version,
            "updated_at": iso(stored.updated_at), "updated_by": stored.updated_by}


#: Who may read and replace the rules and escalations.
ADMINS_ONLY = ("Admins only: the admin token, an admin account (a session also sends "
               "X-CSRF-Token, even to read), or the operator on loopback when api.trust_loopback "
               "is on and no admin token is configured.")


@operation("GET", "/api/routing/rules",
           "The ordered routing rules in force, the rule sets and their version",
           ok="RoutingRules", errors=("401", "403", "503"), description=ADMINS_ONLY,
           security=STAFF_WRITE, tags=("routing rules",))
async def get_rules(request: web.Request) -> web.Response:
    """GET /api/routing/rules — the ordered rules, the rule sets (first/all match) and the version."""
    await require_admin(request)
    router = _router(request)
    return web.json_response(rules_json(await request.app[RUNTIME].store.get_routing_rules(), router))


@operation("PUT", "/api/routing/rules", "Replace every routing rule (applies to new events only)",
           ok="RoutingRules", body=RoutingRulesBody, errors=("400", "401", "403", "503"),
           description=ADMINS_ONLY, security=STAFF_WRITE, tags=("routing rules",))
async def put_rules(request: web.Request) -> web.Response:
    """PUT /api/routing/rules — ``{"rule_sets"?, "rules": [...]}`` replaces every rule (new events only).

    ``mode`` (``first_match``/``all_match``) is short for ``rule_sets = {"default": mode}``.
    """
    actor = await require_admin(request)
    body = await body_of(request, RoutingRulesBody)
    router = _router(request)
    stored = await router.set_rules(body.book(), actor)
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


@operation("POST", r"/api/mentions/{id:\d+}/idea", "A new idea backed by the mention (body optional)",
           ok="IdeaSignal", status="201", body=IdeaFields, body_required=False, params=(ID,),
           security=STAFF_WRITE, tags=("routing rules",))
async def mention_to_idea(request: web.Request) -> web.Response:
    """POST /api/mentions/{id}/idea — ``{"title"?, "body"?, "topic"?, "hide_handle"?}``: a new
    idea backed by the mention (``hide_handle``: the author's handle and the post's link stay
    out of it)."""
    await require_staff_write(request)
    fields = await body_of(request, IdeaFields)
    outcome = await _signals(request).convert(_mention_id(request), fields.given())
    return web.json_response(await outcome_json(request, outcome), status=201)


@operation("GET", r"/api/mentions/{id:\d+}/idea-draft",
           "What converting the mention would start from (nothing is created)",
           ok=obj(mention_id=I, handle=S, source=S, title=S, body=S, body_without_handle=S,
                  topic=nullable(S)), params=(ID,), errors=("401", "403", "404"),
           security=STAFF, tags=("routing rules",))
async def idea_draft_of_mention(request: web.Request) -> web.Response:
    """GET /api/mentions/{id}/idea-draft — what "convert to idea" starts from (nothing is created):
    ``title``, ``body``, ``body_without_handle``, ``handle``, ``source``, ``topic``."""
    await require_staff(request)
    mention = await request.app[RUNTIME].store.get_mention(_mention_id(request))
    return web.json_response(idea_draft(mention, request.app[RUNTIME].settings.forum))


@operation("POST", r"/api/mentions/{id:\d+}/attach",
           "Link the mention to an idea (idempotent: 200 when linked already)", ok="IdeaSignal",
           status="201", body=AttachMentionBody, params=(ID,), security=STAFF_WRITE,
           tags=("routing rules",), more_answers={"200": ("Linked already", "IdeaSignal")})
async def attach_mention(request: web.Request) -> web.Response:
    """POST /api/mentions/{id}/attach — ``{"idea_id"}``: link the mention to an idea (idempotent)."""
    await require_staff_write(request)
    body = await body_of(request, AttachMentionBody)
    outcome = await _signals(request).attach(_mention_id(request), body.idea_id)
    return web.json_response(await outcome_json(request, outcome), status=201 if outcome.linked else 200)


async def signal_by_route(request: web.Request, mention_id: int,
                          body: RouteBody) -> dict[str, Any] | None:
    """The ``convert_to_idea`` / ``attach_to_idea`` part of ``POST /api/route``, or ``None``."""
    convert, attach = body.convert_to_idea, body.attach_to_idea
    if convert is not None and attach is not None:
        raise BadInput("give convert_to_idea or attach_to_idea, not both", {"field": "attach_to_idea"})
    if convert is not None:
        fields = convert.given() if isinstance(convert, IdeaFields) else {}
        outcome = await _signals(request).convert(mention_id, fields)
    elif attach is not None:
        outcome = await _signals(request).attach(mention_id, attach)
    else:
        return None
    return {**await outcome_json(request, outcome), "created": outcome.created}
