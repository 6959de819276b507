"""SQLite's unit of work: a vote is one transaction and one hop to the writer thread."""

from __future__ import annotations

from tests.forum_rules import add_vote, create_idea
import asyncio
from pathlib import Path

import pytest

from community.engagement import Engagement
from config.forum import ForumSettings
from domain import utcnow
from domain.errors import Conflict
from domain.events import IDEA_VOTED
from domain.forum import IdeaPatch, NewIdea, Vote
from storage import open_store
from tests.community.forum_helpers import make_viewer
from tests.conftest import acme_customers, customer
from tests.storage.thread_handshake import BusyCall, loop_turns_until


@pytest.fixture
async def sqlite_store(tmp_path: Path):
    opened = await open_store(f"sqlite:///{tmp_path / 'uow.db'}")
    await opened.upsert_customers(acme_customers())
    yield opened
    await opened.close()


async def test_a_vote_is_one_hop_to_the_writer_thread(sqlite_store) -> None:
    jo = await make_viewer(sqlite_store, "jo@acmeanvils.example", customer_id="cus_jo")
    idea = await create_idea(sqlite_store, NewIdea("Dark mode", "", None, "open"), utcnow())
    engagement = Engagement(sqlite_store, ForumSettings())
    handed = sqlite_store._writer._handed
    outcome = await engagement.vote(jo, idea.id)
    assert (outcome.changed, outcome.vote_count) == (True, 1)
    # The rate count, the checks' reads, the vote, its count, the follower and the events.
    assert sqlite_store._writer._handed - handed == 1


async def test_a_rule_awaiting_something_else_is_refused_and_writes_nothing(sqlite_store) -> None:
    """Run in one hop, a rule that waits on the event loop would hold the writer thread."""
    idea = await create_idea(sqlite_store, NewIdea("Dark mode", "", None, "open"), utcnow())

    async def sleeps(uow):
        await uow.votes.add(Vote(idea.id, "cus_jo", None, utcnow()))
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="awaited something other than its repositories"):
        await sqlite_store.unit_of_work().run(sleeps)
    assert await sqlite_store.list_votes(idea.id) == []


async def test_other_writes_wait_for_a_held_unit_of_work(sqlite_store) -> None:
    """``async with`` holds the writer: a write from elsewhere lands after the block commits."""
    idea = await create_idea(sqlite_store, NewIdea("Dark mode", "", None, "open"), utcnow())
    async with sqlite_store.unit_of_work() as uow:
        found = await uow.ideas.get(idea.id)
        other = asyncio.ensure_future(add_vote(sqlite_store, Vote(idea.id, "cus_acme", None, utcnow()), 1.0))
        writer = sqlite_store._writer
        await loop_turns_until(lambda: other.done() or bool(writer._queued._units))
        assert not other.done()
        assert await uow.votes.add(Vote(idea.id, "cus_jo", None, utcnow()))
        assert (await uow.ideas.count_vote(found, 1.0)).vote_count == 1  # type: ignore[union-attr]
    assert await other
    assert (await sqlite_store.get_idea(idea.id)).vote_count == 2


