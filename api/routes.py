"""Every route of the app, in one place."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from api import customers, health, mentions, pages, sources
from api.contract import add_operations
from api.routing import queues as routing
from api import crm_sync
from api.routing.routes import setup_routing_routes
from api import links
from api import people
from api.dashboard.routes import setup_dashboard_routes
from api.forum.routes import setup_forum_routes
from api.notify import setup_notify_routes
from api.replies import setup_reply_routes

STATIC_DIR = Path(__file__).with_name("static")


def setup_routes(app: web.Application) -> None:
    """Attach the JSON API, the pages and the static files."""
    app.router.add_get("/healthz", health.healthz)
    add_operations(
        app.router,
        mentions.list_mentions,
        links.list_reviews,
        links.confirm_link,
        links.reject_link,
        people.list_people,
        people.get_person,
        people.attach_person,
        people.merge_person,
        mentions.get_mention,
        mentions.label_topics,
        customers.list_customers,
        crm_sync.sync_customers,
        customers.get_customer,
        sources.list_sources,
        sources.control_source,
        sources.ingest,
    )
    add_operations(
        app.router,
        routing.list_teams,
        routing.put_team,
        routing.team_queue,
        routing.get_routed,
        routing.acknowledge,
        routing.set_status,
        routing.add_comment,
        routing.route_by_hand,
        routing.list_deliveries,
        routing.resend_delivery,
    )
    setup_routing_routes(app)
    setup_dashboard_routes(app)
    setup_forum_routes(app)
    setup_notify_routes(app)
    setup_reply_routes(app)
    app.router.add_get("/", pages.home, name="home")
    app.router.add_static("/static/", STATIC_DIR, name="static")
