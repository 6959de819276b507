"""``/api/dashboard/analytics/...``: topics, sentiment trend, share of voice, first response."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web

from api.dashboard.access import require_staff
from api.contract import operation
from api.openapi.common import DAY, STAFF, B, I, N, S, arr, items_of, nullable, obj
from api.openapi.dashboard import READ_ERRORS, SERIES, VOLUME
from api.dashboard.analytics import spike_rule_json
from api.keys import RUNTIME
from api.dashboard.period import PeriodQuery, period_param
from community.analytics import brand_terms, response_days, share_of_voice
from community.spikes import BASELINE_DAYS, day_range, volume_series


def _days(request: web.Request) -> tuple[int, datetime, datetime]:
    period = period_param(request)
    return period.days, period.since, period.until


@operation("GET", "/api/dashboard/analytics/topics",
           "Topic share and daily volume per topic with baseline and spike days",
           ok={"allOf": [VOLUME, obj(share=arr(obj(topic=S, mentions=I, share=N)),
                                      by_topic=SERIES)]},
           query=PeriodQuery, errors=READ_ERRORS, security=STAFF, tags=("analytics",))
async def topics(request: web.Request) -> web.Response:
    """GET /api/dashboard/analytics/topics — topic share and daily volume per topic with the
    7-day baseline and spike days over ``days`` (1–365) or ``since``/``until``."""
    await require_staff(request)
    store = request.app[RUNTIME].store
    days, since, until = _days(request)
    first = since.date() - timedelta(days=BASELINE_DAYS)
    rows = await store.topic_volume_by_day(since - timedelta(days=BASELINE_DAYS), until)
    rule = request.app[RUNTIME].settings.dashboard
    # The spike alerts' rule, minimum volume included (one definition of a spike).
    series = volume_series(rows, day_range(first, until.date() - timedelta(days=1)), days,
                           k=rule.spike_k, floor=rule.spike_min_volume)
    counts = await store.topic_counts(since, until)
    total = sum(c.count for c in counts)
    return web.json_response({
        "share": [{"topic": c.key, "mentions": c.count,
                   "share": round(c.count / total, 4) if total else 0.0} for c in counts],
        "days": list(series.days), "by_topic": series.by_key, "total": series.total,
        "baseline": series.baseline, "threshold": series.threshold, "spikes": list(series.spikes),
        "spike_rule": spike_rule_json(rule)})


@operation("GET", "/api/dashboard/analytics/sentiment", "Mean sentiment per day",
           ok=items_of(obj(day=DAY, sentiment=nullable(N), mentions=I)), query=PeriodQuery,
           errors=READ_ERRORS, security=STAFF, tags=("analytics",))
async def sentiment(request: web.Request) -> web.Response:
    """GET /api/dashboard/analytics/sentiment — mean sentiment per day over ``days``."""
    await require_staff(request)
    _, since, until = _days(request)
    rows = await request.app[RUNTIME].store.sentiment_by_day(since, until)
    return web.json_response({"items": [{"day": r.day, "sentiment": r.mean, "mentions": r.count}
                                        for r in rows]})


@operation("GET", "/api/dashboard/analytics/share-of-voice",
           "Mentions naming our brand and each configured competitor, with shares",
           ok=obj(configured=B, items=arr(obj(name=S, mentions=I, share=N, ours=B))),
           query=PeriodQuery, errors=READ_ERRORS, security=STAFF, tags=("analytics",))
async def voice(request: web.Request) -> web.Response:
    """GET /api/dashboard/analytics/share-of-voice — mentions naming our brand and each
    configured competitor over ``days``, with shares (definition in ``community.analytics``)."""
    await require_staff(request)
    settings = request.app[RUNTIME].settings.dashboard
    _, since, until = _days(request)
    terms = brand_terms(settings)
    counts = await request.app[RUNTIME].store.count_naming(since, until, terms) if terms else []
    shares = share_of_voice(counts, settings.brand.name if settings.brand else None)
    return web.json_response({"configured": bool(terms), "items": [
        {"name": s.name, "mentions": s.mentions, "share": s.share, "ours": s.ours} for s in shares]})


@operation("GET", "/api/dashboard/analytics/first-response",
           "Median and p90 time from posting to the first staff action, per day of posting",
           ok=items_of(obj(day=DAY, median_seconds=nullable(N), p90_seconds=nullable(N),
                           responded=I)),
           query=PeriodQuery, errors=READ_ERRORS, security=STAFF, tags=("analytics",))
async def first_response(request: web.Request) -> web.Response:
    """GET /api/dashboard/analytics/first-response — median and p90 time from posting to the
    first staff action, per day of posting, over ``days``."""
    await require_staff(request)
    _, since, until = _days(request)
    rows = await request.app[RUNTIME].store.first_responses(since, until)
    return web.json_response({"items": [
        {"day": d.day, "median_seconds": d.median_seconds, "p90_seconds": d.p90_seconds,
         "responded": d.responded} for d in response_days(rows)]})
