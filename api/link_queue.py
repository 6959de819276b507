"""The review queue page (``/dashboard/links``) and its JSON: pending links grouped by customer
and rule, bulk confirm / reject, and "never link this alias as a word".

Staff only, as the single decisions in ``api.links``: the operator or an admin token, or a
signed-in account of role team or above; decisions from a browser session need its CSRF token.
"""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from api import identity
from api.dashboard.access import OPERATOR, require_staff, require_staff_key, require_staff_key_write
from api.contract import add_operations, body_of, operation
from api.dashboard.bodies import MAX_BULK_LINKS, BulkDecisionBody, RefusedAliasBody
from api.openapi.common import STAFF, STAFF_WRITE, B, I, S, arr, items_of, obj, ref
from api.keys import RUNTIME
from crmsphere import link_queue
from domain.link_queue import PendingLink
from domain.errors import BadInput
from storage.contract.link_queue import MAX_PENDING



def _snippet(row: PendingLink, around: int = 70) -> dict[str, Any]:
    """The words around the match (the whole text when short), and where the match is in it."""
    text, k = row.text, row.link
    if k.start is None or k.end is None or not 0 <= k.start < k.end <= len(text):
        return {"text": text[:2 * around], "start": None, "end": None, "cut_before": False}
    first = max(0, k.start - around)
    return {"text": text[first:k.end + around], "start": k.start - first, "end": k.end - first,
            "cut_before": first > 0}


def _link_json(row: PendingLink) -> dict[str, Any]:
    return {"id": row.link.id, "mention_id": row.mention_id, "source": row.source,
            "author_handle": row.author_handle, "confidence": round(row.link.confidence, 3),
            "evidence": row.link.evidence, "created_at": row.created_at.isoformat().replace("+00:00", "Z"),
            "snippet": _snippet(row)}


async def groups_json(request: web.Request) -> dict[str, Any]:
    """Every pending link in groups, with names, counts, a few examples and refusals."""
    store = request.app[RUNTIME].store
    rows = await store.pending_links(MAX_PENDING + 1)
    truncated = len(rows) > MAX_PENDING
    groups = link_queue.group_pending(rows[:MAX_PENDING])
    customers = await store.get_customers(sorted({g.key.customer_id for g in groups}))
    refused = {(r.customer_id, link_queue.phrase_key(r.alias)) for r in await store.refused_aliases()}
    items = []
    for g in groups:
        c = customers.get(g.key.customer_id)
        aliases = {link_queue.phrase_key(a) for a in c.aliases} if c else set()
        items.append({
            "customer_id": g.key.customer_id, "customer_name": c.name if c else g.key.customer_id,
            "rule": g.key.rule, "phrase": g.shown_phrase, "phrase_key": g.key.phrase,
            "count": len(g.rows), "link_ids": [r.link.id for r in g.rows],
            "confidence": round(max(r.link.confidence for r in g.rows), 3),
            "examples": [_link_json(r) for r in g.rows[:link_queue.EXAMPLES]],
            # Only a word that is one of the customer's aliases can be refused as a word.
            "can_refuse_alias": g.key.rule in link_queue.ALIAS_RULES and g.key.phrase in aliases,
            "alias_refused": (g.key.customer_id, g.key.phrase) in refused,
        })
    return {"groups": items, "pending": sum(g["count"] for g in items), "truncated": truncated}


@operation("GET", "/api/links/review/groups",
           "Every pending link grouped by customer, rule and matched words, biggest group first",
           ok=obj(groups=arr(ref("LinkGroup")), pending=I, truncated=B), errors=("401", "403"),
           security=STAFF, tags=("people and links",),
           description="At most the 20,000 oldest pending links are grouped (`truncated`).")
async def list_groups(request: web.Request) -> web.Response:
    """GET /api/links/review/groups — pending links grouped by customer, rule and matched words."""
    await require_staff(request)
    return web.json_response(await groups_json(request))


