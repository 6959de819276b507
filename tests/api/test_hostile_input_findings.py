"""What the hostile input sweep (``test_hostile_input_sweep.py``) found, one focused test each:
the input, what it did before, and what it does now."""

from __future__ import annotations

import gzip
import json
import logging
from urllib.parse import quote

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from tests.api.forum_helpers import token_for
from tests.api.hostile_app import drop_if_mongodb, start_seeded_app
from tests.helpers import json_of


@pytest.fixture
async def swept(aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                ) -> AsyncIterator[TestClient]:
    client = await start_seeded_app(aiohttp_client, tmp_path, monkeypatch)
    yield client
    await drop_if_mongodb(client)


async def test_a_person_id_that_is_no_store_id_is_named_not_a_500(swept) -> None:
    # The people routes take any text as {id}: int() read "-9223372036854775809", which
    # overflowed in the driver (a 500), and read "١٢" and "+1" as ids.
    headers = await token_for(swept, "admin@crm.example", role="admin")
    for raw in ("-9223372036854775809", "-1", "+1", "1_0", "abc"):
        resp = await swept.get(URL(f"/api/people/{raw}", encoded=True), headers=headers)
        assert resp.status == 400, (raw, await resp.text())
        assert "person id" in (await resp.json())["error"]["message"], raw
    resp = await swept.post(URL("/api/people/-9223372036854775809/merge", encoded=True),
                            json={"into": 1}, headers=headers)
    assert resp.status == 400, await resp.text()
    for raw in ("9" * 19, "%D9%A1"):  # past 64 bits, or digits of another script: no such person
        resp = await swept.get(URL(f"/api/people/{raw}", encoded=True), headers=headers)
        assert resp.status == 404, await resp.text()


async def test_an_id_in_digits_of_another_script_is_not_a_second_address(swept) -> None:
    # {id:\d+} matches "١" (Arabic-Indic one), which int() reads as 1: idea 1 answered there too.
    headers = await token_for(swept, "admin@crm.example", role="admin")
    idea = await json_of(await swept.post("/api/ideas", json={"title": "Dark mode for anvils",
                                                               "body": "please"}, headers=headers), 201)
    assert (await swept.get(f"/api/ideas/{idea['id']}")).status == 200
    arabic = "".join(chr(0x0660 + int(d)) for d in str(idea["id"]))
    resp = await swept.get(URL("/api/ideas/" + quote(arabic), encoded=True))
    assert resp.status == 404, await resp.text()
    assert (await resp.json())["error"]["code"] == "not_found"
    resp = await swept.get(URL(f"/forum/ideas/{quote(arabic)}", encoded=True))
    assert resp.status == 404


async def test_the_event_stream_refuses_a_start_no_store_id_can_be(swept, caplog) -> None:
    # A 30-digit ?after= was answered 200, then the stream's first read overflowed in the
    # driver and the stream ended with a logged crash; "١٢" was read as 12.
    headers = await token_for(swept, "admin@crm.example", role="admin")
    for params, sent in (({"after": "9" * 30}, {}), ({"after": "١٢"}, {}), ({"after": "-1"}, {}),
                         ({}, {"Last-Event-ID": "9" * 30}), ({"after": "1"}, {"Last-Event-ID": "-1"})):
        resp = await swept.get("/api/stream/mentions", params=params, headers={**headers, **sent})
        if resp.status != 400:
            resp.close()  # a stream that began never ends: no reading its body
            raise AssertionError(f"{params} {sent} -> {resp.status}")
        assert next(iter(sent), "after") in (await resp.json())["error"]["message"]
    resp = await swept.get("/api/stream/mentions", params={"after": "0"}, headers=headers)
    assert resp.status == 200
    resp.close()
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_sign_up_needs_the_name_the_document_says_it_needs(swept) -> None:
    # The document called name optional; a sign-up without it was a 400 all the same.
    doc = await json_of(await swept.get("/api/openapi.json"))
    assert "name" in doc["components"]["schemas"]["SignUpBody"]["required"]
    resp = await swept.post("/api/auth/signup", json={"email": "new@crm.example",
                                                      "password": "correct horse battery"})
    assert resp.status == 400
    assert (await resp.json())["error"]["details"]["field"] == "name"


