"""The dashboard's routes and its shutdown hook (set up once from ``api.routes``)."""

from __future__ import annotations

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
from api.keys import RUNTIME
from api.link_queue import setup_link_queue_routes
from api.replies_pages import setup_reply_pages


async def _end_live_streams(app: web.Application) -> None:
    # Open event streams never finish by themselves: end them so shutdown does not wait.
    runtime = app.get(RUNTIME)
    if runtime is not None and runtime.live is not None:
        await runtime.live.close()


def setup_dashboard_routes(app: web.Application) -> None:
    """Attach the dashboard pages, its JSON and the live stream."""
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
    setup_reply_pages(app)
    app[dashboard_stream.EVENT_CACHE] = dashboard_stream.EventCache()
    app.on_shutdown.append(_end_live_streams)
