"""The "mention.analysed" event from ingest: items built from stored mentions, routed once."""

from __future__ import annotations

import pytest

from community.routing import Router
from community.routing_consumer import RoutingConsumer
from config.routing import RoutingSettings, RuleSettings, TeamSettings
from domain import Analysis, CustomerLink
from crmsphere.ingest import store_posts
from storage import Store
from tests.community.test_routing_deliveries import Clock
from tests.conftest import acme_customers, post


class NoNlp:
    """An analyser stand-in: one link per post by author handle, no topics yet."""

    async def analyse(self, posts):
        return [Analysis((CustomerLink("cus_acme", 0.95, "author_handle", "handle"),))
                if p.author.handle == "acmeanvils" else Analysis() for p in posts]


def settings(*rules: RuleSettings) -> RoutingSettings:
    return RoutingSettings(teams=(TeamSettings(key="care", name="Care", mail_to=("c@example.com",)),),
                           rules=rules)


@pytest.fixture
async def file_store(file_store: Store) -> Store:
    """The community store, holding the Acme customers."""
    await file_store.upsert_customers(acme_customers())
    return file_store


async def test_ingest_hook_routes_new_mentions_once(file_store: Store) -> None:
    router = Router(file_store, settings(
        RuleSettings(id="enterprise-refunds", segments=("enterprise",), keywords=("refund",),
                     team="care")), clock=Clock())
    await router.start()
    posts = [post("1", "I want a REFUND now", handle="acmeanvils"),
             post("2", "refund please", handle="stranger"),
             post("3", "all good", handle="acmeanvils")]
    report = await store_posts(file_store, NoNlp(), "t", posts, None, RoutingConsumer(file_store, router).wake)
    assert report.accepted == 3
    queue = await file_store.team_queue("care")
    (only,) = queue.items
    assert only.item.customer_id == "cus_acme" and only.item.segment == "enterprise"
    assert only.item.revenue == 5_000_000 and only.item.source == "x" and only.event == "mention.analysed"
    # Replaying the event (e.g. a re-run after a crash) routes nothing new.
    mention = await file_store.get_mention(int(only.item.id))
    await router.route_stored_mentions([mention])
    assert len((await file_store.team_queue("care")).items) == 1
    assert len((await file_store.list_deliveries()).items) == 1


async def test_rule_change_applies_to_new_events_only(file_store: Store) -> None:
    old = Router(file_store, settings(RuleSettings(id="r", keywords=("refund",), team="care")),
                 clock=Clock())
    await old.start()
    await store_posts(file_store, NoNlp(), "t", [post("1", "refund")], None, RoutingConsumer(file_store, old).wake)
    new = Router(file_store, settings(RuleSettings(id="r", keywords=("crash",), team="care",
                                                   priority="urgent")), clock=Clock())
    await store_posts(file_store, NoNlp(), "t", [post("2", "app crash"), post("3", "refund")], None,
                      RoutingConsumer(file_store, new).wake)
    queue = (await file_store.team_queue("care")).items
    assert sorted((r.item.text, r.priority) for r in queue) == [("app crash", "urgent"),
                                                                ("refund", "normal")]


async def test_routing_failure_does_not_fail_ingest(file_store: Store, caplog) -> None:
    router = Router(file_store, settings(RuleSettings(id="r", team="care")), clock=Clock())
    await router.start()

    async def broken(*_args, **_kw):
        raise RuntimeError("store hiccup")

    file_store.route_item = broken  # type: ignore[method-assign]
    report = await store_posts(file_store, NoNlp(), "t", [post("1", "x")], None,
                               RoutingConsumer(file_store, router).wake)
    assert report.accepted == 1
    assert "routing recorded events failed" in caplog.text
    # The event stays after the cursor: the next round routes it once the store is well.
    assert await file_store.get_event_cursor("routing") == 0


