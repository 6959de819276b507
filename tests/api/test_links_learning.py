"""Confirm and reject over real HTTP teach the running gazetteer in place (no full rebuild),
and a customer change made by another process still gets a full reload."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient

from api.keys import RUNTIME
from tests.conftest import acme_customers, customer, post
from tests.helpers import json_of


@pytest.fixture
async def client(app_client) -> TestClient:
    return await app_client(customers=True, posts=[
        post("1", "thinking about acme for our shop", handle="newbie", minutes=1),
        post("2", "hello from the other site", source="reddit", handle="jorivera", minutes=2),
    ])


async def pending(client: TestClient, customer_id: str) -> dict:
    items = (await json_of(await client.get("/api/links/review")))["items"]
    return next(i for i in items if i["customer_id"] == customer_id)


async def test_confirm_teaching_an_alias_links_it_without_a_rebuild(client: TestClient) -> None:
    rt = client.app[RUNTIME]
    builds, pipeline = rt.analyzer.builds, rt.analyzer._nlp
    item = await pending(client, "cus_acme")
    body = await json_of(await client.post(f"/api/links/{item['id']}/confirm",
                                           json={"teach": "alias", "alias": "  Roadrunner Anvil Co "}))
    assert body["learned"] == "alias 'Roadrunner Anvil Co'"
    (analysis,) = await rt.analyzer.analyse([
        post("9", "ROADRUNNER ANVIL CO. dented my anvil 😡", handle="wile")])
    assert ("cus_acme", "alias") in {(k.customer_id, k.rule) for k in analysis.links}
    assert rt.analyzer._nlp is pipeline and rt.analyzer.builds == builds
    # This process's own change is not mistaken for another process's: no reload follows.
    assert not await rt.customer_watch.check_once()
    assert rt.analyzer.builds == builds


async def test_confirm_teaching_a_handle_and_reject_need_no_rebuild(client: TestClient) -> None:
    rt = client.app[RUNTIME]
    builds, pipeline = rt.analyzer.builds, rt.analyzer._nlp
    jo = await pending(client, "cus_jo")
    await json_of(await client.post(f"/api/links/{jo['id']}/confirm", json={"teach": "handle"}))
    (analysis,) = await rt.analyzer.analyse([post("9", "hi", source="reddit", handle="JoRivera")])
    assert ("cus_jo", "author_handle") in {(k.customer_id, k.rule) for k in analysis.links}
    acme = await pending(client, "cus_acme")
    await json_of(await client.post(f"/api/links/{acme['id']}/reject"))
    (again,) = await rt.analyzer.analyse([post("8", "acme is ok", handle="newbie")])
    assert all(k.customer_id != "cus_acme" for k in again.links)
    assert rt.analyzer._nlp is pipeline and rt.analyzer.builds == builds
    assert not await rt.customer_watch.check_once()


async def test_a_change_from_another_process_still_reloads_in_full(client: TestClient) -> None:
    rt = client.app[RUNTIME]
    builds = rt.analyzer.builds
    # What `crmsphere import customers` in another process does: the store's marker moves.
    await rt.store.upsert_customers([
        customer("cus_zentrix", "Zentrix Labs"),
        replace(acme_customers()[0], name="Acme Anvils & Rockets")])
    item = await pending(client, "cus_acme")
    await json_of(await client.post(f"/api/links/{item['id']}/confirm",
                                    json={"teach": "alias", "alias": "Roadrunner"}))
    assert rt.analyzer.builds == builds + 1
    (analysis,) = await rt.analyzer.analyse([
        post("9", "Zentrix Labs and Roadrunner both called", handle="x1")])
    assert {"cus_zentrix", "cus_acme"} <= {k.customer_id for k in analysis.links}
