"""Store contract: ``move_forward`` dates a stored demo whole days later — mentions and
what is summed up from them, spike alerts, ideas, votes, comments, status changes."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from crmsphere.domain import Analysis, Mention, MentionQuery
from crmsphere.domain_dashboard import SpikeAlert
from crmsphere.domain_forum import NewIdea, StatusChange, Vote
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
    idea = await store.create_idea(NewIdea("Export invoices", "", author.id, "open"), T0)
    await store.add_vote(Vote(idea.id, "cus_acme", author.id, T0 + timedelta(hours=2)))
    await store.add_comment(idea.id, author.id, "me too", None, False, T0 + timedelta(hours=3))
    await store.set_status(StatusChange(idea.id, "open", "planned", "Soon", author.id, T0 + timedelta(hours=4)))
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
