"""The sweeper replays lost ``idea.status_changed`` and ``idea.vote_threshold`` events: an idea
whose latest status change (or threshold crossed) has no routing decision since is routed once;
one whose event the hook published is left alone; a replay after a later change routes nothing
twice."""

from __future__ import annotations

from datetime import timedelta

from community.idea_events import idea_item
from community.routing import Router
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


async def test_lost_status_changes_and_thresholds_are_replayed_once(file_store: Store) -> None:
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
    assert await sweeper.run() == 2  # lost's status change and its threshold
    care = (await file_store.team_queue("care")).items
    assert sorted(r.item.id for r in care) == sorted([str(lost.id), str(heard.id)])
    (popular,) = (await file_store.team_queue("leads")).items
    assert (popular.item.id, popular.event, popular.item.url) == (
        str(lost.id), "idea.vote_threshold", f"{URL}/forum/ideas/{lost.id}")
    assert await sweeper.run() == 0  # decided now
    assert await file_store.get_meta(watermark_key("idea.status_changed"))

    # A later change of ``heard`` is lost too: replayed once, nothing routed twice.
    clock.advance(60)
    await _change(file_store, heard.id, "started", clock)
    clock.advance(120)
    assert await sweeper.run() == 1
    assert await sweeper.run() == 0
    assert len((await file_store.team_queue("care")).items) == 2
    # Without an idea URL the sweeper leaves these events alone (as before).
    clock.advance(60)
    await _change(file_store, lost.id, "done", clock)
    clock.advance(120)
    assert await RoutingSweeper(file_store, router, SETTINGS, clock=clock).run() == 0
    assert await sweeper.run() == 1


async def test_events_from_before_any_rule_are_not_replayed_later(file_store: Store) -> None:
    clock = Clock()
    clock.now = utcnow()
    empty = RoutingSettings(teams=SETTINGS.teams, sweep_grace_seconds=60)
    router = Router(file_store, empty, clock=clock)
    await router.start()
    idea = await file_store.create_idea(NewIdea("Dark mode", "please", None, "open"), clock())
    await _change(file_store, idea.id, "planned", clock)
    clock.advance(120)
    sweeper = RoutingSweeper(file_store, router, empty, clock=clock, idea_url=URL)
    assert await sweeper.run() == 0  # no rules: nothing to decide, the watermark moves on
    # Rules arrive; the old change stays behind the watermark ("rules apply to new events").
    await router.set_rules(RuleBookSettings(rules=SETTINGS.rules), "admin")
    assert await sweeper.run() == 0
    assert (await file_store.team_queue("care")).items == ()
    clock.advance(10)
    await _change(file_store, idea.id, "started", clock)
    clock.advance(120)
    assert await sweeper.run() == 1
    assert [r.item.id for r in (await file_store.team_queue("care")).items] == [str(idea.id)]
    clock.advance(timedelta(hours=1).total_seconds())
    assert await sweeper.run() == 0
