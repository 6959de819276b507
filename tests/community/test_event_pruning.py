"""Pruning the recorded events (both backends): an event is deleted once every consumer with
a cursor has passed it and it is older than the retention; a consumer that never ran holds
nothing back, a slow one holds what it has not read, however old."""

from __future__ import annotations

from datetime import timedelta

from community.event_pruning import prune_events
from domain.events import IDEA_CREATED, IDEA_STATUS_CHANGED
from domain.forum import NewIdea, StatusChange
from storage import Store
from tests.conftest import T0
from tests.forum_rules import create_idea, set_status

WEEK = timedelta(days=7)


async def _forum_history(store: Store) -> list[int]:
    """Three ideas posted a month before T0 (and one moved to planned), one posted at T0: the
    ids of their events, oldest first."""
    month_ago = T0 - timedelta(days=30)
    old = [await create_idea(store, NewIdea(f"Export to CSV {n}", "please", None, "open"),
                                   month_ago + timedelta(minutes=n)) for n in range(3)]
    await set_status(store, StatusChange(old[0].id, "open", "planned", "Next quarter.", None,
                                        month_ago + timedelta(hours=1)))
    await create_idea(store, NewIdea("Dark mode", "please", None, "open"), T0)
    return [e.id for e in await store.read_events(0, [IDEA_CREATED, IDEA_STATUS_CHANGED])]


async def test_events_every_consumer_passed_are_deleted_after_the_retention(store: Store) -> None:
    ids = await _forum_history(store)
    for consumer in ("routing", "notifications", "crm"):
        await store.set_event_cursor(consumer, ids[-1])
    # Small batches: the round goes on until nothing old is left.
    assert await prune_events(store, WEEK, T0 + timedelta(hours=1), batch=2) == 4
    left = await store.read_events(0, [IDEA_CREATED, IDEA_STATUS_CHANGED])
    assert [e.id for e in left] == [ids[-1]]  # a week old at most: kept, though passed
    assert await prune_events(store, WEEK, T0 + timedelta(hours=1)) == 0


async def test_a_slow_consumer_holds_what_it_has_not_read_one_that_never_ran_nothing(store: Store) -> None:
    ids = await _forum_history(store)
    await store.set_event_cursor("routing", ids[-1])
    await store.set_event_cursor("crm", ids[1])  # behind: has read the first two only
    later = T0 + timedelta(days=30)
    # "notifications" has no cursor (never ran): it holds nothing back.
    assert await prune_events(store, WEEK, later) == 2
    left = [e.id for e in await store.read_events(0, [IDEA_CREATED, IDEA_STATUS_CHANGED])]
    assert left == ids[2:]
    await store.set_event_cursor("crm", ids[-1])
    assert await prune_events(store, WEEK, later) == 3
    assert await store.read_events(0, [IDEA_CREATED, IDEA_STATUS_CHANGED]) == []


async def test_with_no_cursor_at_all_only_the_age_counts(store: Store) -> None:
    ids = await _forum_history(store)
    assert await prune_events(store, WEEK, T0) == 4
    assert [e.id for e in await store.read_events(0, [IDEA_CREATED, IDEA_STATUS_CHANGED])] == [ids[-1]]
