"""Which ideas are suggested while a customer types a title (``community.similar``'s rule), on
both backends: only ideas the customer can find and vote on — never one merged into another,
hidden by a moderator or still waiting for approval. The store's reads return those too when
asked."""

from __future__ import annotations

from community.similar import SUGGESTED, similar_ideas
from config.forum import ForumSettings
from domain.forum import IdeaShown, NewIdea
from storage import Store
from tests.conftest import T0
from tests.forum_rules import create_idea, merge_ideas, moderate_idea

EVERY = IdeaShown(merged=True, hidden=True, unapproved=True)


async def _forum(store: Store) -> dict[str, int]:
    author = await store.create_account("jo@acmeanvils.example", "Jo", None)
    ids = {}
    for key, title in [("shown", "Dark mode for the dashboard"), ("merged", "Dark mode please!!"),
                       ("hidden", "DARK MODE NOW or I cancel"), ("pending", "dark mode (mobile app)")]:
        ids[key] = (await create_idea(store, NewIdea(title, "night theme", author.id, "open",
                                                     approval="pending" if key == "pending" else "approved"),
                                      T0)).id
    await merge_ideas(store, ids["merged"], ids["shown"], None, T0)
    await moderate_idea(store, ids["hidden"], T0, hidden=True)
    return ids


async def test_only_ideas_a_customer_can_vote_on_are_suggested(store: Store) -> None:
    ids = await _forum(store)
    found = await similar_ideas(store, ForumSettings(), "dark mode")
    assert [f.id for f in found] == [ids["shown"]]


async def test_the_title_reads_leave_out_only_what_they_are_told(store: Store) -> None:
    ids = await _forum(store)
    every = {h[0] for h in await store.idea_titles_matching("dark mode", 50, EVERY)}
    assert every == set(ids.values())
    assert [h[0] for h in await store.idea_titles_matching("dark mode", 50, SUGGESTED)] == [ids["shown"]]
    no_merged = IdeaShown(merged=False, hidden=True, unapproved=True)
    assert {h[0] for h in await store.idea_titles_matching("dark", 50, no_merged)} == \
        {ids["shown"], ids["hidden"], ids["pending"]}
    # Most voted first (the merged idea's votes moved), then the newest.
    assert [i for i, _ in await store.most_voted_idea_titles(10, EVERY)] == \
        sorted(ids.values(), reverse=True)
    assert await store.most_voted_idea_titles(10, SUGGESTED) == [(ids["shown"], "Dark mode for the dashboard")]
