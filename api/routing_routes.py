"""Routes of the routing area added after the first cut: rules, mention signals and the
team-queue / dead-letter pages (called once from ``api.routes``)."""

from __future__ import annotations

from aiohttp import web

from api import routing_escalations, routing_pages, routing_rules


def setup_routing_routes(app: web.Application) -> None:
    """Attach the rules and escalations API, convert/attach a mention, and the routing pages."""
    app.router.add_get("/api/routing/rules", routing_rules.get_rules)
    app.router.add_put("/api/routing/rules", routing_rules.put_rules)
    app.router.add_get("/api/routing/escalations", routing_escalations.get_escalations)
    app.router.add_put("/api/routing/escalations", routing_escalations.put_escalations)
    app.router.add_post(r"/api/mentions/{id:\d+}/idea", routing_rules.mention_to_idea)
    app.router.add_get(r"/api/mentions/{id:\d+}/idea-draft", routing_rules.idea_draft_of_mention)
    app.router.add_post(r"/api/mentions/{id:\d+}/attach", routing_rules.attach_mention)
    routing_pages.setup_page_routes(app)
