"""Contract of the NLP store area: the link review queue, decisions, negatives, re-linking."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import (
    Analysis,
    CustomerLink,
    Identity,
    Mention,
    MentionQuery,
    TopicEvidence,
)
from crm.link_decisions import confirm_link, reject_link, replace_links
from domain.errors import BadInput, NotFound
from storage import Store
from tests.conftest import acme_customers, post


def weak(cid: str = "cus_acme", confidence: float = 0.35) -> CustomerLink:
    return CustomerLink(cid, confidence, "alias", f"alias of {cid}", 0, 4, status="pending")


async def seed(store: Store) -> dict[str, int]:
    """Three pending links (two by one author) and one accepted; returns link ids by external id."""
    await store.upsert_customers(acme_customers())
    sure = CustomerLink("cus_target", 0.9, "mentioned_handle", "@target", 5, 12)
    await store.save_mentions("k", [
        Mention(post("1", "acme is fine", handle="Newbie", minutes=1), Analysis(links=(weak(),))),
        Mention(post("2", "acme again", handle="newbie", minutes=2), Analysis(links=(weak(), sure))),
        Mention(post("3", "acme here too", handle="someone", minutes=3), Analysis(links=(weak(),))),
        Mention(post("4", "hi", source="reddit", handle="newbie", minutes=4),
                Analysis(links=(weak("cus_jo", 0.4),))),
    ], None)
    page = await store.list_link_reviews()
    return {r.mention.post.external_id + ":" + r.link.customer_id: r.link.id for r in page.items}


async def test_queue_lists_pending_links_oldest_first_with_paging(store: Store) -> None:
    ids = await seed(store)
    assert list(ids) == ["1:cus_acme", "2:cus_acme", "3:cus_acme", "4:cus_jo"]
    first = await store.list_link_reviews(limit=3)
    assert len(first.items) == 3 and first.next_cursor
    rest = await store.list_link_reviews(limit=3, cursor=first.next_cursor)
    assert [r.mention.post.external_id for r in rest.items] == ["4"] and rest.next_cursor is None
    for review in first.items:
        assert review.link.status == "pending" and review.link.id is not None
    with pytest.raises(BadInput):
        await store.list_link_reviews(cursor="not a cursor")


async def test_get_link_and_missing_links(store: Store) -> None:
    ids = await seed(store)
    review = await store.get_link(ids["2:cus_acme"])
    assert review.mention.post.text == "acme again" and review.link.evidence == "alias of cus_acme"
    with pytest.raises(NotFound):
        await store.get_link(987_654)
    for decide in (confirm_link, reject_link):
        with pytest.raises(NotFound):
            await decide(store, 987_654)


async def test_confirm_confirms_the_authors_other_pending_links_and_teaches(store: Store) -> None:
    ids = await seed(store)
    decided = await confirm_link(store, ids["1:cus_acme"], identity=Identity("x", "@Newbie"),
                                       alias="Acme Co")
    assert decided.link.status == "confirmed" and decided.link.confidence == 1.0
    queue = await store.list_link_reviews()
    # The same author's other link to Acme on x was confirmed too; others stay queued.
    assert sorted(r.mention.post.external_id for r in queue.items) == ["3", "4"]
    customer = await store.get_customer("cus_acme")
    assert Identity("x", "newbie") in customer.identities and "Acme Co" in customer.aliases
    # Teaching the same alias again does not repeat it.
    await confirm_link(store, ids["3:cus_acme"], alias="acme co")
    assert [a.lower() for a in (await store.get_customer("cus_acme")).aliases].count("acme co") == 1


async def test_confirm_finds_the_authors_links_written_with_or_without_the_at(store: Store) -> None:
    # Mastodon and Bluesky hand the author as "@pat", other feeds as "pat": one author either way.
    await store.upsert_customers(acme_customers())
    await store.save_mentions("k", [
        Mention(post("1", "acme is down", source="mastodon", handle="@Pat_W", minutes=1),
                Analysis(links=(weak(),))),
        Mention(post("2", "acme again", source="mastodon", handle="pat_w", minutes=2),
                Analysis(links=(weak(),))),
        Mention(post("3", "acme on x", source="x", handle="pat_w", minutes=3), Analysis(links=(weak(),))),
    ], None)
    by_post = {r.mention.post.external_id: r.link.id for r in (await store.list_link_reviews()).items}
    await confirm_link(store, by_post["1"])
    # The same author on the same platform is confirmed; the x account may be someone else.
    assert [r.mention.post.external_id for r in (await store.list_link_reviews()).items] == ["3"]
    assert (await store.get_link(by_post["2"])).link.status == "confirmed"


async def test_reject_removes_the_link_and_records_the_negative(store: Store) -> None:
    ids = await seed(store)
    before = await reject_link(store, ids["3:cus_acme"], phrase=" Acme ")
    assert before.link.id == ids["3:cus_acme"]
    with pytest.raises(NotFound):
        await store.get_link(ids["3:cus_acme"])
    await reject_link(store, ids["4:cus_jo"])
    negatives = await store.link_negatives()
    assert [(n.customer_id, n.source, n.author_handle, n.phrase) for n in negatives] == [
        ("cus_acme", "x", "someone", "acme"), ("cus_jo", "reddit", "newbie", None)]
    page = await store.list_mentions(MentionQuery(customer_id="cus_acme"))
    assert "3" not in {m.post.external_id for m in page.items}


async def test_author_mentions_compare_handles_case_insensitively(store: Store) -> None:
    await seed(store)
    found = await store.author_mentions("x", "NEWBIE")
    assert [m.post.external_id for m in found] == ["1", "2"]
    assert [m.post.external_id for m in await store.author_mentions("x", "newbie", limit=1)] == ["1"]
    assert await store.author_mentions("mastodon", "newbie") == []


async def test_author_mentions_find_the_handle_written_with_or_without_the_at(store: Store) -> None:
    # Re-linking a person reads their mentions by the kept handle (no @), whatever the feed gave.
    await store.upsert_customers(acme_customers())
    await store.save_mentions("k", [
        Mention(post("1", "hello", source="mastodon", handle="@Pat_W", minutes=1), Analysis()),
        Mention(post("2", "again", source="mastodon", handle="pat_w", minutes=2), Analysis()),
    ], None)
    for asked in ("pat_w", "@PAT_W"):
        assert [m.post.external_id for m in await store.author_mentions("mastodon", asked)] == ["1", "2"]


async def test_replace_links_keeps_confirmed_links(store: Store) -> None:
    ids = await seed(store)
    await confirm_link(store, ids["1:cus_acme"])
    (m1, m2) = await store.author_mentions("x", "newbie")
    assert m1.id is not None and m2.id is not None
    fresh = CustomerLink("cus_jo", 0.75, "person_name", "name 'Jo Rivera'", 0, 9)
    written = await replace_links(store, {m1.id: [weak(), fresh], m2.id: []})
    assert written == 1  # the new Acme link is skipped: Acme is confirmed on m1
    (m1, m2) = await store.author_mentions("x", "newbie")
    assert sorted((k.customer_id, k.status) for k in m1.analysis.links) == [
        ("cus_acme", "confirmed"), ("cus_jo", "accepted")]
    # m2's Acme link was confirmed with m1 (same author), so it stays; the sure one went.
    assert [(k.customer_id, k.status) for k in m2.analysis.links] == [("cus_acme", "confirmed")]


async def test_replace_links_skips_a_mention_gone_since_it_was_analysed(store: Store) -> None:
    await seed(store)
    (m1, _) = await store.author_mentions("x", "newbie")
    assert m1.id is not None
    fresh = CustomerLink("cus_jo", 0.75, "person_name", "name 'Jo Rivera'", 0, 9)
    # Re-analysis takes seconds; a mention id it holds may be gone by the time it writes.
    assert await replace_links(store, {987_654: [weak()], m1.id: [fresh]}) == 1
    (m1, _) = await store.author_mentions("x", "newbie")
    assert [(k.customer_id, k.status) for k in m1.analysis.links] == [("cus_jo", "accepted")]


async def test_count_text_authors_counts_distinct_authors_within_the_window(store: Store) -> None:
    hour = timedelta(hours=1)
    assert await store.count_text_authors([], hour) == []
    assert await store.count_text_authors([("fp1", "x:a"), ("fp1", "x:a"), ("fp2", "x:a")], hour) == [1, 1, 1]
    assert await store.count_text_authors([("fp1", "reddit:a"), ("fp1", "x:b")], hour) == [3, 3]
    # Forgotten once older than the window.
    assert await store.count_text_authors([("fp1", "x:c")], timedelta(0)) == [1]


async def test_topic_evidence_is_stored_with_the_mention(store: Store) -> None:
    evidence = (TopicEvidence("billing", "phrase", "Charged twice", 4, 17), TopicEvidence("login", "model"))
    await store.save_mentions("k", [
        Mention(post("1", "was Charged twice, cannot log in"),
                Analysis(topics=("billing", "login"), topic_evidence=evidence)),
        Mention(post("2", "nothing here", minutes=1)),
    ], None)
    page = await store.list_mentions(MentionQuery())
    by_ext = {m.post.external_id: m for m in page.items}
    assert by_ext["1"].analysis.topic_evidence == evidence
    assert by_ext["2"].analysis.topic_evidence == ()
    assert (await store.get_mention(by_ext["1"].id)).analysis.topic_evidence == evidence


async def test_a_topic_label_replaces_the_mentions_topics_and_trains(store: Store) -> None:
    evidence = (TopicEvidence("billing", "phrase", "invoice", 0, 7),)
    await store.save_mentions("k", [
        Mention(post("1", "invoice late and parcel lost"), Analysis(topics=("billing",), topic_evidence=evidence)),
        Mention(post("2", "love it", minutes=1), Analysis(topics=("praise",))),
    ], None)
    ids = {m.post.external_id: m.id for m in (await store.list_mentions(MentionQuery())).items}
    assert await store.get_topic_label(ids["1"]) is None
    label = await store.set_topic_label(ids["1"], ["shipping", "billing", "shipping"], "maria")
    assert label.topics == ("shipping", "billing") and label.labelled_by == "maria"
    assert label.mention_id == ids["1"] and label.labelled_at.tzinfo is not None
    mention = await store.get_mention(ids["1"])
    assert mention.analysis.topics == ("shipping", "billing")
    # A kept topic keeps its evidence; an added one says a manager set it.
    assert mention.analysis.topic_evidence == (TopicEvidence("shipping", "manager"), evidence[0])
    assert [m.id for m in (await store.list_mentions(MentionQuery(topic="shipping"))).items] == [ids["1"]]
    # A second label replaces the first, also as the topics the feed filters on.
    await store.set_topic_label(ids["2"], [], "operator")
    again = await store.set_topic_label(ids["1"], ["shipping"], "lee")
    assert again.topics == ("shipping",) and (await store.get_topic_label(ids["1"])) == again
    assert (await store.list_mentions(MentionQuery(topic="billing"))).items == ()
    assert (await store.list_mentions(MentionQuery(topic="praise"))).items == ()
    # Oldest label first: mention 1 was labelled again after mention 2.
    assert await store.topic_label_examples() == [
        ("love it", ()), ("invoice late and parcel lost", ("shipping",))]
    assert len(await store.topic_label_examples(limit=1)) == 1
    with pytest.raises(NotFound):
        await store.set_topic_label(987_654, ["billing"], "maria")
