"""The Salesforce connector writing out: Tasks, Chatter posts, once each; learned identities."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from domain.errors import (
    BadItem,
    NotConfigured,
    SourceUnavailable,
)
from tests.crm.fake_salesforce import FakeSalesforce
from tests.crm.salesforce_support import ACME, WILE, drain, entry

# -- outbound -----------------------------------------------------------------------------


async def test_timeline_entry_becomes_a_completed_task(fake: FakeSalesforce, make: Any) -> None:
    task_id = await make().write_timeline(entry())

    [task] = fake.live("Task")
    assert task["Id"] == task_id
    assert task["WhatId"] == ACME and task["WhoId"] == WILE and task["Status"] == "Completed"
    assert task["Subject"] == "@acme_anvils on X: anvils keep falling"
    assert task["Description"].endswith("\n\nhttps://crmsphere.example/mentions/42")
    assert task["ActivityDate"] == "2026-11-02" and task["Crmsphere_Key__c"] == "mention:42:acme"


async def test_the_same_entry_twice_makes_one_task(fake: FakeSalesforce, make: Any) -> None:
    connector = make()
    fake.lose_next_create_answer = True
    with pytest.raises(SourceUnavailable):
        await connector.write_timeline(entry())
    assert len(fake.live("Task")) == 1  # created, but the answer never arrived

    again = await connector.write_timeline(entry())
    once_more = await connector.write_timeline(entry())

    assert again == once_more == fake.live("Task")[0]["Id"]
    assert len(fake.live("Task")) == 1
    await connector.write_timeline(entry("mention:43:acme"))
    long_key = "crm:salesforce:customer.mention.linked:" + "m" * 300
    assert await connector.write_timeline(entry(long_key)) == await connector.write_timeline(entry(long_key))
    assert len(fake.live("Task")) == 3
    assert all(len(t["Crmsphere_Key__c"]) <= 255 for t in fake.live("Task"))


async def test_timeline_as_chatter_post(fake: FakeSalesforce, make: Any) -> None:
    connector = make(timeline="chatter")
    post_id = await connector.write_timeline(entry())
    assert await connector.write_timeline(entry()) == post_id

    [post] = fake.live("FeedItem")
    assert post["Id"] == post_id and post["ParentId"] == ACME and post["Type"] == "TextPost"
    assert "https://crmsphere.example/mentions/42" in post["Body"]
    assert post["Body"].startswith("@acme_anvils on X")
    assert fake.live("Task") == []

    huge = dataclasses.replace(entry("mention:44:acme"), subject="S" * 600, body="b" * 20_000)
    await connector.write_timeline(huge)
    body = fake.live("FeedItem")[-1]["Body"]
    assert len(body) <= 10_000 and body.endswith("/mentions/42\ncrmsphere-ref: mention:44:acme")


async def test_an_entry_salesforce_refuses_is_a_bad_item(fake: FakeSalesforce, make: Any) -> None:
    connector = make()
    with pytest.raises(BadItem, match="FIELD_INTEGRITY_EXCEPTION"):
        await connector.write_timeline(entry(company_crm_id="001Hs00009Gone9AAA"))
    with pytest.raises(BadItem, match="neither an Account nor a Contact"):
        await connector.write_timeline(entry(company_crm_id=None, contact_crm_id=None))
    with pytest.raises(BadItem, match="not a Salesforce record id"):
        await connector.write_timeline(entry(company_crm_id="' OR Id != '"))
    assert fake.live("Task") == []


async def test_a_missing_custom_field_is_not_configured(fake: FakeSalesforce, make: Any) -> None:
    fake.fail("/query/", 400, "INVALID_FIELD")
    with pytest.raises(BadItem, match="INVALID_FIELD.*create the field"):
        await make().write_timeline(entry())  # dead-lettered with a reason that says what to do
    assert fake.live("Task") == []
    fake.fail("/queryAll/", 400, "INVALID_FIELD")
    with pytest.raises(NotConfigured, match="Segmnt__c"):
        await drain(make())


async def test_an_answer_that_is_not_json_is_source_unavailable(fake: FakeSalesforce, make: Any) -> None:
    fake.fail("/queryAll/", 200, text="<html><body>Down for maintenance</body></html>")
    with pytest.raises(SourceUnavailable, match="other than JSON"):
        await drain(make())


async def test_write_learned_fills_the_configured_field(fake: FakeSalesforce, make: Any) -> None:
    connector = make(learned_fields={"handles": "Crmsphere_Handles__c"})
    await connector.write_learned("company", ACME, {"handles": "x:acme_anvils, mastodon:@acme@mas.to"})
    assert fake.objects["Account"][ACME]["Crmsphere_Handles__c"] == "x:acme_anvils, mastodon:@acme@mas.to"

    with pytest.raises(BadItem, match="no Salesforce field configured for learned 'aliases'"):
        await connector.write_learned("company", ACME, {"aliases": "Acme"})
    with pytest.raises(BadItem, match="NOT_FOUND"):
        await connector.write_learned("contact", "003Hs00009Gone9AAA", {"handles": "x:wile"})
    # The learned field is read back on sync, so the mapping sees what was written.
    records = {r.crm_id: r for p in await drain(connector) for r in p.records}
    assert records[ACME].properties["Crmsphere_Handles__c"].startswith("x:acme_anvils")
