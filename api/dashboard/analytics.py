"""``/api/dashboard/analytics/...`` and the customer 360's data: volume, spikes, authors, sentiment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta, timezone
from typing import Any

from aiohttp import web

from api.dashboard.access import require_staff
from api.contract import operation
from api.openapi.common import (
    STAFF,
    I,
    S,
    items_of,
    nullable,
    obj,
    path_param,
)
from api.openapi.dashboard import READ_ERRORS
from api.dashboard.period import Period, TopAuthorsQuery, VolumeQuery
from api.query_models import query_of
from api.dashboard.serialize import analysis_json, dashboard_mention_json, triage_keys
from api.dashboard.staff import staff_names
from api.dashboard.customer import forum_sections
from api.keys import RUNTIME, SETTINGS
from api.serialize import customer_json
from community.spikes import BASELINE_DAYS, day_range, sentiment_trend, volume_series
from config.dashboard import DashboardSettings
from domain import MentionQuery
from storage.base import Store


def _day_window(period: Period) -> tuple[datetime, datetime, list[str]]:
    # The period preceded by the baseline window its first days are compared with.
    first = period.first - timedelta(days=BASELINE_DAYS)
    since = datetime.combine(first, time(), timezone.utc)
    return since, period.until, day_range(first, period.last)


def spike_rule_json(rule: DashboardSettings) -> dict[str, Any]:
    """The spike rule a chart's spike days were found with (the spike alerts' own rule)."""
    return {"k": rule.spike_k, "min_volume": rule.spike_min_volume, "baseline_days": BASELINE_DAYS}


async def volume_json(store: Store, days: int | Period, customer_id: str | None = None,
                      rule: DashboardSettings | None = None) -> dict[str, Any]:
    """Daily volume per source over ``days`` (the last so many, or a ``Period``) with the
    7-day baseline and spike days.

    Spike days follow the spike alerts' rule (``rule``: ``spike_k`` and ``spike_min_volume``
    of ``[dashboard]``, their defaults when not given), so a chart and the alerts never
    disagree about what a spike is; the answer names the rule."""
    rule = rule or DashboardSettings()
    period = days if isinstance(days, Period) else Period.last_days(days)
    since, until, history = _day_window(period)
    series = volume_series(await store.volume_by_day(since, until, customer_id), history, period.days,
                           k=rule.spike_k, floor=rule.spike_min_volume)
    return {"days": list(series.days), "by_source": series.by_key, "total": series.total,
            "baseline": series.baseline, "threshold": series.threshold,
            "spikes": list(series.spikes), "spike_rule": spike_rule_json(rule)}


@operation("GET", "/api/dashboard/analytics/volume",
           "Daily volume per source with the 7-day baseline and spike days", ok="Volume",
           query=VolumeQuery, errors=READ_ERRORS,
           security=STAFF, tags=("analytics",))
async def volume(request: web.Request) -> web.Response:
    """GET /api/dashboard/analytics/volume — ``days`` (1–365) or ``since``/``until``, optional
    ``customer``."""
    await require_staff(request)
    given = query_of(request, VolumeQuery)
    body = await volume_json(request.app[RUNTIME].store, given.period(), given.customer,
                             request.app[RUNTIME].settings.dashboard)
    return web.json_response(body)


@operation("GET", "/api/dashboard/analytics/top-authors", "The most active authors over whole UTC days",
           ok=items_of(obj(source=S, handle=S, name=nullable(S), mentions=I, engagement=I)),
           query=TopAuthorsQuery, errors=READ_ERRORS, security=STAFF,
           tags=("analytics",))
async def top_authors(request: web.Request) -> web.Response:
    """GET /api/dashboard/analytics/top-authors — ``days`` (1–365) or ``since``/``until``,
    ``limit`` (1–100)."""
    await require_staff(request)
    # Whole UTC days, which the store answers from its daily summary.
    given = query_of(request, TopAuthorsQuery)
    period = given.period()
    rows = await request.app[RUNTIME].store.top_authors(
        period.since, period.until, given.limit)
    return web.json_response({"items": [
        {"source": r.source, "handle": r.handle, "name": r.name, "mentions": r.mentions,
         "engagement": r.engagement} for r in rows]})


async def customer_360(store: Store, customer_id: str, limit: int = 100,
                       status_labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A customer's identities and CRM facts, mention timeline with triage, volume and
    sentiment, and their forum ideas, votes and routed items (``status_labels``: idea status
    key → label)."""
    customer = await store.get_customer(customer_id)
    page = await store.list_mentions(MentionQuery(customer_id=customer.id, limit=limit))
    ids = sorted({k.customer_id for m in page.items for k in m.analysis.links})
    customers = await store.get_customers(ids)
    triage = await store.get_triage([m.id for m in page.items])
    points = [(m.post.created_at.date().isoformat(), analysis_json(m)["sentiment"])
              for m in page.items if getattr(m.analysis, "sentiment_label", None) is not None]
    body = customer_json(customer)
    names = await staff_names(store, triage_keys(triage.values()))
    body["timeline"] = [dashboard_mention_json(m, customers, triage.get(m.id), names)
                        for m in page.items]
    body["more_mentions"] = page.next_cursor is not None
    body["volume"] = await volume_json(store, 30, customer.id)
    body["sentiment_trend"] = [{"day": d, "sentiment": s, "mentions": n}
                               for d, s, n in sentiment_trend(points)]
    body.update(await forum_sections(store, customer.id, [m.id for m in page.items if m.id is not None],
                                     status_labels or {}))
    return body


def status_labels(request: web.Request) -> dict[str, str]:
    """The configured idea statuses, key → label."""
    return {s.key: s.label for s in request.app[SETTINGS].forum.statuses}


@operation("GET", "/api/dashboard/customers/{id}",
           "The customer 360: identities, mention timeline with triage, volume and sentiment "
           "trend, forum ideas, votes and routed items (the newest 20 of each, with counts)",
           ok="Customer360", params=(path_param("id", S, "a customer id"),),
           errors=("401", "403", "404"), security=STAFF, tags=("analytics",))
async def customer(request: web.Request) -> web.Response:
    """GET /api/dashboard/customers/{id} — the customer 360 as JSON."""
    await require_staff(request)
    return web.json_response(await customer_360(request.app[RUNTIME].store, request.match_info["id"],
                                                status_labels=status_labels(request)))
