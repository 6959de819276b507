"""Every route of the app, in one place."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from api import customers, health, mentions, pages, sources
from api import routing
from api import crm_sync
from api.routing_routes import setup_routing_routes
from api import links
from api import people
from api.dashboard_routes import setup_dashboard_routes
from api.forum_routes import setup_forum_routes
from api.notify import setup_notify_routes
from api.replies import setup_reply_routes

STATIC_DIR = Path(__file__).with_name("static")


def setup_routes(app: web.Application) -> None:
    """Attach the JSON API, the pages and the static files."""
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/api/mentions", mentions.list_mentions)
    app.router.add_get("/api/links/review", links.list_reviews)
    app.router.add_post(r"/api/links/{id:\d+}/confirm", links.confirm_link)
    app.router.add_post(r"/api/links/{id:\d+}/reject", links.reject_link)
    app.router.add_get("/api/people", people.list_people)
    app.router.add_get("/api/people/{id}", people.get_person)
    app.router.add_post("/api/people/{id}/attach", people.attach_person)
    app.router.add_post("/api/people/{id}/merge", people.merge_person)
    app.router.add_get(r"/api/mentions/{id:\d+}", mentions.get_mention)
    app.router.add_post(r"/api/mentions/{id:\d+}/topics", mentions.label_topics)
    app.router.add_get("/api/customers", customers.list_customers)
    app.router.add_post("/api/customers/sync", crm_sync.sync_customers)
    app.router.add_get("/api/customers/{id}", customers.get_customer)
    app.router.add_get("/api/sources", sources.list_sources)
    app.router.add_post(r"/api/sources/{name}/{action:run|pause|resume}", sources.control_source)
    app.router.add_post("/api/ingest/{name}", sources.ingest)
    app.router.add_get("/api/teams", routing.list_teams)
    app.router.add_put(r"/api/teams/{key}", routing.put_team)
    app.router.add_get(r"/api/teams/{key}/queue", routing.team_queue)
    app.router.add_get(r"/api/routed/{id:\d+}", routing.get_routed)
    app.router.add_post(r"/api/routed/{id:\d+}/acknowledge", routing.acknowledge)
    app.router.add_post(r"/api/routed/{id:\d+}/status", routing.set_status)
    app.router.add_post(r"/api/routed/{id:\d+}/comments", routing.add_comment)
    app.router.add_post("/api/route", routing.route_by_hand)
    app.router.add_get("/api/deliveries", routing.list_deliveries)
    app.router.add_post(r"/api/deliveries/{id:\d+}/resend", routing.resend_delivery)
    setup_routing_routes(app)
    setup_dashboard_routes(app)
    setup_forum_routes(app)
    setup_notify_routes(app)
    setup_reply_routes(app)
    app.router.add_get("/", pages.mentions_page, name="mentions")
    app.router.add_static("/static/", STATIC_DIR, name="static")
