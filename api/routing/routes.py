"""Routes of the routing area added after the first cut: rules, mention signals and the
team-queue / dead-letter pages (called once from ``api.routes``)."""

from __future__ import annotations

from aiohttp import web

from api.routing import escalations as routing_escalations, pages as routing_pages, rules as routing_rules
from api.contract import add_operations


def setup_routing_routes(app: web.Application) -> None:
    """Attach the rules and escalations API, convert/attach a mention, and the routing pages."""
    add_operations(
        app.router,
        routing_rules.get_rules,
        routing_rules.put_rules,
        routing_escalations.get_escalations,
        routing_escalations.put_escalations,
        routing_rules.mention_to_idea,
        routing_rules.idea_draft_of_mention,
        routing_rules.attach_mention,
    )
    routing_pages.setup_page_routes(app)
