"""Contract of the crm store area: CRM-fed customers with their cursor in one write, learned
identities kept, deleted and merged records, outbound idempotency keys."""

from __future__ import annotations

import pytest

from domain import Analysis, CustomerLink, Identity, Mention
from crm.records import apply_crm_batch, feeding_link, learned_identities
from crm.link_decisions import confirm_link
from domain.crm import CrmBatch, CrmCustomer, CrmMerge
from domain.errors import BadInput
from storage import Store
from tests.conftest import T0, customer, post
from tests.forum_rules import create_idea


def _rec(crm_id: str, name: str, **kw) -> CrmCustomer:
    company = kw.pop("company_crm_id", None)
    return CrmCustomer("hubspot", "company", crm_id,
                       customer(f"hubspot:company:{crm_id}", name, **kw), company)


async def test_batch_and_cursor_are_written_together(store: Store) -> None:
    done = await apply_crm_batch(store, CrmBatch(
        "hubspot", "company", (_rec("1", "Acme"), _rec("2", "Globex")), cursor={"since": 5}), T0)
    assert (done.inserted, done.updated) == (2, 0)
    assert await store.get_crm_cursor("hubspot", "company") == {"since": 5}
    assert await store.get_crm_cursor("hubspot", "contact") is None
    again = await apply_crm_batch(store, CrmBatch(
        "hubspot", "company", (_rec("1", "Acme Corp", segment="smb"),), cursor={"since": 9}), T0)
    assert (again.inserted, again.updated) == (0, 1)
    acme = await store.get_customer("hubspot:company:1")
    assert acme.name == "Acme Corp" and acme.segment == "smb"
    link = await feeding_link(store, "hubspot:company:1")
    assert link is not None and link.crm_id == "1" and link.object_type == "company"
    status = await store.crm_status("hubspot")
    assert status.records == {"company": 2} and status.cursors == {"company": {"since": 9}}


async def test_a_record_of_unknown_kind_refuses_the_batch_by_name_and_writes_nothing(store: Store) -> None:
    # A bridge caller may send any kind; every backend names the record (SQLite used to answer
    # with its own integrity error, MongoDB with a BadInput).
    bad = CrmCustomer("hubspot", "company", "3", customer("hubspot:company:3", "X", kind="robot"))
    with pytest.raises(BadInput, match="kind other than person or company") as refused:
        await apply_crm_batch(store, CrmBatch("hubspot", "company", (_rec("1", "Acme"), bad),
                                             cursor={"since": 1}), T0)
    assert refused.value.details == {"crm_ids": ["3"]}
    assert await store.get_crm_cursor("hubspot", "company") is None
    assert await store.get_customers(["hubspot:company:1"]) == {}


async def test_learned_identities_survive_a_resync_and_are_flagged(store: Store) -> None:
    await apply_crm_batch(store, CrmBatch("hubspot", "company", (
        _rec("1", "Acme", identities=(Identity("x", "acme"),), aliases=("ACME Inc",)),)), T0)
    # crmsphere learns a handle and an alias (a manager confirmed a link).
    await store.save_mentions("x", [Mention(post("p1", "hi", handle="acme_help"), Analysis(
        links=(CustomerLink("hubspot:company:1", 0.4, "name", "e", status="pending"),)))], None)
    review = (await store.list_link_reviews()).items[0]
    await confirm_link(store, review.link.id, Identity("x", "acme_help"), alias="Acme Help")
    await apply_crm_batch(store, CrmBatch("hubspot", "company", (
        _rec("1", "Acme", identities=(Identity("reddit", "acme_r"),)),)), T0)
    acme = await store.get_customer("hubspot:company:1")
    assert set(acme.identities) == {Identity("x", "acme_help"), Identity("reddit", "acme_r")}
    assert acme.aliases == ("Acme Help",)
    learned = await learned_identities(store, "hubspot")
    assert [(item.link.crm_id, item.identities, item.aliases) for item in learned] == [
        ("1", (Identity("x", "acme_help"),), ("Acme Help",))]
    await store.mark_learned_written("hubspot", "company", "1", "x:acme_help")
    assert (await learned_identities(store, "hubspot"))[0].written == "x:acme_help"
    # Deleted in the CRM (the customer stays: a mention is linked to it), the record feeds
    # nobody and nothing is written back to it; the store still reads it.
    await apply_crm_batch(store, CrmBatch("hubspot", "company", deleted=("1",)), T0)
    assert "hubspot:company:1" in await store.get_customers(["hubspot:company:1"])
    assert await learned_identities(store, "hubspot") == []
    assert [(row.link.crm_id, row.link.deleted) for row, _ in await store.crm_records("hubspot")] == [("1", True)]


