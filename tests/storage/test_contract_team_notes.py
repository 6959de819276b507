"""The team note of a status change exists once, even when two processes handle the same
recorded ``idea.status_changed`` event at the same moment (both backends): the note has a
unique key on its routed item and is written insert-if-absent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from community.notify import Notifier
from community.notify_consumer import CONSUMER, notifications_consumer
from config.forum import ForumSettings
from config.notify import NotifySettings
from domain.events import IDEA_STATUS_CHANGED, NewEvent
from domain.forum import NewIdea, StatusChange
from domain.routing import RoutableItem, RoutedItem
from storage import Store, open_store
from tests.community.reply_fixtures import mastodon_mention
from tests.conftest import T0
from tests.forum_rules import create_idea, set_status
from tests.storage.test_contract_forum_votes import _url_of

BASE = "https://ideas.nimbus.example"


class PausedBeforeWrite:
    """A store handle that, once it has decided to write a team note, waits until the other
    handle has decided too: the two checks "already noted?" are both done before either
    write, the interleaving that a real race produces now and then (every time here)."""

    def __init__(self, store: Store, both_decided: asyncio.Barrier) -> None:
        self._store = store
        self._both_decided = both_decided

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def update_routed(self, *args: Any, **kwargs: Any) -> Any:
        async with asyncio.timeout(60):  # only a broken test waits that long
            await self._both_decided.wait()
        return await self._store.update_routed(*args, **kwargs)


async def _shipped_idea_routed_to_product(store: Store) -> tuple[int, int]:
    """An idea backed by a blog post of a customer who has no account, routed to the
    product team, then shipped (the change records its event); the idea's and the routed
    item's ids."""
    mention_id = await mastodon_mention(store, "https://blog.example/2026/11/bulk-routing", source="rss",
                                        customer_id="cus_blog", name="Blue Lantern Logistics")
    idea = await create_idea(store, NewIdea("Bulk routing", "Route many tickets at once", None, "open"), T0)
    await store.link_mention(idea.id, mention_id)
    routed = await store.route_item(RoutedItem(
        item=RoutableItem(kind="idea", id=str(idea.id), text="Bulk routing", title="Bulk routing"),
        rule_id="ideas", team_key="product", event="idea.created", routed_at=T0), [])
    assert routed is not None and routed.id is not None
    await set_status(store, StatusChange(idea.id, "open", "done", "Shipped in 4.2", None, T0))
    return idea.id, routed.id


def _notes(entries: list[Any]) -> list[str]:
    return [e.detail["text"] for e in entries if e.action == "comment"]


async def test_two_consumers_racing_on_one_status_event_leave_one_team_note(
        store: Store, request: pytest.FixtureRequest, tmp_path: Any) -> None:
    _, routed_id = await _shipped_idea_routed_to_product(store)
    other = await open_store(_url_of(request, store, tmp_path))  # a second process, in effect
    try:
        both_decided = asyncio.Barrier(2)
        consumers = [notifications_consumer(handle, Notifier(handle, NotifySettings(), ForumSettings(),
                                                             BASE, b"k" * 32))
                     for handle in (PausedBeforeWrite(store, both_decided),   # type: ignore[arg-type]
                                    PausedBeforeWrite(other, both_decided))]
        handled = await asyncio.gather(*(c.run_once() for c in consumers))
        assert handled == [1, 1]  # both really handled the event
    finally:
        await other.close()
    notes = _notes(await store.routing_log(routed_id))
    assert len(notes) == 1, notes
    assert notes[0].startswith("Tell the linked social customers (Blue Lantern Logistics)")


async def test_a_replayed_status_event_adds_no_second_note(store: Store) -> None:
    _, routed_id = await _shipped_idea_routed_to_product(store)
    notifier = Notifier(store, NotifySettings(), ForumSettings(), BASE, b"k" * 32)
    consumer = notifications_consumer(store, notifier)
    assert await consumer.run_once() == 1
    # The event handed again (a process died before the cursor moved).
    await consumer.handle(await store.read_events(0, [IDEA_STATUS_CHANGED]))
    assert len(_notes(await store.routing_log(routed_id))) == 1


async def test_a_customer_behind_two_shipped_ideas_is_noted_once_on_each(store: Store) -> None:
    """One note per idea: each idea's own team tells the customer about that idea."""
    mention_id = await mastodon_mention(store, "https://blog.example/2026/11/wishlist", source="rss",
                                        customer_id="cus_blog", name="Blue Lantern Logistics")
    routed_ids = []
    for n, title in enumerate(("Bulk routing", "Refund tracking")):
        idea = await create_idea(store, NewIdea(title, "", None, "open"), T0)
        await store.link_mention(idea.id, mention_id)
        routed = await store.route_item(RoutedItem(
            item=RoutableItem(kind="idea", id=str(idea.id), text=title, title=title),
            rule_id="ideas", team_key=("product", "billing")[n], event="idea.created", routed_at=T0), [])
        assert routed is not None and routed.id is not None
        routed_ids.append(routed.id)
        await set_status(store, StatusChange(idea.id, "open", "done", "Shipped", None, T0))
    notifier = Notifier(store, NotifySettings(), ForumSettings(), BASE, b"k" * 32)
    assert await notifications_consumer(store, notifier).run_once() == 2
    noted = [_notes(await store.routing_log(r)) for r in routed_ids]
    assert [len(n) for n in noted] == [1, 1]
    assert "Bulk routing" in noted[0][0] and "Refund tracking" in noted[1][0]


#: Subjects another writer of the outbox could leave: digits to ``str.isdigit`` that ``int``
#: refuses ("²"), reads as another row ("٣" is 3), or that overflow the store's integers.
HOSTILE_SUBJECTS = ("²", "¹²", "٣", "9" * 5000, "9" * 25)


async def test_status_events_naming_no_idea_are_skipped_and_never_block_the_notes(store: Store) -> None:
    hostile = [NewEvent(IDEA_STATUS_CHANGED, subject, {"to": "done"}) for subject in HOSTILE_SUBJECTS]
    await store.unit_of_work().run(lambda uow: uow.events.record(hostile, T0))
    _, routed_id = await _shipped_idea_routed_to_product(store)
    notifier = Notifier(store, NotifySettings(), ForumSettings(), BASE, b"k" * 32)
    assert await notifications_consumer(store, notifier).run_once() == len(HOSTILE_SUBJECTS) + 1
    assert len(_notes(await store.routing_log(routed_id))) == 1
    events = await store.read_events(0, [IDEA_STATUS_CHANGED])
    assert await store.get_event_cursor(CONSUMER) == events[-1].id
