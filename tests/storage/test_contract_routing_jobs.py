"""The routing-jobs part of the Store contract: stored rules, escalations once per item,
and routing decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from community.routing import ACKNOWLEDGING, AWAITING_ESCALATION
from domain.routing import Delivery
from storage import Store
from tests.conftest import T0
from tests.storage.test_contract_routing import TEAM, delivery, routed

pytestmark = pytest.mark.asyncio

BOOK = {"rule_sets": {"default": "first_match"}, "rules": [{"id": "a", "team": "product"}]}


async def test_rules_seeded_edited_and_reseeded(store: Store) -> None:
    assert await store.get_routing_rules() is None
    await store.seed_routing_rules(BOOK, "h1", T0)
    first = await store.get_routing_rules()
    assert first is not None and first.body == BOOK and first.updated_by == "config"
    edited = {"rule_sets": {"default": "all_match"}, "rules": []}
    saved = await store.save_routing_rules(edited, T0 + timedelta(minutes=1), "ana")
    assert saved.version == first.version + 1 and saved.updated_by == "ana"
    await store.seed_routing_rules(BOOK, "h1", T0)  # same config: the API edit stays
    assert (await store.get_routing_rules()).body == edited
    await store.seed_routing_rules(BOOK, "h2", T0)  # the config changed: it wins
    again = await store.get_routing_rules()
    assert again.body == BOOK and again.version == saved.version + 1


async def test_escalation_happens_once_with_its_actions(store: Store) -> None:
    await store.seed_teams([(TEAM, "h")], T0)
    old = await store.route_item(routed("1", minutes=0), [])
    acked = await store.route_item(routed("2", minutes=0), [])
    young = await store.route_item(routed("3", minutes=50), [])
    await store.update_routed(acked.id, "bo", T0, acknowledge=ACKNOWLEDGING)
    due = await store.awaiting_escalation("late", "product", T0 + timedelta(minutes=10), 10,
                                     waiting=AWAITING_ESCALATION)
    assert [r.id for r in due] == [old.id]  # acknowledged and younger items are not overdue
    onward = routed("1", rule="escalation:late", team="leads", minutes=70)
    assert await store.escalate(old.id, "late", T0 + timedelta(minutes=70), priority="urgent",
                                routed=onward, deliveries=[delivery("esc-1")])
    assert not await store.escalate(old.id, "late", T0 + timedelta(minutes=71), priority="low")
    assert await store.awaiting_escalation("late", "product", T0 + timedelta(hours=2), 10,
                                         waiting=AWAITING_ESCALATION) == [young]
    assert (await store.get_routed(old.id)).priority == "urgent"
    (moved,) = [r for r in await store.routed_for_item("mention", "1") if r.team_key == "leads"]
    assert moved.event == "mention.analysed" and moved.rule_id == "escalation:late"
    (d,) = (await store.list_deliveries()).items
    assert d.routed_id == moved.id and d.idempotency_key == "esc-1"
    actions = [(e.action, dict(e.detail)) for e in await store.routing_log(old.id)]
    assert actions[-1][0] == "escalated"
    assert actions[-1][1]["priority"] == {"from": "high", "to": "urgent"}
    assert actions[-1][1]["routed_to"]["team"] == "leads"
    # Another escalation rule is a separate matter; notify-only puts deliveries on the item.
    assert await store.escalate(old.id, "later", T0, deliveries=[
        Delivery(None, "product", "mail", {"to": ["p@example.com"]}, {"subject": "s", "body": "b"},
                 "esc-2", next_attempt_at=T0)])
    assert {d.idempotency_key: d.routed_id for d in (await store.list_deliveries()).items}["esc-2"] == old.id


async def test_routing_decisions_are_noted_once_with_their_latest_time(store: Store) -> None:
    assert await store.record_routing_decision("idea", "7", "idea.created", T0)
    assert not await store.record_routing_decision("idea", "7", "idea.created", T0)
    # Another event of the same item, or another item, is a decision of its own.
    assert await store.record_routing_decision("idea", "7", "idea.status_changed", T0)
    assert await store.record_routing_decision("mention", "7", "mention.analysed", T0)
    # A repeat later (a second status change) or earlier is no first decision either.
    assert not await store.record_routing_decision("idea", "7", "idea.status_changed",
                                                   T0 + timedelta(minutes=5))
    assert not await store.record_routing_decision("idea", "7", "idea.status_changed", T0)
