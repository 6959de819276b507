"""Store contract for ``ideas_voted_by``: which unmerged ideas a set of customers voted on,
paged by id — every backend."""

from __future__ import annotations

from tests.forum_rules import add_vote, create_idea, merge_ideas
import pytest

from domain import utcnow
from domain.forum import NewIdea, Vote
from tests.conftest import customer


@pytest.fixture
async def voted(store):
    """Four ideas: a and b voted by cus_a, c by cus_b, d by nobody."""
    await store.upsert_customers([customer("cus_a", "A"), customer("cus_b", "B"),
                                  customer("cus_c", "C")])
    ideas = [await create_idea(store, NewIdea(f"Idea {n}", "body", None, "open"), utcnow())
             for n in "abcd"]
    for idea, who in ((ideas[0], "cus_a"), (ideas[1], "cus_a"), (ideas[2], "cus_b"),
                      (ideas[1], "cus_b")):
        assert await add_vote(store, Vote(idea.id, who, None, utcnow()))
    return store, [i.id for i in ideas]


async def test_ideas_voted_by_any_of_the_customers(voted) -> None:
    store, (a, b, c, _d) = voted
    assert await store.ideas_voted_by(["cus_a"]) == [a, b]
    assert await store.ideas_voted_by(["cus_b", "cus_a", "cus_a"]) == [a, b, c]
    assert await store.ideas_voted_by(["cus_c", "cus_nobody"]) == []
    assert await store.ideas_voted_by([]) == []


async def test_ideas_voted_by_pages_by_id(voted) -> None:
    store, (a, b, c, _d) = voted
    first = await store.ideas_voted_by(["cus_a", "cus_b"], limit=2)
    assert first == [a, b]
    assert await store.ideas_voted_by(["cus_a", "cus_b"], after=first[-1], limit=2) == [c]
    assert await store.ideas_voted_by(["cus_a", "cus_b"], after=c) == []
    assert await store.ideas_voted_by(["cus_a"], limit=0) == []


async def test_ideas_voted_by_leaves_out_merged_ideas(voted) -> None:
    store, (_a, b, c, d) = voted
    await merge_ideas(store, c, d, None, utcnow())  # cus_b's vote moves from c to d
    assert await store.ideas_voted_by(["cus_b"]) == [b, d]
    assert await store.ideas_voted_by(["cus_b"], limit=1) == [b]
    assert await store.ideas_voted_by(["cus_b"], after=b, limit=1) == [d]


async def test_ideas_voted_by_many_customers_at_once(store) -> None:
    many = [customer(f"cus_{n:04d}", f"C {n}") for n in range(1200)]
    await store.upsert_customers(many)
    idea = await create_idea(store, NewIdea("Bulk", "body", None, "open"), utcnow())
    assert await add_vote(store, Vote(idea.id, "cus_1199", None, utcnow()))
    assert await store.ideas_voted_by([c.id for c in many]) == [idea.id]
