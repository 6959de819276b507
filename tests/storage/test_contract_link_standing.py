"""Store contract: which customer links survive a re-link or an attach, and what deciding a
link writes, are the linking rules' (``LinkStanding``), never the store's own.  Each test
hands the store a rule other than the one crm/ uses and checks the store obeys it."""

from __future__ import annotations

from crm.link_decisions import MANAGER_DECISION_STANDS
from domain import (
    LINK_ACCEPTED,
    LINK_CONFIRMED,
    LINK_PENDING,
    CustomerLink,
    Identity,
    LinkStanding,
    utcnow,
)
from storage import Store
from tests.storage.test_contract_nlp import seed

#: a rule unlike crm's: sure (accepted) links stand too, and a decision is worth 0.9
SURE_LINKS_STAND = LinkStanding(decided=LINK_CONFIRMED, confidence=0.9, waiting=LINK_PENDING,
                                standing=frozenset({LINK_CONFIRMED, LINK_ACCEPTED}))


def _links(mention) -> list[tuple[str, str, float]]:
    return sorted((k.customer_id, k.status, k.confidence) for k in mention.analysis.links)


async def test_replacing_links_keeps_the_statuses_the_rule_says_stand(store: Store) -> None:
    await seed(store)
    (_, m2) = await store.author_mentions("x", "newbie")
    assert m2.id is not None
    fresh = CustomerLink("cus_jo", 0.75, "person_name", "name 'Jo Rivera'", 0, 9)

    async def relink(uow) -> set[str] | None:
        standing = await uow.author_links.confirmed_customers(m2.id, SURE_LINKS_STAND)
        await uow.author_links.replace_unconfirmed(m2.id, [fresh], SURE_LINKS_STAND)
        return standing

    assert await store.unit_of_work().run(relink) == {"cus_target"}  # the accepted one
    (_, m2) = await store.author_mentions("x", "newbie")
    # The accepted @target link stood; the pending Acme one was replaced by Jo's.
    assert _links(m2) == [("cus_jo", LINK_ACCEPTED, 0.75), ("cus_target", LINK_ACCEPTED, 0.9)]

    async def relink_as_crm(uow) -> None:
        assert await uow.author_links.confirmed_customers(m2.id, MANAGER_DECISION_STANDS) == set()
        await uow.author_links.replace_unconfirmed(m2.id, [], MANAGER_DECISION_STANDS)

    await store.unit_of_work().run(relink_as_crm)
    (_, m2) = await store.author_mentions("x", "newbie")
    assert m2.analysis.links == ()


async def test_deciding_a_link_writes_what_the_rule_says(store: Store) -> None:
    ids = await seed(store)
    at = utcnow()

    async def decide(uow) -> None:
        await uow.author_links.confirm_pending(ids["1:cus_acme"], Identity("x", "newbie"), "cus_acme",
                                               at, SURE_LINKS_STAND)

    await store.unit_of_work().run(decide)
    (m1, m2) = await store.author_mentions("x", "newbie")
    # The author's other pending Acme link was decided with it, at the rule's confidence.
    assert _links(m1) == [("cus_acme", LINK_CONFIRMED, 0.9)]
    assert _links(m2) == [("cus_acme", LINK_CONFIRMED, 0.9), ("cus_target", LINK_ACCEPTED, 0.9)]
    (other,) = await store.author_mentions("x", "someone")
    assert _links(other) == [("cus_acme", LINK_PENDING, 0.35)]  # another author's: untouched


async def test_attaching_an_author_keeps_the_links_the_rule_says_stand(store: Store) -> None:
    await seed(store)
    by_person = CustomerLink("cus_target", 0.9, "person", "author @newbie is person #1", status=LINK_CONFIRMED)

    async def attach(uow, standing: LinkStanding) -> int:
        return await uow.author_links.confirm(Identity("x", "newbie"), by_person, utcnow(), standing)

    # m2 already has an accepted @target link, which stands under this rule: only m1 gets one.
    assert await store.unit_of_work().run(lambda uow: attach(uow, SURE_LINKS_STAND)) == 1
    (m1, m2) = await store.author_mentions("x", "newbie")
    assert [k.status for k in m1.analysis.links if k.customer_id == "cus_target"] == [LINK_CONFIRMED]
    assert [k.status for k in m2.analysis.links if k.customer_id == "cus_target"] == [LINK_ACCEPTED]
    # Under crm's rule the accepted link does not stand: it gives way to the confirmed one.
    assert await store.unit_of_work().run(lambda uow: attach(uow, MANAGER_DECISION_STANDS)) == 1
    (_, m2) = await store.author_mentions("x", "newbie")
    assert [k.status for k in m2.analysis.links if k.customer_id == "cus_target"] == [LINK_CONFIRMED]
