"""The dashboard's routes and its shutdown hook (set up once from ``api.routes``)."""

from __future__ import annotations

from aiohttp import web

from api.contract import add_operations
from api.dashboard import analytics as dashboard_analytics, api as dashboard_api, insights as dashboard_insights, pages as dashboard_pages, stream as dashboard_stream, thread as dashboard_thread, trends as dashboard_trends
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
    add_operations(
        app.router,
        dashboard_api.list_mentions,
        dashboard_api.export_csv,
        dashboard_api.list_notes,
        dashboard_thread.thread_api,
        dashboard_api.add_note,
        dashboard_api.update_triage,
        dashboard_api.list_staff,
        dashboard_insights.facets,
        dashboard_insights.list_alerts,
        dashboard_insights.list_views,
        dashboard_insights.save_view,
        dashboard_insights.delete_view,
        dashboard_analytics.volume,
        dashboard_analytics.top_authors,
        dashboard_trends.topics,
        dashboard_trends.sentiment,
        dashboard_trends.voice,
        dashboard_trends.first_response,
        dashboard_analytics.customer,
        dashboard_stream.stream_mentions,
    )
    setup_link_queue_routes(app)
    setup_reply_pages(app)
    app[dashboard_stream.EVENT_CACHE] = dashboard_stream.EventCache(
        desk=lambda: app[RUNTIME].replies if RUNTIME in app else None)
    app.on_shutdown.append(_end_live_streams)