async def test_merge_moves_everything_linked_to_the_survivor(store: Store) -> None:
    await apply_crm_batch(store, CrmBatch("hubspot", "company", (
        _rec("1", "Acme", emails=("a@acme.example",), identities=(Identity("x", "acme"),)),
        _rec("2", "Acme Europe", domains=("acme.eu",), identities=(Identity("x", "acme_eu"),)),
    )), T0)
    await store.save_mentions("x", [
        Mention(post("p1", "a", handle="h1"), Analysis(links=(
            CustomerLink("hubspot:company:2", 0.9, "handle", "e"),))),
        Mention(post("p2", "b", handle="h2"), Analysis(links=(
            CustomerLink("hubspot:company:2", 0.9, "handle", "e"),
            CustomerLink("hubspot:company:1", 0.9, "handle", "e")))),
    ], None)
    done = await apply_crm_batch(store, CrmBatch(
        "hubspot", "company", (_rec("1", "Acme", emails=("a@acme.example",),
                                    identities=(Identity("x", "acme"),)),),
        merges=(CrmMerge("company", "2", "1"),), cursor={"since": 3}), T0)
    assert done.merged == 1
    assert await store.get_customers(["hubspot:company:2"]) == {}
    acme = await store.get_customer("hubspot:company:1")
    assert set(acme.identities) == {Identity("x", "acme"), Identity("x", "acme_eu")}
    assert acme.domains == ("acme.eu",) and "Acme Europe" in acme.aliases
    from domain import MentionQuery
    linked = (await store.list_mentions(MentionQuery(customer_id="hubspot:company:1"))).items
    assert sorted(m.post.external_id for m in linked) == ["p1", "p2"]
    assert all(len(m.analysis.links) == 1 for m in linked)
    gone = await store.get_crm_link("hubspot", "company", "2")
    assert gone is not None and gone.merged_into == "1"
    # Both records now point at the survivor; the merged one feeds nobody.
    assert [(k.crm_id, k.merged_into) for k in await store.crm_links_of_customer("hubspot:company:1")] \
        == [("1", None), ("2", "1")]
    assert (await feeding_link(store, "hubspot:company:1")).crm_id == "1"
    # A replayed merge changes nothing.
    again = await apply_crm_batch(store, CrmBatch("hubspot", "company",
                                                 merges=(CrmMerge("company", "2", "1"),)), T0)
    assert again.merged == 0
    # The merged-away handle is learned on the survivor and survives its next sync.
    await apply_crm_batch(store, CrmBatch("hubspot", "company", (
        _rec("1", "Acme", identities=(Identity("x", "acme"),)),)), T0)
    assert Identity("x", "acme_eu") in (await store.get_customer("hubspot:company:1")).identities


async def test_deleted_record_is_flagged_and_unreferenced_customer_removed(store: Store) -> None:
    await apply_crm_batch(store, CrmBatch("hubspot", "company", (
        _rec("1", "Acme"), _rec("2", "Globex"))), T0)
    await store.save_mentions("x", [Mention(post("p1", "a"), Analysis(links=(
        CustomerLink("hubspot:company:2", 0.9, "handle", "e"),)))], None)
    done = await apply_crm_batch(store, CrmBatch("hubspot", "company", deleted=("1", "2", "9")), T0)
    assert done.deleted == 2
    assert await store.get_customers(["hubspot:company:1"]) == {}
    # Globex has a linked mention: the customer stays, the record is flagged.
    assert "hubspot:company:2" in await store.get_customers(["hubspot:company:2"])
    assert (await store.get_crm_link("hubspot", "company", "2")).deleted
    # The record is still read (deleted), but a deleted record feeds nobody.
    assert [k.deleted for k in await store.crm_links_of_customer("hubspot:company:2")] == [True]
    assert await feeding_link(store, "hubspot:company:2") is None
    status = await store.crm_status("hubspot")
    assert status.deleted == {"company": 2} and status.records == {"company": 0}


async def test_outbound_keys_keep_the_first_crm_id(store: Store) -> None:
    assert await store.get_outbound("hubspot", "k1") is None
    assert await store.save_outbound("hubspot", "k1", "n1", T0) == "n1"
    assert await store.save_outbound("hubspot", "k1", "n2", T0) == "n1"
    assert await store.get_outbound("hubspot", "k1") == "n1"
    assert await store.get_outbound("salesforce", "k1") is None
    assert (await store.crm_status("hubspot")).outbound == 1


