"""The HubSpot connector against a fake HubSpot: paging, the 10,000 cap, rate limits, token
refresh, archived and merged records, notes written once."""

from __future__ import annotations

from datetime import UTC

import pytest

import crm.hubspot
from crm.base import TimelineEntry
from crm.registry import connector_class
from domain.errors import AuthFailed, BadItem, NotConfigured, SourceUnavailable
from tests.conftest import T0
from tests.crm.conftest import connector, hubspot_options
from tests.crm.fake_hubspot import FakeHubSpot

BASE = int(T0.timestamp() * 1000)


async def _drain(conn, object_type="company", cursor=None):
    pages = [p async for p in conn.changes(object_type, cursor)]
    return pages, [r for p in pages for r in p.records]


def test_registry_loads_the_hubspot_connector_lazily() -> None:
    assert connector_class("hubspot").__name__ == "HubSpotConnector"
    with pytest.raises(NotConfigured, match="no CRM connector 'dynamics'"):
        connector_class("dynamics")


def test_missing_token_says_which_variable_to_set() -> None:
    with pytest.raises(NotConfigured, match="HUBSPOT_ACCESS_TOKEN"):
        crm.hubspot.HubSpotConnector({"access_token_env": "HUBSPOT_ACCESS_TOKEN"}, {})


@pytest.mark.parametrize(("option", "objects"), [("task_key_property", "tasks"),
                                                  ("note_key_property", "notes")])
@pytest.mark.parametrize("blank", ["", "   "])
def test_an_empty_key_property_is_refused_naming_it(option: str, objects: str, blank: str) -> None:
    # Without it a task or note whose answer was lost cannot be found, and is written twice.
    options = hubspot_options("http://127.0.0.1:9", **{option: blank})
    with pytest.raises(NotConfigured, match=rf"crm\.hubspot\.{option} is empty: .* on {objects}"):
        crm.hubspot.HubSpotConnector(options, {"access_token": "token-1"})


async def test_pages_resume_from_the_cursor_without_repeats(hub: FakeHubSpot) -> None:
    for i in range(5):
        hub.add("companies", str(100 + i), BASE + i * 1000, name=f"Co {i}")
    conn = connector(hub, page_size=2)
    pages, records = await _drain(conn)
    assert [r.crm_id for r in records] == ["100", "101", "102", "103", "104"]
    assert len([p for p in pages if p.records]) == 3
    assert records[0].properties["name"] == "Co 0"
    assert records[0].modified_at.tzinfo == UTC
    cursor = pages[-1].cursor
    assert cursor["since"] == BASE + 4000 and cursor["seen"] == ["104"]
    # Nothing new: nothing again.  One change: just that one.
    assert (await _drain(conn, cursor=cursor))[1] == []
    hub.add("companies", "101", BASE + 9000, name="Co 1 renamed")
    _, again = await _drain(conn, cursor=cursor)
    assert [(r.crm_id, r.properties["name"]) for r in again] == [("101", "Co 1 renamed")]


