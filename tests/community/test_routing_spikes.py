"""Spike alerts fed to routing: rules on kind "spike", topic and customer facts; routed once per
alert however often the watch evaluates; a signed webhook carries the spike's facts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from pydantic import ValidationError

from community.deliveries import DeliveryWorker
from community.routing import Router
from community.routing_items import mail_payload, slack_payload, spike_routable
from community.routing_rules import select_rules
from domain.routing import RoutedItem, Team
from community.spike_alerts import SpikeWatch
from config.dashboard import DashboardSettings
from config.routing import RoutingSettings, RuleSettings, TeamSettings
from domain import Analysis, CustomerLink, Mention
from domain.dashboard import SpikeAlert
from storage import Store, open_store
from tests.community.test_routing_deliveries import ENV, Receiver
from tests.conftest import customer, post

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
DAY = datetime(2026, 11, 20, tzinfo=UTC)


def _rules() -> tuple[RuleSettings, ...]:
    return (
        RuleSettings(id="billing-spikes", kinds=("spike",), events=("spike.detected",),
                     topics=("billing",), team="support", priority="urgent"),
        RuleSettings(id="big-customer-spikes", kinds=("spike",), segments=("enterprise",),
                     revenue_at_least=1_000_000, team="accounts", priority="high"),
        # A mention rule must not catch spikes.
        RuleSettings(id="mentions", kinds=("mention",), team="support"),
    )


def _settings(hook_url: str = "http://127.0.0.1:9/hook") -> RoutingSettings:
    return RoutingSettings(
        teams=(TeamSettings(key="support", name="Support", webhook_url=hook_url,
                            webhook_secret_env="PRODUCT_SECRET"),
               TeamSettings(key="accounts", name="Key accounts", mail_to=("ka@example.com",))),
        rules=_rules(), rule_sets={"default": "all_match"}, max_attempts=2, send_timeout=2.0)


def test_rules_match_spikes_by_topic_and_customer_facts() -> None:
    topic = spike_routable(SpikeAlert("topic", "billing", DAY, NOW, 40, 4.0, 10.0, id=3))
    assert [r.id for r in select_rules(_rules(), {"default": "all_match"}, "spike.detected", topic)] == [
        "billing-spikes"]
    big = customer("cus_1", segment="enterprise", annual_revenue=9_000_000)
    who = spike_routable(SpikeAlert("customer", "cus_1", DAY, NOW, 12, 1.0, 3.0), big)
    assert [r.id for r in select_rules(_rules(), {"default": "all_match"}, "spike.detected", who)] == [
        "big-customer-spikes"]
    # Rules that do not ask for spikes leave them alone (a catch-all, a keyword in the text).
    catch_all = (RuleSettings(id="all", team="support"),
                 RuleSettings(id="billing-words", keywords=("billing",), team="support"))
    assert select_rules(catch_all, {"default": "all_match"}, "spike.detected", topic) == []
    by_event = RuleSettings(id="e", events=("spike.detected",), team="support")
    assert select_rules((by_event,), {}, "spike.detected", who) == [by_event]
    small = spike_routable(SpikeAlert("customer", "cus_2", DAY, NOW, 12, 1.0, 3.0),
                           customer("cus_2", segment="smb", annual_revenue=10_000))
    assert select_rules(_rules(), {"default": "all_match"}, "spike.detected", small) == []
    # The facts a queue shows: window, count against baseline.
    assert topic.id == "topic:billing:2026-11-20" and topic.spike is not None
    assert (topic.spike.count, topic.spike.baseline, topic.spike.threshold, topic.spike.alert_id) == (
        40, 4.0, 10.0, 3)
    assert (topic.spike.window_start, topic.spike.window_end) == (
        "2026-11-19T15:30:00Z", "2026-11-20T15:30:00Z")
    assert who.spike.subject_name == "Acme Anvils" and who.revenue == 9_000_000


def test_rule_config_knows_the_spike_kind_and_event() -> None:
    RuleSettings(id="s", kinds=("spike",), events=("spike.detected",), team="support")
    with pytest.raises(ValidationError):
        RuleSettings(id="s", kinds=("alarm",), team="support")
    with pytest.raises(ValidationError):
        RuleSettings(id="s", events=("spike.maybe",), team="support")


def test_mail_and_slack_describe_the_spike() -> None:
    # Figures as the watch stores them: a mean and a threshold with decimals.
    item = spike_routable(SpikeAlert("topic", "billing", DAY, NOW, 40, 3.71, 11.01))
    routed = RoutedItem(item=item, rule_id="billing-spikes", team_key="support",
                        event="spike.detected", priority="urgent", routed_at=NOW)
    team = Team(key="support", name="Support")
    mail = mail_payload(routed, team, "http://q")
    assert mail["subject"] == "[crmsphere] [urgent] spike in topic billing for Support"
    # Said as a person would: rounded, with units; no raw decimals anywhere in the mail.
    assert "Mentions: 40 mentions in 24 h; usually about 4 a day; alert above 11" in mail["body"]
    assert "3.71" not in mail["body"] and "11.01" not in mail["body"]
    assert "(usually about 4 a day; alert above 11)" in slack_payload(routed, team, "http://q")["text"]
    assert "Window: 2026-11-19T15:30:00Z to 2026-11-20T15:30:00Z" in mail["body"]
    assert "Customer:" not in mail["body"]  # a topic spike has no customer
    assert "spike in topic billing" in slack_payload(routed, team, "http://q")["text"]


@pytest.fixture
async def store(tmp_path: Path) -> Store:
    opened = await open_store(f"sqlite:///{tmp_path / 'spikes.db'}")
    await opened.upsert_customers([customer("cus_1", segment="enterprise", annual_revenue=9_000_000)])
    yield opened
    await opened.close()


def _mentions(start: int, n: int, at: datetime, linked: bool = False) -> list[Mention]:
    links = (CustomerLink("cus_1", 0.95, "handle", "@acme handle"),) if linked else ()
    return [Mention(dataclasses.replace(post(str(start + i), f"post {i}"), created_at=at + timedelta(minutes=i)),
                    Analysis(links=links, topics=("billing",))) for i in range(n)]


async def test_an_alert_is_routed_once_and_its_webhook_carries_it(aiohttp_server, store: Store) -> None:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    server = await aiohttp_server(app)
    settings = _settings(str(server.make_url("/hook")))
    clock = [NOW]
    router = Router(store, settings, clock=lambda: clock[0])
    await router.start()
    history = []
    for day in range(1, 8):
        history += _mentions(day * 100, 2, NOW - timedelta(days=day, hours=2))
    await store.save_mentions("t", history, None)
    await store.save_mentions("t", _mentions(5000, 15, NOW - timedelta(hours=5), linked=True), None)
    watch = SpikeWatch(store, DashboardSettings(spike_k=3, spike_min_volume=10), router.on_spike,
                       clock=lambda: clock[0])

    alerts = await watch.evaluate()
    assert len(alerts) == 2
    support = (await store.team_queue("support", (), 10, None)).items
    accounts = (await store.team_queue("accounts", (), 10, None)).items
    assert [(r.item.kind, r.item.id, r.rule_id, r.priority) for r in support] == [
        ("spike", "topic:billing:2026-11-20", "billing-spikes", "urgent")]
    assert [(r.item.id, r.item.customer_name, r.item.spike.count) for r in accounts] == [
        ("customer:cus_1:2026-11-20", "Acme Anvils", 15)]

    # Evaluated again (the same hour, an hour later): no new alert, nothing routed twice;
    # and the same alert published again (another process, a replay) routes nothing new.
    assert await watch.evaluate() == []
    clock[0] = NOW + timedelta(hours=1)
    assert await watch.evaluate() == []
    for alert in alerts:
        assert await router.on_spike(alert) == []
    assert len((await store.team_queue("support", (), 10, None)).items) == 1
    assert len((await store.team_queue("accounts", (), 10, None)).items) == 1
    assert len((await store.list_deliveries()).items) == 2  # one webhook, one mail

    async with aiohttp.ClientSession() as http:
        worker = DeliveryWorker(store, http, settings, environ=ENV, clock=lambda: clock[0])
        await worker.run_once()
    (body,) = receiver.accepted.values()
    assert receiver.bad_signatures == 0
    assert body["trigger"] == "spike.detected" and body["team"] == "support"
    assert body["item"]["kind"] == "spike" and body["item"]["topics"] == ["billing"]
    assert {k: body["item"]["spike"][k] for k in ("subject_kind", "subject", "count", "day")} == {
        "subject_kind": "topic", "subject": "billing", "count": 15, "day": "2026-11-20"}
    assert body["item"]["spike"]["baseline"] == 2.0
