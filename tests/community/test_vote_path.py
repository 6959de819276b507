"""The one-read, one-write vote: the same rules, errors and rate-limit counting as before,
and the events it reports (with or without ``vote_stored`` on the sink)."""

from __future__ import annotations

import pytest

from community.engagement import Engagement
from community.idea_events import IdeaEvents
from community.ideas import Ideas
from config.forum import ForumSettings, RateLimitSettings
from config.notify import NotifySettings
from domain import utcnow
from domain.forum import IdeaPatch
from domain.errors import Conflict, NotFound, RateLimited
from tests.community.forum_helpers import make_viewer


def _settings(votes: int) -> ForumSettings:
    return ForumSettings(rate_limits=RateLimitSettings(votes={"limit": votes, "window_seconds": 600}))


class OldSink:
    """A sink without ``vote_stored``: hears of votes through idea_scored and voted."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, object]] = []

    async def idea_created(self, idea) -> None: ...
    async def status_notifications(self, idea, change, follower_ids): return []
    async def status_changed(self, idea, change, follower_ids) -> None: ...

    async def idea_scored(self, idea_id) -> None:
        self.heard.append(("scored", idea_id))

    async def voted(self, idea_id, customer_id) -> None:
        self.heard.append(("voted", customer_id))


async def test_vote_rules_and_the_rate_limit_count(forum_store) -> None:
    settings = _settings(votes=3)
    staff = await make_viewer(forum_store, "t@crm.example", "team")
    jo = await make_viewer(forum_store, "jo@acmeanvils.example", customer_id="cus_jo")
    ideas, engagement = Ideas(forum_store, settings), Engagement(forum_store, settings)
    open_idea = await ideas.submit(staff, "Dark mode", "", None, None)
    done = await ideas.submit(staff, "Export", "", None, None)
    await ideas.change_status(staff, done.id, "done", "shipped")
    hidden = await ideas.submit(staff, "Hidden", "", None, None)
    await forum_store.update_idea(hidden.id, IdeaPatch(hidden=True), utcnow())
    locked = await ideas.submit(staff, "Locked", "", None, None)
    await forum_store.update_idea(locked.id, IdeaPatch(locked=True), utcnow())

    with pytest.raises(NotFound):
        await engagement.vote(jo, hidden.id)  # not counted: the idea is not there for Jo
    with pytest.raises(Conflict, match="locked"):
        await engagement.vote(jo, locked.id)
    with pytest.raises(Conflict, match="closed"):
        await engagement.vote(jo, done.id)  # counted: 1
    first = await engagement.vote(jo, open_idea.id)  # 2
    again = await engagement.vote(jo, open_idea.id)  # 3
    assert (first.changed, first.vote_count, again.changed, again.vote_count) == (True, 1, False, 1)
    with pytest.raises(RateLimited) as caught:
        await engagement.vote(jo, open_idea.id)  # 4: one too many
    assert 1 <= caught.value.retry_after <= 600 and "at most 3 per 10 minutes" in str(caught.value)
    assert (await forum_store.get_idea(open_idea.id)).vote_count == 1
    # Staff are not limited, and a proxy vote takes the same path.
    for _ in range(5):
        await engagement.proxy_vote(staff, open_idea.id, "cus_acme", "on a call", "call")
    assert (await forum_store.get_idea(open_idea.id)).vote_count == 2
    with pytest.raises(NotFound):
        await engagement.proxy_vote(staff, open_idea.id, "cus_nobody", "", "call")


async def test_a_sink_without_vote_stored_hears_scored_and_voted(forum_store) -> None:
    settings, sink = _settings(votes=100), OldSink()
    jo = await make_viewer(forum_store, "jo@acmeanvils.example", customer_id="cus_jo")
    idea = await Ideas(forum_store, settings).submit(jo, "Dark mode", "", None, None)
    engagement = Engagement(forum_store, settings, sink)
    await engagement.vote(jo, idea.id)
    await engagement.vote(jo, idea.id)  # no change: nothing to hear
    assert sink.heard == [("scored", idea.id), ("voted", "cus_jo")]


async def test_idea_events_record_thresholds_in_the_vote(forum_store) -> None:
    settings = _settings(votes=100)
    events = IdeaEvents(forum_store, NotifySettings(vote_thresholds=(1, 2), impact_thresholds=(1000.0,)),
                        "http://forum.example")
    assert [t.name for t in events.score_thresholds()] == ["votes:1", "votes:2", "impact:1000"]
    jo = await make_viewer(forum_store, "jo@acmeanvils.example", customer_id="cus_jo")
    acme = await make_viewer(forum_store, "boss@acmeanvils.example", customer_id="cus_acme")
    idea = await Ideas(forum_store, settings).submit(jo, "Dark mode", "", None, None)
    engagement = Engagement(forum_store, settings, events)
    await engagement.vote(jo, idea.id)
    await engagement.vote(acme, idea.id)
    # Both vote thresholds were recorded by the votes themselves; impact 1000 was not reached.
    assert not await forum_store.record_threshold(idea.id, "votes:1", utcnow())
    assert not await forum_store.record_threshold(idea.id, "votes:2", utcnow())
    assert await forum_store.record_threshold(idea.id, "impact:1000", utcnow())


def test_score_thresholds_are_made_once_per_setting_and_follow_a_changed_one() -> None:
    """A vote asks for the thresholds every time: they are made once for the configured
    values (not once a vote), and settings with other values get their own."""
    events = IdeaEvents(None, NotifySettings(vote_thresholds=(10, 50)), "http://forum.example")  # type: ignore[arg-type]
    first = events.score_thresholds()
    assert events.score_thresholds() is first
    events.settings = NotifySettings(vote_thresholds=(5,), impact_thresholds=(2.5,))  # reloaded
    assert [t.name for t in events.score_thresholds()] == ["votes:5", "impact:2.5"]
    assert [t.name for t in first] == ["votes:10", "votes:50"]
