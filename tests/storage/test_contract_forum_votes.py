"""Store contract for the one-call vote (``cast_checked_vote``, or ``cast_vote``): the rate count,
the vote, its count, the follower and the thresholds together — every backend."""

from __future__ import annotations

from tests.forum_rules import (
    add_vote, cast_checked_vote, cast_vote, count_rate_hit, create_idea, remove_vote, set_status,
)
import asyncio
import threading
from datetime import timedelta

import pytest

from domain import utcnow
from domain.events import IDEA_VOTE_THRESHOLD
from domain.forum import NewIdea, RateWindow, ScoreThreshold, Vote, VoterName
from domain.errors import NotFound
from tests.conftest import T0, acme_customers, customer

_THRESHOLDS = (ScoreThreshold("votes:2", "votes", 2), ScoreThreshold("votes:60", "votes", 60),
               ScoreThreshold("impact:3", "impact", 3.0))


@pytest.fixture
async def forum(store):
    await store.upsert_customers([*acme_customers(), *(customer(f"cus_{n:02d}", f"C {n}") for n in range(50))])
    author = await store.create_account("jo@acmeanvils.example", "Jo", "hash")
    idea = await create_idea(store, NewIdea("Dark mode", "body", author.id, "open"), utcnow())
    return store, author, idea


async def test_concurrent_casts_one_per_customer(forum) -> None:
    store, author, idea = forum
    same = await asyncio.gather(*(cast_vote(store, Vote(idea.id, "cus_jo", author.id, utcnow()), 1.0)
                                  for _ in range(50)))
    assert sum(c.added for c in same) == 1 and {c.hits for c in same} == {None}
    many = await asyncio.gather(*(cast_vote(store, Vote(idea.id, f"cus_{n:02d}", None, utcnow()), 0.5)
                                  for n in range(50)))
    assert all(c.added for c in many)
    after = await store.get_idea(idea.id)
    assert after.vote_count == 51 and after.impact == pytest.approx(26.0)
    assert max(c.idea.vote_count for c in many) == 51
    assert await store.followers(idea.id) == [author.id]  # proxy-free vote: the account follows
    with pytest.raises(NotFound):
        await cast_vote(store, Vote(idea.id, "cus_nobody", None, utcnow()))
    with pytest.raises(NotFound):
        await cast_vote(store, Vote(idea.id + 99, "cus_acme", None, utcnow()))


async def test_cast_counts_the_rate_window_and_stops_past_its_limit(forum) -> None:
    store, _, idea = forum
    rate = RateWindow("votes", "account:7", 600, 0, 2)
    first = await cast_vote(store, Vote(idea.id, "cus_01", None, utcnow()), 0.0, rate)
    again = await cast_vote(store, Vote(idea.id, "cus_01", None, utcnow()), 0.0, rate)
    assert (first.hits, first.added, again.hits, again.added) == (1, True, 2, False)
    over = await cast_vote(store, Vote(idea.id, "cus_02", None, utcnow()), 0.0, rate)
    assert over.hits == 3 and not over.added and over.idea.vote_count == 1
    # The same counter as count_rate_hit; a new window starts afresh.
    assert await count_rate_hit(store, "votes", "account:7", 600, 0) == 4
    fresh = await cast_vote(store, Vote(idea.id, "cus_02", None, utcnow()), 0.0,
                                  RateWindow("votes", "account:7", 1200, 600, 2))
    assert fresh.hits == 1 and fresh.added and fresh.idea.vote_count == 2


async def test_cast_records_each_threshold_once(forum) -> None:
    store, _, idea = forum
    casts = [await cast_vote(store, Vote(idea.id, f"cus_{n:02d}", None, utcnow()), 1.25,
                                   thresholds=_THRESHOLDS) for n in range(4)]
    assert [c.reached for c in casts] == [(), ("votes:2",), ("impact:3",), ()]
    # A vote that adds nothing records nothing; the thresholds are those of record_threshold.
    assert (await cast_vote(store, Vote(idea.id, "cus_00", None, utcnow()), 1.25,
                                  thresholds=_THRESHOLDS)).reached == ()
    assert not await store.record_threshold(idea.id, "votes:2", utcnow())
    assert await store.record_threshold(idea.id, "votes:60", utcnow())
    # Each threshold recorded its ``idea.vote_threshold`` event with it, once.
    events = await store.read_events(0, [IDEA_VOTE_THRESHOLD])
    assert [(e.subject_id, e.payload["threshold"]) for e in events] == [
        (str(idea.id), "votes:2"), (str(idea.id), "impact:3"), (str(idea.id), "votes:60")]


