"""Outbound: linked mentions, ideas and routings become outbox deliveries, and the delivery
worker writes each as ONE note on the fake HubSpot — also after a lost answer or a crash
between sending and acknowledging."""

from __future__ import annotations

from tests.forum_rules import add_vote, create_idea, set_status
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from community.deliveries import DeliveryWorker
from config.settings import load_settings
from crm.outbound import CrmOutbound
from crm.outbound_consumer import KINDS, crm_consumer
from crm.sync import CrmSync
from domain import Analysis, CustomerLink, Mention
from domain.events import MENTION_STORED, NewEvent
from storage import Store, open_store
from tests.conftest import T0, customer, post
from tests.crm.fake_hubspot import FakeHubSpot

BASE = int(T0.timestamp() * 1000)


class Rig:
    """A store synced from the fake HubSpot, the outbound side and a delivery worker."""

    def __init__(self, store: Store, hub: FakeHubSpot, http: aiohttp.ClientSession) -> None:
        self.settings = load_settings(environ={}, overrides={
            "crm.hubspot.enabled": True, "crm.hubspot.base_url": hub.url,  # type: ignore[attr-defined]
            "routing.max_attempts": 3, "routing.backoff_base": 5.0})
        self.store, self.hub, self.now = store, hub, [T0]
        self.sync = CrmSync(store, self.settings.crm, environ={"HUBSPOT_ACCESS_TOKEN": "token-1"},
                            clock=self.clock)
        self.outbound = CrmOutbound(store, self.settings.crm, "http://crm.example",
                                    self.sync.connectors, clock=self.clock)
        #: reads the recorded events, as the leader's ``crm-events`` job does
        self.consumer = crm_consumer(store, self.outbound)
        self.worker = DeliveryWorker(store, http, self.settings.routing, environ={},
                                     clock=self.clock, rand=lambda: 0.0, crm=self.outbound)

    def clock(self):
        return self.now[0]

    def later(self, seconds: float) -> None:
        self.now[0] += timedelta(seconds=seconds)

    async def mention(self, external_id: str, confidence: float = 0.95, status: str = "accepted",
                      customer_id: str = "hubspot:company:1") -> Mention:
        m = Mention(post(external_id, "Acme anvils keep breaking", handle="jo", url="https://x.example/1"),
                    Analysis(links=(CustomerLink(customer_id, confidence, "author_handle", "@jo",
                                                 status=status),),
                             sentiment_label="negative", intent="complaint"))
        await self.store.save_mentions("x", [m], None)
        await self.consumer.run_once()
        return m

    async def replay_every_event(self) -> None:
        """Hand every recorded event to the consumer again (a crash before its cursor moved)."""
        await self.consumer.handle(await self.store.read_events(0, KINDS, 1000))


@pytest.fixture
async def rig(hub: FakeHubSpot, tmp_path: Path) -> Any:
    store = await open_store(f"sqlite:///{tmp_path / 'out.db'}")
    hub.add("companies", "1", BASE, name="Acme")
    hub.add("contacts", "51", BASE, firstname="Jo", lastname="Rivera", associatedcompanyid="1")
    async with aiohttp.ClientSession() as http:
        r = Rig(store, hub, http)
        await r.sync.start()
        await r.sync.sync("hubspot")
        yield r
    await store.close()


async def test_linked_mentions_become_one_delivery_each(rig: Rig) -> None:
    await rig.mention("m1")
    await rig.mention("m2", confidence=0.5)          # below crm.min_confidence
    await rig.mention("m3", status="pending")        # waits for a manager
    await rig.mention("m4", customer_id="hubspot:contact:51")
    pending = (await rig.store.list_deliveries("pending")).items
    assert sorted((d.channel, d.target["crm_id"], d.target["company_crm_id"],
                   d.target["contact_crm_id"]) for d in pending) == [
        ("crm:hubspot", "1", "1", None), ("crm:hubspot", "51", "1", "51")]
    assert all(d.payload["url"].startswith("http://crm.example/api/mentions/") for d in pending)
    # The same events handed again: nothing new in the outbox.
    await rig.replay_every_event()
    assert len((await rig.store.list_deliveries("pending")).items) == 2


async def test_worker_writes_the_note_on_company_and_contact(rig: Rig) -> None:
    await rig.mention("m1", customer_id="hubspot:contact:51")
    assert await rig.worker.run_once() == 1
    [note] = rig.hub.notes_on("contact", "51")
    assert rig.hub.notes_on("company", "1") == [note]
    body = note["properties"]["hs_note_body"]
    assert "Acme anvils keep breaking" in body and "http://crm.example/api/mentions/1" in body
    assert (await rig.store.list_deliveries("sent")).items[0].channel == "crm:hubspot"


