"""Store contract: ``move_forward`` dates a stored demo whole days later — mentions and
what is summed up from them, spike alerts, ideas, votes, comments, status changes."""

from __future__ import annotations

from tests.forum_rules import add_comment, add_vote, create_idea, set_status
import dataclasses
from datetime import datetime, timedelta

from community.routing import ACKNOWLEDGING
from domain import Analysis, Mention, MentionQuery
from domain.dashboard import SpikeAlert
from domain.forum import NewIdea, StatusChange, Vote
from tests.conftest import T0, acme_customers, post

DAY = timedelta(days=1)


def _mention(i: int, hours: float) -> Mention:
    p = dataclasses.replace(post(str(i), f"invoice export {i}", handle=f"h{i % 2}"),
                            created_at=T0 + timedelta(hours=hours))
    return Mention(p, Analysis(topics=("billing",)))


async def test_move_forward_dates_every_demo_record_days_later(store) -> None:
    await store.upsert_customers(acme_customers())
    await store.save_mentions("t", [_mention(1, 0), _mention(2, 1), _mention(3, 30)], None)
    author = await store.create_account("jo@acmeanvils.example", "Jo", None)
    idea = await create_idea(store, NewIdea("Export invoices", "", author.id, "open"), T0)
    await add_vote(store, Vote(idea.id, "cus_acme", author.id, T0 + timedelta(hours=2)))
    await add_comment(store, idea.id, author.id, "me too", None, False, T0 + timedelta(hours=3))
    await set_status(store, StatusChange(idea.id, "open", "planned", "Soon", author.id, T0 + timedelta(hours=4)))
    await store.record_spike_alerts([SpikeAlert("topic", "billing", T0, T0 + timedelta(hours=5), 3, 1.0, 2.0)])

    await store.move_forward(10)

    mentions = (await store.list_mentions(MentionQuery(limit=10))).items
    assert sorted(m.post.created_at for m in mentions) == [
        T0 + 10 * DAY, T0 + 10 * DAY + timedelta(hours=1), T0 + 10 * DAY + timedelta(hours=30)]
    rows = await store.volume_by_day(T0, T0 + 20 * DAY)
    assert {(r.day, r.count) for r in rows} == {((T0 + 10 * DAY).date().isoformat(), 2),
                                                ((T0 + 11 * DAY).date().isoformat(), 1)}
    topics = await store.topic_volume_by_day(T0, T0 + 20 * DAY)
    assert {(r.day, r.count) for r in topics} == {((T0 + 10 * DAY).date().isoformat(), 2),
                                                  ((T0 + 11 * DAY).date().isoformat(), 1)}
    moved = await store.get_idea(idea.id)
    assert moved.created_at == T0 + 10 * DAY and moved.status == "planned"
    assert [c.created_at for c in await store.list_comments(idea.id, True)] == [T0 + 10 * DAY + timedelta(hours=3)]
    assert [h.created_at for h in await store.status_history(idea.id)] == [T0 + 10 * DAY + timedelta(hours=4)]
    alerts = await store.list_spike_alerts()
    assert [(a.window_start, a.detected_at) for a in alerts] == [(T0 + 10 * DAY, T0 + 10 * DAY + timedelta(hours=5))]
    await store.move_forward(0)  # nothing to do
    assert (await store.get_idea(idea.id)).created_at == T0 + 10 * DAY


async def test_move_forward_dates_team_queues_triage_outbox_and_notifications(store) -> None:
    from domain.routing import Delivery, RoutableItem, RoutedItem, Team
    from domain.notify import Notification
    from domain.triage import TriageChange

    await store.upsert_customers(acme_customers())
    await store.save_mentions("t", [_mention(1, 0)], None)
    mention = (await store.list_mentions(MentionQuery(limit=1))).items[0]
    assert mention.id is not None
    await store.save_team(Team("support", "Support", ack_sla_minutes=240), T0)
    item = RoutableItem(kind="mention", id=str(mention.id), text="invoice export 1", source="x")
    routed = await store.route_item(
        RoutedItem(item=item, rule_id="r1", team_key="support", event="mention.analysed",
                   routed_at=T0 + timedelta(hours=1)),
        [Delivery(None, "support", "webhook", {"url": "http://127.0.0.1:1/hook"}, {"n": 1}, "k1",
                  next_attempt_at=T0 + timedelta(hours=1))])
    assert routed is not None and routed.id is not None
    await store.update_routed(routed.id, "ana", T0 + timedelta(hours=2), acknowledge=ACKNOWLEDGING)
    assert await store.escalate(routed.id, "late", T0 + timedelta(hours=3), priority="high")
    assert await store.record_routing_decision("mention", str(mention.id), "mention.analysed",
                                               T0 + timedelta(hours=1))
    author = await store.create_account("jo@acmeanvils.example", "Jo", None)
    await store.enqueue_notifications([(Notification(author.id, "status_changed", "t", "b", "n1",
                                                     T0 + timedelta(hours=4)), None)])
    await store.update_triage([mention.id], TriageChange(status="closed"), "ana")
    await store.add_triage_note(mention.id, "ana", "called them back")
    triaged = (await store.get_triage([mention.id]))[mention.id].updated_at
    noted = (await store.list_triage_notes(mention.id))[0].created_at
    assert triaged is not None
    responses = await store.first_responses(T0, T0 + 20 * DAY)

    await store.move_forward(10)

    moved = await store.get_routed(routed.id)
    # The team queue's "received" and so its due time (received + the team's SLA) move with it.
    assert (moved.routed_at, moved.acknowledged_at) == (T0 + 10 * DAY + timedelta(hours=1),
                                                        T0 + 10 * DAY + timedelta(hours=2))
    assert [e.at for e in await store.routing_log(routed.id)] == [
        T0 + 10 * DAY + timedelta(hours=h) for h in (1, 2, 3)]
    delivery = (await store.list_deliveries()).items[0]
    assert delivery.next_attempt_at == T0 + 10 * DAY + timedelta(hours=1)
    assert [n.created_at for n in await store.list_notifications(author.id)] == [T0 + 10 * DAY + timedelta(hours=4)]
    assert (await store.get_triage([mention.id]))[mention.id].updated_at == triaged + 10 * DAY
    assert (await store.list_triage_notes(mention.id))[0].created_at == noted + 10 * DAY
    # A first response is as quick as it was, on the posting day ten days later.
    later = await store.first_responses(T0, T0 + 40 * DAY)
    assert responses and len(later) == len(responses)
    assert [r.seconds for r in later] == [r.seconds for r in responses]
    assert [r.day for r in later] == [
        (datetime.fromisoformat(r.day) + 10 * DAY).date().isoformat() for r in responses]
