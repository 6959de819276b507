"""The dashboard's pages: the live stream, analytics and the customer 360 (data comes as JSON)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from api import identity
from api.dashboard.access import OPERATOR, require_staff, require_staff_key
from api.dashboard.analytics import customer_360, status_labels
from api.dashboard.customer_filter import customer_choice
from api.dashboard.period import Period, period_param
from api.keys import RUNTIME
from collectors.registry import platform_names
from api.replies_pages import thread_replies
from domain import PLATFORMS, utcnow
from domain.triage import TRIAGE_STATUSES
from domain.errors import BadInput, NotFound
from nlp.signals import facets as signal_facets


def _sources(request: web.Request) -> list[str]:
    configured = [f"{s.kind}" for s in request.app[RUNTIME].settings.sources]
    return sorted(set(PLATFORMS) | set(configured))


@aiohttp_jinja2.template("dashboard/stream.html")
async def stream_page(request: web.Request) -> dict[str, Any]:
    """GET /dashboard — the live mention stream with filters, triage and source health."""
    viewer = await require_staff(request)
    # Judged by account key, not name: an account may be called "operator".
    operator = await require_staff_key(request) == OPERATOR
    shown = signal_facets()
    # A customer typed by name is resolved here when the form came without JavaScript.
    customer = await customer_choice(request.app[RUNTIME].store, request)
    return {"viewer": viewer, "sources": _sources(request), "statuses": TRIAGE_STATUSES,
            "query": request.query, "signal_filters": shown, "customer": customer,
            "platform_names": platform_names(),
            "facet_labels": {"source": "Source", "topic": "Topic",
                             **{s.name: s.label for s in shown}, "status": "Status"},
            # The operator (admin token or loopback) has no session to protect.
            "csrf": "" if operator else await identity.csrf_token(request)}


def _period_form(request: web.Request) -> dict[str, str]:
    """The period picker's fields from the page's URL (``days`` or ``since``/``until``), so a
    link opens the same period; a bad one is shown beside the picker, not as an error page."""
    custom = bool(request.query.get("since") or request.query.get("until"))
    error = ""
    try:
        period = period_param(request)
    except BadInput as exc:
        error, period, custom = str(exc), Period.last_days(30), False
    return {"preset": "" if custom else str(period.days), "since": period.first.isoformat(),
            "until": period.last.isoformat(), "today": utcnow().date().isoformat(),
            "label": f"{period.first:%-d %b %Y} – {period.last:%-d %b %Y}", "error": error,
            # The export takes the page's period; its ``until`` is exclusive: the day after.
            "export_until": (period.last + timedelta(days=1)).isoformat()}


@aiohttp_jinja2.template("dashboard/analytics.html")
async def analytics_page(request: web.Request) -> dict[str, Any]:
    """GET /dashboard/analytics — volume with baseline and spikes, topics, share of voice,
    sentiment, first response and top authors over the period of the URL; CSV export."""
    return {"viewer": await require_staff(request), "sources": _sources(request),
            "period": _period_form(request)}


def _iso(at: datetime | str) -> str:
    return at if isinstance(at, str) else at.isoformat().replace("+00:00", "Z")


async def customer_page(request: web.Request) -> web.Response:
    """GET /dashboard/customers/{id} — one customer's 360."""
    viewer = await require_staff(request)
    try:
        body = await customer_360(request.app[RUNTIME].store, request.match_info["id"],
                                  status_labels=status_labels(request))
    except NotFound as exc:
        raise web.HTTPNotFound(reason=str(exc)) from None
    by_mention = await thread_replies(request, [m["id"] for m in body["timeline"]])
    replies = sorted((r for rs in by_mention.values() for r in rs), key=lambda r: r["drafted_at"], reverse=True)
    return aiohttp_jinja2.render_template("dashboard/customer.html", request, {
        "viewer": viewer, "c": body, "replies": replies, "data_json": json.dumps(
            {"id": body["id"], "volume": body["volume"], "sentiment_trend": body["sentiment_trend"],
             # The newest linked mention (the timeline is newest first): a quiet month then
             # says when they last spoke rather than "no mentions yet".
             "latest": _iso(body["timeline"][0]["created_at"]) if body["timeline"] else None}
        ).replace("<", "\\u003c")})  # never end the <script> element early
