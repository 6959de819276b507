"""The demo's team queues are worked as a staffed team would have left them, at any hour of
the load: a real SQLite store, the real team queue services, a clock injected."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from community.routing import is_overdue
from domain.routing import RoutableItem, RoutedItem, Team
from crmsphere.demo_queues import BACKLOG, NO_SLA_WINDOW, fate_of, work_queues
from storage import open_store

SUPPORT = Team(key="support", name="Customer support", ack_sla_minutes=240)
DESIGN = Team(key="design", name="Design")  # no SLA: nothing of it is ever overdue
# Loads at the hours that once made the demo differ (and midnight, and one minute before it).
LOAD_TIMES = [datetime(2026, 12, 7, h, m, tzinfo=UTC) for h, m in ((0, 0), (7, 0), (18, 0), (23, 59))]


def _ages(count: int) -> list[timedelta]:
    """Items spread over 90 days, denser lately, as the demo's posts are."""
    rng = random.Random(7)
    return sorted(timedelta(minutes=rng.expovariate(1 / (60 * 24 * 12))) for _ in range(count))


def test_the_same_queue_at_any_hour_of_the_load() -> None:
    ages, sla = _ages(400), timedelta(minutes=240)
    pictures = set()
    for now in LOAD_TIMES:
        rng = random.Random(2026)
        fates = [fate_of(now - age, sla, now, rng) for age in ages]
        pictures.add(tuple((f.status, f.acknowledged_at and now - f.acknowledged_at,
                            f.finished_at and now - f.finished_at) for f in fates))
    assert len(pictures) == 1


def test_fates_are_in_order_and_plausible() -> None:
    now, sla = LOAD_TIMES[1], timedelta(minutes=240)
    rng = random.Random(1)
    ages = _ages(2000)
    fates = [(age, fate_of(now - age, sla, now, rng)) for age in ages]
    for age, fate in fates:
        routed = now - age
        if fate.acknowledged_at is not None:
            assert routed <= fate.acknowledged_at <= now
        if fate.finished_at is not None:
            assert fate.acknowledged_at is not None and fate.acknowledged_at < fate.finished_at < now
            assert fate.status in ("done", "dismissed")
        if age <= sla:  # inside its SLA: new or picked up, never finished yet
            assert fate.status in ("new", "in_progress")
        if age > BACKLOG:  # an old item was got to in the end
            assert fate.acknowledged_at is not None
    old = [f for age, f in fates if age > sla]
    in_time = sum(1 for age, f in fates if age > sla and f.acknowledged_at and f.acknowledged_at - (now - age) <= sla)
    waiting = sum(1 for f in old if f.acknowledged_at is None)
    assert 0.75 * len(old) <= in_time <= 0.9 * len(old)
    assert 1 <= waiting <= 0.03 * len(old)
    assert Counter(f.status for f in old)["done"] > 0.6 * len(old)


@pytest.mark.parametrize("now", LOAD_TIMES, ids=lambda t: t.strftime("%H%M"))
async def test_work_queues_through_the_store(tmp_path: Path, now: datetime) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        for team in (SUPPORT, DESIGN):
            await store.save_team(team, now - timedelta(days=100))
        ages = _ages(300)
        for i, age in enumerate(ages):
            team = SUPPORT if i % 3 else DESIGN
            item = RoutableItem(kind="mention", id=str(i + 1), text=f"invoice export failed #{i}")
            await store.route_item(RoutedItem(item=item, rule_id="demo", team_key=team.key, event="mention.analysed",
                                              routed_at=now - age), [])
        report = await work_queues(store, now, random.Random(2026), ["Morgan Reyes", "Ada Lindqvist"])
        items = []
        for team in (SUPPORT, DESIGN):
            page = await store.team_queue(team.key, (), 500, None)
            assert page.next_cursor is None
            items += [(team, r) for r in page.items]
        assert len(items) == 300
        statuses = Counter(r.status for _, r in items)
        assert statuses["new"] < 0.1 * len(items) and statuses["done"] > 0.5 * len(items)
        overdue = [r for team, r in items if is_overdue(r, team, now)]
        assert len(overdue) == report.overdue and 1 <= len(overdue) <= 10
        for team, r in items:
            assert r.routed_at is not None
            if r.acknowledged_at is not None:
                assert r.routed_at <= r.acknowledged_at <= now and r.acknowledged_by in ("Morgan Reyes", "Ada Lindqvist")
                assert r.updated_at is not None and r.acknowledged_at <= r.updated_at <= now
            window = timedelta(minutes=team.ack_sla_minutes) if team.ack_sla_minutes else NO_SLA_WINDOW
            if now - r.routed_at <= window:
                assert r.status in ("new", "in_progress")
    finally:
        await store.close()
