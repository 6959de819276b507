"""The Store contract for routed spikes: a spike item is stored with its facts, once per rule."""

from __future__ import annotations

import pytest

from domain.routing import RoutableItem, RoutedItem, SpikeFacts, Team
from storage import Store
from tests.conftest import T0

pytestmark = pytest.mark.asyncio

FACTS = SpikeFacts(subject_kind="customer", subject="cus_1", day="2026-11-20",
                   window_start="2026-11-19T15:30:00Z", window_end="2026-11-20T15:30:00Z",
                   count=12, baseline=1.5, threshold=3.25, subject_name="Acme Anvils", alert_id=4)


async def test_a_spike_is_routed_once_with_its_facts(store: Store) -> None:
    await store.seed_teams([(Team("care", "Care"), "h1")], T0)
    item = RoutableItem(kind="spike", id="customer:cus_1:2026-11-20", text="Spike",
                        customer_id="cus_1", segment="enterprise", revenue=9_000_000, spike=FACTS)
    routed = RoutedItem(item=item, rule_id="spikes", team_key="care", event="spike.detected",
                        routed_at=T0)
    first = await store.route_item(routed, [])
    assert first is not None
    assert await store.route_item(routed, []) is None
    (stored,) = await store.routed_for_item("spike", item.id)
    assert stored.item == item and stored.item.spike == FACTS
    assert (await store.get_routed(first.id)).item.spike == FACTS
    # Items without spike facts still read back as before.
    plain = RoutableItem(kind="mention", id="9", text="hi")
    await store.route_item(RoutedItem(item=plain, rule_id="r", team_key="care",
                                      event="mention.analysed", routed_at=T0), [])
    assert (await store.routed_for_item("mention", "9"))[0].item.spike is None