async def test_lost_answer_then_retry_yields_one_note(rig: Rig) -> None:
    await rig.mention("m1")
    rig.hub.lose_next_note_answer = True
    await rig.worker.run_once()
    [delivery] = (await rig.store.list_deliveries("pending")).items
    assert "504" in delivery.last_error
    rig.later(60)
    await rig.worker.run_once()
    assert len(rig.hub.notes_on("company", "1")) == 1
    assert (await rig.store.list_deliveries("sent")).items[0].attempts == 2


async def test_crash_between_send_and_acknowledge_yields_one_note(rig: Rig) -> None:
    await rig.mention("m1")
    claimed = await rig.store.claim_deliveries("dead-worker", rig.now[0],
                                               rig.now[0] + timedelta(seconds=30), 10)
    await rig.outbound.deliver(claimed[0])  # the note is written... then the worker dies
    assert len(rig.hub.notes_on("company", "1")) == 1
    rig.later(31)  # the claim expires; a live worker sends it again with the same key
    creates_before = [r for r in rig.hub.requests if r == ("POST", "/crm/v3/objects/notes")]
    assert await rig.worker.run_once() == 1
    assert len(rig.hub.notes_on("company", "1")) == 1
    creates_after = [r for r in rig.hub.requests if r == ("POST", "/crm/v3/objects/notes")]
    assert creates_after == creates_before
    assert (await rig.store.list_deliveries("sent")).items[0].idempotency_key == claimed[0].idempotency_key


async def test_rate_limit_waits_for_retry_after(rig: Rig) -> None:
    await rig.mention("m1")
    rig.hub.failures.append((429, {"Retry-After": "90"}, "RATE_LIMITS"))
    await rig.worker.run_once()
    [delivery] = (await rig.store.list_deliveries("pending")).items
    assert delivery.next_attempt_at >= rig.now[0] + timedelta(seconds=90)
    assert "429" in delivery.last_error


async def test_refused_entry_is_dead_lettered_at_once(rig: Rig) -> None:
    rig.hub.failures.append((400, {}, "VALIDATION_ERROR"))
    await rig.mention("m1")
    await rig.worker.run_once()
    [dead] = (await rig.store.list_deliveries("dead")).items
    assert "refused the entry" in dead.last_error and dead.attempts == 1


async def test_refused_credentials_retry_then_dead_letter(rig: Rig) -> None:
    await rig.mention("m1")
    rig.hub.tokens = {"another"}
    for _ in range(3):
        await rig.worker.run_once()
        rig.later(3600)
    [dead] = (await rig.store.list_deliveries("dead")).items
    assert "credentials" in dead.last_error and dead.attempts == 3


async def test_a_manager_confirming_a_link_sends_its_entry(aiohttp_client, hub: FakeHubSpot,
                                                           tmp_path: Path, monkeypatch) -> None:
    from api.keys import RUNTIME
    from tests.helpers import start_app

    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "token-1")
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    hub.add("companies", "1", BASE, name="Acme")
    client = await start_app(aiohttp_client, tmp_path, None, {
        "routing.worker_enabled": False, "crm.hubspot.enabled": True,
        "crm.hubspot.base_url": hub.url})  # type: ignore[attr-defined]
    rt = client.app[RUNTIME]
    await rt.crm.sync("hubspot")
    await rt.store.save_mentions("x", [Mention(post("p1", "acme is slow", handle="someone"), Analysis(
        links=(CustomerLink("hubspot:company:1", 0.4, "name", "acme", status="pending"),)))], None)
    assert (await rt.store.list_deliveries("pending")).items == ()
    review = (await rt.store.list_link_reviews()).items[0]
    resp = await client.post(f"/api/links/{review.link.id}/confirm", json={"teach": "none"})
    assert resp.status == 200
    [delivery] = (await rt.store.list_deliveries("pending")).items
    assert delivery.channel == "crm:hubspot" and delivery.target["crm_id"] == "1"
    # The connector is controlled like a source.
    paused = await client.post("/api/sources/crm:hubspot/pause")
    assert paused.status == 200 and (await paused.json())["paused"] is True
    assert (await client.post("/api/sources/crm:dynamics/run")).status == 404


