"""Done when, for Salesforce: an Account made in the org appears in crmsphere after one sync,
its next social mention is linked to it, and a Task about that mention shows up on the Account.

Everything real but the org: the runtime (SQLite file, NLP, sync, outbox, delivery worker)
against the fake Salesforce over TLS on 127.0.0.1.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from community.deliveries import DeliveryWorker
from config.settings import load_settings
from crmsphere.ingest import store_posts
from crmsphere.runtime import open_runtime
from tests.conftest import post
from tests.crm.fake_salesforce import FakeSalesforce, later


async def test_account_in_salesforce_links_the_next_mention_and_gets_a_task(
        fake: FakeSalesforce, tls: tuple[ssl.SSLContext, str], tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"SALESFORCE_REFRESH_TOKEN": fake.refresh_token,
                        "SALESFORCE_CLIENT_ID": fake.client_id,
                        "SALESFORCE_CLIENT_SECRET": fake.client_secret}.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(environ={}, overrides={
        "store.url": f"sqlite:///{tmp_path / 'e2e.db'}",
        "routing.public_url": "https://crmsphere.example",
        "crm.salesforce.enabled": True, "crm.salesforce.base_url": fake.url,
        "crm.salesforce.ca_bundle": tls[1]})

    async with open_runtime(settings) as runtime:
        assert runtime.crm is not None and runtime.crm_outbound is not None
        fake.now = later(30)
        account = fake.add("Account", {"Name": "Zephyr Kites", "Website": "https://zephyrkites.example",
                                       "AnnualRevenue": 880000.0})

        health = await runtime.crm.run_once("crm:salesforce", force=True)

        assert health.state == "ok", health.error
        customer_id = f"salesforce:company:{account}"
        customer = (await runtime.store.get_customers([customer_id]))[customer_id]
        assert customer.name == "Zephyr Kites" and customer.annual_revenue == 880000

        report = await store_posts(
            runtime.store, runtime.analyzer, "x",
            [post("e2e-1", "Zephyr Kites just shipped my order broken, again. Not happy.",
                  handle="kitefan", url="https://x.com/kitefan/status/1")],
            None, runtime.sources.on_stored)
        assert report.accepted == 1

        async with aiohttp.ClientSession() as http:
            worker = DeliveryWorker(runtime.store, http, settings.routing, environ={},
                                    crm=runtime.crm_outbound)
            assert await worker.run_once() >= 1
            assert await worker.run_once() == 0  # nothing left to send twice

    tasks = [t for t in fake.live("Task") if t.get("WhatId") == account]
    assert len(tasks) == 1, fake.live("Task")
    task: dict[str, Any] = tasks[0]
    assert task["Status"] == "Completed" and "@kitefan" in task["Subject"]
    assert "https://crmsphere.example/api/mentions/" in task["Description"]
    assert task["Crmsphere_Key__c"].startswith("crm:salesforce:customer.mention.linked:")
