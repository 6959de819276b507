"""SQLite's unit of work: a vote is one transaction and one hop to the writer thread."""

from __future__ import annotations

from tests.forum_rules import add_vote, create_idea
import asyncio
from pathlib import Path

import pytest

from community.engagement import Engagement
from config.forum import ForumSettings
from domain import utcnow
from domain.forum import NewIdea, Vote
from storage import open_store
from tests.community.forum_helpers import make_viewer
from tests.conftest import acme_customers


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
        await asyncio.sleep(0.05)
        assert not other.done()
        assert await uow.votes.add(Vote(idea.id, "cus_jo", None, utcnow()))
        assert (await uow.ideas.count_vote(found, 1.0)).vote_count == 1  # type: ignore[union-attr]
    assert await other
    assert (await sqlite_store.get_idea(idea.id)).vote_count == 2