async def test_checked_vote_checks_idea_and_customer_before_writing(forum) -> None:
    store, _, idea = forum
    rate = RateWindow("votes", "account:9", 600, 0, 5)
    seen = []

    def weigh(found, who):
        seen.append((found.id, who.id if who else None))
        return 2.0

    cast = await cast_checked_vote(store, Vote(idea.id, "cus_acme", None, utcnow()), weigh, rate,
                                         _THRESHOLDS)
    assert seen == [(idea.id, "cus_acme")]
    assert (cast.hits, cast.added, cast.closed, cast.idea.vote_count) == (1, True, False, 1)
    assert cast.idea.impact == pytest.approx(2.0) and cast.reached == ()
    stored = await store.get_idea(idea.id)
    assert (stored.vote_count, stored.impact) == (1, pytest.approx(2.0))

    def refuse(found, who):
        raise PermissionError("no votes here")

    with pytest.raises(PermissionError):  # nothing written, not even the rate hit
        await cast_checked_vote(store, Vote(idea.id, "cus_01", None, utcnow()), refuse, rate)
    closed = await cast_checked_vote(store, Vote(idea.id, "cus_01", None, utcnow()),
                                           lambda found, who: None, rate)
    assert (closed.hits, closed.added, closed.closed) == (2, False, True)  # the hit counts
    assert (await store.get_idea(idea.id)).vote_count == 1
    with pytest.raises(NotFound):
        await cast_checked_vote(store, Vote(idea.id, "cus_nobody", None, utcnow()), weigh)
    with pytest.raises(NotFound):
        await cast_checked_vote(store, Vote(idea.id + 99, "cus_acme", None, utcnow()), weigh)


def _url_of(request: pytest.FixtureRequest, store, tmp_path) -> str:
    """The URL another process would open ``store`` by."""
    if request.node.callspec.params["store"] == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    from urllib.parse import urlsplit, urlunsplit

    from tests.storage.mongo_harness import database_url

    fresh = urlsplit(database_url(request.getfixturevalue("mongodb_server_uri")))
    return urlunsplit(fresh._replace(path=f"/{store.database.name}"))


def _decline_elsewhere(url: str, idea_id: int, done: list[str]) -> None:
    """A manager declining the idea through another connection (another process, in effect)."""
    from domain.forum import StatusChange
    from storage import open_store

    async def decline() -> None:
        other = await open_store(url)
        try:
            await set_status(other, StatusChange(idea_id, "open", "declined",
                                                "Not something we will build.", None, utcnow()))
            done.append("declined")
        finally:
            await other.close()

    asyncio.run(decline())


def _closed(idea) -> bool:
    return idea.status in ("declined", "done")


async def test_a_status_change_between_check_and_write_never_lets_the_vote_in(
        forum, request, tmp_path) -> None:
    """The idea is declined by another connection right after the vote's check read it open:
    the vote is either counted before the change (the backend held the change back) or
    refused as closed; never counted on the declined idea."""
    store, _, idea = forum
    declined: list[str] = []
    racer = threading.Thread(target=_decline_elsewhere, args=(_url_of(request, store, tmp_path),
                                                               idea.id, declined))
    checks = []

    def check(found, who):
        checks.append(found.status)
        if _closed(found):
            return None
        if not racer.is_alive() and not declined and len(checks) == 1:
            racer.start()
            # The change gets its chance to land between this check and the vote's write.  A
            # backend holding a lock here keeps it waiting: then the join gives up, the vote is
            # written first and the change lands after it.
            racer.join(timeout=5)
        return 1.0

    cast = await cast_checked_vote(store, Vote(idea.id, "cus_01", None, utcnow()), check)
    await asyncio.to_thread(racer.join)
    assert declined == ["declined"]  # the change itself always goes through
    after = await store.get_idea(idea.id)
    votes = await store.list_votes(idea.id)
    assert after.status == "declined"
    if cast.added:
        assert not _closed(cast.idea), "the vote was counted on a declined idea"
        assert (after.vote_count, len(votes)) == (1, 1)
    else:
        assert cast.closed and _closed(cast.idea) and checks == ["open", "declined"]
        assert (after.vote_count, votes) == (0, [])


