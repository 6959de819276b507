"""Repeating idea events lost between commit and routing.  A lost ``idea.vote_threshold`` is
replayed by the sweeper: an idea whose latest threshold crossed has no routing decision since is
routed once.  A status change records ``idea.status_changed`` with it, so the routing consumer
routes a lost one from its event and the sweeper no longer looks at status changes; in both,
a replay after a later change routes nothing twice."""

from __future__ import annotations

from community.idea_events import idea_item
from community.routing import Router
from community.routing_consumer import RoutingConsumer
from community.routing_sweeper import RoutingSweeper, watermark_key
from config.routing import RoutingSettings, RuleBookSettings, RuleSettings, TeamSettings
from crmsphere.domain import utcnow
from crmsphere.domain_forum import NewIdea, StatusChange
from storage import Store
from tests.community.test_routing_deliveries import Clock

URL = "http://forum.example"
SETTINGS = RoutingSettings(
    teams=(TeamSettings(key="care", name="Care"), TeamSettings(key="leads", name="Leads")),
    rules=(RuleSettings(id="status", events=("idea.status_changed",), kinds=("idea",), team="care"),
           RuleSettings(id="popular", events=("idea.vote_threshold",), team="leads")),
    sweep_grace_seconds=60)


async def _change(store: Store, idea_id: int, to: str, clock: Clock) -> None:
    idea = await store.get_idea(idea_id)
    await store.set_status(StatusChange(idea_id, idea.status, to, "because", None, clock()))


async def test_lost_thresholds_are_swept_and_lost_status_changes_consumed_once(file_store: Store) -> None:
    clock = Clock()
    clock.now = utcnow()
    router = Router(file_store, SETTINGS, clock=clock)
    await router.start()
    lost = await file_store.create_idea(NewIdea("Dark mode", "please", None, "open"), clock())
    heard = await file_store.create_idea(NewIdea("Bulk export", "csv", None, "open"), clock())
    # The process "died" before publishing ``lost``'s events; ``heard``'s were published.
    await _change(file_store, lost.id, "planned", clock)
    await file_store.record_threshold(lost.id, "votes:10", clock())
    await _change(file_store, heard.id, "planned", clock)
    await router.on_event("idea.status_changed", await idea_item(file_store, heard, URL))

    sweeper = RoutingSweeper(file_store, router, SETTINGS, clock=clock, idea_url=URL)
    assert await sweeper.run() == 0  # within the grace period the hook may still be at work
    clock.advance(120)
    assert await sweeper.run() == 1  # lost's threshold; its status change is not the sweeper's
    assert [r.item.id for r in (await file_store.team_queue("care")).items] == [str(heard.id)]
    assert await file_store.get_meta(watermark_key("idea.status_changed")) is None
    (popular,) = (await file_store.team_queue("leads")).items
    assert (popular.item.id, popular.event, popular.item.url) == (
        str(lost.id), "idea.vote_threshold", f"{URL}/forum/ideas/{lost.id}")
    assert await sweeper.run() == 0  # decided now

    consumer = RoutingConsumer(file_store, router, idea_url=URL)
    # Both status changes' events: ``heard``'s routed already (nothing twice), ``lost``'s now.
    assert await consumer.run_once() == 2
    care = (await file_store.team_queue("care")).items
    assert sorted(r.item.id for r in care) == sorted([str(lost.id), str(heard.id)])
    assert {r.item.url for r in care} == {f"{URL}/forum/ideas/{lost.id}", f"{URL}/forum/ideas/{heard.id}"}

    # A later change of ``heard`` is lost too: consumed once, nothing routed twice.
    clock.advance(60)
    await _change(file_store, heard.id, "started", clock)
    assert await consumer.run_once() == 1
    assert await consumer.run_once() == 0
    assert len((await file_store.team_queue("care")).items) == 2
    # A consumer without the forum's URL reads mention events only: idea events wait for one.
    await _change(file_store, lost.id, "done", clock)
    assert await RoutingConsumer(file_store, router).run_once() == 0
    assert await consumer.run_once() == 1


async def test_events_from_before_any_rule_are_not_replayed_later(file_store: Store) -> None:
    clock = Clock()
    clock.now = utcnow()
    empty = RoutingSettings(teams=SETTINGS.teams, sweep_grace_seconds=60)
    router = Router(file_store, empty, clock=clock)
    await router.start()
    idea = await file_store.create_idea(NewIdea("Dark mode", "please", None, "open"), clock())
    await _change(file_store, idea.id, "planned", clock)
    consumer = RoutingConsumer(file_store, router, idea_url=URL)
    assert await consumer.run_once() == 1  # no rules: nothing to decide, the cursor moves on
    # Rules arrive; the old change stays behind the cursor ("rules apply to new events").
    await router.set_rules(RuleBookSettings(rules=SETTINGS.rules), "admin")
    assert await consumer.run_once() == 0
    assert (await file_store.team_queue("care")).items == ()
    clock.advance(10)
    await _change(file_store, idea.id, "started", clock)
    assert await consumer.run_once() == 1
    assert [r.item.id for r in (await file_store.team_queue("care")).items] == [str(idea.id)]
    assert await consumer.run_once() == 0
