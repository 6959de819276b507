"""Store contract for the unit of work and the vote rules written once over it (community.voting):
every backend counts concurrent votes exactly and records each counted vote's ``idea.voted``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from community.voting import cast, cast_in, uncast
from domain import utcnow
from domain.events import IDEA_VOTED
from domain.forum import NewIdea, RateWindow, Vote
from tests.conftest import acme_customers, customer
from tests.forum_rules import create_idea


@pytest.fixture
async def forum(store):
    await store.upsert_customers([*acme_customers(), *(customer(f"cus_{n:02d}", f"C {n}") for n in range(40))])
    author = await store.create_account("jo@acmeanvils.example", "Jo", "hash")
    idea = await create_idea(store, NewIdea("Dark mode", "body", author.id, "open"), utcnow())
    return store, author, idea


def _open_check(idea, who):
    """The forum's shape of check: closed ideas take no vote, others weigh 0.5."""
    return None if idea.status in ("declined", "done") else 0.5


async def test_32_concurrent_voters_are_counted_exactly_and_a_double_vote_once(forum) -> None:
    store, author, idea = forum
    others = [Vote(idea.id, f"cus_{n:02d}", None, utcnow()) for n in range(32)]
    twice = [Vote(idea.id, "cus_jo", author.id, utcnow()) for _ in range(2)]
    casts = await asyncio.gather(*(cast(store.unit_of_work, v, _open_check) for v in [*others, *twice]))
    assert all(c.added for c in casts[:32])
    assert sorted(c.added for c in casts[32:]) == [False, True]  # the same customer at once: once
    after = await store.get_idea(idea.id)
    votes = await store.list_votes(idea.id)
    assert after.vote_count == len(votes) == 33
    assert after.impact == pytest.approx(0.5 * 33)
    events = await store.read_events(0, [IDEA_VOTED], 200)
    # One idea.voted per counted vote, written with it: none for the vote refused as a repeat.
    assert sorted(e.payload["customer_id"] for e in events) == sorted(v.customer_id for v in votes)
    assert {e.subject_id for e in events} == {str(idea.id)}
    assert await store.followers(idea.id) == [author.id]


async def test_a_refused_or_closed_vote_records_no_voted_event(forum) -> None:
    store, _, idea = forum
    rate = RateWindow("votes", "account:9", 100, 0, 1)
    assert (await cast(store.unit_of_work, Vote(idea.id, "cus_01", None, utcnow()), _open_check, rate)).added
    over = await cast(store.unit_of_work, Vote(idea.id, "cus_02", None, utcnow()), _open_check, rate)
    assert (over.added, over.hits) == (False, 2)
    with pytest.raises(ValueError, match="not for you"):
        await cast(store.unit_of_work, Vote(idea.id, "cus_03", None, utcnow()),
                   lambda i, c: (_ for _ in ()).throw(ValueError("not for you")), rate)
    events = await store.read_events(0, [IDEA_VOTED], 200)
    assert [e.payload for e in events] == [{"customer_id": "cus_01", "proxy": False}]
    assert (await store.get_idea(idea.id)).vote_count == 1


async def test_unit_of_work_block_commits_together(forum) -> None:
    store, _, idea = forum
    async with store.unit_of_work() as uow:
        found = await uow.ideas.get(idea.id)
        assert await uow.votes.add(Vote(idea.id, "cus_05", None, utcnow()))
        counted = await uow.ideas.count_vote(found, 2.0)
        assert counted is not None and counted.vote_count == 1
    after = await store.get_idea(idea.id)
    assert (after.vote_count, after.impact) == (1, 2.0)
    assert [v.customer_id for v in await store.list_votes(idea.id)] == ["cus_05"]


