"""The routing rule handed to the store, on both backends: which statuses an acknowledgement
moves (and to what) and which statuses wait for escalation are the caller's
(``community.routing.ACKNOWLEDGING``, ``AWAITING_ESCALATION``), so a store given another rule
obeys that one and spells no status of its own."""

from __future__ import annotations

from datetime import timedelta

import pytest

from community.routing import ACKNOWLEDGING, AWAITING_ESCALATION
from domain.routing import Acknowledging, RoutedItem
from storage import Store
from tests.conftest import T0
from tests.storage.test_contract_routing import TEAM, routed

pytestmark = pytest.mark.asyncio

#: A team whose acknowledgement means "we are on it": new or merely acknowledged items go
#: straight to in progress.
STRAIGHT_TO_WORK = Acknowledging(moves=("new", "acknowledged"), to="in_progress")


async def _stored(store: Store, item_id: str, minutes: int = 0) -> RoutedItem:
    stored = await store.route_item(routed(item_id, minutes=minutes), [])
    assert stored is not None and stored.id is not None
    return stored


async def test_acknowledging_moves_the_statuses_the_rule_names_to_its_target(store: Store) -> None:
    fresh, put_back, dismissed = [await _stored(store, i) for i in ("1", "2", "3")]
    # Moved by hand without anybody acknowledging: the store keeps whatever status it is given.
    await store.update_routed(put_back.id, "ana", T0, status="acknowledged")
    await store.update_routed(dismissed.id, "ana", T0, status="dismissed")
    at = T0 + timedelta(minutes=5)
    for stored in (fresh, put_back, dismissed):
        await store.update_routed(stored.id, "bo", at, acknowledge=STRAIGHT_TO_WORK)
    statuses = {r.item.id: (r.status, r.acknowledged_by) for r in
                [await store.get_routed(s.id) for s in (fresh, put_back, dismissed)]}
    assert statuses == {"1": ("in_progress", "bo"), "2": ("in_progress", "bo"), "3": ("dismissed", "bo")}
    # Only the first acknowledgement counts: a second, by another rule, moves nothing.
    again = await store.update_routed(fresh.id, "cy", at, acknowledge=ACKNOWLEDGING)
    assert (again.status, again.acknowledged_by, again.acknowledged_at) == ("in_progress", "bo", at)
    assert [e.action for e in await store.routing_log(fresh.id)] == ["routed", "acknowledged"]


async def test_a_status_given_with_the_acknowledgement_moves_on_from_the_acknowledged_one(
        store: Store) -> None:
    stored = await _stored(store, "1")
    done = await store.update_routed(stored.id, "ana", T0 + timedelta(minutes=1), status="done",
                                     acknowledge=ACKNOWLEDGING)
    assert done.status == "done" and done.acknowledged_by == "ana"
    log = await store.routing_log(stored.id)
    assert [e.action for e in log] == ["routed", "acknowledged", "status"]
    assert log[2].detail == {"from": "acknowledged", "to": "done"}
    # Given the status the acknowledgement already moved it to, nothing more is logged.
    other = await _stored(store, "2")
    await store.update_routed(other.id, "ana", T0, status="in_progress", acknowledge=STRAIGHT_TO_WORK)
    assert [e.action for e in await store.routing_log(other.id)] == ["routed", "acknowledged"]


async def test_escalation_waits_on_the_statuses_the_rule_names(store: Store) -> None:
    await store.seed_teams([(TEAM, "h")], T0)
    fresh = await _stored(store, "1", minutes=0)
    working = await _stored(store, "2", minutes=1)  # in progress, yet nobody acknowledged it
    await store.update_routed(working.id, "ana", T0, status="in_progress")
    dismissed = await _stored(store, "3", minutes=2)
    await store.update_routed(dismissed.id, "ana", T0, status="dismissed")
    answered = await _stored(store, "4", minutes=3)  # acknowledged, then put back to new
    await store.update_routed(answered.id, "ana", T0, acknowledge=ACKNOWLEDGING)
    await store.update_routed(answered.id, "ana", T0, status="new")
    later = T0 + timedelta(hours=2)

    async def waiting(statuses: tuple[str, ...]) -> list[str]:
        return [r.item.id for r in await store.awaiting_escalation("late", "product", later, 10,
                                                                    waiting=statuses)]

    assert await waiting(AWAITING_ESCALATION) == ["1"]
    assert await waiting(("new", "in_progress")) == ["1", "2"]
    assert await waiting(("in_progress", "dismissed")) == ["2", "3"]
    assert await waiting(()) == []
    assert fresh.id is not None and await store.escalate(fresh.id, "late", later)
    assert await waiting(("new", "in_progress")) == ["2"]
