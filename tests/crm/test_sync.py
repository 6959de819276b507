"""Inbound sync from the fake HubSpot into a real SQLite store: mapping, rejections, cursors,
deleted and merged records, learned identities written back, health and back-off."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from config.settings import load_settings
from crm.link_decisions import confirm_link
from crm.records import feeding_link
from crm.sync import CrmSync
from domain import Analysis, CustomerLink, Identity, Mention, MentionQuery
from storage import Store, open_store
from tests.conftest import T0, post
from tests.crm.fake_hubspot import FakeHubSpot, fixture

BASE = int(T0.timestamp() * 1000)


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    store = await open_store(f"sqlite:///{tmp_path / 'crm.db'}")
    yield store
    await store.close()


def _sync(store: Store, hub: FakeHubSpot, clock=lambda: T0, **hubspot: Any) -> CrmSync:
    overrides = {"crm.hubspot.enabled": True, "crm.hubspot.base_url": hub.url,  # type: ignore[attr-defined]
                 "crm.hubspot.page_size": 2}
    overrides.update({f"crm.hubspot.{k}": v for k, v in hubspot.items()})
    settings = load_settings(environ={}, overrides=overrides)
    reloads: list[int] = []

    async def changed() -> None:
        reloads.append(1)

    sync = CrmSync(store, settings.crm, environ={"HUBSPOT_ACCESS_TOKEN": "token-1"}, clock=clock,
                   on_customers_changed=changed)
    sync.reloads = reloads  # type: ignore[attr-defined]
    return sync


def _captured(hub: FakeHubSpot) -> None:
    """The two companies of the captured search answer, and a contact of the first."""
    for row in fixture("search_companies.json")["results"]:
        hub.objects["companies"][row["id"]] = {**row, "properties": dict(row["properties"])}
    hub.add("contacts", "51", BASE, firstname="Jo", lastname="Rivera", email="JO@acmeanvils.example",
            associatedcompanyid="512", company="Acme Anvils", twitterhandle="@jorivera")


async def test_one_invalid_record_is_rejected_and_the_rest_syncs(db: Store, hub: FakeHubSpot) -> None:
    _captured(hub)
    sync = _sync(db, hub)
    await sync.start()
    report = await sync.sync("hubspot")
    assert (report.inserted, report.updated) == (2, 0)
    assert [(r.where, r.reason) for r in report.rejected] == [
        ("hubspot company 513", "field annualrevenue: 'lots' is not a number")]
    acme = await db.get_customer("hubspot:company:512")
    assert (acme.name, acme.kind, acme.annual_revenue, acme.domains) == (
        "Acme Anvils", "company", 5_000_000, ("acmeanvils.example",))
    assert acme.identities == (Identity("x", "acmeanvils"),)
    jo = await db.get_customer("hubspot:contact:51")
    assert (jo.name, jo.kind, jo.company, jo.emails) == (
        "Jo Rivera", "person", "Acme Anvils", ("jo@acmeanvils.example",))
    link = await feeding_link(db, "hubspot:contact:51")
    assert link.company_crm_id == "512"
    assert sync.reloads == [1]  # the gazetteer reloads once after the sync
    assert (await db.get_crm_cursor("hubspot", "company"))["since"] == BASE + 5 * 60_000
    # The invalid record is not fetched again until it changes; a full sync shows it again.
    assert (await sync.run_once("crm:hubspot", force=True)).error is None
    health = await sync.run_once("crm:hubspot", force=True, full=True)
    assert health.state == "ok" and "1 record(s) rejected" in health.error


async def test_full_sync_ignores_the_cursor(db: Store, hub: FakeHubSpot) -> None:
    hub.add("companies", "1", BASE, name="Acme")
    sync = _sync(db, hub)
    await sync.start()
    assert (await sync.sync("hubspot")).inserted == 1
    assert (await sync.sync("hubspot")).updated == 0
    assert (await sync.sync("hubspot", full=True)).updated == 1


async def test_deleted_and_merged_records_are_reflected(db: Store, hub: FakeHubSpot) -> None:
    hub.add("companies", "1", BASE, name="Acme", twitterhandle="acme")
    hub.add("companies", "2", BASE + 1, name="Acme Europe", twitterhandle="acme_eu")
    hub.add("companies", "3", BASE + 2, name="Initech")
    sync = _sync(db, hub)
    await sync.start()
    await sync.sync("hubspot")
    await db.save_mentions("x", [Mention(post("p1", "hi", handle="acme_eu"), Analysis(links=(
        CustomerLink("hubspot:company:2", 0.95, "author_handle", "@acme_eu"),)))], None)
    # In HubSpot: 2 is merged into 1 (2 disappears, 1 lists it), 3 is deleted.
    del hub.objects["companies"]["2"]
    hub.add("companies", "1", BASE + 10, hs_merged_object_ids="2")
    hub.add("companies", "3", BASE + 11, archived_at=BASE + 12)
    report = await sync.sync("hubspot")
    assert (report.merged, report.deleted) == (1, 1)
    assert await db.get_customers(["hubspot:company:2", "hubspot:company:3"]) == {}
    acme = await db.get_customer("hubspot:company:1")
    assert set(acme.identities) == {Identity("x", "acme"), Identity("x", "acme_eu")}
    linked = (await db.list_mentions(MentionQuery(customer_id="hubspot:company:1"))).items
    assert [m.post.external_id for m in linked] == ["p1"]  # nothing linked is lost
    status = await db.crm_status("hubspot")
    assert status.merged == {"company": 1} and status.deleted == {"company": 1}


async def test_learned_identities_are_kept_and_written_back(db: Store, hub: FakeHubSpot) -> None:
    hub.add("companies", "1", BASE, name="Acme", twitterhandle="acme")
    sync = _sync(db, hub, **{"mapping.learned_field": "crmsphere_learned"})
    await sync.start()
    await sync.sync("hubspot")
    await db.save_mentions("x", [Mention(post("p1", "hi", handle="acme_help"), Analysis(links=(
        CustomerLink("hubspot:company:1", 0.4, "name", "Acme", status="pending"),)))], None)
    review = (await db.list_link_reviews()).items[0]
    await confirm_link(db, review.link.id, Identity("x", "acme_help"))
    hub.add("companies", "1", BASE + 5, name="Acme Corp")
    report = await sync.sync("hubspot")
    assert report.learned_written == 1
    acme = await db.get_customer("hubspot:company:1")
    assert acme.name == "Acme Corp" and Identity("x", "acme_help") in acme.identities
    assert hub.objects["companies"]["1"]["properties"]["crmsphere_learned"] == "x:@acme_help"
    assert (await sync.sync("hubspot")).learned_written == 0  # unchanged: not written again


async def test_rate_limit_backs_off_for_retry_after_and_recovers(db: Store, hub: FakeHubSpot) -> None:
    hub.add("companies", "1", BASE, name="Acme")
    now = [T0]
    sync = _sync(db, hub, clock=lambda: now[0])
    await sync.start()
    hub.failures.append((429, {"Retry-After": "120"}, "RATE_LIMITS"))
    health = await sync.run_once("crm:hubspot")
    assert health.state == "failing" and health.next_attempt_at == T0 + timedelta(seconds=120)
    assert "429" in health.error
    assert (await sync.run_once("crm:hubspot")).last_run_at == T0  # not due yet: not run
    now[0] = T0 + timedelta(seconds=121)
    health = await sync.run_once("crm:hubspot")
    assert health.state == "ok" and health.last_items == 1 and health.failures == 0
    assert [h.key for h in await sync.all_health()] == ["crm:hubspot"]


async def test_missing_token_is_reported_as_not_configured(db: Store, hub: FakeHubSpot) -> None:
    sync = _sync(db, hub)
    sync.environ = {}
    await sync.start()
    assert "HUBSPOT_ACCESS_TOKEN" in sync.problems["hubspot"]
    assert (await sync.health("crm:hubspot")).state == "not_configured"
    assert sync.scheduled() == []


async def test_expired_token_refreshed_during_sync(db: Store, hub: FakeHubSpot) -> None:
    hub.add("companies", "1", BASE, name="Acme")
    sync = _sync(db, hub)
    sync.environ = {"HUBSPOT_ACCESS_TOKEN": "stale", "HUBSPOT_REFRESH_TOKEN": "refresh-1",
                    "HUBSPOT_CLIENT_ID": "client-id", "HUBSPOT_CLIENT_SECRET": "client-secret"}
    await sync.start()
    health = await sync.run_once("crm:hubspot")
    assert health.state == "ok" and hub.refreshed == 1


async def test_done_when_company_syncs_and_its_next_mention_becomes_a_note(
        aiohttp_client, hub: FakeHubSpot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A company created in HubSpot appears within one sync interval; its next social mention
    (pushed through the ingest path) is linked to it and becomes a note on that company."""
    import json
    import time

    from api.keys import RUNTIME
    from domain import utcnow
    from tests.helpers import outbox_settled, paused_jobs, signed_headers, start_app

    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "token-1")
    monkeypatch.setenv("TEST_PUSH_SECRET", "push-secret")
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    # The scheduler runs the connector's sync on its interval.
    client = await start_app(aiohttp_client, tmp_path, f"""
[scheduler]
lease_ttl = 3
[routing]
poll_interval = 0.1
[crm.hubspot]
enabled = true
interval = 1
base_url = "{hub.url}"
[[sources]]
kind = "push"
name = "partner"
secret_env = "TEST_PUSH_SECRET"
""", {"scheduler.enabled": True})  # type: ignore[attr-defined]
    runtime = client.app[RUNTIME]
    clock = {"now": utcnow()}
    async with paused_jobs(client, lambda: clock["now"]) as jobs:
        assert "crm:hubspot" in await jobs.run_due()  # the round at start: HubSpot has nothing yet
        assert (await client.get("/api/customers/hubspot:company:77")).status == 404
        hub.add("companies", "77", int(time.time() * 1000), name="Zephyr Widgets",
                twitterhandle="zephyrw", domain="zephyr.example")
        clock["now"] += timedelta(seconds=2)  # one sync interval (1 s, and its jitter) later
        assert "crm:hubspot" in await jobs.run_due()
    assert (await client.get("/api/customers/hubspot:company:77")).status == 200
    # Its health is shown with the sources (saved with the batch's round).
    sources = (await (await client.get("/api/sources")).json())["items"]
    health = {s["key"]: s for s in sources}["crm:hubspot"]
    assert health["state"] == "ok" and health["total_items"], health
    assert health["interval"] == 1 and health["kind"] == "crm"

    body = json.dumps([{"source": "x", "external_id": "zw-1", "author": {"handle": "zephyrw"},
                        "text": "Our new widget line ships today!",
                        "created_at": "2026-11-01T12:00:00Z"}]).encode()
    resp = await client.post("/api/ingest/partner", data=body, headers=signed_headers(body, "push-secret"))
    assert resp.status == 202
    mentions = await (await client.get("/api/mentions", params={"customer": "hubspot:company:77"})).json()
    assert [m["external_id"] for m in mentions["items"]] == ["zw-1"]
    await outbox_settled(runtime)  # the mention's event consumed, the note sent to HubSpot
    [note] = hub.notes_on("company", "77")
    assert "Our new widget line ships today!" in note["properties"]["hs_note_body"]


