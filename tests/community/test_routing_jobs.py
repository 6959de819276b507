"""The periodic routing jobs with a fake clock: escalation of items overdue on their team's SLA
(once per item), mentions whose hook was lost routed from their events, and stored rules that
apply to new events only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from community.routing import ACKNOWLEDGING, Router
from community.routing_consumer import RoutingConsumer
from community.routing_escalation import Escalator
from community.routing_jobs import RoutingJobs
from domain.routing import RoutableItem
from config.routing import (
    EscalationSettings,
    RoutingSettings,
    RuleBookSettings,
    RuleSettings,
    TeamSettings,
)
from crmsphere.coordinator import LEASE, Coordinator, Job
from domain import utcnow
from crmsphere.ingest import store_posts
from storage import Store
from tests.community.test_routing_deliveries import Clock
from tests.community.test_routing_events import NoNlp
from tests.conftest import acme_customers, post

TEAMS = (TeamSettings(key="care", name="Care", mail_to=("care@example.com",), ack_sla_minutes=30),
         TeamSettings(key="leads", name="Leads", mail_to=("leads@example.com",)),
         TeamSettings(key="quiet", name="Quiet"))


def item(item_id: str, text: str = "refund please") -> RoutableItem:
    return RoutableItem(kind="mention", id=item_id, text=text, source="x")


@pytest.fixture
async def file_store(file_store: Store) -> Store:
    """The community store, holding the Acme customers."""
    await file_store.upsert_customers(acme_customers())
    return file_store


async def test_overdue_items_escalate_once(file_store: Store) -> None:
    settings = RoutingSettings(
        teams=TEAMS, rules=(RuleSettings(id="refunds", keywords=("refund",), team="care", notify=()),),
        escalations=(EscalationSettings(id="care-late", teams=("care",), after_minutes=10,
                                        route_to="leads", priority="urgent"),
                     EscalationSettings(id="care-nag", priority="high", notify=("mail",))))
    clock = Clock()
    router = Router(file_store, settings, clock=clock)
    await router.start()
    escalator = Escalator(file_store, settings, clock=clock)
    (late,) = await router.on_event("mention.analysed", item("1"))
    clock.advance(20 * 60)
    (acked,) = await router.on_event("mention.analysed", item("2"))
    await file_store.update_routed(acked.id, "bo", clock(), acknowledge=ACKNOWLEDGING)
    assert await escalator.run() == 0  # 20 minutes in: within the 30-minute SLA
    clock.advance(11 * 60)  # 31 minutes: overdue, but "care-late" waits 10 minutes more
    assert await escalator.run() == 1
    nagged = await file_store.get_routed(late.id)
    assert nagged.priority == "high"
    (mail,) = (await file_store.list_deliveries()).items
    assert mail.routed_id == late.id and mail.target == {"to": ["care@example.com"]}
    assert mail.payload["subject"].startswith("[overdue]")
    clock.advance(10 * 60)
    assert await escalator.run() == 1 and await escalator.run() == 0  # once per item and rule
    assert (await file_store.get_routed(late.id)).priority == "urgent"
    (onward,) = [r for r in await file_store.routed_for_item("mention", "1") if r.team_key == "leads"]
    assert onward.event == "sla_overdue" and onward.rule_id == "escalation:care-late"
    assert onward.priority == "urgent" and onward.routed_by == "escalation"
    leads_mail = [d for d in (await file_store.list_deliveries()).items if d.team_key == "leads"]
    assert leads_mail and leads_mail[0].routed_id == onward.id
    actions = [e.action for e in await file_store.routing_log(late.id)]
    assert actions == ["routed", "escalated", "escalated"]
    # The acknowledged item never escalates, however late it gets.
    clock.advance(10 * 3600)
    assert await escalator.run() == 0
    assert [e.action for e in await file_store.routing_log(acked.id)] == ["routed", "acknowledged"]


async def test_lost_mentions_are_routed_by_their_events(file_store: Store) -> None:
    settings = RoutingSettings(teams=TEAMS, rules=(
        RuleSettings(id="refunds", keywords=("refund",), team="care"),))
    clock = Clock()
    clock.now = utcnow()
    router = Router(file_store, settings, clock=clock)
    await router.start()
    # The hook is off: the process "died" between storing and routing.
    posts = [post("1", "refund now", handle="acmeanvils"), post("2", "all fine"),
             post("3", "another refund")]
    await store_posts(file_store, NoNlp(), "t", posts, None, None)
    assert (await file_store.team_queue("care")).items == ()
    consumer = RoutingConsumer(file_store, router)
    assert await consumer.run_once() == 3
    queue = (await file_store.team_queue("care")).items
    assert sorted(r.item.text for r in queue) == ["another refund", "refund now"]
    assert {r.item.customer_id for r in queue} == {"cus_acme", None}
    assert len((await file_store.list_deliveries()).items) == 2
    assert await consumer.run_once() == 0  # nothing new
    assert len((await file_store.team_queue("care")).items) == 2


async def test_stored_rules_apply_to_new_events_only(file_store: Store) -> None:
    settings = RoutingSettings(teams=TEAMS, rules=(RuleSettings(id="refunds", keywords=("refund",),
                                                                team="care"),))
    clock = Clock()
    router = Router(file_store, settings, clock=clock)
    await router.start()
    assert (await router.on_event("mention.analysed", item("1", "refund")))[0].team_key == "care"
    book = RuleBookSettings(rule_sets={"default": "all_match"}, rules=(
        RuleSettings(id="crashes", keywords=("crash",), team="leads", priority="urgent"),
        RuleSettings(id="refunds-v2", keywords=("refund",), team="leads")))
    await router.set_rules(book, "ana")
    # The earlier routing stays where it was; new events follow the new rules.
    assert [r.rule_id for r in (await file_store.team_queue("care")).items] == ["refunds"]
    routed = await router.on_event("mention.analysed", item("2", "refund after crash"))
    assert sorted(r.rule_id for r in routed) == ["crashes", "refunds-v2"]
    assert {r.team_key for r in routed} == {"leads"}
    # Another process (a second router on the same store) takes the edit up on its next check.
    other = Router(file_store, settings, clock=clock)
    await other.start()
    assert [r.id for r in other.settings.rules] == ["crashes", "refunds-v2"]
    # A rule about an unknown team is refused; the rules in force stay.
    with pytest.raises(Exception) as err:
        await router.set_rules(RuleBookSettings(rules=(RuleSettings(id="x", team="nobody"),)), "ana")
    assert "rules[0].team" in str(err.value)
    assert [r.id for r in router.settings.rules] == ["crashes", "refunds-v2"]


async def test_jobs_run_only_while_leader(file_store: Store) -> None:
    settings = RoutingSettings(teams=TEAMS, rules=(RuleSettings(id="all", team="care"),),
                               escalations=(EscalationSettings(id="late", priority="urgent"),))
    clock = Clock()
    router = Router(file_store, settings, clock=clock)
    await router.start()
    (routed,) = await router.on_event("mention.analysed", item("1"))
    clock.advance(3600)
    jobs = RoutingJobs(router, Escalator(file_store, settings, clock=clock))
    rounds = Job("routing", lambda _context: jobs.run_once(), interval=lambda _context: 5.0,
                 roles=("scheduler",))
    # Another process leads at first; this one is a standby on the coordinator.
    assert await file_store.acquire_lease(LEASE, "other", 30.0, clock().timestamp())
    standby = Coordinator([rounds], None, "scheduler", store=file_store, holder="this",
                          lease_ttl=30.0, clock=clock)
    await standby.start(paused=True)
    try:
        assert await standby.run_due() == ["routing"] and not standby.is_leader
        assert [e.action for e in await file_store.routing_log(routed.id)] == ["routed"]
        started = clock()
        assert standby.next_run("routing") == started + timedelta(seconds=5.0)
        await file_store.release_lease(LEASE, "other")
        clock.advance(10)  # the lease renewal (every ttl / 3) and the next round are due
        assert await standby.run_due() == ["__lease__", "routing"] and standby.is_leader
        assert standby.next_run("routing") == started + timedelta(seconds=15.0)
    finally:
        await standby.stop()
    assert (await file_store.get_routed(routed.id)).priority == "urgent"
    assert [e.action for e in await file_store.routing_log(routed.id)] == ["routed", "escalated"]
