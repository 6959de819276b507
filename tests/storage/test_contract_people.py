"""People: authors kept as people, attached to customers, merged — the rules of ``crm.people``
over each backend's unit of work, and the people reads."""

from __future__ import annotations

import pytest

from domain import (
    Analysis,
    Author,
    CustomerLink,
    Identity,
    Mention,
    MentionQuery,
)
from crm.people import attach_person, merge_people, record_people
from domain.errors import BadInput, NotFound
from storage import Store
from tests.conftest import acme_customers, post


async def seed(store: Store) -> None:
    await store.upsert_customers(acme_customers())
    weak = CustomerLink("cus_acme", 0.35, "alias", "alias 'acme'", 0, 4, status="pending")
    await store.save_mentions("k", [
        Mention(post("1", "acme is fine", handle="Pat_W", source="x"), Analysis(links=(weak,))),
        Mention(post("2", "hello", handle="pat_w", source="x", minutes=1), Analysis()),
        Mention(post("3", "hi from reddit", handle="patw", source="reddit", minutes=2), Analysis()),
        Mention(post("4", "unrelated", handle="other", source="x", minutes=3), Analysis()),
    ], None)


async def test_record_people_keeps_one_person_per_handle(store: Store) -> None:
    new = await record_people(store, [("x", Author("@Pat_W")), ("x", Author("pat_w", "Pat W")),
                                     ("reddit", Author("patw")), ("x", Author(""))])
    assert new == 2
    assert await record_people(store, [("x", Author("PAT_W", "Patricia"))]) == 0
    person = await store.person_by_handle("x", "@pat_w")
    assert person is not None and person.name == "Pat W" and person.customer_id is None
    assert person.handles == (Identity("x", "pat_w"),)
    assert await store.person_by_handle("mastodon", "pat_w") is None
    assert (await store.get_person(person.id)) == person
    with pytest.raises(NotFound):
        await store.get_person(999_999)


async def test_list_people_filters_by_name_or_handle_and_pages(store: Store) -> None:
    await record_people(store, [("x", Author(f"user{i}", f"User {i}")) for i in range(5)]
                              + [("x", Author("pat_w", "Pat 100%"))])
    page = await store.list_people(limit=4)
    assert len(page.items) == 4 and page.next_cursor
    rest = await store.list_people(limit=4, cursor=page.next_cursor)
    assert len(rest.items) == 2 and rest.next_cursor is None
    assert [p.name for p in (await store.list_people("PAT")).items] == ["Pat 100%"]
    assert [p.name for p in (await store.list_people("user3")).items] == ["User 3"]
    # LIKE wildcards in the query are literal characters.
    assert [p.name for p in (await store.list_people("100%")).items] == ["Pat 100%"]
    assert (await store.list_people("r_")).items == ()  # "_" would match any character
    assert [p.name for p in (await store.list_people("t_w")).items] == ["Pat 100%"]
    with pytest.raises(BadInput):
        await store.list_people(cursor="zz!")


async def test_attach_gives_the_customer_every_handle_and_past_mention(store: Store) -> None:
    await seed(store)
    await record_people(store, [("x", Author("pat_w")), ("reddit", Author("patw"))])
    pat_x = await store.person_by_handle("x", "pat_w")
    pat_reddit = await store.person_by_handle("reddit", "patw")
    assert pat_x and pat_reddit and pat_x.id != pat_reddit.id
    merged, attached = await merge_people(store, pat_reddit.id, pat_x.id)
    assert attached == 0 and set(merged.handles) == {Identity("x", "pat_w"), Identity("reddit", "patw")}
    with pytest.raises(NotFound):
        await store.get_person(pat_reddit.id)

    person, attached = await attach_person(store, merged.id, "cus_acme")
    assert attached == 3 and person.customer_id == "cus_acme"
    customer = await store.get_customer("cus_acme")
    assert {Identity("x", "pat_w"), Identity("reddit", "patw")} <= set(customer.identities)
    page = await store.list_mentions(MentionQuery(customer_id="cus_acme"))
    assert sorted(m.post.external_id for m in page.items) == ["1", "2", "3"]
    for m in page.items:
        (link,) = [k for k in m.analysis.links if k.customer_id == "cus_acme"]
        assert link.status == "confirmed" and link.confidence == 1.0 and link.rule == "person"
        assert "attached" in link.evidence
    # The weak pending link was replaced, so the review queue no longer holds it.
    assert all(r.link.customer_id != "cus_acme" for r in (await store.list_link_reviews()).items)
    # Attaching again changes nothing.
    assert (await attach_person(store, merged.id, "cus_acme"))[1] == 0


async def test_attach_and_merge_refuse_conflicts_without_changing_anything(store: Store) -> None:
    await seed(store)
    await record_people(store, [("x", Author("pat_w")), ("x", Author("other"))])
    pat = await store.person_by_handle("x", "pat_w")
    other = await store.person_by_handle("x", "other")
    assert pat and other
    with pytest.raises(NotFound):
        await attach_person(store, pat.id, "no_such_customer")
    assert (await store.get_person(pat.id)).customer_id is None
    with pytest.raises(NotFound):
        await attach_person(store, 999_999, "cus_acme")
    await attach_person(store, pat.id, "cus_acme")
    await attach_person(store, other.id, "cus_target")
    with pytest.raises(BadInput):
        await attach_person(store, pat.id, "cus_target")
    with pytest.raises(BadInput):
        await merge_people(store, pat.id, other.id)
    with pytest.raises(BadInput):
        await merge_people(store, pat.id, pat.id)
    assert (await store.get_person(pat.id)).handles == (Identity("x", "pat_w"),)
    assert Identity("x", "pat_w") not in (await store.get_customer("cus_target")).identities


async def test_merging_into_an_attached_person_attaches_the_new_handles(store: Store) -> None:
    await seed(store)
    await record_people(store, [("x", Author("pat_w")), ("reddit", Author("patw", "Pat"))])
    pat_x = await store.person_by_handle("x", "pat_w")
    pat_reddit = await store.person_by_handle("reddit", "patw")
    assert pat_x and pat_reddit
    await attach_person(store, pat_x.id, "cus_jo")
    merged, attached = await merge_people(store, pat_reddit.id, pat_x.id)
    assert merged.customer_id == "cus_jo" and merged.name == "Pat"
    assert attached == 1  # the reddit mention; the x ones were attached before
    assert Identity("reddit", "patw") in (await store.get_customer("cus_jo")).identities
