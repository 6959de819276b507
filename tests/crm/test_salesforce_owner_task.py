"""Salesforce: an idea ships and the voter's Account owner gets ONE open Task (Not Started,
Normal, due N days ahead, assigned to the Account's OwnerId), through the real connector
against the fake org; and end to end through the outbox and the delivery worker."""

from __future__ import annotations

from tests.forum_rules import add_vote, create_idea, set_status
import logging
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import aiohttp
import pytest

from community.deliveries import DeliveryWorker
from community.idea_events import IdeaEvents
from crm.outbound_consumer import KINDS, crm_consumer
from config.settings import load_settings
from crm.base import OwnerTask
from crm.outbound import CrmOutbound
from crm.sync import CrmSync
from domain.forum import NewIdea, StatusChange, Vote
from domain.errors import BadItem, SourceUnavailable
from storage import open_store
from tests.crm.fake_salesforce import API_USER, FakeSalesforce
from tests.crm.salesforce_support import ACME, COGS, GEAR, WILE, entry

OWNER1, OWNER2 = "005Hs00000Ownr1AAA", "005Hs00000Ownr2AAA"
DUE = datetime(2026, 11, 5, 8, 30, tzinfo=UTC)


def task(key: str = "crm:salesforce:customer.idea.closed:idea:7:done:salesforce:contact:wile",
         **kw: Any) -> OwnerTask:
    return OwnerTask(entry(key, **kw), DUE)


def owner_reads(fake: FakeSalesforce, sobject: str = "Account") -> int:
    return sum(1 for method, path, _ in fake.requests
               if method == "GET" and f"SELECT Id, OwnerId FROM {sobject} " in unquote_plus(path))


async def test_an_open_task_for_the_accounts_owner(fake: FakeSalesforce, make: Any) -> None:
    connector = make()
    written = await connector.write_owner_task(task())

    [created] = fake.live("Task")
    assert written.crm_id == created["Id"] and written.owner_id == OWNER1 and not written.existed
    assert created["Status"] == "Not Started" and created["Priority"] == "Normal"
    assert created["ActivityDate"] == "2026-11-05" and created["OwnerId"] == OWNER1
    assert created["WhatId"] == ACME and created["WhoId"] == WILE
    assert created["Subject"] == "@acme_anvils on X: anvils keep falling"
    assert created["Description"].endswith("\n\nhttps://crmsphere.example/mentions/42")
    # A second voter of the same Account: its owner is not asked again until the next sync.
    await connector.write_owner_task(task("crm:salesforce:customer.idea.closed:idea:7:done:acme",
                                          contact_crm_id=None))
    assert owner_reads(fake) == 1
    fake.add("Account", {"Id": ACME, "OwnerId": OWNER2})  # the Account changes hands
    connector.forget_owners()
    third = await connector.write_owner_task(task("crm:salesforce:customer.idea.closed:idea:8:done:acme"))
    assert third.owner_id == OWNER2 and owner_reads(fake) == 2


async def test_a_contact_without_account_is_its_own_owners_task(fake: FakeSalesforce, make: Any) -> None:
    written = await make().write_owner_task(task(company_crm_id=None, contact_crm_id=GEAR))
    [created] = fake.live("Task")
    assert written.owner_id == OWNER2 and created["WhoId"] == GEAR and "WhatId" not in created


async def test_replays_and_a_lost_answer_make_one_task(fake: FakeSalesforce, make: Any) -> None:
    connector = make()
    fake.lose_next_create_answer = True
    with pytest.raises(SourceUnavailable):
        await connector.write_owner_task(task())
    again = await connector.write_owner_task(task())
    once_more = await connector.write_owner_task(task())
    [created] = fake.live("Task")
    assert again.crm_id == once_more.crm_id == created["Id"] and again.existed


async def test_an_account_without_an_active_owner_gets_the_task_unassigned(
        fake: FakeSalesforce, make: Any) -> None:
    connector = make()
    fake.objects["User"][OWNER2]["IsActive"] = False  # Cogsworth's owner left the company
    written = await connector.write_owner_task(task(company_crm_id=COGS, contact_crm_id=None))
    [created] = fake.live("Task")
    # Salesforce gives a Task created without an owner to the user crmsphere signs in as.
    assert written.owner_id is None and created["OwnerId"] == API_USER and created["WhatId"] == COGS


