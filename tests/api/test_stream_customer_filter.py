"""The stream's customer filter takes a name without JavaScript: the plain form sends the typed
name, and the page resolves it (one customer: the stream filtered by its id; several: "pick
one" with a link each; none: said so).  The filter the stream sends stays the customer's id."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient

from tests.helpers import json_of


@pytest.fixture
async def client(app_client) -> TestClient:
    return await app_client(customers=True)


def _query(location: str) -> dict[str, list[str]]:
    parts = urlsplit(location)
    assert parts.path == "/dashboard", location
    return parse_qs(parts.query)


@pytest.mark.parametrize("typed", ["Acme Anvils", "acme anvils", "  ACME   Anvils ", "Acme\tAnvils\n"])
async def test_a_name_naming_one_customer_filters_by_its_id(client: TestClient, typed: str) -> None:
    # What a browser without JavaScript sends: every field of the form, most of them empty,
    # and no id (nobody picked one).
    resp = await client.get("/dashboard", allow_redirects=False, params={
        "q": "", "source": "reddit", "customer": "", "customer_name": typed, "topic": ""})
    assert resp.status == 303
    assert _query(resp.headers["Location"]) == {"source": ["reddit"], "customer": ["cus_acme"]}
    page = await (await client.get(resp.headers["Location"])).text()
    # The box shows the name; the id travels in the hidden field the stream sends.
    assert 'name="customer" id="customer-id" value="cus_acme"' in page
    assert 'id="customer-name"' in page and 'value="Acme Anvils"' in page


async def test_a_part_of_one_name_is_enough(client: TestClient) -> None:
    resp = await client.get("/dashboard", allow_redirects=False, params={"customer_name": "rivera"})
    assert resp.status == 303 and _query(resp.headers["Location"]) == {"customer": ["cus_jo"]}


async def test_several_matches_offer_a_pick_with_the_other_filters_kept(client: TestClient) -> None:
    # "Acme" is Acme Anvils' name and Jo Rivera's company.
    resp = await client.get("/dashboard", allow_redirects=False,
                            params={"customer_name": "Acme", "topic": "billing"})
    assert resp.status == 200
    page = await resp.text()
    assert "Several customers match “Acme”: pick one." in page
    assert 'href="/dashboard?topic=billing&amp;customer=cus_acme"' in page
    assert 'href="/dashboard?topic=billing&amp;customer=cus_jo"' in page
    assert 'name="customer" id="customer-id" value=""' in page  # no filter on a guess


@pytest.mark.parametrize("typed, said", [
    ("Zyxwv Industries", "No customer matches “Zyxwv Industries”."),
    ("100%", "No customer matches “100%”."),  # LIKE's wildcards are letters here
    ("_", "No customer matches “_”."),
    ("<script>alert(1)</script>", "No customer matches “&lt;script&gt;alert(1)&lt;/script&gt;”."),
    ("A" * 5000, "A customer name is at most 200 characters."),
])
async def test_no_match_and_hostile_names_are_said_not_crashed(client: TestClient, typed: str,
                                                               said: str) -> None:
    resp = await client.get("/dashboard", allow_redirects=False, params={"customer_name": typed})
    assert resp.status == 200
    page = await resp.text()
    assert said in page and "<script>alert(1)" not in page


async def test_an_id_in_the_url_shows_its_customers_name(client: TestClient) -> None:
    page = await (await client.get("/dashboard", params={"customer": "cus_target"})).text()
    assert 'value="cus_target"' in page and 'value="Target Logistics"' in page
    unknown = await (await client.get("/dashboard", params={"customer": "cus_gone"})).text()
    assert "No customer has the id “cus_gone”." in unknown


async def test_a_picked_customer_keeps_its_id_and_a_new_name_is_resolved_again(client: TestClient) -> None:
    # The form after a pick sends both; a name changed since names another customer.
    kept = await client.get("/dashboard", allow_redirects=False,
                            params={"customer": "cus_jo", "customer_name": "Jo Rivera"})
    assert kept.status == 200 and 'value="cus_jo"' in await kept.text()
    moved = await client.get("/dashboard", allow_redirects=False,
                             params={"customer": "cus_jo", "customer_name": "Target Logistics"})
    assert moved.status == 303 and _query(moved.headers["Location"]) == {"customer": ["cus_target"]}


async def test_the_suggestions_api_is_bounded_and_finds_by_name_or_company(client: TestClient) -> None:
    body = await json_of(await client.get("/api/customers", params={"q": "acme", "limit": "8"}))
    assert {c["id"] for c in body["items"]} == {"cus_acme", "cus_jo"}
    assert (await client.get("/api/customers", params={"limit": "100000"})).status == 400


@pytest.mark.parametrize("params", [
    {"customer_name": "Acme\x00Anvils"}, {"customer": "cus_\x00acme"}, {"customer": "x" * 5000},
    {"customer_name": "\u202eslivnA emcA"}, {"customer_name": "%%%%", "customer": "cus_acme"}])
async def test_hostile_customer_filters_answer_a_page_never_a_crash(client: TestClient, params: dict) -> None:
    resp = await client.get("/dashboard", params=params, allow_redirects=False)
    assert resp.status in (200, 303), await resp.text()
    if resp.status == 200:
        assert "customer-choice" in await resp.text()
