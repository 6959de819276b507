"""Every route of the app, in one place."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from api import customers, health, mentions, pages, sources

STATIC_DIR = Path(__file__).with_name("static")


def setup_routes(app: web.Application) -> None:
    """Attach the JSON API, the pages and the static files."""
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/api/mentions", mentions.list_mentions)
    app.router.add_get(r"/api/mentions/{id:\d+}", mentions.get_mention)
    app.router.add_get("/api/customers", customers.list_customers)
    app.router.add_get("/api/customers/{id}", customers.get_customer)
    app.router.add_get("/api/sources", sources.list_sources)
    app.router.add_post(r"/api/sources/{name}/{action:run|pause|resume}", sources.control_source)
    app.router.add_post("/api/ingest/{name}", sources.ingest)
    app.router.add_get("/", pages.mentions_page, name="mentions")
    app.router.add_static("/static/", STATIC_DIR, name="static")
