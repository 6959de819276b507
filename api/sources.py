"""``/api/sources``: source health and control, and push ingest."""

from __future__ import annotations

import asyncio

from aiohttp import web

from api.dashboard_access import require_admin_write, require_staff
from api.keys import BACKGROUND, RUNTIME, SCHEDULER
from collectors.push import PushSource
from crmsphere.errors import NotFound
from crmsphere.ingest import store_posts
from storage.base import health_to_json
from api.crm_sync import control_crm


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


async def ingest(request: web.Request) -> web.Response:
    """POST /api/ingest/{name} — a signed batch of posts for push source ``name``."""
    rt = request.app[RUNTIME]
    name = request.match_info["name"]
    source = rt.sources.collectors.get(name)
    if not isinstance(source, PushSource):
        raise NotFound(f"no push source named {name!r}")
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

