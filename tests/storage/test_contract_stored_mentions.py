"""``save_mentions`` hands back the new mentions exactly as reading them back would give them
(the live feed publishes from this instead of reading every new mention again)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain import Analysis, Author, CustomerLink, Mention, RawPost
from storage import Store
from tests.conftest import T0, acme_customers, post


async def test_stored_mentions_are_what_a_read_gives(store: Store) -> None:
    await store.upsert_customers(acme_customers())
    weak = CustomerLink("cus_jo", 0.4, "name", "name 'Jo'", 0, 2, status="pending")
    strong = CustomerLink("cus_acme", 0.9, "company_name", "company name 'Acme'", 10, 14)
    await store.save_mentions("k", [Mention(post("0"))], None)
    paris = timezone(timedelta(hours=1))
    batch = [
        Mention(post("1", "Jo likes Acme"),
                Analysis(links=(weak, strong), topics=("billing",), sentiment=0.5,
                         sentiment_label="positive", intent="praise", language="en")),
        Mention(post("0")),  # a duplicate: not stored, not handed back
        Mention(_post_at("2", T0.astimezone(paris))),
    ]
    result = await store.save_mentions("k", batch, {"at": 2})
    assert (result.inserted, result.duplicates) == (2, 1)
    read = await store.mentions_after(await _first_id(store), 10)
    assert [m.post.external_id for m in result.stored] == ["1", "2"]
    assert list(result.stored) == read
    # Link ids are not part of a link's equality: compare them, and the order, on their own.
    assert [(k.customer_id, k.id) for k in result.stored[0].analysis.links] == \
        [(k.customer_id, k.id) for k in read[0].analysis.links]
    assert read[0].analysis.links[0].customer_id == "cus_acme"
    assert all(k.id is not None for k in result.stored[0].analysis.links)
    assert result.stored[1].post.created_at.utcoffset() == timedelta(0)
    assert result.stored[1].post.created_at == T0
    again = await store.save_mentions("k", batch, None)
    assert (again.inserted, again.stored) == (0, ())


async def _first_id(store: Store) -> int:
    """The id of the mention stored first (external id "0")."""
    return (await store.mentions_after(0, 1))[0].id or 0


def _post_at(external_id: str, created_at: datetime) -> RawPost:
    return RawPost("x", external_id, Author("someone"), "an hour east", created_at)


async def test_a_mention_keeps_the_source_that_stored_it(store: Store) -> None:
    # Two Mastodon instances: replies must go out through the instance that read the status.
    a = await store.save_mentions("mastodon_a", [Mention(post("115600000000000101", source="mastodon"))], None)
    b = await store.save_mentions("mastodon_b", [Mention(post("109876543210987654", source="mastodon"))], None)
    pushed = await store.save_mentions("push:partner", [Mention(post("p-1", source="reddit"))], None)
    assert [m.source_key for m in (*a.stored, *b.stored, *pushed.stored)] == \
        ["mastodon_a", "mastodon_b", "push:partner"]
    read = [await store.get_mention(m.id or 0) for m in (*a.stored, *b.stored, *pushed.stored)]
    assert [m.source_key for m in read] == ["mastodon_a", "mastodon_b", "push:partner"]
    assert read == [*a.stored, *b.stored, *pushed.stored]


async def test_many_mentions_are_read_by_id_at_once(store: Store) -> None:
    await store.upsert_customers(acme_customers())
    acme = CustomerLink("cus_acme", 0.9, "company_name", "company name 'Acme'", 10, 14)
    saved = await store.save_mentions("k", [
        Mention(post("1", "Jo likes Acme"), Analysis(links=(acme,), topics=("billing",))),
        Mention(post("2", "nothing to see")),
        Mention(post("3", "third")),
    ], None)
    one, two, three = (m.id or 0 for m in saved.stored)
    # Repeated ids, an id never stored (a pruned mention) and the order asked in do not matter.
    read = await store.get_mentions([three, 999_999_999, one, three])
    assert set(read) == {one, three}
    assert read[one] == await store.get_mention(one)
    assert read[three] == saved.stored[2]
    assert read[one].analysis.links[0].customer_id == "cus_acme"
    assert await store.get_mentions([]) == {}
    assert list(await store.get_mentions([two])) == [two]


async def test_ids_no_store_can_hold_are_simply_not_found(store: Store) -> None:
    """Ids come from routed items, events and query strings: a 30-digit number (or any id past
    a 64-bit integer), a negative one, or something that is not an int at all is not an error,
    just nothing stored, and the ids next to it are still read."""
    saved = await store.save_mentions("k", [Mention(post("1", "first")), Mention(post("2", "second"))], None)
    one, two = (m.id or 0 for m in saved.stored)
    huge = int("9" * 30)
    hostile: list[object] = [huge, 2**63, -(2**63) - 1, -one, "1", str(one), 1.0, float(one), True,
                             None, b"1", one, 2**63 - 1, two]
    read = await store.get_mentions(hostile)  # type: ignore[arg-type]
    assert set(read) == {one, two}
    assert read[one] == saved.stored[0]
    assert await store.get_mentions([huge]) == {}
    assert await store.get_mentions([-(2**64), 2**64]) == {}