async def test_customer_api_shows_the_crm_record_and_what_was_learned(
        tmp_path: Path, hub: FakeHubSpot, aiohttp_client: Any) -> None:
    from tests.helpers import app_settings, start_app

    store = await open_store(app_settings(tmp_path).store.url)
    try:
        hub.add("companies", "1", BASE, name="Acme", twitterhandle="acme")
        sync = _sync(store, hub)
        await sync.start()
        await sync.sync("hubspot")
        await store.save_mentions("x", [Mention(post("p1", "hi", handle="acme_help"), Analysis(links=(
            CustomerLink("hubspot:company:1", 0.4, "name", "Acme", status="pending"),)))], None)
        await confirm_link(store, (await store.list_link_reviews()).items[0].link.id,
                                 Identity("x", "acme_help"))
    finally:
        await store.close()
    client = await start_app(aiohttp_client, tmp_path)
    resp = await client.get("/api/customers/hubspot:company:1")
    assert resp.status == 200
    crm = (await resp.json())["crm"]
    assert (crm["connector"], crm["object_type"], crm["crm_id"]) == ("hubspot", "company", "1")
    assert crm["learned"]["handles"] == {"x": ["acme_help"]}  # "acme" came from HubSpot
    await client.close()


async def test_a_synced_alias_shorter_than_three_letters_is_refused_and_a_common_word_flagged(
        db: Store, hub: FakeHubSpot) -> None:
    hub.add("companies", "1", BASE, name="Infinite Systems", nicknames="IS;Infinisys")
    hub.add("companies", "2", BASE + 1, name="Gopher Freight", nicknames="Go")
    hub.add("companies", "3", BASE + 2, name="Bolt Technologies", nicknames="Bolt")
    hub.add("companies", "4", BASE + 3, name="Square Inc", nicknames="Square")
    sync = _sync(db, hub, objects=["company"], **{"mapping.company.aliases": ["nicknames"]})
    await sync.start()
    report = await sync.sync("hubspot")
    assert report.inserted == 4 and report.rejected == []
    assert [(n.customer_id, n.alias, n.refused) for n in report.aliases] == [
        ("hubspot:company:1", "IS", True), ("hubspot:company:2", "Go", True),
        ("hubspot:company:3", "Bolt", False), ("hubspot:company:4", "Square", False)]
    assert all(n.reason.startswith("shorter than 3 letters") for n in report.aliases if n.refused)
    assert (await db.get_customer("hubspot:company:1")).aliases == ("Infinisys",)
    assert (await db.get_customer("hubspot:company:2")).aliases == ()
    assert (await db.get_customer("hubspot:company:4")).aliases == ("Square",)


async def test_an_empty_task_key_property_leaves_hubspot_not_configured_and_says_why(
        db: Store, hub: FakeHubSpot) -> None:
    # An operator blanking the key in crmsphere.toml: tasks could not be found after a lost
    # answer, so the connector is not started rather than writing duplicates.
    sync = _sync(db, hub, task_key_property="")
    await sync.start()
    health = await sync.health("crm:hubspot")
    assert health.state == "not_configured"
    assert "crm.hubspot.task_key_property is empty" in (health.error or "")
    assert "hubspot" not in sync.connectors
