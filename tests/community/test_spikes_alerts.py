"""Spike alerts per topic and per customer, on a real SQLite store with a fake clock."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from community.spike_alerts import SpikeWatch, detect_spikes
from config.dashboard import DashboardSettings
from domain import Analysis, CustomerLink, Mention
from domain.dashboard import SubjectVolume
from storage import open_store
from tests.conftest import customer, post

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)


def test_detect_spikes_needs_both_the_threshold_and_the_minimum_volume() -> None:
    flat = [SubjectVolume("billing", b, 4) for b in range(1, 8)]
    alerts = detect_spikes("topic", flat + [SubjectVolume("billing", 0, 12)], NOW, k=3, min_volume=10)
    assert [(a.subject, a.count, a.baseline, a.threshold) for a in alerts] == [("billing", 12, 4.0, 4.0)]
    assert alerts[0].window_start == datetime(2026, 11, 20, tzinfo=timezone.utc)
    # Above the baseline but under the minimum volume: no alert.
    assert detect_spikes("topic", flat + [SubjectVolume("billing", 0, 9)], NOW, 3, 10) == []
    # A noisy baseline raises the threshold: 20 is within mean + 3 sd of 0..30.
    noisy = [SubjectVolume("mobile", b, c) for b, c in zip(range(1, 8), [0, 30, 0, 30, 0, 30, 0])]
    assert detect_spikes("topic", noisy + [SubjectVolume("mobile", 0, 20)], NOW, 3, 10) == []
    # A brand-new subject (empty baseline) spikes once it reaches the minimum volume.
    assert len(detect_spikes("customer", [SubjectVolume("cus_1", 0, 10)], NOW, 3, 10)) == 1


@pytest.fixture
async def store(tmp_path: Path):
    opened = await open_store(f"sqlite:///{tmp_path / 's.db'}")
    await opened.upsert_customers([customer("cus_1")])
    yield opened
    await opened.close()


def _mentions(start: int, n: int, at: datetime, topics=("billing",), linked: bool = False) -> list[Mention]:
    links = (CustomerLink("cus_1", 0.95, "handle", "@acme handle"),) if linked else ()
    return [Mention(dataclasses.replace(post(str(start + i), f"post {i}"), created_at=at + timedelta(minutes=i)),
                    Analysis(links=links, topics=topics)) for i in range(n)]


async def test_watch_alerts_once_per_subject_per_day_and_routes_new_alerts(store) -> None:
    clock = [NOW]
    routed = []

    async def on_alert(alert):
        routed.append((alert.kind, alert.subject))

    # Two a day for the seven days before, then 15 in the last 24 hours (some linked to cus_1).
    history = []
    for day in range(1, 8):
        history += _mentions(day * 100, 2, NOW - timedelta(days=day, hours=2))
    await store.save_mentions("t", history, None)
    await store.save_mentions("t", _mentions(5000, 15, NOW - timedelta(hours=5), linked=True), None)
    watch = SpikeWatch(store, DashboardSettings(spike_k=3, spike_min_volume=10), on_alert,
                       clock=lambda: clock[0])
    new = await watch.evaluate()
    assert sorted((a.kind, a.subject, a.count) for a in new) == [
        ("customer", "cus_1", 15), ("topic", "billing", 15)]
    assert sorted(routed) == [("customer", "cus_1"), ("topic", "billing")]

    # An hour later the spike is still on: same UTC day, no second alert, nothing routed.
    clock[0] = NOW + timedelta(hours=1)
    assert await watch.evaluate() == []
    assert len(routed) == 2
    assert len(await store.list_spike_alerts(None, 10)) == 2

    # Next day, quiet: the last 24 hours hold nothing, no alert.
    clock[0] = NOW + timedelta(days=1, hours=1)
    assert await watch.evaluate() == []


async def test_a_failing_route_keeps_the_alert(store) -> None:
    async def broken(alert):
        raise RuntimeError("routing down")

    await store.save_mentions("t", _mentions(1, 12, NOW - timedelta(hours=1)), None)
    watch = SpikeWatch(store, DashboardSettings(spike_min_volume=10), broken, clock=lambda: NOW)
    assert len(await watch.evaluate()) == 1
    assert len(await store.list_spike_alerts(None, 10)) == 1


async def test_the_job_evaluates_only_while_leader(store) -> None:
    from crmsphere.coordinator import LEASE, Coordinator, Job

    await store.save_mentions("t", _mentions(1, 12, NOW - timedelta(hours=1)), None)
    clock = {"now": NOW}
    watch = SpikeWatch(store, DashboardSettings(spike_interval=10), clock=lambda: clock["now"])
    job = Job("spike-alerts", lambda _context: watch.evaluate(),
              interval=lambda _context: watch.settings.spike_interval, roles=("scheduler",))
    assert await store.acquire_lease(LEASE, "leader elsewhere", 30.0, NOW.timestamp())
    coordinator = Coordinator([job], None, "scheduler", store=store, holder="here",
                              lease_ttl=30.0, clock=lambda: clock["now"])
    await coordinator.start(paused=True)
    try:
        await coordinator.run_due()  # the first evaluation is due at once, but not here
        assert await store.list_spike_alerts(None, 10) == []
        await store.release_lease(LEASE, "leader elsewhere")
        clock["now"] = NOW + timedelta(seconds=10)  # renewal takes the lease; the round is due
        await coordinator.run_due()
        assert coordinator.is_leader
    finally:
        await coordinator.stop()
    assert len(await store.list_spike_alerts(None, 10)) == 1


def test_spike_item_carries_topic_or_customer_facts() -> None:
    from community.spike_alerts import spike_item
    from domain.dashboard import SpikeAlert

    window = datetime(2026, 11, 20, tzinfo=timezone.utc)
    topic = spike_item(SpikeAlert("topic", "billing", window, NOW, 40, 4.0, 10.0))
    assert (topic.kind, topic.id, topic.topics) == ("spike", "topic:billing:2026-11-20", ("billing",))
    assert "40 mentions" in topic.text
    who = customer("cus_1", segment="enterprise", annual_revenue=9_000_000)
    item = spike_item(SpikeAlert("customer", "cus_1", window, NOW, 12, 1.0, 3.0), who)
    assert (item.customer_id, item.segment, item.revenue, item.topics) == (
        "cus_1", "enterprise", 9_000_000, ())


async def test_router_on_spike_publishes_the_spike_event(store, monkeypatch) -> None:
    import community.routing as routing
    from community.spike_alerts import SPIKE_EVENT
    from config.routing import RoutingSettings
    from domain.dashboard import SpikeAlert

    router = routing.Router(store, RoutingSettings())
    alert = SpikeAlert("customer", "cus_1", NOW, NOW, 12, 1.0, 3.0, id=7)
    if SPIKE_EVENT not in routing.EVENTS:
        assert await router.on_spike(alert) == []  # routing does not know the event yet
        monkeypatch.setattr(routing, "EVENTS", (*routing.EVENTS, SPIKE_EVENT))
    heard = []

    async def on_event(event, item):
        heard.append((event, item))
        return []

    monkeypatch.setattr(router, "on_event", on_event)
    await router.on_spike(alert)
    assert [(e, i.kind, i.customer_name) for e, i in heard] == [(SPIKE_EVENT, "spike", "Acme Anvils")]