async def test_votes_racing_a_status_change_are_counted_exactly(forum, request, tmp_path) -> None:
    """Fifty voters and a manager closing the idea at once: every vote is either counted on the
    open idea or refused as closed, and the count is the votes stored."""
    store, _, idea = forum
    declined: list[str] = []

    def check(found, who):
        return None if _closed(found) else 0.5

    async def decline() -> None:
        await asyncio.sleep(0)
        await asyncio.to_thread(_decline_elsewhere, _url_of(request, store, tmp_path), idea.id, declined)

    casts = await asyncio.gather(
        *(cast_checked_vote(store, Vote(idea.id, f"cus_{n:02d}", None, utcnow()), check) for n in range(50)),
        decline())
    casts = casts[:-1]
    after = await store.get_idea(idea.id)
    votes = await store.list_votes(idea.id)
    assert declined == ["declined"] and after.status == "declined"
    assert all(c.added != c.closed for c in casts)
    assert all(not _closed(c.idea) for c in casts if c.added)
    added = {f"cus_{n:02d}" for n, c in enumerate(casts) if c.added}
    assert {v.customer_id for v in votes} == added
    assert after.vote_count == len(votes) and after.impact == pytest.approx(0.5 * len(votes))


async def test_idea_voters_counts_all_and_names_the_first_few(forum) -> None:
    store, author, idea = forum
    empty = await store.idea_voters(idea.id, 3)
    assert (empty.count, empty.first) == (0, ())
    # Jo (a person at Acme Anvils) votes first, then Target and fifty more.
    await add_vote(store, Vote(idea.id, "cus_jo", author.id, T0))
    await add_vote(store, Vote(idea.id, "cus_target", None, T0 + timedelta(minutes=1)))
    for n in range(50):
        await add_vote(store, Vote(idea.id, f"cus_{n:02d}", None, T0 + timedelta(minutes=2 + n)))
    voters = await store.idea_voters(idea.id, 2)
    assert voters.count == 52
    assert voters.first == (VoterName("cus_jo", "Jo Rivera", "Acme Anvils"),
                            VoterName("cus_target", "Target Logistics", None))
    assert (await store.idea_voters(idea.id, 0)).first == ()
    await remove_vote(store, idea.id, "cus_jo")
    after = await store.idea_voters(idea.id, 1)
    assert (after.count, [v.customer_id for v in after.first]) == (51, ["cus_target"])


async def test_idea_voter_groups_count_votes_per_segment_and_revenue(forum) -> None:
    store, author, idea = forum
    assert await store.idea_voter_groups(idea.id) == []
    await store.upsert_customers([customer(f"cus_big_{n}", f"Big {n}", segment="enterprise",
                                           annual_revenue=5_000_000) for n in range(3)])
    for cid in ("cus_acme", "cus_jo", "cus_target", "cus_00", "cus_01", "cus_big_0", "cus_big_1", "cus_big_2"):
        await add_vote(store, Vote(idea.id, cid, None, T0))
    groups = sorted((g.segment or "", g.annual_revenue or 0, g.votes) for g in await store.idea_voter_groups(idea.id))
    # Acme and the three "Big" share segment and revenue; Jo has no revenue; C 0 and C 1 neither.
    assert groups == [("", 0, 2), ("enterprise", 0, 1), ("enterprise", 5_000_000, 4), ("mid-market", 0, 1)]
    other = await create_idea(store, NewIdea("Light mode", "body", author.id, "open"), utcnow())
    assert await store.idea_voter_groups(other.id) == []


async def test_voters_are_read_page_by_page(forum) -> None:
    """An idea's voters come in pages that resume after the last id seen: each voter once,
    none of another idea's, and a vote removed between pages does not shift the rest."""
    store, author, idea = forum
    other = await create_idea(store, NewIdea("Light mode", "body", author.id, "open"), utcnow())
    voters = [f"cus_{n:02d}" for n in range(50)]
    for customer_id in reversed(voters):  # cast in the opposite order of the ids
        assert await add_vote(store, Vote(idea.id, customer_id, None, utcnow()))
    assert await add_vote(store, Vote(other.id, "cus_acme", None, utcnow()))

    seen: list[str] = []
    after = None
    while True:
        page = await store.idea_voter_ids(idea.id, after, 7)
        assert len(page) <= 7
        if not page:
            break
        seen += page
        after = page[-1]
        if len(seen) == 14:  # a voter of a later page takes their vote back meanwhile
            assert await remove_vote(store, idea.id, "cus_30")
    assert seen == [v for v in voters if v != "cus_30"]
    assert await store.idea_voter_ids(other.id, None, 10) == ["cus_acme"]
    assert await store.idea_voter_ids(idea.id, "cus_48", 10) == ["cus_49"]
    assert await store.idea_voter_ids(idea.id, None, 0) == []
    assert await store.idea_voter_ids(idea.id + 99, None, 10) == []
