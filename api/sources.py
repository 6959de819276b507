"""``/api/sources``: source health and control, and push ingest."""

from __future__ import annotations

import asyncio

from aiohttp import web

from api.contract import operation
from api.dashboard.access import require_admin_write, require_staff
from api.openapi.common import (
    OPERATOR,
    SIGNATURE_HEADERS,
    SIGNED_BODY,
    STAFF,
    B,
    I,
    S,
    arr,
    enum,
    obj,
    path_param,
    ref,
)
from api.openapi.listening import PUSH_BODY, REJECTED
from api.keys import BACKGROUND, RUNTIME, SCHEDULER
from collectors.push import PushSource
from domain.errors import NotFound, clipped
from crmsphere.ingest import store_posts
from storage.base import health_to_json
from api.crm_sync import control_crm


@operation("GET", "/api/sources", "Every configured source and CRM connector with its health",
           ok=obj(items=arr(ref("SourceStatus")), scheduler=obj(leader=B)), errors=("401", "403"),
           security=STAFF, tags=("sources",))
async def list_sources(request: web.Request) -> web.Response:
    """GET /api/sources — every configured source with its health."""
    await require_staff(request)
    runner = request.app[RUNTIME].sources
    items = []
    for health in await runner.all_health():
        body = health_to_json(health)
        body["interval"] = runner.settings[health.key].interval
        body["enabled"] = runner.settings[health.key].enabled
        body["problem"] = runner.problems.get(health.key)
        items.append(body)
    crm = request.app[RUNTIME].crm
    for health in await crm.all_health() if crm is not None else ():
        body = health_to_json(health)
        kind = health.key.removeprefix("crm:")
        body["interval"] = crm.settings.connectors()[kind].interval
        body["enabled"] = True
        body["problem"] = crm.problems.get(kind)
        items.append(body)
    scheduler = request.app.get(SCHEDULER)
    return web.json_response({"items": items,
                              "scheduler": {"leader": bool(scheduler and scheduler.is_leader)}})


@operation("POST", r"/api/sources/{name}/{action:run|pause|resume}",
           "Run a source now (202), pause or resume it (200 with its health)", ok="SourceHealth",
           params=(path_param("name", S, "a source key, or crm:<kind> for a CRM connector"),
                   path_param("action", enum("run", "pause", "resume"))),
           errors=("401", "403", "404"), security=OPERATOR, tags=("sources",),
           more_answers={"202": ("Started", "Started")})
async def control_source(request: web.Request) -> web.Response:
    """POST /api/sources/{name}/{action} — run (now), pause or resume a source (the operator
    or an admin)."""
    await require_admin_write(request, "run, pause or resume sources")
    runner = request.app[RUNTIME].sources
    name, action = request.match_info["name"], request.match_info["action"]
    crm = request.app[RUNTIME].crm
    if name.startswith("crm:") and crm is not None:  # a CRM connector, shown with the sources
        return await control_crm(request, crm, name, action)
    if action == "run":
        await runner.health(name)  # 404 for an unknown name
        task = asyncio.create_task(runner.run_once(name, force=True))
        request.app[BACKGROUND].add(task)
        task.add_done_callback(request.app[BACKGROUND].discard)
        return web.json_response({"status": "started", "source": name}, status=202)
    health = await runner.set_paused(name, paused=(action == "pause"))
    return web.json_response(health_to_json(health))


@operation("POST", "/api/ingest/{name}", "Push a signed batch of posts to push source `name`",
           ok=obj(accepted=I, duplicates=I, rejected=REJECTED), status="202",
           body_schema=PUSH_BODY,
           params=(path_param("name", S, "a configured push source"), *SIGNATURE_HEADERS),
           errors=("400", "401", "404"), security=SIGNED_BODY, tags=("sources",),
           description="Signed with the source's `secret` credential. A malformed post is "
                       "reported in `rejected` by index and the valid rest is stored.")
async def ingest(request: web.Request) -> web.Response:
    """POST /api/ingest/{name} — a signed batch of posts for push source ``name``."""
    rt = request.app[RUNTIME]
    name = request.match_info["name"]
    source = rt.sources.collectors.get(name)
    if not isinstance(source, PushSource):
        raise NotFound(f"no push source named {clipped(name)!r}")
    body = await request.read()
    source.verify(request.headers.get("X-Crmsphere-Timestamp"),
                  request.headers.get("X-Crmsphere-Signature"), body)
    posts, rejected = source.parse(body)
    # The same hooks as polled sources: live dashboards (handed the stored mentions, no
    # read-back), routing rules, CRM timelines.
    report = await store_posts(rt.store, rt.analyzer, f"push:{name}", posts, None,
                               rt.sources.on_stored)
    report.rejected[:0] = rejected
    # A push is the source's run: its health says when it last ran, what it stored, and
    # whether everything sent was rejected.
    await rt.sources.record_push(name, report)
    return web.json_response({
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "rejected": [{"where": r.where, "reason": r.reason} for r in report.rejected],
    }, status=202)