async def test_unit_of_work_block_that_raises_leaves_no_vote_and_no_rate_hit(forum) -> None:
    """A vote and its rate hit written in a block that then fails are gone: rolled back (SQLite,
    a MongoDB transaction) or taken back (a MongoDB server without transactions)."""
    store, _, idea = forum
    rate = RateWindow("votes", "account:7", 100, 0, 5)
    with pytest.raises(RuntimeError, match="mail server down"):
        async with store.unit_of_work() as uow:
            assert await uow.rates.hit(rate) == 1
            assert await uow.votes.add(Vote(idea.id, "cus_06", None, utcnow()))
            raise RuntimeError("mail server down")
    assert await store.list_votes(idea.id) == []
    async with store.unit_of_work() as uow:
        assert await uow.rates.hit(rate) == 1  # the failed block's hit did not stay
    # A rule raising inside run(): the same.
    async def fails(uow):
        await uow.votes.add(Vote(idea.id, "cus_07", None, utcnow()))
        raise RuntimeError("after the write")

    with pytest.raises(RuntimeError, match="after the write"):
        await store.unit_of_work().run(fails)
    assert await store.list_votes(idea.id) == []



async def test_a_block_cancelled_after_counting_a_vote_leaves_nothing_of_it(forum) -> None:
    """A request whose client goes away (aiohttp cancels its handler) while its block still
    runs after the vote was counted: the vote, its count and impact, the voter's follow, the
    rate hit and the ``idea.voted`` event all go (SQLite and a MongoDB transaction roll back;
    without transactions every one of them is taken back: the count, follow and event stayed,
    an idea counting a vote nobody had cast)."""
    store, author, idea = forum
    rate = RateWindow("votes", "account:8", 100, 0, 5)
    voter = await store.create_account("sam@cus08.example", "Sam", "hash")
    counted = asyncio.Event()

    async def request_gone_after_the_count() -> None:
        async with store.unit_of_work() as uow:
            cast_vote = await cast_in(uow, Vote(idea.id, "cus_08", voter.id, utcnow()), _open_check, rate)
            assert cast_vote.added
            counted.set()
            await asyncio.Event().wait()  # e.g. mail to the followers, when the client leaves

    block = asyncio.ensure_future(request_gone_after_the_count())
    await asyncio.wait_for(counted.wait(), 60)
    block.cancel()
    with pytest.raises(asyncio.CancelledError):
        await block
    after = await store.get_idea(idea.id)
    assert (after.vote_count, after.impact) == (0, 0.0)
    assert await store.list_votes(idea.id) == []
    assert await store.followers(idea.id) == [author.id]  # the author's own follow, not the voter's
    assert await store.read_events(0, [IDEA_VOTED], 200) == []
    # The same voter votes again: counted once, the rate window holding this one hit.
    again = await cast(store.unit_of_work, Vote(idea.id, "cus_08", voter.id, utcnow()), _open_check, rate)
    assert (again.added, again.hits) == (True, 1)
    after = await store.get_idea(idea.id)
    assert (after.vote_count, after.impact) == (1, 0.5)
    assert [e.payload["customer_id"] for e in await store.read_events(0, [IDEA_VOTED], 200)] == ["cus_08"]
    assert await store.followers(idea.id) == sorted([author.id, voter.id])

