"""The dashboard's routes, its spike-alert job and its shutdown hook (set up once from ``api.routes``)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from aiohttp import web

from api import (
    dashboard_analytics,
    dashboard_api,
    dashboard_insights,
    dashboard_pages,
    dashboard_stream,
    dashboard_thread,
    dashboard_trends,
)
from api.keys import RUNTIME, SCHEDULER, SETTINGS
from api.link_queue import setup_link_queue_routes
from community.spike_alerts import SpikeWatch


async def _end_live_streams(app: web.Application) -> None:
    # Open event streams never finish by themselves: end them so shutdown does not wait.
    runtime = app.get(RUNTIME)
    if runtime is not None and runtime.live is not None:
        await runtime.live.close()


async def _spike_watch_ctx(app: web.Application) -> AsyncIterator[None]:
    """Evaluate spike alerts hourly in the process holding the scheduler lease (or, with no
    scheduler here, the ``spike-alerts`` lease)."""
    settings, runtime = app[SETTINGS], app[RUNTIME]
    if not settings.dashboard.spike_alerts or not settings.scheduler.enabled:
        yield
        return

    async def is_leader() -> bool:
        """Whether this process should evaluate now."""
        scheduler = app.get(SCHEDULER)
        if scheduler is not None:
            return scheduler.is_leader
        # No source is scheduled here, so there is no scheduler lease: one process of those
        # sharing the store holds the job's own lease, held for one interval.
        return await runtime.store.acquire_lease(
            "spike-alerts", runtime.sources.holder, settings.dashboard.spike_interval + 60, time.time())

    router = runtime.router
    watch = SpikeWatch(runtime.store, settings.dashboard,
                       on_alert=getattr(router, "on_spike", None) if router else None)
    task = asyncio.create_task(watch.run(is_leader), name="spike-watch")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def setup_dashboard_routes(app: web.Application) -> None:
    """Attach the dashboard pages, its JSON, the live stream and the spike-alert job."""
    app.router.add_get("/dashboard", dashboard_pages.stream_page, name="dashboard")
    app.router.add_get("/dashboard/analytics", dashboard_pages.analytics_page)
    app.router.add_get("/dashboard/customers/{id}", dashboard_pages.customer_page)
    app.router.add_get(r"/dashboard/mentions/{id:\d+}", dashboard_thread.thread_page)
    app.router.add_get("/api/dashboard/mentions", dashboard_api.list_mentions)
    app.router.add_get("/api/dashboard/mentions.csv", dashboard_api.export_csv)
    app.router.add_get(r"/api/dashboard/mentions/{id:\d+}/notes", dashboard_api.list_notes)
    app.router.add_get(r"/api/dashboard/mentions/{id:\d+}/thread", dashboard_thread.thread_api)
    app.router.add_post(r"/api/dashboard/mentions/{id:\d+}/notes", dashboard_api.add_note)
    app.router.add_post("/api/dashboard/triage", dashboard_api.update_triage)
    app.router.add_get("/api/dashboard/staff", dashboard_api.list_staff)
    app.router.add_get("/api/dashboard/facets", dashboard_insights.facets)
    app.router.add_get("/api/dashboard/alerts", dashboard_insights.list_alerts)
    app.router.add_get("/api/dashboard/views", dashboard_insights.list_views)
    app.router.add_post("/api/dashboard/views", dashboard_insights.save_view)
    app.router.add_delete(r"/api/dashboard/views/{id:\d+}", dashboard_insights.delete_view)
    app.router.add_get("/api/dashboard/analytics/volume", dashboard_analytics.volume)
    app.router.add_get("/api/dashboard/analytics/top-authors", dashboard_analytics.top_authors)
    app.router.add_get("/api/dashboard/analytics/topics", dashboard_trends.topics)
    app.router.add_get("/api/dashboard/analytics/sentiment", dashboard_trends.sentiment)
    app.router.add_get("/api/dashboard/analytics/share-of-voice", dashboard_trends.voice)
    app.router.add_get("/api/dashboard/analytics/first-response", dashboard_trends.first_response)
    app.router.add_get("/api/dashboard/customers/{id}", dashboard_analytics.customer)
    app.router.add_get("/api/stream/mentions", dashboard_stream.stream_mentions)
    setup_link_queue_routes(app)
    app[dashboard_stream.EVENT_CACHE] = dashboard_stream.EventCache()
    app.cleanup_ctx.append(_spike_watch_ctx)
    app.on_shutdown.append(_end_live_streams)