async def test_ideas_votes_and_routings_become_entries(rig: Rig) -> None:
    from community.idea_events import IdeaEvents
    from community.routing import Router
    from domain.routing import RoutableItem
    from domain.forum import NewIdea

    account = await rig.store.create_account("jo@acme.example", "Jo", None)
    await rig.store.update_account(account.id, customer_id="hubspot:contact:51")
    events = IdeaEvents(rig.store, rig.settings.notify, "http://crm.example", crm=rig.outbound,
                        consumers=(rig.consumer,))
    idea = await create_idea(rig.store, NewIdea("Dark mode", "Please", account.id, "open"), T0)
    await events.idea_created(idea)  # wakes the consumer, which reads idea.created
    await events.voted(idea.id, "hubspot:company:1")
    settings = load_settings(environ={}, overrides={
        "routing.teams": [{"key": "product", "name": "Product", "mail_to": ["p@example.com"]}],
        "routing.rules": [{"id": "all-mentions", "kinds": ["mention"], "team": "product"}]})
    router = Router(rig.store, settings.routing, clock=rig.clock)
    await router.start()
    await router.on_event("mention.analysed", RoutableItem(
        kind="mention", id="5", text="anvils broke", customer_id="hubspot:company:1"))
    assert await rig.consumer.run_once() == 1  # the routing's item.routed
    crm = [d for d in (await rig.store.list_deliveries("pending")).items if d.channel == "crm:hubspot"]
    assert sorted((d.payload["type"], d.target["crm_id"]) for d in crm) == [
        ("customer.idea.created", "51"), ("customer.voted", "1"), ("item.routed", "1")]
    routed = next(d for d in crm if d.payload["type"] == "item.routed")
    assert "routed to team product" in routed.payload["subject"]
    assert routed.payload["url"].startswith("http://crm.example/api/routed/")


async def test_each_voter_of_an_idea_that_closes_is_an_entry_for_their_account_owner(rig: Rig) -> None:
    """Done (or declined) is news for every customer who asked: each voter's CRM record gets
    one entry, whichever way the change is replayed; an open status tells nobody."""
    from community.idea_events import IdeaEvents
    from domain.forum import NewIdea, StatusChange, Vote

    account = await rig.store.create_account("jo@acme.example", "Jo", None)
    events = IdeaEvents(rig.store, rig.settings.notify, "http://crm.example", crm=rig.outbound,
                        consumers=(rig.consumer,))
    idea = await create_idea(rig.store, NewIdea("Dark mode", "Please", account.id, "open"), T0)
    await rig.store.upsert_customers([customer("forum-only", "Sam Forum")])  # in no CRM
    for customer_id in ("hubspot:company:1", "hubspot:contact:51", "forum-only"):
        assert await add_vote(rig.store, Vote(idea.id, customer_id, None, T0))

    async def move(to_status: str, from_status: str) -> None:
        change = StatusChange(idea.id, from_status, to_status, "Shipped in 4.2", account.id, T0)
        await events.status_changed(await set_status(rig.store, change), change, ())

    await move("planned", "open")
    await move("done", "planned")
    await rig.replay_every_event()  # replayed: nothing new
    crm = [d for d in (await rig.store.list_deliveries("pending")).items
           if d.channel == "crm:hubspot" and d.payload["type"] == "customer.idea.closed"]
    assert sorted(d.target["crm_id"] for d in crm) == ["1", "51"]
    assert all("now done: Dark mode" in d.payload["subject"] and "Shipped in 4.2" in d.payload["body"]
               for d in crm)


async def test_a_mention_stored_without_any_hook_reaches_the_crm_with_its_id(rig: Rig) -> None:
    m = Mention(post("m9", "Acme anvils", handle="jo"),
                Analysis(links=(CustomerLink("hubspot:company:1", 0.95, "author_handle", "@jo"),)))
    result = await rig.store.save_mentions("x", [m], None)  # nothing handed to the outbound
    assert await rig.consumer.run_once() == 1
    pending = (await rig.store.list_deliveries("pending")).items
    assert len(pending) == 1
    assert pending[0].payload["url"].endswith(f"/api/mentions/{result.stored[0].id}")


async def test_events_naming_no_item_in_ascii_digits_are_skipped_and_never_block_the_crm(rig: Rig) -> None:
    # Another writer of the outbox: "²" is a digit to str.isdigit() that int() refuses, "٣"
    # reads as mention 3 to int(), the long ones overflow the store's integers.
    await rig.store.save_mentions("x", [Mention(post(f"old-{n}", "nothing to see"), Analysis()) for n in range(2)],
                                  None)
    await rig.consumer.run_once()
    hostile = [NewEvent(MENTION_STORED, subject) for subject in ("٣", "²", "9" * 5000, "9" * 25)]
    await rig.store.unit_of_work().run(lambda uow: uow.events.record(hostile, T0))
    await rig.mention("m1")  # runs the consumer
    pending = (await rig.store.list_deliveries("pending")).items
    assert len(pending) == 1, pending  # m1, and the cursor past every event
    last = (await rig.store.read_events(0, KINDS, 1000))[-1].id
    assert await rig.store.get_event_cursor("crm") == last
