"""The outbox: ``mention.stored`` recorded in the same transaction as the mentions and the
source cursor, read in id order after a consumer's cursor, which only moves forward."""

from __future__ import annotations

import pytest

from domain import Analysis, CustomerLink, Mention
from datetime import timedelta

from domain.events import IDEA_CREATED, IDEA_STATUS_CHANGED, ITEM_ROUTED, MENTION_STORED
from domain.forum import NewIdea, StatusChange
from domain.errors import Conflict
from storage import Store
from tests.conftest import T0, acme_customers, post
from tests.storage.test_contract_routing import routed
from tests.forum_rules import create_idea, moderate_idea, set_status
from tests.stored import stored_mention_ids


async def test_each_new_mention_records_one_event_with_the_batch(store: Store) -> None:
    result = await store.save_mentions("x:acme", [Mention(post("1")), Mention(post("2"))], {"page": 1})
    events = await store.read_events(0, [MENTION_STORED])
    assert [e.subject_id for e in events] == [str(m.id) for m in result.stored]
    assert all(e.kind == MENTION_STORED and e.payload == {"source": "x"} for e in events)
    assert events[0].id < events[1].id
    # The same posts again (a collector's repeated page): no new mention, no new event.
    await store.save_mentions("x:acme", [Mention(post("1")), Mention(post("3"))], {"page": 2})
    again = await store.read_events(events[-1].id, [MENTION_STORED])
    assert [e.subject_id for e in again] == [str((await _mention_id(store, "3")))]


async def test_backfill_mentions_record_no_event(store: Store) -> None:
    await store.save_mentions("import", [Mention(post("old"), backfill=True)], None)
    assert await store.read_events(0, [MENTION_STORED]) == []


async def test_a_failing_batch_records_neither_mentions_nor_events_nor_cursor(store: Store) -> None:
    await store.upsert_customers(acme_customers())
    await store.save_mentions("x:acme", [Mention(post("1"))], {"page": 1})
    # The analyser linked the second post to a customer deleted meanwhile (a CRM sync ran
    # between analysis and store): the whole batch fails inside its transaction.
    gone = CustomerLink("cus_deleted_meanwhile", 0.9, "company_name", "company name 'Gone'", 0, 4)
    batch = [Mention(post("2", "fine")), Mention(post("3", "Gone Inc is down"), Analysis(links=(gone,)))]
    with pytest.raises(Exception) as failure:  # noqa: PT011 - each backend names it its own way
        await store.save_mentions("x:acme", batch, {"page": 2})
    assert isinstance(failure.value, Conflict) or "FOREIGN KEY" in str(failure.value)
    events = await store.read_events(0, [MENTION_STORED])
    assert len(events) == 1
    assert await store.known_identities("x", ["2", "3"]) == set()
    assert await store.get_cursor("x:acme") == {"page": 1}


async def test_read_events_filters_kinds_and_pages_in_id_order(store: Store) -> None:
    await store.save_mentions("x:acme", [Mention(post(str(n))) for n in range(5)], None)
    first = await store.read_events(0, [MENTION_STORED], limit=2)
    rest = await store.read_events(first[-1].id, [MENTION_STORED], limit=10)
    assert len(first) == 2 and len(rest) == 3
    assert [e.id for e in first + rest] == sorted(e.id for e in first + rest)
    assert await store.read_events(0, ["idea.voted"]) == []
    assert await store.read_events(0, []) == []
    assert len(await store.read_events(0, [MENTION_STORED], limit=0)) == 1  # clamped up to 1


async def test_event_cursor_starts_at_zero_and_only_moves_forward(store: Store) -> None:
    assert await store.get_event_cursor("routing") == 0
    assert await store.set_event_cursor("routing", 7) == 7
    # A slow consumer finishing an older page late does not move the cursor back.
    assert await store.set_event_cursor("routing", 3) == 7
    assert await store.get_event_cursor("routing") == 7
    assert await store.set_event_cursor("routing", 9) == 9
    assert await store.get_event_cursor("live") == 0  # each consumer its own cursor


async def _mention_id(store: Store, external_id: str) -> int:
    ids = await stored_mention_ids(store, [("x", external_id)])
    return ids[("x", external_id)]


async def test_a_status_change_records_its_event_and_a_refused_one_none(store: Store) -> None:
    idea = await create_idea(store, NewIdea("Dark mode", "please", None, "open"), T0)
    await set_status(store, StatusChange(idea.id, "open", "planned", "soon", None, T0))
    # Two managers changed it at once: the second, from the status it no longer has, fails.
    with pytest.raises(Conflict):
        await set_status(store, StatusChange(idea.id, "open", "declined", "no", None, T0))
    (event,) = await store.read_events(0, [IDEA_STATUS_CHANGED])
    assert (event.subject_id, event.payload) == (str(idea.id), {"from": "open", "to": "planned"})
    assert (await store.get_idea(idea.id)).status == "planned"


async def test_an_idea_records_idea_created_once_it_is_public(store: Store) -> None:
    public = await create_idea(store, NewIdea("Dark mode", "please", None, "open"), T0)
    waiting = await create_idea(store, NewIdea("Buy cheap followers", "spam?", None, "open",
                                              approval="pending"), T0)
    assert [e.subject_id for e in await store.read_events(0, [IDEA_CREATED])] == [str(public.id)]
    await moderate_idea(store, waiting.id, T0, approval="approved")
    await moderate_idea(store, waiting.id, T0, approval="approved")  # approved twice: once public
    await moderate_idea(store, public.id, T0, hidden=True)
    assert [e.subject_id for e in await store.read_events(0, [IDEA_CREATED])] == [
        str(public.id), str(waiting.id)]


async def test_a_routing_records_item_routed_once(store: Store) -> None:
    first = await store.route_item(routed(), [])
    assert first is not None and await store.route_item(routed(), []) is None  # same item, same rule
    (event,) = await store.read_events(0, [ITEM_ROUTED])
    assert event.subject_id == str(first.id)


async def test_latest_event_id_and_every_cursor(store: Store) -> None:
    assert await store.latest_event_id() == 0
    assert await store.event_cursors() == {}
    await store.save_mentions("x:acme", [Mention(post("1")), Mention(post("2"))], None)
    events = await store.read_events(0, [MENTION_STORED])
    assert await store.latest_event_id() == events[-1].id
    await store.set_event_cursor("routing", events[0].id)
    await store.set_event_cursor("crm", events[1].id)
    assert await store.event_cursors() == {"routing": events[0].id, "crm": events[1].id}


async def test_delete_events_only_old_ones_up_to_an_id_oldest_first_in_batches(store: Store) -> None:
    old = [await create_idea(store, NewIdea(f"Idea {n}", "please", None, "open"), T0 + timedelta(minutes=n))
           for n in range(3)]
    await create_idea(store, NewIdea("New one", "please", None, "open"), T0 + timedelta(days=10))
    events = await store.read_events(0, [IDEA_CREATED])
    assert [e.subject_id for e in events[:3]] == [str(i.id) for i in old]
    cutoff = T0 + timedelta(days=1)
    # Only up to the id every consumer passed: the third old event is kept.
    assert await store.delete_events(events[1].id, cutoff, limit=1) == 1
    assert await store.delete_events(events[1].id, cutoff, limit=10) == 1
    assert await store.delete_events(events[1].id, cutoff, limit=10) == 0
    # Past every id, but the newest event is younger than the cutoff: kept.
    assert await store.delete_events(events[-1].id, cutoff, limit=10) == 1
    assert [e.id for e in await store.read_events(0, [IDEA_CREATED])] == [events[-1].id]