async def test_vote_subjects_reads_the_idea_and_the_customer_as_their_own_reads_do(forum) -> None:
    """The idea with its tags and the customer with its identities, read together for a vote,
    are what ``ideas.get`` and ``customers.get`` give — in the same order, with tags and
    handles whose case and accents sort differently than by eye."""
    from domain import Identity
    from domain.errors import NotFound
    from domain.forum import Tag

    store, author, _ = forum
    tags = (Tag("Zapier"), Tag("api", public=False), Tag("ärger"), Tag("Écran"), Tag("export"))
    tagged = await create_idea(store, NewIdea("Export to CSV", "", author.id, "open", tags=tags), utcnow())
    handles = (Identity("x", "acme_ANVILS"), Identity("reddit", "u/acme"), Identity("x", "Acme"),
               Identity("x", "ácme"))
    await store.upsert_customers([customer("cus_hand", "Hand Tools", identities=handles,
                                           emails=("ops@hand.example",), segment="smb")])

    async def both(uow):
        return (await uow.vote_subjects(tagged.id, "cus_hand"), await uow.ideas.get(tagged.id),
                await uow.customers.get("cus_hand"), await uow.vote_subjects(tagged.id, "cus_nobody"))

    (idea, who), idea_alone, who_alone, (_, nobody) = await store.unit_of_work().run(both)
    assert idea == idea_alone == await store.get_idea(tagged.id)
    assert [t.name for t in idea.tags] == sorted(t.name for t in tags)
    assert who == who_alone and who is not None and who.emails == ("ops@hand.example",)
    assert who.identities == tuple(sorted(handles, key=lambda i: (i.platform, i.handle)))
    assert nobody is None
    with pytest.raises(NotFound):
        await store.unit_of_work().run(lambda uow: uow.vote_subjects(tagged.id + 99, "cus_hand"))


async def test_a_counted_vote_answers_the_counts_the_store_keeps(forum) -> None:
    """The idea a vote answers with has the vote count and impact the store now holds, with
    impacts that do not add up exactly in binary (0.1 three times) and a vote refused as a
    repeat changing nothing."""
    store, author, idea = forum
    weights = iter([0.1, 0.1, 0.1, 2.675])
    for n in range(4):
        cast_now = await cast(store.unit_of_work, Vote(idea.id, f"cus_{n:02d}", None, utcnow()),
                              lambda _i, _c: next(weights))
        stored = await store.get_idea(idea.id)
        assert (cast_now.idea.vote_count, cast_now.idea.impact) == (stored.vote_count, stored.impact) == (n + 1, stored.impact)
    assert stored.impact == 0.1 + 0.1 + 0.1 + 2.675
    again = await cast(store.unit_of_work, Vote(idea.id, "cus_00", None, utcnow()), lambda _i, _c: 9.0)
    assert (again.added, again.idea.vote_count) == (False, 4)


def _cancel_as_it_lands(store, monkeypatch: pytest.MonkeyPatch, write: str, collection: str,
                        change: Callable[[tuple[Any, ...]], bool] = lambda _args: True) -> list[int]:
    """The store applies a write of a vote (MongoDB: ``write`` on ``collection`` whose
    arguments pass ``change``), and the block making it is cancelled before the answer
    reaches it (a client gone while the write was on its way).  Returns how many times that
    happened.  SQLite: the unit of work is one hop to the writer thread, cancelled alike."""
    landed: list[int] = []

    async def cancelled() -> None:
        landed.append(1)
        asyncio.current_task().cancel()
        await asyncio.sleep(0)

    if hasattr(store, "_writer"):
        hand = store._writer._on_thread

        async def hop_then_cancel(fn, conn):
            done = await asyncio.shield(asyncio.ensure_future(hand(fn, conn)))  # the unit ends
            if not landed:
                await cancelled()
            return done

        monkeypatch.setattr(store._writer, "_on_thread", hop_then_cancel)
        return landed
    from pymongo.asynchronous.collection import AsyncCollection

    applied = getattr(AsyncCollection, write)

    async def write_then_cancel(coll, *args, **kwargs):
        answer = await applied(coll, *args, **kwargs)
        if coll.name == collection and change(args) and not landed:
            await cancelled()  # applied on the server; the answer is lost to the cancellation
        return answer

    monkeypatch.setattr(AsyncCollection, write, write_then_cancel)
    return landed


def _counts_as_stored(after, votes) -> bool:
    return after.vote_count == len(votes) and after.impact == pytest.approx(0.5 * len(votes))