async def test_search_cap_starts_a_new_query_from_the_last_time(hub: FakeHubSpot,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crm.hubspot, "SEARCH_CAP", 4)
    for i in range(7):
        hub.add("companies", str(200 + i), BASE + (i // 2) * 1000, name=f"Co {i}")
    _, records = await _drain(connector(hub, page_size=2))
    assert [r.crm_id for r in records] == [str(200 + i) for i in range(7)]
    searches = [p for m, p in hub.requests if p.endswith("/search")]
    assert len(searches) >= 4


async def test_429_with_retry_after_is_source_unavailable(hub: FakeHubSpot) -> None:
    hub.failures.append((429, {"Retry-After": "7"}, "RATE_LIMITS"))
    with pytest.raises(SourceUnavailable) as caught:
        await _drain(connector(hub))
    assert caught.value.retry_after == 7.0 and "429" in str(caught.value)
    hub.failures.append((429, {"X-HubSpot-RateLimit-Remaining": "0",
                               "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}, "RATE_LIMITS"))
    with pytest.raises(SourceUnavailable) as caught:
        await _drain(connector(hub))
    assert caught.value.retry_after == 10.0


async def test_expired_token_is_refreshed_once(hub: FakeHubSpot) -> None:
    hub.add("companies", "1", BASE, name="Acme")
    conn = connector(hub, token="expired", credentials={
        "refresh_token": "refresh-1", "client_id": "client-id", "client_secret": "client-secret"})
    _, records = await _drain(conn)
    assert [r.crm_id for r in records] == ["1"] and hub.refreshed == 1
    await _drain(conn)
    assert hub.refreshed == 1  # the new token is kept


async def test_refused_token_without_refresh_is_auth_failed(hub: FakeHubSpot) -> None:
    with pytest.raises(AuthFailed, match="expired"):
        await _drain(connector(hub, token="expired"))
    bad_refresh = connector(hub, token="expired", credentials={
        "refresh_token": "wrong", "client_id": "client-id", "client_secret": "client-secret"})
    with pytest.raises(AuthFailed, match="refresh"):
        await _drain(bad_refresh)


async def test_archived_and_merged_records(hub: FakeHubSpot) -> None:
    hub.add("companies", "1", BASE, name="Acme", hs_merged_object_ids="7;8")
    hub.add("companies", "2", BASE + 10, name="Gone", archived_at=BASE + 20)
    _, records = await _drain(connector(hub))
    shaped = [(r.crm_id, r.deleted, r.merged_into) for r in records]
    assert shaped == [("1", False, None), ("7", False, "1"), ("8", False, "1"), ("2", True, None)]
    pages, _ = await _drain(connector(hub))
    # A second run from the cursor does not hand the same archived record on again.
    _, again = await _drain(connector(hub), cursor=pages[-1].cursor)
    assert again == []


async def test_contact_carries_its_company(hub: FakeHubSpot) -> None:
    hub.add("contacts", "51", BASE, firstname="Jo", lastname="Rivera", associatedcompanyid="1")
    _, records = await _drain(connector(hub), "contact")
    assert records[0].company_id == "1" and records[0].properties["firstname"] == "Jo"


def _entry(key: str = "k1") -> TimelineEntry:
    return TimelineEntry(idempotency_key=key, subject="Mention on x", body="Acme <3 anvils",
                         url="http://127.0.0.1:8080/api/mentions/1", occurred_at=T0,
                         company_crm_id="1", contact_crm_id="51")


async def test_note_is_written_on_company_and_contact(hub: FakeHubSpot) -> None:
    note_id = await connector(hub).write_timeline(_entry())
    note = hub.objects["notes"][note_id]
    assert "Acme &lt;3 anvils" in note["properties"]["hs_note_body"]
    assert note["properties"]["crmsphere_key"] == "k1"
    assert note["properties"]["hs_timestamp"] == "2026-11-01T12:00:00.000Z"
    assert [n["id"] for n in hub.notes_on("company", "1")] == [note_id]
    assert [n["id"] for n in hub.notes_on("contact", "51")] == [note_id]


async def test_lost_answer_then_retry_yields_one_note(hub: FakeHubSpot) -> None:
    conn = connector(hub)
    hub.lose_next_note_answer = True
    with pytest.raises(SourceUnavailable):
        await conn.write_timeline(_entry("k2"))
    again = await conn.write_timeline(_entry("k2"))
    assert list(hub.objects["notes"]) == [again]


async def test_rejected_note_is_a_bad_item(hub: FakeHubSpot) -> None:
    entry = TimelineEntry("k3", "s", "b", "http://x", T0)
    with pytest.raises(BadItem, match="company or a contact"):
        await connector(hub).write_timeline(entry)


async def test_write_learned_updates_the_custom_field(hub: FakeHubSpot) -> None:
    hub.add("companies", "1", BASE, name="Acme")
    await connector(hub).write_learned("company", "1", {"crmsphere_learned": "x:@acme_help"})
    assert hub.objects["companies"]["1"]["properties"]["crmsphere_learned"] == "x:@acme_help"
