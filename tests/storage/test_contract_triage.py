"""Contract of the triage and dashboard store areas (every backend must pass)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import Analysis, CustomerLink, Mention, MentionQuery
from domain.triage import TriageChange
from domain.errors import NotFound
from storage import Store
from tests.conftest import T0, customer, post


async def _three(store: Store) -> list[int]:
    await store.upsert_customers([customer("cus_1")])
    link = CustomerLink("cus_1", 0.9, "alias", "alias 'Acme'")
    await store.save_mentions("t", [
        Mention(post("1", "invoices broken", minutes=1)),
        Mention(post("2", "love the app", source="reddit", handle="ann", minutes=2,
                     engagement={"likes": 5, "replies": 2})),
        Mention(post("3", "Acme is great", source="reddit", handle="ann", minutes=3),
                Analysis(links=(link,))),
    ], None)
    page = await store.list_mentions(MentionQuery(limit=10))
    return sorted(m.id for m in page.items)


async def test_untriaged_mentions_are_open(store: Store) -> None:
    ids = await _three(store)
    triage = await store.get_triage(ids + [999])
    assert set(triage) == set(ids)
    assert all(t.status == "open" and t.assignee is None and t.tags == () for t in triage.values())


async def test_bulk_update_persists_and_tags_add_and_remove(store: Store) -> None:
    ids = await _three(store)
    done = await store.update_triage(ids[:2], TriageChange(status="pending", assignee="ana",
                                                           add_tags=("billing", "urgent")), "op")
    assert [(t.mention_id, t.status, t.assignee, t.tags) for t in done] == [
        (ids[0], "pending", "ana", ("billing", "urgent")), (ids[1], "pending", "ana", ("billing", "urgent"))]
    await store.update_triage([ids[0]], TriageChange(assignee="", remove_tags=("urgent",)), "op")
    again = await store.get_triage(ids)
    assert (again[ids[0]].status, again[ids[0]].assignee, again[ids[0]].tags) == ("pending", None, ("billing",))
    assert again[ids[0]].updated_by == "op" and again[ids[0]].updated_at is not None
    assert again[ids[2]].status == "open"


async def test_update_of_unknown_mention_writes_nothing(store: Store) -> None:
    ids = await _three(store)
    with pytest.raises(NotFound):
        await store.update_triage([ids[0], 999], TriageChange(status="closed"), "op")
    assert (await store.get_triage([ids[0]]))[ids[0]].status == "open"


async def test_notes_in_order_and_unknown_mention(store: Store) -> None:
    ids = await _three(store)
    await store.add_triage_note(ids[0], "op", "called them")
    await store.add_triage_note(ids[0], "ana", "fixed")
    notes = await store.list_triage_notes(ids[0])
    assert [(n.author, n.body) for n in notes] == [("op", "called them"), ("ana", "fixed")]
    assert await store.list_triage_notes(ids[1]) == []
    with pytest.raises(NotFound):
        await store.add_triage_note(999, "op", "x")


async def test_list_triaged_mentions_filters(store: Store) -> None:
    ids = await _three(store)
    await store.update_triage([ids[1]], TriageChange(status="closed", assignee="bo", add_tags=("vip",)), "op")
    q = MentionQuery(limit=10)
    open_ = await store.list_triaged_mentions(q, "open", None, None)
    assert sorted(m.id for m in open_.items) == [ids[0], ids[2]]
    assert [m.id for m in (await store.list_triaged_mentions(q, None, "bo", None)).items] == [ids[1]]
    assert sorted(m.id for m in (await store.list_triaged_mentions(q, None, "", None)).items) == [ids[0], ids[2]]
    assert [m.id for m in (await store.list_triaged_mentions(q, None, None, "vip")).items] == [ids[1]]
    by_source = await store.list_triaged_mentions(MentionQuery(source="reddit", limit=10), "open", None, None)
    assert [m.id for m in by_source.items] == [ids[2]]
    first = await store.list_triaged_mentions(MentionQuery(limit=1), "open", None, None)
    second = await store.list_triaged_mentions(MentionQuery(limit=1, cursor=first.next_cursor), "open", None, None)
    assert [first.items[0].id, second.items[0].id] == [ids[2], ids[0]] and second.next_cursor is None


async def test_live_catch_up_and_analytics(store: Store) -> None:
    assert await store.latest_mention_id() == 0
    ids = await _three(store)
    assert await store.latest_mention_id() == ids[-1]
    after = await store.mentions_after(ids[0], 10)
    assert [m.id for m in after] == ids[1:]
    assert after[-1].analysis.links[0].customer_id == "cus_1"
    rows = await store.volume_by_day(T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert {(r.day, r.key, r.count) for r in rows} == {("2026-11-01", "x", 1), ("2026-11-01", "reddit", 2)}
    mine = await store.volume_by_day(T0 - timedelta(days=1), T0 + timedelta(days=1), "cus_1")
    assert [(r.key, r.count) for r in mine] == [("reddit", 1)]
    assert await store.volume_by_day(T0 + timedelta(days=1), T0 + timedelta(days=2)) == []
    authors = await store.top_authors(T0, T0 + timedelta(hours=1), 5)
    assert [(a.source, a.handle, a.mentions, a.engagement) for a in authors] == [
        ("reddit", "ann", 2, 7), ("x", "someone", 1, 0)]


async def test_triage_keeps_account_keys_apart(store: Store) -> None:
    """Assignees, writers and note authors are account keys: two staff never share one."""
    ids = await _three(store)
    await store.update_triage([ids[0]], TriageChange(assignee="account:1"), "account:2")
    await store.update_triage([ids[1]], TriageChange(assignee="account:2"), "operator")
    q = MentionQuery(limit=10)
    assert [m.id for m in (await store.list_triaged_mentions(q, None, "account:1", None)).items] == [ids[0]]
    assert [m.id for m in (await store.list_triaged_mentions(q, None, "account:2", None)).items] == [ids[1]]
    got = await store.get_triage(ids[:2])
    assert (got[ids[0]].assignee, got[ids[0]].updated_by) == ("account:1", "account:2")
    assert (got[ids[1]].assignee, got[ids[1]].updated_by) == ("account:2", "operator")
    await store.add_triage_note(ids[0], "account:1", "one")
    await store.add_triage_note(ids[0], "account:2", "two")
    assert [(n.author, n.body) for n in await store.list_triage_notes(ids[0])] == [
        ("account:1", "one"), ("account:2", "two")]