async def test_concurrent_votes_share_commits_and_a_refused_one_in_their_group_changes_nothing(
        sqlite_store) -> None:
    """32 voters at once while the writer is busy: their votes are committed together (group
    commit), each counted exactly; a vote on a locked idea queued among them is refused with
    its own error and leaves no trace, and the others' votes stand."""
    ideas = [await create_idea(sqlite_store, NewIdea(t, "", None, "open"), utcnow()) for t in ("Dark mode", "SSO")]
    await sqlite_store.update_idea(ideas[1].id, IdeaPatch(locked=True), utcnow())
    await sqlite_store.upsert_customers([customer(f"cus_{n:02d}", f"Customer {n}") for n in range(32)])
    voters = [await make_viewer(sqlite_store, f"c{n}@example.com", customer_id=f"cus_{n:02d}") for n in range(32)]
    engagement = Engagement(sqlite_store, ForumSettings())
    commits: list[str] = []
    await sqlite_store._writer.run(lambda conn: conn.set_trace_callback(
        lambda sql: commits.append(sql) if sql == "COMMIT" else None))
    call = BusyCall()
    busy = asyncio.ensure_future(sqlite_store._writer.run(call))
    await call.inside()  # the writer is busy (an import, a checkpoint): votes queue
    votes = [asyncio.ensure_future(engagement.vote(v, ideas[0].id)) for v in voters]
    refused = asyncio.ensure_future(engagement.vote(voters[0], ideas[1].id))
    # until every vote waits for the writer
    await loop_turns_until(lambda: len(sqlite_store._writer._queued._units) >= 33)
    call.release()
    await busy
    outcomes = await asyncio.gather(*votes)
    with pytest.raises(Conflict, match="locked"):
        await refused
    assert all(o.changed for o in outcomes) and sorted(o.vote_count for o in outcomes) == list(range(1, 33))
    assert len(commits) < 32  # one per group, not one per vote
    assert (await sqlite_store.get_idea(ideas[0].id)).vote_count == len(await sqlite_store.list_votes(ideas[0].id)) == 32
    assert (await sqlite_store.get_idea(ideas[1].id)).vote_count == 0
    assert await sqlite_store.list_votes(ideas[1].id) == []
    voted = await sqlite_store.read_events(0, [IDEA_VOTED], 100)
    assert {e.subject_id for e in voted} == {str(ideas[0].id)} and len(voted) == 32


async def test_a_block_cancelled_while_it_waits_for_the_writer_lets_the_writer_go(sqlite_store) -> None:
    """A request cancelled (its client gone) while its ``async with`` waited for the writer
    must not leave the writer thread held in a transaction nobody will end: every later write
    would wait for ever, and so would closing the store."""
    idea = await create_idea(sqlite_store, NewIdea("Dark mode", "", None, "open"), utcnow())

    async def block() -> None:
        async with sqlite_store.unit_of_work() as uow:
            await uow.ideas.get(idea.id)

    async with sqlite_store.unit_of_work() as uow:  # the writer is busy with this block
        await uow.ideas.get(idea.id)
        waiting = asyncio.ensure_future(block())
        for _ in range(20):
            await asyncio.sleep(0)  # the waiting block has queued its transaction
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    # Bounded so that the regression fails instead of hanging the suite.
    await asyncio.wait_for(add_vote(sqlite_store, Vote(idea.id, "cus_acme", None, utcnow()), 1.0), 60)
    assert [v.customer_id for v in await sqlite_store.list_votes(idea.id)] == ["cus_acme"]


async def test_a_vote_makes_only_the_repositories_it_uses(sqlite_store, monkeypatch) -> None:
    """The unit of work has twenty repositories and a vote uses five: each is made when a rule
    first reaches for it (they were all made for every vote), once for the writer (they were
    made again for every vote), and every one is still there."""
    jo = await make_viewer(sqlite_store, "jo@acmeanvils.example", customer_id="cus_jo")
    ideas = [await create_idea(sqlite_store, NewIdea(title, "", None, "open"), utcnow())
             for title in ("Dark mode", "Export")]
    made: list[set[str]] = []
    used: list[set[str]] = []
    run = type(sqlite_store.unit_of_work()).run

    async def watched(scope, work):
        async def kept(uow):
            before = set(vars(uow))
            try:
                return await work(uow)
            finally:
                made.append(set(vars(uow)) - before)
                used.append(set(vars(uow)) - {"call"})
        return await run(scope, kept)

    monkeypatch.setattr(type(sqlite_store.unit_of_work()), "run", watched)
    for idea in ideas:
        assert (await Engagement(sqlite_store, ForumSettings()).vote(jo, idea.id)).changed
    monkeypatch.undo()
    # the ideas' own units made the idea records before: the first vote made what it uses
    # and nothing more, the second nothing
    assert made == [{"rates", "votes", "ideas", "followers", "events"}, set()]
    assert {"rates", "votes", "ideas", "followers", "events"} <= used[1]
    assert "people" not in used[1]  # nothing reached for it yet: not made

    async def reach_all(uow):
        return [type(getattr(uow, name)).__name__ for name in (
            "comment_records", "reports", "people", "crm_records", "merges", "mentions", "thresholds")]

    assert all(await sqlite_store.unit_of_work().run(reach_all))
