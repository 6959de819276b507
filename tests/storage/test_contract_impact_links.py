"""Store contract for ``ideas_linked_to_customers``: which ideas (as the caller's ``IdeaShown``
keeps them) are linked to mentions of a set of customers, paged by id — every backend."""

from __future__ import annotations

from community.impact_refresh import IMPACT_RESCORED
from tests.forum_rules import create_idea, merge_ideas, moderate_idea
import pytest

from domain import Analysis, CustomerLink, Mention, utcnow
from domain.forum import IdeaShown, NewIdea
from tests.conftest import customer, post
from tests.stored import stored_mention_ids


def linked(external_id: str, *customer_ids: str) -> Mention:
    """A mention linked to each of ``customer_ids``."""
    return Mention(post(external_id, "anvils"), Analysis(tuple(
        CustomerLink(c, 0.9 - n / 10, "author_handle", "@x") for n, c in enumerate(customer_ids))))


@pytest.fixture
async def linked_ideas(store):
    """Five ideas: a linked to a mention of cus_a, b to one of cus_a and cus_b, c to one of
    cus_b, d to an unlinked mention, e to nothing."""
    await store.upsert_customers([customer("cus_a", "A"), customer("cus_b", "B"),
                                  customer("cus_c", "C")])
    saved = await store.save_mentions("x", [linked("1", "cus_a"), linked("2", "cus_a", "cus_b"),
                                            linked("3", "cus_b"), linked("4")], None)
    ids = await stored_mention_ids(store, [("x", str(n)) for n in range(1, 5)])
    assert saved.inserted == 4 and len(ids) == 4
    ideas = [await create_idea(store, NewIdea(f"Idea {n}", "body", None, "open"), utcnow())
             for n in "abcde"]
    for idea, external_id in zip(ideas, "1234"):
        assert await store.link_mention(idea.id, ids[("x", external_id)])
    assert await store.link_mention(ideas[1].id, ids[("x", "1")])  # two cus_a mentions: once
    return store, [i.id for i in ideas]


async def test_ideas_linked_to_mentions_of_any_of_the_customers(linked_ideas) -> None:
    store, (a, b, c, _d, _e) = linked_ideas
    assert await store.ideas_linked_to_customers(["cus_a"], shown=IMPACT_RESCORED) == [a, b]
    assert await store.ideas_linked_to_customers(["cus_b", "cus_a", "cus_a"], shown=IMPACT_RESCORED) == [a, b, c]
    assert await store.ideas_linked_to_customers(["cus_c", "cus_nobody"], shown=IMPACT_RESCORED) == []
    assert await store.ideas_linked_to_customers([], shown=IMPACT_RESCORED) == []


async def test_ideas_linked_to_customers_pages_by_id(linked_ideas) -> None:
    store, (a, b, c, _d, _e) = linked_ideas
    first = await store.ideas_linked_to_customers(["cus_a", "cus_b"], shown=IMPACT_RESCORED, limit=2)
    assert first == [a, b]
    assert await store.ideas_linked_to_customers(["cus_a", "cus_b"], shown=IMPACT_RESCORED, after=b, limit=2) == [c]
    assert await store.ideas_linked_to_customers(["cus_a", "cus_b"], shown=IMPACT_RESCORED, after=c) == []


async def test_merged_ideas_are_left_out(linked_ideas) -> None:
    store, (a, b, c, _d, _e) = linked_ideas
    await merge_ideas(store, a, c, None, utcnow())
    assert await store.ideas_linked_to_customers(["cus_a", "cus_b"], shown=IMPACT_RESCORED) == [b, c]


async def test_ideas_linked_to_customers_keeps_what_the_callers_rule_keeps(linked_ideas) -> None:
    """The store applies the rule it is given: a merged, hidden or waiting idea comes back only
    when the caller's ``IdeaShown`` keeps it."""
    store, (a, b, c, _d, _e) = linked_ideas
    await merge_ideas(store, a, c, None, utcnow())  # a's link to cus_a's mention moves to c
    # A link made to the merged idea afterwards (as a late import may) still names it.
    mention = (await stored_mention_ids(store, [("x", "1")]))[("x", "1")]
    assert await store.link_mention(a, mention)
    await moderate_idea(store, b, utcnow(), hidden=True, spam=True)
    every = IdeaShown(merged=True, hidden=True, unapproved=True)
    assert await store.ideas_linked_to_customers(["cus_a", "cus_b"], shown=every) == [a, b, c]
    assert await store.ideas_linked_to_customers(["cus_a"], shown=every, after=a, limit=1) == [b]
    assert await store.ideas_linked_to_customers(["cus_a", "cus_b"], shown=IMPACT_RESCORED) == [b, c]
    await moderate_idea(store, c, utcnow(), approval="pending")
    public = IdeaShown(merged=False, hidden=False, unapproved=False)
    assert await store.ideas_linked_to_customers(["cus_a", "cus_b"], shown=public) == []
    waiting_kept = IdeaShown(merged=False, hidden=False, unapproved=True)
    assert await store.ideas_linked_to_customers(["cus_a", "cus_b"], shown=waiting_kept) == [c]
