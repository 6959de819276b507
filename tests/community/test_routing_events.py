"""The "mention.analysed" event from ingest: items built from stored mentions, routed once."""

from __future__ import annotations

import pytest

from community.routing import Router
from config.routing import RoutingSettings, RuleSettings, TeamSettings
from crmsphere.domain import Analysis, CustomerLink, Mention
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
    report = await store_posts(file_store, NoNlp(), "t", posts, None, router.on_mentions_stored)
    assert report.accepted == 3
    queue = await file_store.team_queue("care")
    (only,) = queue.items
    assert only.item.customer_id == "cus_acme" and only.item.segment == "enterprise"
    assert only.item.revenue == 5_000_000 and only.item.source == "x" and only.event == "mention.analysed"
    # Replaying the event (e.g. a re-run after a crash) routes nothing new.
    mention = await file_store.get_mention(int(only.item.id))
    await router.on_mentions_stored([mention])
    assert len((await file_store.team_queue("care")).items) == 1
    assert len((await file_store.list_deliveries()).items) == 1


async def test_rule_change_applies_to_new_events_only(file_store: Store) -> None:
    old = Router(file_store, settings(RuleSettings(id="r", keywords=("refund",), team="care")),
                 clock=Clock())
    await old.start()
    await store_posts(file_store, NoNlp(), "t", [post("1", "refund")], None, old.on_mentions_stored)
    new = Router(file_store, settings(RuleSettings(id="r", keywords=("crash",), team="care",
                                                   priority="urgent")), clock=Clock())
    await store_posts(file_store, NoNlp(), "t", [post("2", "app crash"), post("3", "refund")], None,
                      new.on_mentions_stored)
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
                               router.on_mentions_stored)
    assert report.accepted == 1
    assert "routing 1 stored mention(s) failed" in caplog.text


async def test_ingest_hook_uses_the_ids_mentions_carry(file_store: Store) -> None:
    router = Router(file_store, settings(RuleSettings(id="r", keywords=("refund",), team="care")),
                    clock=Clock())
    await router.start()
    looked_up: list = []
    real = file_store.mention_ids

    async def spy(keys):
        looked_up.append(list(keys))
        return await real(keys)

    file_store.mention_ids = spy  # type: ignore[method-assign]
    await store_posts(file_store, NoNlp(), "t", [post("1", "refund", handle="acmeanvils")], None,
                      router.on_mentions_stored)
    (routed,) = (await file_store.team_queue("care")).items
    assert looked_up == [] and (await file_store.get_mention(int(routed.item.id))).post.external_id == "1"
    # A mention without an id (a backend that cannot tell) is still looked up and routed.
    await file_store.save_mentions("t", [(fresh := Mention(post("2", "refund"), Analysis()))], None)
    await router.on_mentions_stored([fresh])
    assert looked_up == [[("x", "2")]] and len((await file_store.team_queue("care")).items) == 2
