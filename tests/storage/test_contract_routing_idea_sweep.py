"""The Store contract for sweeping repeating idea events: decisions keep their latest time, and
``idea_event_window`` finds ideas whose latest status change or threshold is newer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmsphere.domain_forum import NewIdea, StatusChange
from storage import Store
from tests.conftest import T0

pytestmark = pytest.mark.asyncio


async def test_idea_event_window(store: Store) -> None:
    first = await store.create_idea(NewIdea("Dark mode", "", None, "open"), T0)
    second = await store.create_idea(NewIdea("Export", "", None, "open"), T0)
    await store.set_status(StatusChange(first.id, "open", "planned", "", None, T0 + timedelta(minutes=1)))
    await store.set_status(StatusChange(second.id, "open", "planned", "", None, T0 + timedelta(minutes=2)))
    await store.set_status(StatusChange(first.id, "planned", "started", "", None, T0 + timedelta(minutes=3)))
    event = "idea.status_changed"
    window = await store.idea_event_window(event, None, T0, T0 + timedelta(hours=1))
    assert window.undecided == (first.id, second.id) and window.latest == T0 + timedelta(minutes=3)
    # Decided after the first change only: the later change of ``first`` is still undecided.
    assert await store.record_routing_decision("idea", str(first.id), event, T0 + timedelta(minutes=2))
    assert await store.record_routing_decision("idea", str(second.id), event, T0 + timedelta(minutes=2))
    window = await store.idea_event_window(event, None, T0, T0 + timedelta(hours=1))
    assert window.undecided == (first.id,)
    # A second decision moves the time forward (never back) and says it was no first one.
    assert not await store.record_routing_decision("idea", str(first.id), event, T0 + timedelta(minutes=4))
    assert not await store.record_routing_decision("idea", str(first.id), event, T0)
    assert (await store.idea_event_window(event, None, T0, T0 + timedelta(hours=1))).undecided == ()
    # The window's bounds: strictly after the watermark, up to ``until``.
    later = await store.idea_event_window(event, T0 + timedelta(minutes=2), T0, T0 + timedelta(hours=1))
    assert later.latest == T0 + timedelta(minutes=3)
    early = await store.idea_event_window(event, None, T0, T0 + timedelta(minutes=2))
    assert early.latest == T0 + timedelta(minutes=2)
    empty = await store.idea_event_window(event, T0 + timedelta(minutes=3), T0, T0 + timedelta(hours=1))
    assert empty == type(empty)((), None)
    # Thresholds crossed are swept the same way.
    await store.record_threshold(second.id, "votes:10", T0 + timedelta(minutes=5))
    votes = await store.idea_event_window("idea.vote_threshold", None, T0, T0 + timedelta(hours=1))
    assert votes.undecided == (second.id,) and votes.latest == T0 + timedelta(minutes=5)
    with pytest.raises(ValueError):
        await store.idea_event_window("idea.created", None, T0, T0 + timedelta(hours=1))