@operation("POST", "/api/links/review/bulk",
           "Confirm or reject every link of the groups and ids given, in one request",
           ok=obj(action=S, decided=I, decided_ids=arr(I), skipped=arr(obj(id=I, reason=S)),
                  relinked_mentions=I),
           body=BulkDecisionBody, security=STAFF_WRITE, tags=("people and links",),
           description=f"Give groups, link_ids or both; at most {MAX_BULK_LINKS} links in all. "
                       "A link decided meanwhile is listed in `skipped`, the others are decided.")
async def bulk_decide(request: web.Request) -> web.Response:
    """POST /api/links/review/bulk — ``{"action": "confirm"|"reject", "groups"?: [{customer_id,
    rule, phrase}], "link_ids"?: [...]}``: one decision for every link chosen."""
    await require_staff_key_write(request)
    body = await body_of(request, BulkDecisionBody)
    action, ids = body.action, body.link_ids
    groups = [link_queue.GroupKey(g.customer_id, g.rule, link_queue.phrase_key(g.phrase))
              for g in body.groups]
    if not groups and not ids:
        raise BadInput("choose at least one group or link: give 'groups' or 'link_ids'")
    rt = request.app[RUNTIME]
    rows = await link_queue.chosen_links(rt, groups, ids, MAX_BULK_LINKS)
    found = {r.link.id for r in rows}
    result = await link_queue.decide(rt, action, rows, [i for i in dict.fromkeys(ids) if i not in found])
    return web.json_response({"action": result.action, "decided": len(result.decided),
                              "decided_ids": result.decided,
                              "skipped": [{"id": i, "reason": why} for i, why in result.skipped],
                              "relinked_mentions": result.relinked_mentions})


_REFUSAL = obj(customer_id=S, alias=S, newly_refused=B, dropped_links=I)


@operation("POST", "/api/links/refused-aliases",
           "Never link a customer's alias as a word: the gazetteer is rebuilt without it and the "
           "pending links it made are removed",
           ok=_REFUSAL, status="201",
           body=RefusedAliasBody, errors=("400", "401", "403", "404"), security=STAFF_WRITE,
           tags=("people and links",), more_answers={"200": ("Refused already", _REFUSAL)},
           description="200 when the alias was refused already.")
async def refuse_alias(request: web.Request) -> web.Response:
    """POST /api/links/refused-aliases — ``{"customer_id", "alias"}``: never link that alias as
    a word again (the gazetteer is rebuilt; the pending links it made go)."""
    by = await require_staff_key_write(request)
    body = await body_of(request, RefusedAliasBody)
    done = await link_queue.refuse_alias_as_word(request.app[RUNTIME], body.customer_id,
                                                 body.alias, by)
    return web.json_response({"customer_id": done.customer_id, "alias": done.alias,
                              "newly_refused": done.newly_refused, "dropped_links": done.dropped_links},
                             status=201 if done.newly_refused else 200)


@operation("GET", "/api/links/refused-aliases", "Aliases refused as words (never linked), oldest first",
           ok=items_of(ref("RefusedAlias")), errors=("401", "403"), security=STAFF, tags=("people and links",))
async def list_refused(request: web.Request) -> web.Response:
    """GET /api/links/refused-aliases — aliases refused as words, oldest first."""
    await require_staff(request)
    store = request.app[RUNTIME].store
    items = await store.refused_aliases()
    customers = await store.get_customers(sorted({r.customer_id for r in items})) if items else {}
    return web.json_response({"items": [
        {"customer_id": r.customer_id, "alias": r.alias, "refused_by": r.refused_by,
         "customer_name": customers[r.customer_id].name if r.customer_id in customers else r.customer_id,
         "refused_at": r.refused_at.isoformat().replace("+00:00", "Z")} for r in items]})


@aiohttp_jinja2.template("dashboard/links.html")
async def review_page(request: web.Request) -> dict[str, Any]:
    """GET /dashboard/links — the review queue in groups (filled from the JSON by links.js)."""
    viewer = await require_staff(request)
    operator = await require_staff_key(request) == OPERATOR
    return {"viewer": viewer, "csrf": "" if operator else await identity.csrf_token(request)}


def setup_link_queue_routes(app: web.Application) -> None:
    """Attach the review queue page and its JSON."""
    app.router.add_get("/dashboard/links", review_page)
    add_operations(app.router, list_groups, bulk_decide, list_refused, refuse_alias)
