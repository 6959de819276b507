"""What tests look up in a store through the reads the service itself makes: a stored
mention's id by its post, a delivery by id."""

from __future__ import annotations

from collections.abc import Sequence

from domain.routing import Delivery
from storage import Store


async def stored_mention_ids(store: Store, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Stored mention ids by (source, external id), for the keys that are stored (the first
    stored where two servers of a per-server platform gave the same id), read the way the live
    feed catches up (``mentions_after``)."""
    wanted, found, after = set(keys), {}, 0
    while batch := await store.mentions_after(after, 500):
        for mention in batch:
            key = (mention.post.source, mention.post.external_id)
            if key in wanted and mention.id is not None:
                found.setdefault(key, mention.id)
        after = batch[-1].id or after
    return found


async def stored_delivery(store: Store, delivery_id: int) -> Delivery:
    """One delivery as the outbox lists it (``list_deliveries``); ``LookupError`` when none."""
    cursor: str | None = None
    while True:
        page = await store.list_deliveries(limit=500, cursor=cursor)
        for delivery in page.items:
            if delivery.id == delivery_id:
                return delivery
        if page.next_cursor is None:
            raise LookupError(f"no delivery {delivery_id}")
        cursor = page.next_cursor