async def test_deliveries_are_enqueued_once_per_key_on_crm_channels(store: Store) -> None:
    from domain.routing import Delivery

    def note(key: str) -> Delivery:
        return Delivery(routed_id=None, team_key="@crm", channel="crm:hubspot",
                        target={"crm_id": "1"}, payload={"subject": "s"}, idempotency_key=key,
                        next_attempt_at=T0)

    first = await store.enqueue_deliveries_once([note("a"), note("b")], T0)
    again = await store.enqueue_deliveries_once([note("a"), note("c")], T0)
    assert len(first) == 2 and len(again) == 1
    pending = (await store.list_deliveries("pending")).items
    assert sorted(d.idempotency_key for d in pending) == ["a", "b", "c"]
    assert {d.channel for d in pending} == {"crm:hubspot"}


async def test_merge_keeps_one_vote_per_idea_and_the_counts_follow(store: Store) -> None:
    from domain import utcnow
    from domain.forum import NewIdea, Vote
    from tests.forum_rules import add_vote

    await apply_crm_batch(store, CrmBatch("hubspot", "company", (_rec("1", "Acme"), _rec("2", "Acme EU"))), T0)
    author = await store.create_account("pm@acmeanvils.example", "PM", "hash")
    both = await create_idea(store, NewIdea("Dark mode", "body", author.id, "open"), utcnow())
    only_loser = await create_idea(store, NewIdea("SSO", "body", author.id, "open"), utcnow())
    for idea, customer_id in ((both, "hubspot:company:1"), (both, "hubspot:company:2"),
                              (only_loser, "hubspot:company:2")):
        assert await add_vote(store, Vote(idea.id, customer_id, None, utcnow()))
    done = await apply_crm_batch(store, CrmBatch("hubspot", "company",
                                                 merges=(CrmMerge("company", "2", "1"),)), T0)
    assert done.merged == 1
    for idea in (both, only_loser):
        assert [v.customer_id for v in await store.list_votes(idea.id)] == ["hubspot:company:1"]
        assert (await store.get_idea(idea.id)).vote_count == 1


def _contact(crm_id: str, customer_id: str, name: str) -> CrmCustomer:
    return CrmCustomer("hubspot", "contact", crm_id, customer(customer_id, name))


async def test_a_customer_fed_by_two_records_outlives_the_deletion_of_one(store: Store) -> None:
    """``crm.records``: a deleted record's customer goes only when no other live record feeds
    it (and nothing refers to it)."""
    await apply_crm_batch(store, CrmBatch("hubspot", "company", (
        CrmCustomer("hubspot", "company", "1", customer("cus_acme", "Acme")),)), T0)
    await apply_crm_batch(store, CrmBatch("hubspot", "contact", (_contact("5", "cus_acme", "Acme"),)), T0)
    await apply_crm_batch(store, CrmBatch("hubspot", "company", deleted=("1",)), T0)
    assert "cus_acme" in await store.get_customers(["cus_acme"])
    assert (await feeding_link(store, "cus_acme")).crm_id == "5"
    await apply_crm_batch(store, CrmBatch("hubspot", "contact", deleted=("5",)), T0)
    assert await store.get_customers(["cus_acme"]) == {}


async def test_a_merge_moves_the_losers_live_records_only(store: Store) -> None:
    await apply_crm_batch(store, CrmBatch("hubspot", "company", (
        CrmCustomer("hubspot", "company", "1", customer("cus_acme", "Acme")),
        CrmCustomer("hubspot", "company", "2", customer("cus_globex", "Globex")))), T0)
    await apply_crm_batch(store, CrmBatch("hubspot", "contact", (
        _contact("7", "cus_globex", "Globex"), _contact("8", "cus_globex", "Globex"))), T0)
    await apply_crm_batch(store, CrmBatch("hubspot", "contact", deleted=("7",)), T0)
    await apply_crm_batch(store, CrmBatch("hubspot", "company", merges=(CrmMerge("company", "2", "1"),)), T0)
    moved = {(k.object_type, k.crm_id): k.merged_into for k in await store.crm_links_of_customer("cus_acme")}
    assert moved == {("company", "1"): None, ("company", "2"): "1", ("contact", "8"): None}
    # The deleted contact feeds nobody: it is left where it was.
    assert (await store.get_crm_link("hubspot", "contact", "7")).customer_id == "cus_globex"
    assert await store.get_customers(["cus_globex"]) == {}
