"""The routing part of the Store contract: teams, idempotent routing, outbox claims, dead letters."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from community.routing import ACKNOWLEDGING
from domain.routing import (
    Delivery,
    QueueCounts,
    RoutableItem,
    RoutedItem,
    Team,
    TeamChannels,
)
from domain import Analysis, CustomerLink, Mention
from domain.errors import BadInput, NotFound
from storage import Store, open_store
from tests.conftest import T0, customer, post
from tests.stored import stored_delivery

pytestmark = pytest.mark.asyncio

TEAM = Team("product", "Product", ("ana@example.com",),
            TeamChannels.from_flat(webhook_url="http://127.0.0.1:1/hook", webhook_secret_env="S",
                         mail_to=("p@example.com",)), ack_sla_minutes=60)


def routed(item_id: str = "1", rule: str = "r1", team: str = "product", minutes: int = 0) -> RoutedItem:
    item = RoutableItem(kind="mention", id=item_id, text="invoices broken", source="x",
                        topics=("billing",), sentiment=-0.7, customer_id="cus_1", revenue=10)
    return RoutedItem(item=item, rule_id=rule, team_key=team, event="mention.analysed",
                      priority="high", routed_at=T0 + timedelta(minutes=minutes))


def delivery(key: str, channel: str = "webhook", minutes: int = 0) -> Delivery:
    return Delivery(routed_id=None, team_key="product", channel=channel,
                    target={"url": "http://127.0.0.1:1/hook", "secret_env": "S"},
                    payload={"type": "item.routed", "n": key}, idempotency_key=key,
                    next_attempt_at=T0 + timedelta(minutes=minutes))


async def test_teams_seed_edit_and_reseed(store: Store) -> None:
    await store.seed_teams([(TEAM, "h1")], T0)
    assert await store.get_team("product") == TEAM
    edited = Team("product", "Product design", ("bo@example.com",), TEAM.channels, 30)
    await store.save_team(edited, T0)
    await store.seed_teams([(TEAM, "h1")], T0)  # same config: the API edit stays
    assert (await store.get_team("product")).name == "Product design"
    await store.seed_teams([(TEAM, "h2")], T0)  # config changed: it wins
    assert (await store.get_team("product")).name == "Product"
    assert [t.key for t in await store.list_teams()] == ["product"]
    with pytest.raises(NotFound):
        await store.get_team("nobody")


async def test_route_item_once_with_its_deliveries(store: Store) -> None:
    await store.seed_teams([(TEAM, "h")], T0)
    first = await store.route_item(routed(), [delivery("k1"), delivery("k2", "mail")])
    assert first is not None and first.id is not None
    again = await store.route_item(routed(), [delivery("k3")])
    assert again is None  # same item and rule: nothing written, not even the deliveries
    other_rule = await store.route_item(routed(rule="r2"), [])
    assert other_rule is not None and other_rule.id != first.id
    page = await store.list_deliveries()
    assert sorted(d.idempotency_key for d in page.items) == ["k1", "k2"]
    assert all(d.routed_id == first.id and d.state == "pending" for d in page.items)
    got = await store.get_routed(first.id)
    assert got.item == routed().item and got.priority == "high" and got.status == "new"
    assert [r.rule_id for r in await store.routed_for_item("mention", "1")] == ["r1", "r2"]
    log = await store.routing_log(first.id)
    assert [e.action for e in log] == ["routed"] and log[0].detail["rule"] == "r1"


async def test_team_queue_pages_and_status_filter(store: Store) -> None:
    for i in range(5):
        await store.route_item(routed(str(i), minutes=i), [])
    await store.route_item(routed("9", team="support"), [])
    page = await store.team_queue("product", limit=3)
    assert [r.item.id for r in page.items] == ["4", "3", "2"]
    rest = await store.team_queue("product", limit=3, cursor=page.next_cursor)
    assert [r.item.id for r in rest.items] == ["1", "0"] and rest.next_cursor is None
    await store.update_routed(page.items[0].id, "ana", T0, status="done")
    done = await store.team_queue("product", ["done"])
    assert [r.item.id for r in done.items] == ["4"]


async def test_team_queue_counts_the_whole_queue_not_a_page(store: Store) -> None:
    # Counted over the whole queue, past a page (the /teams page once showed a page's length;
    # tests/api/test_routing_pages.py walks it with a thousand items).
    for i in range(12):
        await store.route_item(routed(str(i), minutes=i), [])
    await store.route_item(routed("elsewhere", team="support"), [])
    first = await store.team_queue("product", limit=5)
    assert first.next_cursor is not None
    item_1, item_0 = (await store.team_queue("product", limit=12)).items[-2:]
    assert (item_1.item.id, item_0.item.id) == ("1", "0")
    await store.update_routed(item_0.id, "ana", T0, status="done")  # no longer waiting
    # Acknowledged, then put back to "new": waiting again, yet somebody answered it in time.
    await store.update_routed(item_1.id, "ana", T0, acknowledge=ACKNOWLEDGING)
    await store.update_routed(item_1.id, "ana", T0, status="new")
    counts = await store.team_queue_counts("product", "new", T0 + timedelta(minutes=6))
    # Items 0..5 were routed before the cut-off (6 is not: overdue means strictly past it);
    # item 0 is done and item 1 acknowledged.
    assert counts.waiting == 11 and counts.overdue == 4
    no_sla = await store.team_queue_counts("product", "new", None)
    assert no_sla.waiting == 11 and no_sla.overdue == 0
    assert (await store.team_queue_counts("product", "done", None)).waiting == 1
    assert (await store.team_queue_counts("nobody", "new", T0)).waiting == 0


async def test_many_teams_are_counted_at_once_each_with_its_own_sla(store: Store) -> None:
    """The /teams page counts every team in one read: each team's overdue cut-off is its own
    (teams differ in SLA, some have none), and a team with nothing routed counts zero."""
    for i in range(6):
        await store.route_item(routed(str(i), minutes=i), [])
        await store.route_item(routed(f"s{i}", team="support", minutes=10 * i), [])
    await store.route_item(routed("x", team="billing-emea"), [])
    item = (await store.team_queue("support", limit=50)).items[-1]  # s0, the oldest
    await store.update_routed(item.id, "ana", T0, acknowledge=ACKNOWLEDGING)
    await store.update_routed(item.id, "ana", T0, status="new")
    cut_offs = {"product": T0 + timedelta(minutes=3), "support": T0 + timedelta(minutes=35),
                "billing-emea": None, "quiet": T0 + timedelta(days=1)}
    counts = await store.teams_queue_counts("new", cut_offs)
    assert counts == {"product": QueueCounts(6, 3), "support": QueueCounts(6, 3),
                      "billing-emea": QueueCounts(1, 0), "quiet": QueueCounts(0, 0)}
    # The same figures as one team at a time.
    for key, before in cut_offs.items():
        assert await store.team_queue_counts(key, "new", before) == counts[key]
    assert await store.teams_queue_counts("done", cut_offs) == {k: QueueCounts(0, 0) for k in cut_offs}
    assert await store.teams_queue_counts("new", {}) == {}
    # Many teams: still one answer per team asked for.
    many = {f"team-{n}": T0 for n in range(1200)}
    assert set(await store.teams_queue_counts("new", {**many, "product": None})) == {*many, "product"}


async def test_acknowledge_status_comment_are_logged(store: Store) -> None:
    r = await store.route_item(routed(), [])
    assert r is not None
    acked = await store.update_routed(r.id, "ana", T0 + timedelta(minutes=5), acknowledge=ACKNOWLEDGING)
    assert acked.status == "acknowledged" and acked.acknowledged_by == "ana"
    again = await store.update_routed(r.id, "bo", T0 + timedelta(minutes=9), acknowledge=ACKNOWLEDGING)
    assert again.acknowledged_by == "ana"  # the first acknowledgement is the one that counts
    moved = await store.update_routed(r.id, "bo", T0 + timedelta(minutes=10), status="in_progress",
                                      comment="looking")
    assert moved.status == "in_progress"
    log = await store.routing_log(r.id)
    assert [(e.action, e.actor) for e in log] == [
        ("routed", "rules"), ("acknowledged", "ana"), ("status", "bo"), ("comment", "bo")]
    assert log[2].detail == {"from": "acknowledged", "to": "in_progress"}
    with pytest.raises(NotFound):
        await store.update_routed(999, "x", T0, comment="?")


async def test_claim_retry_dead_and_resend(store: Store) -> None:
    await store.route_item(routed(), [delivery("k1"), delivery("later", minutes=30)])
    claimed = await store.claim_deliveries("w1", T0, T0 + timedelta(minutes=2), 10)
    assert [d.idempotency_key for d in claimed] == ["k1"]
    assert claimed[0].state == "sending" and claimed[0].attempts == 1
    assert await store.claim_deliveries("w2", T0, T0 + timedelta(minutes=2), 10) == []
    d_id = claimed[0].id
    assert not await store.delivery_failed(d_id, "w2", "not mine", None)  # claim held by w1
    assert await store.delivery_failed(d_id, "w1", "HTTP 500", T0 + timedelta(minutes=1))
    assert (await stored_delivery(store, d_id)).state == "pending"
    assert await store.claim_deliveries("w1", T0, T0 + timedelta(minutes=2), 10) == []
    again = await store.claim_deliveries("w1", T0 + timedelta(minutes=1), T0 + timedelta(minutes=3), 1)
    assert [d.attempts for d in again] == [2]
    assert await store.delivery_failed(d_id, "w1", "HTTP 500 again", None)
    dead = await store.list_deliveries("dead")
    assert [(d.id, d.last_error) for d in dead.items] == [(d_id, "HTTP 500 again")]
    with pytest.raises(BadInput):
        await store.resend_delivery((await store.list_deliveries("pending")).items[0].id, T0)
    back = await store.resend_delivery(d_id, T0 + timedelta(minutes=5))
    assert back.state == "pending" and back.attempts == 0 and back.idempotency_key == "k1"
    claimed = await store.claim_deliveries("w3", T0 + timedelta(minutes=5), T0 + timedelta(minutes=7), 1)
    assert await store.delivery_sent(claimed[0].id, "w3", T0 + timedelta(minutes=5))
    sent = await stored_delivery(store, d_id)
    assert sent.state == "sent" and sent.sent_at is not None
    with pytest.raises(NotFound):
        await store.resend_delivery(12345, T0)


async def test_expired_claim_is_taken_over_with_the_same_key(store: Store) -> None:
    await store.route_item(routed(), [delivery("k1")])
    (first,) = await store.claim_deliveries("dead-worker", T0, T0 + timedelta(minutes=2), 10)
    assert await store.claim_deliveries("w2", T0 + timedelta(minutes=1), T0 + timedelta(minutes=3), 10) == []
    (taken,) = await store.claim_deliveries("w2", T0 + timedelta(minutes=2), T0 + timedelta(minutes=4), 10)
    assert taken.id == first.id and taken.idempotency_key == "k1" and taken.attempts == 2
    assert not await store.delivery_sent(first.id, "dead-worker", T0)  # it lost the claim
    assert await store.delivery_sent(first.id, "w2", T0)


async def test_two_stores_claiming_concurrently_never_share(store: Store, tmp_path: Path) -> None:
    await store.route_item(routed(), [delivery(f"k{i}") for i in range(40)])
    url = getattr(store, "path", None)
    if url is None:
        pytest.skip("backend without a file path")
    other = await open_store(f"sqlite:///{url}")
    try:
        async def claim_all(s: Store, worker: str) -> list[str]:
            got: list[str] = []
            while batch := await s.claim_deliveries(worker, T0, T0 + timedelta(minutes=5), 3):
                got += [d.idempotency_key for d in batch]
            return got

        a, b = await asyncio.gather(claim_all(store, "a"), claim_all(other, "b"))
    finally:
        await other.close()
    assert sorted(a + b) == sorted(f"k{i}" for i in range(40))
    assert not set(a) & set(b)


async def test_linked_mention_counts(store: Store) -> None:
    await store.upsert_customers([customer("cus_1"), customer("cus_2", "Other")])
    link = CustomerLink("cus_1", 0.9, "author_handle", "handle")
    await store.save_mentions("t", [Mention(post("a"), Analysis((link,))),
                                    Mention(post("b"), Analysis((link,))),
                                    Mention(post("c"))], None)
    assert await store.linked_mention_counts(["cus_1", "cus_2"]) == {"cus_1": 2}
    assert await store.linked_mention_counts([]) == {}
