"""``/api/dashboard/alerts``, ``/facets`` and ``/views``: spike alerts, counts per filter, saved views."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from aiohttp import web

from api.dashboard.access import (
    require_staff,
    require_staff_key,
    require_staff_key_write,
)
from api.contract import body_of, operation
from api.dashboard.bodies import SavedViewBody
from api.openapi.common import ID, STAFF, STAFF_WRITE, B, I, S, TIME, arr, items_of, obj, ref
from api.openapi.dashboard import READ_ERRORS
from api.query_models import StreamFilters, parameters_of, query_of
from api.dashboard.period import AlertsQuery
from api.dashboard.query import dashboard_filters
from api.keys import RUNTIME
from domain import utcnow
from domain.dashboard import SavedView, SpikeAlert, spike_summary
from domain.errors import BadInput
from storage.base import Store

MAX_VIEWS = 100
FACET_DAYS = 7
#: Alerts read for a period (newest first, the store's largest page); those raised after the
#: period are then left out.  One alert per subject per day keeps this far above real use.
MAX_ALERTS = 500


def _time(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def alerts_json(store: Store, days: int = 7, limit: int = 50) -> list[dict[str, Any]]:
    """Recent spike alerts, newest first, customers named."""
    alerts = await store.list_spike_alerts(utcnow() - timedelta(days=days), limit)
    names = await store.get_customers(sorted({a.subject for a in alerts if a.kind == "customer"}))
    return [_alert_json(a, names.get(a.subject).name if a.subject in names else None) for a in alerts]


def _alert_json(a: SpikeAlert, name: str | None) -> dict[str, Any]:
    return {"id": a.id, "kind": a.kind, "subject": a.subject, "subject_name": name or a.subject,
            "day": a.window_start.date().isoformat(), "detected_at": _time(a.detected_at),
            "count": a.count, "baseline": a.baseline, "threshold": a.threshold,
            # What the page shows: rounded, with units (the figures above keep their decimals).
            "summary": spike_summary(a.count, a.baseline, a.threshold)}


@operation("GET", "/api/dashboard/alerts", "Spike alerts of the last `days`, newest first",
           ok=items_of(ref("SpikeAlert")),
           query=AlertsQuery,
           errors=READ_ERRORS, security=STAFF, tags=("dashboard",))
async def list_alerts(request: web.Request) -> web.Response:
    """GET /api/dashboard/alerts — spike alerts of the last ``days`` (1–90), or of the days
    ``since`` .. ``until`` (the analytics page's period, at most 365 days), newest first."""
    await require_staff(request)
    given = query_of(request, AlertsQuery)
    store, limit = request.app[RUNTIME].store, given.limit
    if given.since is None and given.until is None:
        return web.json_response({"items": await alerts_json(store, given.days, limit)})
    period = given.period()
    alerts = [a for a in await store.list_spike_alerts(period.since, MAX_ALERTS)
              if a.window_start < period.until][:limit]
    names = await store.get_customers(sorted({a.subject for a in alerts if a.kind == "customer"}))
    return web.json_response({"items": [
        _alert_json(a, names[a.subject].name if a.subject in names else None) for a in alerts]})


@operation("GET", "/api/dashboard/facets",
           "Counts per source, topic, NLP signal (sentiment, intent, ...) and status for the "
           "stream's filters",
           ok={"type": "object", "properties": {"since": TIME},
               "additionalProperties": arr(obj(value=S, count=I))},
           query=StreamFilters, errors=READ_ERRORS, security=STAFF, tags=("dashboard",),
           description="Without `since` the counts cover the last 7 days (the answer's `since`).")
async def facets(request: web.Request) -> web.Response:
    """GET /api/dashboard/facets — counts per source, topic, counted NLP signal
    (``nlp.signals``) and status for the same filters as ``/api/dashboard/mentions``."""
    await require_staff(request)
    f = dashboard_filters(request)
    query = f.query
    if query.since is None:
        # Counting a whole large store on every filter change is too slow: without a
        # ``since`` the counts cover the last FACET_DAYS days (the answer says so).
        query = dataclasses.replace(query, since=utcnow() - timedelta(days=FACET_DAYS))
    counts = await request.app[RUNTIME].store.facet_counts(query, f.status, f.assignee, f.tag)
    body: dict[str, Any] = {facet: [{"value": c.key, "count": c.count} for c in rows]
                            for facet, rows in counts.items()}
    body["since"] = _time(query.since)
    return web.json_response(body)


def _view_json(v: SavedView) -> dict[str, Any]:
    return {"id": v.id, "name": v.name, "filters": dict(v.filters), "updated_at": _time(v.updated_at)}


@operation("GET", "/api/dashboard/views", "The viewer's saved views", ok=items_of(ref("SavedView")),
           errors=("401", "403"), security=STAFF, tags=("dashboard",))
async def list_views(request: web.Request) -> web.Response:
    """GET /api/dashboard/views — the viewer's saved views."""
    owner = await require_staff_key(request)
    views = await request.app[RUNTIME].store.list_views(owner)
    return web.json_response({"items": [_view_json(v) for v in views]})


@operation("POST", "/api/dashboard/views",
           "Keep (or replace by name) a saved view; at most 100 per person", ok="SavedView",
           status="201", body=SavedViewBody, errors=READ_ERRORS, security=STAFF_WRITE, tags=("dashboard",))
async def save_view(request: web.Request) -> web.Response:
    """POST /api/dashboard/views — keep (or replace by name) ``{"name", "filters": {...}}``."""
    owner = await require_staff_key_write(request)
    body = await body_of(request, SavedViewBody)
    name, filters = body.name, body.kept_filters()
    try:  # read as the stream will read them: a view that could never open is not kept
        parameters_of(filters, StreamFilters)
    except BadInput as exc:
        field = f"filters.{(exc.details or {}).get('parameter', '')}".rstrip(".")
        raise BadInput(f"{field}: {exc}", {"field": field}) from None
    store = request.app[RUNTIME].store
    existing = await store.list_views(owner)
    if len(existing) >= MAX_VIEWS and all(v.name != name for v in existing):
        raise BadInput(f"at most {MAX_VIEWS} saved views per person: delete one first")
    # The request's time, read once here at the edge: the store takes it, never the wall clock.
    saved = await store.save_view(owner, name, filters, utcnow())
    return web.json_response(_view_json(saved), status=201)


@operation("DELETE", r"/api/dashboard/views/{id:\d+}", "Forget one of the viewer's saved views",
           ok=obj(deleted=B), params=(ID,), errors=("401", "403", "404"), security=STAFF_WRITE,
           tags=("dashboard",))
async def delete_view(request: web.Request) -> web.Response:
    """DELETE /api/dashboard/views/{id} — forget one of the viewer's saved views."""
    owner = await require_staff_key_write(request)
    await request.app[RUNTIME].store.delete_view(owner, int(request.match_info["id"]))
    return web.json_response({"deleted": True})
