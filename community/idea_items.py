"""An idea as routing rules see it (the routing consumer)."""

from __future__ import annotations

from domain.routing import RoutableItem
from domain.forum import Idea
from storage import Store


async def idea_item(store: Store, idea: Idea, public_url: str) -> RoutableItem:
    """An idea as routing rules see it, with its author's customer facts."""
    customer = author = None
    if idea.author_id is not None:
        account = (await store.get_accounts([idea.author_id])).get(idea.author_id)
        if account is not None:
            author = account.name
            if account.customer_id:
                customer = (await store.get_customers([account.customer_id])).get(account.customer_id)
    return RoutableItem(
        kind="idea", id=str(idea.id), text=f"{idea.title}\n\n{idea.body}".strip(), source="forum",
        title=idea.title, topics=(idea.topic,) if idea.topic else (), votes=idea.vote_count,
        impact=idea.impact, customer_id=customer.id if customer else None,
        customer_name=customer.name if customer else None,
        company=(customer.company or (customer.name if customer.kind == "company" else None))
        if customer else None,
        segment=customer.segment if customer else None,
        revenue=customer.annual_revenue if customer else None,
        author=author, url=f"{public_url.rstrip('/')}/forum/ideas/{idea.id}")
