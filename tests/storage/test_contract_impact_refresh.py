"""Store contract for ``ideas_voted_by``: which ideas (as the caller's ``IdeaShown`` keeps them)
a set of customers voted on, paged by id — every backend."""

from __future__ import annotations

from community.impact_refresh import IMPACT_RESCORED
from tests.forum_rules import add_vote, create_idea, merge_ideas, moderate_idea
import pytest

from domain import utcnow
from domain.forum import IdeaShown, NewIdea, Vote
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
    assert await store.ideas_voted_by(["cus_a"], shown=IMPACT_RESCORED) == [a, b]
    assert await store.ideas_voted_by(["cus_b", "cus_a", "cus_a"], shown=IMPACT_RESCORED) == [a, b, c]
    assert await store.ideas_voted_by(["cus_c", "cus_nobody"], shown=IMPACT_RESCORED) == []
    assert await store.ideas_voted_by([], shown=IMPACT_RESCORED) == []


async def test_ideas_voted_by_pages_by_id(voted) -> None:
    store, (a, b, c, _d) = voted
    first = await store.ideas_voted_by(["cus_a", "cus_b"], shown=IMPACT_RESCORED, limit=2)
    assert first == [a, b]
    assert await store.ideas_voted_by(["cus_a", "cus_b"], shown=IMPACT_RESCORED, after=first[-1], limit=2) == [c]
    assert await store.ideas_voted_by(["cus_a", "cus_b"], shown=IMPACT_RESCORED, after=c) == []
    assert await store.ideas_voted_by(["cus_a"], shown=IMPACT_RESCORED, limit=0) == []


async def test_ideas_voted_by_leaves_out_merged_ideas(voted) -> None:
    store, (_a, b, c, d) = voted
    await merge_ideas(store, c, d, None, utcnow())  # cus_b's vote moves from c to d
    assert await store.ideas_voted_by(["cus_b"], shown=IMPACT_RESCORED) == [b, d]
    assert await store.ideas_voted_by(["cus_b"], shown=IMPACT_RESCORED, limit=1) == [b]
    assert await store.ideas_voted_by(["cus_b"], shown=IMPACT_RESCORED, after=b, limit=1) == [d]


async def test_ideas_voted_by_many_customers_at_once(store) -> None:
    many = [customer(f"cus_{n:04d}", f"C {n}") for n in range(1200)]
    await store.upsert_customers(many)
    idea = await create_idea(store, NewIdea("Bulk", "body", None, "open"), utcnow())
    assert await add_vote(store, Vote(idea.id, "cus_1199", None, utcnow()))
    assert await store.ideas_voted_by([c.id for c in many], shown=IMPACT_RESCORED) == [idea.id]


async def test_ideas_voted_by_keeps_what_the_callers_rule_keeps(voted) -> None:
    """The store applies the rule it is given: merged, hidden and waiting ideas each come back
    only when the caller's ``IdeaShown`` keeps them."""
    store, (a, b, c, d) = voted
    await merge_ideas(store, c, d, None, utcnow())  # cus_b's vote moves from c to d
    assert await add_vote(store, Vote(c, "cus_c", None, utcnow()))  # a vote left on merged c
    await moderate_idea(store, a, utcnow(), hidden=True, spam=True)
    await moderate_idea(store, b, utcnow(), approval="pending")
    every = IdeaShown(merged=True, hidden=True, unapproved=True)
    public = IdeaShown(merged=False, hidden=False, unapproved=False)
    who = ["cus_a", "cus_b", "cus_c"]
    assert await store.ideas_voted_by(who, shown=every) == [a, b, c, d]
    assert await store.ideas_voted_by(who, shown=IMPACT_RESCORED) == [a, b, d]
    assert await store.ideas_voted_by(who, shown=public) == [d]
    assert await store.ideas_voted_by(who, shown=public, limit=1) == [d]
    assert await store.ideas_voted_by(["cus_c"], shown=every, after=b) == [c]
