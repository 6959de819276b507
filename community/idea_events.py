"""Idea events: ``idea.created``, ``idea.vote_threshold`` and ``idea.status_changed`` go to
the router, and status changes to the followers' notifier.

The runtime builds one ``IdeaEvents`` and hands it to ``Ideas`` and ``Engagement``; they
call it after their write is stored.  Routing is idempotent per item and rule, and a
threshold is announced once per idea (recorded in the store), so replaying is harmless.
"""

from __future__ import annotations

import logging

from community.notify import Notifier
from community.routing import Router
from community.routing_types import RoutableItem
from config.notify import NotifySettings
from crmsphere.domain import utcnow
from crmsphere.domain_forum import Idea, StatusChange
from storage import Store

log = logging.getLogger(__name__)


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


class IdeaEvents:
    """Publishes idea events to routing and notifies followers; failures are logged at this
    boundary (with a traceback) because the idea itself is stored already."""

    def __init__(self, store: Store, settings: NotifySettings, public_url: str,
                 router: Router | None = None, notifier: Notifier | None = None) -> None:
        self.store, self.settings, self.public_url = store, settings, public_url
        self.router, self.notifier = router, notifier

    async def _route(self, event: str, idea: Idea) -> None:
        if self.router is not None and self.router.settings.rules:
            await self.router.on_event(event, await idea_item(self.store, idea, self.public_url))

    async def idea_created(self, idea: Idea) -> None:
        """Publish ``idea.created``."""
        try:
            await self._route("idea.created", idea)
        except Exception:  # boundary: the idea is stored; a replay routes it once
            log.exception("publishing idea.created for idea %s failed", idea.id)

    async def idea_scored(self, idea_id: int) -> None:
        """After votes or linked mentions changed: publish ``idea.vote_threshold`` for each
        configured vote or impact threshold the idea reached for the first time."""
        try:
            idea = await self.store.get_idea(idea_id)
            crossed = [f"votes:{t}" for t in self.settings.vote_thresholds if idea.vote_count >= t]
            crossed += [f"impact:{t:g}" for t in self.settings.impact_thresholds if idea.impact >= t]
            for threshold in crossed:
                if await self.store.record_threshold(idea.id, threshold, utcnow()):
                    await self._route("idea.vote_threshold", idea)
        except Exception:  # boundary, as above
            log.exception("publishing idea.vote_threshold for idea %s failed", idea_id)

    async def status_changed(self, idea: Idea, change: StatusChange,
                             follower_ids: tuple[int, ...]) -> None:
        """Notify followers and linked customers, then publish ``idea.status_changed``."""
        if self.notifier is not None:
            try:
                await self.notifier.status_changed(idea, change, follower_ids)
            except Exception:  # boundary: the status is stored; say loudly that mail is missing
                log.exception("queueing status-change notifications for idea %s failed", idea.id)
        try:
            await self._route("idea.status_changed", idea)
        except Exception:  # boundary, as above
            log.exception("publishing idea.status_changed for idea %s failed", idea.id)
