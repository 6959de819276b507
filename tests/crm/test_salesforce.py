"""The Salesforce connector against a fake org over TLS on 127.0.0.1 (simple-salesforce forces https)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from config.settings import load_settings
from crm.base import CrmPage
from crm.mapping import map_customer
from crm.salesforce import SalesforceConnector
from domain.errors import (
    AuthFailed,
    BadInput,
    ConfigError,
    NotConfigured,
    SourceUnavailable,
)
from tests.crm.fake_salesforce import FakeSalesforce, later
from tests.crm.salesforce_support import ACME, BOLT, COGS, GEAR, WILE, drain, ids

# -- inbound ------------------------------------------------------------------------------


async def test_full_sync_pages_through_next_records_url(fake: FakeSalesforce, make: Any) -> None:
    pages = await drain(make())

    assert [len(p.records) for p in pages] == [2, 1]
    assert ids(pages) == [ACME, BOLT, COGS]  # oldest change first, Id breaking the tie
    acme = pages[0].records[0]
    assert acme.properties["Name"] == "Acme Anvils" and acme.properties["Segment__c"] == "Enterprise"
    assert acme.modified_at == datetime(2026, 11, 1, 9, 0, tzinfo=UTC) and not acme.deleted
    assert pages[-1].cursor == {"modstamp": "2026-11-01T10:30:00+00:00", "id": COGS}
    paths = [path for _, path, _ in fake.requests if path.startswith("/services/data/")]
    assert paths[0].startswith("/services/data/v59.0/queryAll/?q=SELECT")
    assert paths[1].startswith("/services/data/v59.0/query/01gHs")  # the nextRecordsUrl
    assert [t["grant_type"] for t in fake.token_requests] == ["refresh_token"]
    assert all(h.get("Sforce-Query-Options") == "batchSize=2" for _, p, h in fake.requests if "/query" in p)


async def test_every_page_cursor_resumes_with_exactly_the_rest(fake: FakeSalesforce, make: Any) -> None:
    # Five records in one second: pages of two cut between equal SystemModstamps.
    same = [fake.add("Account", {"Name": f"Same second {n}"}, at=later(5)) for n in range(5)]
    connector = make()
    pages = await drain(connector)
    everything = ids(pages)
    assert everything == [ACME, BOLT, COGS, *same]

    for n, page in enumerate(pages):
        rest = ids(await drain(connector, cursor=page.cursor))
        assert rest == everything[len(ids(pages[: n + 1])):]
    assert await drain(connector, cursor=pages[-1].cursor) == []


async def test_incremental_sync_sees_only_later_changes(fake: FakeSalesforce, make: Any) -> None:
    connector = make()
    cursor = (await drain(connector))[-1].cursor
    fake.now = later(10)
    fake.add("Account", {"Id": BOLT, "AnnualRevenue": 250000.0})
    dyna = fake.add("Account", {"Name": "Dynamo Hinges"})

    pages = await drain(connector, cursor=cursor)

    assert ids(pages) == sorted([BOLT, dyna])  # same second: Id order
    changed = {r.crm_id: r for p in pages for r in p.records}
    assert changed[BOLT].properties["AnnualRevenue"] == 250000.0


async def test_contacts_carry_their_account(fake: FakeSalesforce, make: Any) -> None:
    pages = await drain(make(), "contact")

    records = {r.crm_id: r for p in pages for r in p.records}
    assert records[WILE].company_id == ACME and records[WILE].object_type == "contact"
    assert records[WILE].properties["Email"] == "wile@acmeanvils.example"
    assert records[GEAR].company_id is None


async def test_fields_the_mapping_reads_are_fetched_as_named(fake: FakeSalesforce, make: Any) -> None:
    # base_url (the [crm] common key) serves as instance and login URL, as a My Domain does.
    connector = make(login_url=None, base_url=fake.url, mapping={
        "contact": {"name": ["FirstName", "lastname"], "company": "Account.Name", "emails": ["email"]},
        "learned_field": "Crmsphere_Handles__c"})
    await connector.write_learned("contact", WILE, {"Crmsphere_Handles__c": "x:@wile_e"})

    records = {r.crm_id: r for p in await drain(connector, "contact") for r in p.records}

    wile = records[WILE].properties
    assert wile["Account.Name"] == "Acme Anvils" and wile["lastname"] == "Coyote"
    assert wile["email"] == "wile@acmeanvils.example" and wile["Crmsphere_Handles__c"] == "x:@wile_e"
    assert records[GEAR].properties["Account.Name"] is None
    soql = next(parse_qs(urlsplit(p).query)["q"][0] for _, p, _ in fake.requests if "queryAll" in p)
    selected = [f.strip().lower() for f in soql.split(" FROM ")[0].removeprefix("SELECT ").split(",")]
    assert selected.count("lastname") == 1 and "account.name" in selected  # Salesforce refuses repeats


async def test_the_default_table_maps_accounts_and_contacts(fake: FakeSalesforce, make: Any) -> None:
    table = load_settings(environ={}).crm.salesforce
    options = {**table.options(), "login_url": fake.url, "ca_bundle": fake.ca_bundle}  # type: ignore[attr-defined]
    connector = make(None, **{k: v for k, v in options.items() if k != "account_fields"})
    customers = {}
    for object_type in ("company", "contact"):
        for record in [r for p in await drain(connector, object_type) for r in p.records]:
            mapped = map_customer("salesforce", object_type, record.crm_id, record.properties,
                                  getattr(table.mapping, object_type), record.company_id)
            customers[record.crm_id] = mapped.customer

    assert customers[ACME].name == "Acme Anvils" and customers[ACME].annual_revenue == 12_500_000
    assert customers[ACME].domains == ("acmeanvils.example",)
    assert customers[WILE].name == "Wile E. Coyote" and customers[WILE].company == "Acme Anvils"
    assert customers[WILE].emails == ("wile@acmeanvils.example",)
    assert customers[GEAR].name == "Cogsworth" and customers[GEAR].company is None


async def test_a_bad_record_is_rejected_and_the_rest_kept(fake: FakeSalesforce, make: Any) -> None:
    fake.add("Account", {"Name": "  "}, at=later(1))
    nameless = list(fake.objects["Account"])[-1]
    broken = fake.add("Account", {"Name": "Broken stamp"}, at=later(2))
    fake.objects["Account"][broken]["SystemModstamp"] = "yesterday"
    good = fake.add("Account", {"Name": "Good after"}, at=later(3))

    pages = await drain(make(page_size=10))

    assert ids(pages) == [ACME, BOLT, COGS, good]
    reasons = {r.where: r.reason for p in pages for r in p.rejected}
    assert reasons == {f"salesforce:Account/{nameless}": "Account without a Name",
                       f"salesforce:Account/{broken}": "SystemModstamp 'yesterday' is not a date-time"}
    assert pages[-1].cursor["id"] == good


async def test_deleted_and_merged_records_come_through(fake: FakeSalesforce, make: Any) -> None:
    connector = make()
    cursor = (await drain(connector))[-1].cursor
    fake.now = later(20)
    fake.delete("Account", BOLT)
    fake.delete("Account", COGS, merged_into=ACME)
    fake.add("Account", {"Id": ACME, "Name": "Acme Anvils & Gears"})

    records = {r.crm_id: r for p in await drain(connector, cursor=cursor) for r in p.records}

    assert records[BOLT].deleted and records[BOLT].merged_into is None
    assert not records[COGS].deleted and records[COGS].merged_into == ACME  # merged, not just deleted
    assert not records[ACME].deleted and records[ACME].properties["Name"] == "Acme Anvils & Gears"


async def test_a_cursor_not_ours_is_refused(make: Any) -> None:
    with pytest.raises(BadInput, match="not a Salesforce sync cursor"):
        await drain(make(), cursor={"after": "12"})


# -- limits and sessions ------------------------------------------------------------------


async def test_api_limit_exceeded_is_source_unavailable(fake: FakeSalesforce, make: Any) -> None:
    fake.fail("/queryAll/", 403, "REQUEST_LIMIT_EXCEEDED")
    with pytest.raises(SourceUnavailable, match="REQUEST_LIMIT_EXCEEDED") as caught:
        await drain(make(limit_backoff=600))
    assert caught.value.retry_after == 600

    fake.fail("/queryAll/", 403, "REQUEST_LIMIT_EXCEEDED", **{"Retry-After": "120"})
    with pytest.raises(SourceUnavailable) as caught:
        await drain(make())
    assert caught.value.retry_after == 120


@pytest.mark.parametrize("status", [429, 503])
async def test_busy_answers_carry_retry_after(fake: FakeSalesforce, make: Any, status: int) -> None:
    # The failure hits the nextRecordsUrl page: the first page was already handed on.
    fake.fail("/query/01g", status, "SERVER_UNAVAILABLE", **{"Retry-After": "30"})
    seen: list[CrmPage] = []
    with pytest.raises(SourceUnavailable) as caught:
        async for page in make().changes("company", None):
            seen.append(page)
    assert caught.value.retry_after == 30
    assert ids(seen) == [ACME, BOLT]


async def test_usage_near_the_daily_limit_stops_early(fake: FakeSalesforce, make: Any) -> None:
    fake.api_used = 14_000
    connector = make(max_api_usage=0.96, page_size=10)  # stop at 14400 of 15000
    await drain(connector)  # learns 14001/15000 from Sforce-Limit-Info
    assert connector.api_usage == (14_001, 15_000) and connector.rate_limit_remaining == 999
    fake.api_used = 14_450
    await drain(connector)
    with pytest.raises(SourceUnavailable, match="API usage") as caught:
        await drain(connector)
    assert caught.value.retry_after == 900


async def test_expired_session_is_refreshed_once(fake: FakeSalesforce, make: Any) -> None:
    connector = make({"access_token": "00DFAKE!initial", "instance_url": fake.url,
                      "refresh_token": fake.refresh_token, "client_id": fake.client_id,
                      "client_secret": fake.client_secret})
    assert len(ids(await drain(connector))) == 3
    assert fake.token_requests == []
    fake.expire_sessions()

    assert len(ids(await drain(connector))) == 3
    assert len(ids(await drain(connector))) == 3
    assert [t["grant_type"] for t in fake.token_requests] == ["refresh_token"]
    assert fake.token_requests[0]["refresh_token"] == fake.refresh_token


async def test_refused_twice_is_auth_failed(fake: FakeSalesforce, make: Any) -> None:
    fake.fail("/queryAll/", 401, "INVALID_SESSION_ID", times=2)
    with pytest.raises(AuthFailed, match="INVALID_SESSION_ID"):
        await drain(make())
    assert len(fake.token_requests) == 2  # the first sign-in and one renewal, no more


async def test_expired_access_token_without_refresh_is_auth_failed(fake: FakeSalesforce, make: Any) -> None:
    connector = make({"access_token": "00DFAKE!gone"}, instance_url=fake.url)
    with pytest.raises(AuthFailed, match="session refused"):
        await drain(connector)
    assert fake.token_requests == []


async def test_refused_refresh_token_is_auth_failed(fake: FakeSalesforce, make: Any) -> None:
    connector = make({"refresh_token": "revoked", "client_id": fake.client_id})
    with pytest.raises(AuthFailed, match="expired access/refresh token"):
        await drain(connector)


async def test_password_flow_signs_in(fake: FakeSalesforce, make: Any) -> None:
    connector = make({"username": fake.username, "password": "s3cret", "security_token": "TOKEN123",
                      "client_id": fake.client_id, "client_secret": fake.client_secret})
    assert len(ids(await drain(connector))) == 3
    assert fake.token_requests[0]["grant_type"] == "password"


async def test_unreachable_org_is_source_unavailable(make: Any, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connector = make({"access_token": "x"}, instance_url=f"https://127.0.0.1:{port}", timeout=2)
    with pytest.raises(SourceUnavailable, match="unreachable"):
        await drain(connector)




# -- configuration ------------------------------------------------------------------------


def test_missing_credentials_is_not_configured() -> None:
    with pytest.raises(NotConfigured, match="refresh_token \\+ client_id"):
        SalesforceConnector({}, {})
    with pytest.raises(NotConfigured):
        SalesforceConnector({}, {"username": "u", "password": "p"})
    with pytest.raises(NotConfigured):
        SalesforceConnector({}, {"access_token": "t"})  # no instance_url anywhere


@pytest.mark.parametrize(("key", "value"), [
    ("timeline", "email"), ("login_url", "http://login.salesforce.com"), ("page_size", 0),
    ("api_version", "latest"), ("account_fields", ["Name; DELETE"]), ("ca_bundle", "/nonexistent.pem"),
])
def test_malformed_options_are_config_errors(key: str, value: Any) -> None:
    with pytest.raises(ConfigError, match="crm.salesforce"):
        SalesforceConnector({key: value}, {"refresh_token": "r", "client_id": "c"})