async def test_a_deleted_account_or_bad_id_is_a_bad_item(fake: FakeSalesforce, make: Any) -> None:
    connector = make()
    fake.delete("Account", ACME)
    with pytest.raises(BadItem, match="Account 001Hs00003Acme1AAC is not in Salesforce"):
        await connector.write_owner_task(task())
    with pytest.raises(BadItem, match="not a Salesforce record id"):
        await connector.write_owner_task(task(company_crm_id="001' OR Name != '"))
    with pytest.raises(BadItem, match="neither an Account nor a Contact"):
        await connector.write_owner_task(task(company_crm_id=None, contact_crm_id=None))
    assert fake.live("Task") == []


async def test_a_shipped_idea_through_the_outbox(fake: FakeSalesforce, tls: tuple[ssl.SSLContext, str],
                                                 tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Sync the org, vote, ship: each voter's owner gets one Task; an outage and a lost answer
    are retried like any outbound entry, and a replay writes nothing new."""
    now = [datetime(2026, 11, 3, 9, 0, tzinfo=UTC)]
    settings = load_settings(environ={}, overrides={
        "crm.salesforce.enabled": True, "crm.salesforce.base_url": fake.url,
        "crm.salesforce.ca_bundle": tls[1], "crm.salesforce.idea_closed_task_days": 5,
        "routing.max_attempts": 3, "routing.backoff_base": 5.0, "routing.batch_size": 1})
    environ = {"SALESFORCE_REFRESH_TOKEN": fake.refresh_token, "SALESFORCE_CLIENT_ID": fake.client_id,
               "SALESFORCE_CLIENT_SECRET": fake.client_secret}
    store = await open_store(f"sqlite:///{tmp_path / 'sf.db'}")
    sync = CrmSync(store, settings.crm, environ=environ, clock=lambda: now[0])
    try:
        await sync.start()
        await sync.sync("salesforce")
        outbound = CrmOutbound(store, settings.crm, "https://crmsphere.example", sync.connectors,
                               clock=lambda: now[0])
        events = IdeaEvents(store, settings.notify, "https://crmsphere.example", crm=outbound)
        consumer = crm_consumer(store, outbound)
        pm = await store.create_account("pm@crm.example", "Pat", None)
        idea = await create_idea(store, NewIdea("Bulk export", "CSV please", pm.id, "open"), now[0])
        voters = (f"salesforce:company:{ACME}", f"salesforce:contact:{WILE}", f"salesforce:company:{COGS}")
        for customer_id in voters:
            assert await add_vote(store, Vote(idea.id, customer_id, None, now[0]))
        fake.add("Account", {"Id": COGS, "OwnerId": None})  # nobody owns Cogsworth any more
        change = StatusChange(idea.id, "open", "done", "Export is in Reports > Export", pm.id, now[0])
        await events.status_changed(await set_status(store, change), change, ())
        await consumer.run_once()  # the leader's crm-events job reads idea.status_changed

        async with aiohttp.ClientSession() as http:
            worker = DeliveryWorker(store, http, settings.routing, environ={}, clock=lambda: now[0],
                                    rand=lambda: 0.0, crm=outbound)
            with caplog.at_level(logging.WARNING, logger="crm.outbound"):
                # One delivery per run, in voter order: Acme, Cogsworth, then Wile's contact.
                fake.lose_next_create_answer = True  # Acme's is written, its answer never arrives
                assert await worker.run_once() == 1
                fake.fail("/sobjects/Task/", 503, "SERVER_UNAVAILABLE")  # Cogsworth's: an outage
                assert await worker.run_once() == 1
                assert await worker.run_once() == 1
                pending = (await store.list_deliveries("pending")).items
                assert sorted(d.target["crm_id"] for d in pending) == [ACME, COGS]
                assert any("503" in d.last_error for d in pending)
                now[0] += timedelta(minutes=10)
                assert await worker.run_once() == 1 and await worker.run_once() == 1
            await consumer.handle(await store.read_events(0, KINDS, 1000))  # replayed
            assert await worker.run_once() == 0
        tasks = fake.live("Task")
        assert sorted((t["WhatId"], t.get("WhoId") or "", t["OwnerId"]) for t in tasks) == [
            (ACME, "", OWNER1), (ACME, WILE, OWNER1), (COGS, "", API_USER)]
        assert all(t["Status"] == "Not Started" and t["Subject"] == "An idea they voted for is now done: Bulk export"
                   and f"https://crmsphere.example/forum/ideas/{idea.id}" in t["Description"]
                   and "Export is in Reports > Export" in t["Description"] for t in tasks)
        assert {t["ActivityDate"] for t in tasks} == {"2026-11-08"}  # five days after it was sent
        unassigned = [r.getMessage() for r in caplog.records if "created unassigned" in r.getMessage()]
        assert len(unassigned) == 1 and COGS in unassigned[0]
        assert len((await store.list_deliveries("sent")).items) == 3
    finally:
        await sync.close()
        await store.close()
