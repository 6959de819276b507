"""``/api/stream/mentions``: Server-Sent Events of newly stored mentions for open dashboards."""

from __future__ import annotations

import json

from aiohttp import web

from api.dashboard_access import require_staff
from api.dashboard_query import dashboard_filters, live_filter, new_mention_passes
from api.dashboard_serialize import dashboard_mention_json
from api.keys import RUNTIME
from crmsphere.domain import Customer, Mention
from crmsphere.errors import BadInput

KEEPALIVE_SECONDS = 15.0
CATCH_UP_LIMIT = 500


def _after_id(request: web.Request) -> int:
    # EventSource resends the last event id on reconnect; a first connect passes ?after=.
    raw = request.headers.get("Last-Event-ID") or request.query.get("after") or "0"
    try:
        value = int(raw)
    except ValueError:
        raise BadInput("'after' (or Last-Event-ID) must be a mention id", {"value": raw[:40]}) from None
    if value < 0:
        raise BadInput("'after' must not be negative", {"value": value})
    return value


def _event(mention: Mention, customers: dict[str, Customer]) -> bytes:
    data = json.dumps(dashboard_mention_json(mention, customers), separators=(",", ":"))
    return f"id: {mention.id}\nevent: mention\ndata: {data}\n\n".encode()


async def stream_mentions(request: web.Request) -> web.StreamResponse:
    """GET /api/stream/mentions — ``mention`` events matching the dashboard's filters."""
    await require_staff(request)
    filters = dashboard_filters(request)
    after = _after_id(request)
    runtime = request.app[RUNTIME]
    if runtime.live is None:
        raise web.HTTPServiceUnavailable(reason="the live feed is not running")
    match = live_filter(filters)
    wanted = new_mention_passes(filters)
    # Subscribe before catching up, so nothing stored in between is missed (the
    # browser drops an id it already has).
    sub = await runtime.live.subscribe()
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                       "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    try:
        await resp.prepare(request)
        await resp.write(b"retry: 1000\nevent: ready\ndata: {}\n\n")
        if after and wanted:
            missed = await runtime.store.mentions_after(after, CATCH_UP_LIMIT)
            ids = sorted({k.customer_id for m in missed for k in m.analysis.links})
            customers = await runtime.store.get_customers(ids) if ids else {}
            for m in missed:
                if match.matches(m):
                    await resp.write(_event(m, customers))
        while True:
            try:
                batch = await sub.next(KEEPALIVE_SECONDS)
            except StopAsyncIteration:  # dropped as too slow, or shutting down
                break
            if batch is None:
                await resp.write(b": keep-alive\n\n")
                continue
            if not wanted:
                continue
            for m in batch.mentions:
                if match.matches(m):
                    await resp.write(_event(m, batch.customers))
    except ConnectionResetError:
        pass  # the dashboard was closed
    finally:
        sub.close()
    return resp
