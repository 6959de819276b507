"""Store contract for the one-call vote (``cast_checked_vote``, or ``vote_context`` then ``cast_vote``): the rate count,
the vote, its count, the follower and the thresholds together — every backend."""

from __future__ import annotations

import asyncio

import pytest

from crmsphere.domain import utcnow
from crmsphere.domain_forum import NewIdea, RateWindow, ScoreThreshold, Vote
from crmsphere.errors import NotFound
from tests.conftest import acme_customers, customer

_THRESHOLDS = (ScoreThreshold("votes:2", "votes", 2), ScoreThreshold("votes:60", "votes", 60),
               ScoreThreshold("impact:3", "impact", 3.0))


@pytest.fixture
async def forum(store):
    await store.upsert_customers([*acme_customers(), *(customer(f"cus_{n:02d}", f"C {n}") for n in range(50))])
    author = await store.create_account("jo@acmeanvils.example", "Jo", "hash")
    idea = await store.create_idea(NewIdea("Dark mode", "body", author.id, "open"), utcnow())
    return store, author, idea


async def test_vote_context_reads_idea_and_customer(forum) -> None:
    store, _, idea = forum
    found, who = await store.vote_context(idea.id, "cus_acme")
    assert found.id == idea.id and who is not None and who.segment == "enterprise"
    assert (await store.vote_context(idea.id, "cus_nobody"))[1] is None
    with pytest.raises(NotFound):
        await store.vote_context(idea.id + 99, "cus_acme")


async def test_concurrent_casts_one_per_customer(forum) -> None:
    store, author, idea = forum
    same = await asyncio.gather(*(store.cast_vote(Vote(idea.id, "cus_jo", author.id, utcnow()), 1.0)
                                  for _ in range(50)))
    assert sum(c.added for c in same) == 1 and {c.hits for c in same} == {None}
    many = await asyncio.gather(*(store.cast_vote(Vote(idea.id, f"cus_{n:02d}", None, utcnow()), 0.5)
                                  for n in range(50)))
    assert all(c.added for c in many)
    after = await store.get_idea(idea.id)
    assert after.vote_count == 51 and after.impact == pytest.approx(26.0)
    assert max(c.idea.vote_count for c in many) == 51
    assert await store.followers(idea.id) == [author.id]  # proxy-free vote: the account follows
    with pytest.raises(NotFound):
        await store.cast_vote(Vote(idea.id, "cus_nobody", None, utcnow()))
    with pytest.raises(NotFound):
        await store.cast_vote(Vote(idea.id + 99, "cus_acme", None, utcnow()))


async def test_cast_counts_the_rate_window_and_stops_past_its_limit(forum) -> None:
    store, _, idea = forum
    rate = RateWindow("votes", "account:7", 600, 0, 2)
    first = await store.cast_vote(Vote(idea.id, "cus_01", None, utcnow()), 0.0, rate)
    again = await store.cast_vote(Vote(idea.id, "cus_01", None, utcnow()), 0.0, rate)
    assert (first.hits, first.added, again.hits, again.added) == (1, True, 2, False)
    over = await store.cast_vote(Vote(idea.id, "cus_02", None, utcnow()), 0.0, rate)
    assert over.hits == 3 and not over.added and over.idea.vote_count == 1
    # The same counter as count_rate_hit; a new window starts afresh.
    assert await store.count_rate_hit("votes", "account:7", 600, 0) == 4
    fresh = await store.cast_vote(Vote(idea.id, "cus_02", None, utcnow()), 0.0,
                                  RateWindow("votes", "account:7", 1200, 600, 2))
    assert fresh.hits == 1 and fresh.added and fresh.idea.vote_count == 2


async def test_cast_records_each_threshold_once(forum) -> None:
    store, _, idea = forum
    casts = [await store.cast_vote(Vote(idea.id, f"cus_{n:02d}", None, utcnow()), 1.25,
                                   thresholds=_THRESHOLDS) for n in range(4)]
    assert [c.reached for c in casts] == [(), ("votes:2",), ("impact:3",), ()]
    # A vote that adds nothing records nothing; the thresholds are those of record_threshold.
    assert (await store.cast_vote(Vote(idea.id, "cus_00", None, utcnow()), 1.25,
                                  thresholds=_THRESHOLDS)).reached == ()
    assert not await store.record_threshold(idea.id, "votes:2", utcnow())
    assert await store.record_threshold(idea.id, "votes:60", utcnow())


async def test_checked_vote_checks_idea_and_customer_before_writing(forum) -> None:
    store, _, idea = forum
    rate = RateWindow("votes", "account:9", 600, 0, 5)
    seen = []

    def weigh(found, who):
        seen.append((found.id, who.id if who else None))
        return 2.0

    cast = await store.cast_checked_vote(Vote(idea.id, "cus_acme", None, utcnow()), weigh, rate,
                                         _THRESHOLDS)
    assert seen == [(idea.id, "cus_acme")]
    assert (cast.hits, cast.added, cast.closed, cast.idea.vote_count) == (1, True, False, 1)
    assert cast.idea.impact == pytest.approx(2.0) and cast.reached == ()
    stored = await store.get_idea(idea.id)
    assert (stored.vote_count, stored.impact) == (1, pytest.approx(2.0))

    def refuse(found, who):
        raise PermissionError("no votes here")

    with pytest.raises(PermissionError):  # nothing written, not even the rate hit
        await store.cast_checked_vote(Vote(idea.id, "cus_01", None, utcnow()), refuse, rate)
    closed = await store.cast_checked_vote(Vote(idea.id, "cus_01", None, utcnow()),
                                           lambda found, who: None, rate)
    assert (closed.hits, closed.added, closed.closed) == (2, False, True)  # the hit counts
    assert (await store.get_idea(idea.id)).vote_count == 1
    with pytest.raises(NotFound):
        await store.cast_checked_vote(Vote(idea.id, "cus_nobody", None, utcnow()), weigh)
    with pytest.raises(NotFound):
        await store.cast_checked_vote(Vote(idea.id + 99, "cus_acme", None, utcnow()), weigh)
