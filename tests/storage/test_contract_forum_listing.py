"""Store contract: an idea listing's total always equals the ideas it can list, through every
change that moves an idea in or out of a listing (status, hide, approval, merge, unmerge,
delete) — whatever a backend does to avoid counting on each request."""

from __future__ import annotations

from tests.forum_rules import create_idea, delete_idea, merge_ideas, moderate_idea, set_status, unmerge_idea
import pytest

from domain import utcnow
from domain.forum import IdeaPatch, IdeaQuery, NewIdea, StatusChange, Tag
from tests.conftest import acme_customers

_VIEWS = [
    {},
    {"include_hidden": True, "include_unapproved": True},
    {"include_hidden": True},
    {"include_unapproved": True},
    {"include_merged": True},
    {"include_merged": True, "include_hidden": True, "include_unapproved": True},
    {"status": "open"},
    {"status": "planned"},
    {"statuses": ("open", "planned")},
    {"status": "open", "statuses": ("planned",)},
    {"status": "open", "include_hidden": True, "include_unapproved": True},
    {"topic": "ui"},
    {"tag": "dark"},
]


async def _check_totals(store, author_ids: list[int]) -> None:
    views = [*_VIEWS, *({"unapproved_of": a} for a in author_ids),
             *({"unapproved_of": a, "status": "open"} for a in author_ids)]
    for view in views:
        for sort in ("top", "new"):
            listed, total = await store.list_ideas(IdeaQuery(sort=sort, limit=500, **view))
            assert total == len(listed), (view, sort, total, [i.id for i in listed])
            small, small_total = await store.list_ideas(IdeaQuery(sort=sort, limit=2, **view))
            assert small_total == total and len(small) == min(2, total), view


@pytest.fixture
async def forum(store):
    await store.upsert_customers(acme_customers())
    jo = await store.create_account("jo@acmeanvils.example", "Jo", "hash")
    al = await store.create_account("al@acmeanvils.example", "Al", "hash")
    ideas = []
    for n in range(8):
        ideas.append(await create_idea(store, NewIdea(
            f"Idea {n}", "body", (jo if n % 2 else al).id, "open", "ui" if n % 3 else None,
            (Tag("dark"),) if n % 4 == 0 else (), approval="approved" if n < 6 else "pending"),
            utcnow()))
    return store, [jo.id, al.id], ideas


async def test_totals_follow_every_change(forum) -> None:
    store, authors, ideas = forum
    await _check_totals(store, authors)
    a, b, c, d, e, f, pending, other_pending = ideas

    await set_status(store, StatusChange(a.id, "open", "planned", "soon", None, utcnow()))
    await store.update_idea(b.id, IdeaPatch(hidden=True), utcnow())
    await moderate_idea(store, pending.id, utcnow(), approval="approved")
    await moderate_idea(store, other_pending.id, utcnow(), approval="rejected", spam=True)
    await moderate_idea(store, c.id, utcnow(), hidden=True)
    await _check_totals(store, authors)
    listed, total = await store.list_ideas(IdeaQuery(sort="top", status="planned", limit=50))
    assert total == 1 and [i.id for i in listed] == [a.id]

    await merge_ideas(store, d.id, e.id, None, utcnow())
    await _check_totals(store, authors)
    _, everything = await store.list_ideas(IdeaQuery(include_hidden=True, include_unapproved=True))
    assert everything == 7  # the merged-away idea is listed nowhere

    await unmerge_idea(store, d.id, utcnow())
    await store.update_idea(b.id, IdeaPatch(hidden=False), utcnow())
    await delete_idea(store, f.id)
    await _check_totals(store, authors)
    _, everything = await store.list_ideas(IdeaQuery(include_hidden=True, include_unapproved=True))
    assert everything == 7
    _, public = await store.list_ideas(IdeaQuery())
    assert public == 5  # a, b, d, e and the approved one; c hidden, one rejected, f deleted


async def test_listing_with_authors_matches_listing(forum) -> None:
    store, authors, ideas = forum
    query = IdeaQuery(sort="new", limit=5)
    listed, total = await store.list_ideas(query)
    same, same_total, found = await store.list_ideas_with_authors(query)
    assert [i.id for i in same] == [i.id for i in listed] and same_total == total == 6
    assert set(found) == {i.author_id for i in listed} and set(found) <= set(authors)
    assert {a.name for a in found.values()} <= {"Jo", "Al"}
    nothing = await store.list_ideas_with_authors(IdeaQuery(text="!!!"))
    assert nothing == ([], 0, {})


async def test_listing_leaves_out_merged_ideas_as_the_query_says(forum) -> None:
    # Whether a merged-away idea is listed is the forum's rule (IdeaQuery.include_merged),
    # not the store's: asked for, it is listed with the right total, on every sort.
    store, _, ideas = forum
    source, target = ideas[1], ideas[3]
    await merge_ideas(store, source.id, target.id, None, utcnow())
    for sort in ("top", "new", "impact", "trending"):
        listed, total = await store.list_ideas(IdeaQuery(sort=sort, limit=50))
        assert source.id not in [i.id for i in listed] and total == len(listed) == 5, sort
        listed, total = await store.list_ideas(IdeaQuery(sort=sort, limit=50, include_merged=True))
        assert source.id in [i.id for i in listed] and total == len(listed) == 6, sort
        merged = next(i for i in listed if i.id == source.id)
        assert merged.merged_into == target.id
    _, staff_total = await store.list_ideas(IdeaQuery(include_merged=True, include_hidden=True,
                                                      include_unapproved=True, limit=50))
    assert staff_total == 8