async def test_a_vote_cancelled_as_its_count_lands_leaves_the_counts_its_votes_say(forum, monkeypatch) -> None:
    """Without transactions the count's undo was named only once the count's answer came
    back: a block cancelled while that answer was on its way took the vote back and left the
    idea counting it (+1 vote, +0.5 impact) until someone recounted it by hand."""
    store, _, idea = forum
    assert (await cast(store.unit_of_work, Vote(idea.id, "cus_10", None, utcnow()), _open_check)).added
    landed = _cancel_as_it_lands(store, monkeypatch, "find_one_and_update", "ideas",
                                 lambda args: args[1].get("$inc", {}).get("vote_count") == 1)
    voting = asyncio.ensure_future(cast(store.unit_of_work, Vote(idea.id, "cus_11", None, utcnow()), _open_check))
    with pytest.raises(asyncio.CancelledError):
        await voting
    assert landed
    monkeypatch.undo()
    after, votes = await store.get_idea(idea.id), await store.list_votes(idea.id)
    # Whatever stayed (SQLite commits the whole unit, or none of it; compensation takes all
    # of it back), the counts are those of the votes stored.
    assert _counts_as_stored(after, votes), (after, votes)
    assert [e.payload["customer_id"] for e in await store.read_events(0, [IDEA_VOTED], 200)] == [
        v.customer_id for v in votes]
    # and the next votes count from there, exactly
    for who in ("cus_11", "cus_12"):
        await cast(store.unit_of_work, Vote(idea.id, who, None, utcnow()), _open_check)
    after, votes = await store.get_idea(idea.id), await store.list_votes(idea.id)
    assert (after.vote_count, after.impact) == (len(votes), pytest.approx(0.5 * len(votes))) == (3, pytest.approx(1.5))
    if hasattr(store, "database"):  # MongoDB: the marks of the counts that stood were cleared
        assert not (await store.database.ideas.find_one({"_id": idea.id})).get("counting")


async def test_a_vote_taken_back_and_cancelled_as_it_goes_leaves_the_counts_its_votes_say(forum, monkeypatch) -> None:
    """Taking a vote back without transactions: the vote was deleted, then uncounted, and a
    block cancelled between the two (the delete's answer on its way) left the idea counting
    a vote that was gone; nothing put it back."""
    store, _, idea = forum
    for who in ("cus_20", "cus_21"):
        assert (await cast(store.unit_of_work, Vote(idea.id, who, None, utcnow()), _open_check)).added
    landed = _cancel_as_it_lands(store, monkeypatch, "delete_one", "votes")
    taking_back = asyncio.ensure_future(uncast(store.unit_of_work, idea.id, "cus_21", _open_check))
    with pytest.raises(asyncio.CancelledError):
        await taking_back
    assert landed
    monkeypatch.undo()
    after, votes = await store.get_idea(idea.id), await store.list_votes(idea.id)
    assert _counts_as_stored(after, votes), (after, votes)
    # taken back again, and the other vote too: nothing counted twice, nothing left
    for who in ("cus_21", "cus_20"):
        await uncast(store.unit_of_work, idea.id, who, _open_check)
    after = await store.get_idea(idea.id)
    assert (after.vote_count, after.impact, await store.list_votes(idea.id)) == (0, 0.0, [])
    if hasattr(store, "database"):  # MongoDB: no mark left behind
        assert not (await store.database.ideas.find_one({"_id": idea.id})).get("counting")


async def test_thresholds_recorded_together_name_only_those_new_in_the_order_given(forum) -> None:
    store, _, idea = forum
    at = utcnow()

    async def record_each(names):
        return await store.unit_of_work().run(lambda uow: uow.thresholds.record_each(idea.id, names, at))

    assert await record_each(["votes:50", "votes:10"]) == ["votes:50", "votes:10"]
    # one recorded before, two new, given in another order than they were stored
    assert await record_each(["votes:100", "votes:10", "impact:5", "votes:50"]) == ["votes:100", "impact:5"]
    assert await record_each(["votes:10", "votes:50", "votes:100", "impact:5"]) == []
    assert await record_each([]) == []
