"""The Store contract: every backend must pass this same suite."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from domain import Analysis, CustomerLink, Identity, Mention, MentionQuery
from domain.errors import BadInput, NotFound
from storage import Store
from tests.conftest import T0, acme_customers, customer, post


def mention(external_id: str, text: str = "hi", links: tuple[CustomerLink, ...] = (), **kw) -> Mention:
    return Mention(post(external_id, text, **kw), Analysis(links=links))


async def test_customers_round_trip_with_identities(store: Store) -> None:
    result = await store.upsert_customers(acme_customers())
    assert (result.inserted, result.duplicates) == (3, 0)
    jo = await store.get_customer("cus_jo")
    assert jo.kind == "person" and jo.company == "Acme Anvils"
    assert jo.emails == ("jo@acmeanvils.example",)
    assert set(jo.identities) == {Identity("reddit", "jo_r"), Identity("x", "jorivera")}
    acme = await store.get_customer("cus_acme")
    assert acme.annual_revenue == 5_000_000 and acme.aliases == ("Acme",)


async def test_upsert_replaces_by_id_and_counts_updates(store: Store) -> None:
    await store.upsert_customers(acme_customers())
    changed = customer("cus_acme", "Acme Anvils Inc", identities=(Identity("x", "acme_new"),))
    result = await store.upsert_customers([changed])
    assert (result.inserted, result.duplicates) == (0, 1)
    acme = await store.get_customer("cus_acme")
    assert acme.name == "Acme Anvils Inc"
    assert acme.identities == (Identity("x", "acme_new"),)
    assert len(await store.all_customers()) == 3


async def test_missing_customer_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.get_customer("nobody")
    assert await store.get_customers(["nobody"]) == {}


async def test_list_customers_pages_by_name_and_filters(store: Store) -> None:
    await store.upsert_customers([customer(f"c{i}", f"Name {i:02d}") for i in range(7)])
    first = await store.list_customers(limit=3)
    assert [c.name for c in first.items] == ["Name 00", "Name 01", "Name 02"]
    second = await store.list_customers(limit=3, cursor=first.next_cursor)
    third = await store.list_customers(limit=3, cursor=second.next_cursor)
    assert [c.name for c in second.items + third.items] == [f"Name {i:02d}" for i in range(3, 7)]
    assert third.next_cursor is None
    filtered = await store.list_customers(text="name 05")
    assert [c.id for c in filtered.items] == ["c5"]
    assert (await store.list_customers(text="100%_")).items == ()


async def test_save_mentions_is_unique_on_source_and_external_id(store: Store) -> None:
    first = await store.save_mentions("k", [mention("1"), mention("2")], {"at": 2})
    again = await store.save_mentions("k", [mention("2"), mention("3"), mention("1", source="reddit")], {"at": 3})
    assert (first.inserted, first.duplicates) == (2, 0)
    assert (again.inserted, again.duplicates) == (2, 1)
    assert (await store.counts())["mentions"] == 4
    assert await store.known_identities("x", ["1", "2", "3", "4"]) == {"1", "2", "3"}
    assert await store.get_cursor("k") == {"at": 3}


async def test_batch_and_cursor_are_one_transaction(store: Store) -> None:
    await store.upsert_customers(acme_customers())
    await store.save_mentions("k", [mention("1")], {"at": 1})
    # The second mention links to a customer that does not exist: the whole batch must fail,
    # leaving neither its mentions nor its cursor behind.
    bad_link = CustomerLink("no_such_customer", 0.9, "author_handle", "x")
    with pytest.raises(Exception):  # noqa: B017 -- each backend raises its own integrity error
        await store.save_mentions("k", [mention("2"), mention("3", links=(bad_link,))], {"at": 3})
    assert await store.known_identities("x", ["1", "2", "3"]) == {"1"}
    assert await store.get_cursor("k") == {"at": 1}


async def test_concurrent_writers_store_each_mention_once(store: Store) -> None:
    batches = [[mention(str(i)) for i in range(start, start + 50)] for start in range(0, 200, 25)]
    results = await asyncio.gather(*(store.save_mentions(f"k{n}", b, None) for n, b in enumerate(batches)))
    assert sum(r.inserted for r in results) == 225
    assert (await store.counts())["mentions"] == 225


async def test_mention_round_trip_keeps_links_and_evidence(store: Store) -> None:
    await store.upsert_customers(acme_customers())
    link = CustomerLink("cus_acme", 0.8, "company_name", "company name 'Acme Anvils'", 4, 15)
    await store.save_mentions("k", [mention("9", "I ❤ Acme Anvils", links=(link,), url="https://x.example/9",
                                            language="en", thread_id="7", engagement={"likes": 3},
                                            parent_id="8", name="Jo")], None)
    page = await store.list_mentions(MentionQuery())
    (m,) = page.items
    assert m.id is not None and m.ingested_at is not None
    assert m.post.text == "I ❤ Acme Anvils" and m.post.url == "https://x.example/9"
    assert m.post.parent_id == "8" and m.post.author.name == "Jo"
    assert m.post.created_at == T0
    assert (m.post.language, m.post.thread_id, m.post.engagement) == ("en", "7", {"likes": 3})
    assert m.analysis.links == (link,)
    assert (await store.get_mention(m.id)) == m
    with pytest.raises(NotFound):
        await store.get_mention(m.id + 1000)


async def test_list_mentions_filters(store: Store) -> None:
    await store.upsert_customers(acme_customers())
    acme = (CustomerLink("cus_acme", 0.9, "author_handle", "e"),)
    await store.save_mentions("k", [
        mention("1", "billing is broken again", minutes=0, links=acme),
        mention("2", "love the new dark mode", minutes=10, source="reddit"),
        mention("3", "Billing page: invoices missing", minutes=20, links=acme, source="reddit"),
    ], None)

    async def ids(**kw) -> list[str]:
        return [m.post.external_id for m in (await store.list_mentions(MentionQuery(**kw))).items]

    assert await ids() == ["3", "2", "1"]
    assert await ids(customer_id="cus_acme") == ["3", "1"]
    assert await ids(source="reddit") == ["3", "2"]
    assert await ids(text="billing") == ["3", "1"]
    assert await ids(text="invoices billing") == ["3"]
    assert await ids(text='" OR ( NEAR') == []  # operators from users are plain words
    assert await ids(text="***") == []
    assert await ids(since=T0 + timedelta(minutes=5)) == ["3", "2"]
    assert await ids(until=T0 + timedelta(minutes=10)) == ["1"]
    assert await ids(customer_id="cus_acme", source="reddit", text="invoices") == ["3"]


async def test_list_mentions_cursor_pages_without_gaps_or_repeats(store: Store) -> None:
    # Same timestamps on purpose: the id must break ties.
    await store.save_mentions("k", [mention(str(i), minutes=i // 3) for i in range(23)], None)
    seen: list[str] = []
    cursor = None
    while True:
        page = await store.list_mentions(MentionQuery(limit=5, cursor=cursor))
        seen += [m.post.external_id for m in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen, key=int) == [str(i) for i in range(23)] and len(seen) == 23


async def test_bad_cursor_is_bad_input(store: Store) -> None:
    with pytest.raises(BadInput):
        await store.list_mentions(MentionQuery(cursor="not-a-cursor"))
    with pytest.raises(BadInput):
        await store.list_customers(cursor="W10")  # valid base64 JSON, wrong shape


async def test_meta_and_missing_cursor(store: Store) -> None:
    assert await store.get_meta("demo_loaded") is None
    await store.set_meta("demo_loaded", "1")
    await store.set_meta("demo_loaded", "2")
    assert await store.get_meta("demo_loaded") == "2"
    assert await store.get_cursor("never") is None


async def test_source_health_round_trip(store: Store) -> None:
    from domain import SourceHealth

    assert await store.get_source_health("reddit-main") is None
    health = SourceHealth("reddit-main", "reddit", state="failing", last_run_at=T0, last_items=3,
                          total_items=10, error="503 from source", error_since=T0, failures=2,
                          next_attempt_at=T0 + timedelta(minutes=5), rate_limit_remaining=42,
                          rate_limit_reset=T0 + timedelta(minutes=1))
    await store.save_source_health(health)
    await store.save_source_health(SourceHealth("a-first", "rss"))
    assert await store.get_source_health("reddit-main") == health
    assert (await store.get_source_health("a-first")) == SourceHealth("a-first", "rss")


async def test_lease_is_exclusive_until_it_expires(store: Store) -> None:
    assert await store.acquire_lease("scheduler", "A", ttl=30, now=1000)
    assert not await store.acquire_lease("scheduler", "B", ttl=30, now=1010)
    assert await store.acquire_lease("scheduler", "A", ttl=30, now=1020)  # renewal
    assert not await store.acquire_lease("scheduler", "B", ttl=30, now=1049)
    assert await store.acquire_lease("scheduler", "B", ttl=30, now=1051)  # A's expired
    assert not await store.acquire_lease("scheduler", "A", ttl=30, now=1052)
    await store.release_lease("scheduler", "A")  # not A's any more: no effect
    assert not await store.acquire_lease("scheduler", "A", ttl=30, now=1053)
    await store.release_lease("scheduler", "B")
    assert await store.acquire_lease("scheduler", "A", ttl=30, now=1054)


async def test_concurrent_lease_attempts_have_one_winner(store: Store) -> None:
    results = await asyncio.gather(*(store.acquire_lease("x", f"h{i}", 30, 1000) for i in range(10)))
    assert sum(results) == 1