async def test_a_body_not_encoded_as_its_content_encoding_says_is_a_400(swept, caplog) -> None:
    # Content-Encoding: gzip on bytes that are not gzip: the first read of the body raised in
    # aiohttp, a 500 on /api/ and on the pages, and the connection was dropped under the next
    # request sent on it.
    headers = await token_for(swept, "admin@crm.example", role="admin")
    for path, content_type in (("/api/ideas", "application/json"),
                               ("/forum/signin", "application/x-www-form-urlencoded"),
                               ("/api/ingest/partner", "application/json")):
        for encoding, body in (("gzip", b"not gzip at all"), ("deflate", b"\x00\x01 garbage")):
            resp = await swept.post(path, data=body, headers={
                **headers, "Content-Type": content_type, "Content-Encoding": encoding})
            assert resp.status == 400, (path, encoding, await resp.text())
            assert "Content-Encoding" in await resp.text()
            assert resp.headers.get("Connection", "").lower() == "close"
            # and the service answers the next request (on a new connection)
            assert (await swept.get("/healthz")).status == 200
    assert not [r for r in caplog.records if r.name == "api.errors"]
    # The client's bad body is no server error: aiohttp's report of it (it reads the rest of
    # the body after the answer, which raises again) was an ERROR with a traceback each time.
    assert not [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    told = [r.getMessage() for r in caplog.records if r.name == "aiohttp.server" and r.levelno == logging.WARNING]
    assert len(told) == 6 and all("Can not decode content-encoding" in m and "\n" not in m for m in told), told
    # a body that is what its header says is still read
    resp = await swept.post("/api/ideas", data=gzip.compress(json.dumps({
        "title": "Dark mode for anvils", "body": "please"}).encode()), headers={
            **headers, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert resp.status == 201, await resp.text()


async def test_a_saved_view_whose_filters_the_stream_would_refuse_is_refused_by_name(swept) -> None:
    # A view was kept with any text in its filters: "since": "2026-13-45" was saved (201), and
    # every opening of the view then failed on the stream's own check of the same value.
    headers = await token_for(swept, "admin@crm.example", role="admin")
    for filters, field in (({"since": "2026-13-45"}, "since"), ({"since": "9" * 30}, "since"),
                           ({"status": "nonsense"}, "status"), ({"sentiment": "²"}, "sentiment")):
        resp = await swept.post("/api/dashboard/views", json={"name": "broken", "filters": filters},
                                headers=headers)
        assert resp.status == 400, (filters, await resp.text())
        assert (await resp.json())["error"]["details"]["field"] == f"filters.{field}"
        opened = await swept.get("/api/dashboard/mentions", params=filters, headers=headers)
        assert opened.status == 400  # what the view would have met every time
    assert (await json_of(await swept.get("/api/dashboard/views", headers=headers)))["items"] == []
    kept = await swept.post("/api/dashboard/views", json={
        "name": "billing this month", "filters": {"since": "2026-05-01", "topic": "billing"}},
        headers=headers)
    assert kept.status == 201, await kept.text()


async def test_the_dashboard_listing_reads_its_cursor_and_limit(swept) -> None:
    # Found by the sweep: any cursor, "²" too, answered 200 — the listing read neither cursor nor
    # limit, so every page was the first (the dashboard's "Load more" added nothing).
    headers = await token_for(swept, "admin@crm.example", role="admin")
    first = await json_of(await swept.get("/api/dashboard/mentions", params={"limit": "1"},
                                          headers=headers))
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = await json_of(await swept.get("/api/dashboard/mentions", headers=headers, params={
        "limit": "1", "cursor": first["next_cursor"]}))
    assert [m["id"] for m in second["items"]] != [m["id"] for m in first["items"]]
    assert len(second["items"]) == 1
    for cursor in ("²", "abc", "9" * 30):
        resp = await swept.get("/api/dashboard/mentions", params={"cursor": cursor}, headers=headers)
        assert resp.status == 400, (cursor, await resp.text())
        assert "cursor" in (await resp.json())["error"]["message"]


async def test_a_5000_character_field_name_is_not_repeated_in_full_in_the_error(swept) -> None:
    # A misspelt or junk field of 5,000 characters came back whole in the 400's message and
    # details (10 kB of "field 'xxxx…' is unknown here"): now cut to 80 characters and "…".
    headers = await token_for(swept, "admin@crm.example", role="admin")
    junk = "utm_source" + "x" * 4990
    for path, body in (("/api/ideas", {"title": "Dark mode", "body": "please", junk: 1}),
                       ("/api/dashboard/views", {"name": "v", "filters": {"topic": "a"}, junk: "1"}),
                       ("/api/ideas", {"title": "Dark mode", "body": "please", junk: 2**70}),
                       ("/api/ideas", {"title": "Dark mode", "body": "please", junk + "\x00": 1})):
        resp = await swept.post(path, json=body, headers=headers)
        assert resp.status == 400, (path, await resp.text())
        error = (await resp.json())["error"]
        assert "utm_sourcexxx" in error["message"] and "…" in error["message"], error["message"]
        assert len(error["message"]) < 300, error["message"]
        assert len(error["details"]["field"]) <= 81
    resp = await swept.post(URL("/api/ingest/" + "p" * 5000, encoded=True), data=b"[]",
                            headers={"Content-Type": "application/json"})
    assert resp.status == 404
    assert len((await resp.json())["error"]["message"]) < 300


async def test_a_forum_page_number_in_digits_of_another_script_is_the_first_page(swept) -> None:
    # ?page=٢ (Arabic-Indic two) was read by int() as page 2, as were "+2" and " 2": other
    # addresses of page 2. A page number is written in ASCII digits; anything else is page 1.
    headers = await token_for(swept, "admin@crm.example", role="admin")
    for n in range(21):  # 20 ideas a page: the oldest is alone on page 2
        await json_of(await swept.post("/api/ideas", json={
            "title": f"Anvil idea {n:02d}", "body": "please"}, headers=headers), 201)
    second = await (await swept.get("/forum", params={"sort": "new", "page": "2"})).text()
    assert "Anvil idea 00" in second and "Anvil idea 20" not in second
    for raw in ("٢", "۲", "+2", " 2", "2.0", "1_1", "²"):
        resp = await swept.get("/forum", params={"sort": "new", "page": raw})
        assert resp.status == 200, raw
        shown = await resp.text()
        assert "Anvil idea 20" in shown and "Anvil idea 00" not in shown, raw
    for raw in ("02", "9" * 5000):  # leading zeros are still page 2; past the last, no page
        shown = await (await swept.get("/forum", params={"sort": "new", "page": raw})).text()
        assert ("Anvil idea 00" in shown) == (raw == "02"), raw[:10]
