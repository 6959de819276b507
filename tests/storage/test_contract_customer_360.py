"""Contract of the customer 360's forum and routing reads: a customer's ideas, votes and routings."""

from __future__ import annotations

from community.ideas import ON_CUSTOMER_360
from tests.forum_rules import add_vote, create_idea, merge_ideas, moderate_idea
from datetime import timedelta

from domain.routing import RoutableItem, RoutedItem
from domain.forum import IdeaShown, NewIdea, Vote
from storage import Store
from tests.conftest import T0, acme_customers


def _routed(kind: str, item_id: str, rule: str, minutes: int, team: str = "billing") -> RoutedItem:
    item = RoutableItem(kind=kind, id=item_id, text="invoices broken", customer_id="cus_jo")
    return RoutedItem(item=item, rule_id=rule, team_key=team, event="mention.analysed",
                      routed_at=T0 + timedelta(minutes=minutes))


async def test_a_customers_ideas_votes_and_routings(store: Store) -> None:
    await store.upsert_customers(acme_customers())
    jo = await store.create_account("jo@acmeanvils.example", "Jo", None, "customer")
    await store.update_account(jo.id, customer_id="cus_jo")
    sam = await store.create_account("sam@elsewhere.example", "Sam", None, "customer")
    ideas = [await create_idea(store, NewIdea(f"idea {i}", "body", author, "open"), T0 + timedelta(hours=i))
             for i, author in enumerate([jo.id, sam.id, jo.id, jo.id])]
    await merge_ideas(store, ideas[3].id, ideas[1].id, None, T0 + timedelta(hours=9))

    found, total = await store.customer_ideas("cus_jo", shown=ON_CUSTOMER_360)
    # Newest first; the merged-away idea is not counted.
    assert [i.title for i in found] == ["idea 2", "idea 0"] and total == 2
    assert (await store.customer_ideas("cus_jo", limit=1, shown=ON_CUSTOMER_360))[0][0].title == "idea 2"
    assert await store.customer_ideas("cus_nobody", shown=ON_CUSTOMER_360) == ([], 0)

    for n, idea in enumerate(ideas[:3]):
        await add_vote(store, Vote(idea.id, "cus_jo", jo.id, T0 + timedelta(hours=n)))
    await add_vote(store, Vote(ideas[0].id, "cus_acme", sam.id, T0))
    votes, total = await store.customer_votes("cus_jo", shown=ON_CUSTOMER_360)
    assert [v.idea_id for v in votes] == [ideas[2].id, ideas[1].id, ideas[0].id] and total == 3
    assert all(v.customer_id == "cus_jo" for v in votes)
    assert (await store.customer_votes("cus_jo", limit=2, shown=ON_CUSTOMER_360))[1] == 3

    await store.route_item(_routed("mention", "7", "r1", 1), [])
    await store.route_item(_routed("mention", "7", "r2", 3, team="support"), [])
    await store.route_item(_routed("idea", str(ideas[0].id), "r1", 2), [])
    await store.route_item(_routed("mention", "8", "r1", 4), [])  # not asked for
    routed = await store.routed_for_items([("mention", "7"), ("idea", str(ideas[0].id)), ("idea", "7")])
    assert [(r.item.kind, r.item.id, r.team_key) for r in routed] == [
        ("mention", "7", "support"), ("idea", str(ideas[0].id), "billing"), ("mention", "7", "billing")]
    assert await store.routed_for_items([]) == []
    assert len(await store.routed_for_items([("mention", "7")], limit=1)) == 1


async def test_the_customer_360_shows_hidden_and_waiting_ideas_but_not_merged_ones(store: Store) -> None:
    """``community.ideas.ON_CUSTOMER_360``: staff see what the customer wrote, moderated or
    not; an idea merged away lives on in its target.  The reads keep what they are told."""
    await store.upsert_customers(acme_customers())
    jo = await store.create_account("jo@acmeanvils.example", "Jo", None, "customer")
    await store.update_account(jo.id, customer_id="cus_jo")
    kept = await create_idea(store, NewIdea("Dark mode", "", jo.id, "open"), T0)
    waiting = await create_idea(store, NewIdea("SSO via Okta", "", jo.id, "open", approval="pending"), T0)
    hidden = await create_idea(store, NewIdea("BUY FOLLOWERS", "", jo.id, "open"), T0)
    await moderate_idea(store, hidden.id, T0, hidden=True, spam=True)
    merged = await create_idea(store, NewIdea("dark theme pls", "", jo.id, "open"), T0)
    await merge_ideas(store, merged.id, kept.id, None, T0)
    found, total = await store.customer_ideas("cus_jo", shown=ON_CUSTOMER_360)
    assert sorted(i.id for i in found) == sorted([kept.id, waiting.id, hidden.id]) and total == 3
    every = IdeaShown(merged=True, hidden=True, unapproved=True)
    assert (await store.customer_ideas("cus_jo", shown=every))[1] == 4
    public = IdeaShown(merged=False, hidden=False, unapproved=False)
    assert [i.id for i in (await store.customer_ideas("cus_jo", shown=public))[0]] == [kept.id]
    await add_vote(store, Vote(hidden.id, "cus_jo", jo.id, T0))
    assert (await store.customer_votes("cus_jo", shown=ON_CUSTOMER_360))[1] == 1
    assert (await store.customer_votes("cus_jo", shown=public))[1] == 0
