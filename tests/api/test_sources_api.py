"""Source health and control, and signed push ingest, over HTTP."""

from __future__ import annotations

import asyncio
import json
import time

import jsonschema
import pytest
from aiohttp.test_utils import TestClient

import tests.scripted_source  # noqa: F401  (registers the "scripted" kind)
from tests.conftest import post_row
from api.keys import BACKGROUND, RUNTIME
from tests.helpers import signed_headers
from tests.scripted_source import SCRIPTS

SECRET = "s3cret-for-tests"

SOURCES = """
[[sources]]
kind = "push"
name = "partner"
secret_env = "TEST_PUSH_SECRET"
[[sources]]
kind = "push"
name = "nosecret"
secret_env = "TEST_UNSET_SECRET"
[[sources]]
kind = "scripted"
name = "feed"
interval = 60
"""


@pytest.fixture
async def client(app_client, monkeypatch) -> TestClient:
    monkeypatch.setenv("TEST_PUSH_SECRET", SECRET)
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    SCRIPTS.clear()
    return await app_client(SOURCES)


def signed(body: bytes, ts: float | None = None, secret: str = SECRET) -> dict[str, str]:
    return signed_headers(body, secret, ts)


async def test_signed_batch_is_stored_and_bad_items_named(client: TestClient) -> None:
    body = json.dumps({"posts": [post_row(1), {"source": "x"}, post_row(2), "nope"]}).encode()
    resp = await client.post("/api/ingest/partner", data=body, headers=signed(body))
    assert resp.status == 202
    result = await resp.json()
    assert (result["accepted"], result["duplicates"]) == (2, 0)
    assert [r["where"] for r in result["rejected"]] == ["posts[1]", "posts[3]"]
    assert "author" in result["rejected"][0]["reason"]
    listed = await (await client.get("/api/mentions")).json()
    assert len(listed["items"]) == 2
    # Pushed posts keep the push that stored them, not a reading source of their platform.
    stored = [await client.app[RUNTIME].store.get_mention(m["id"]) for m in listed["items"]]
    assert {m.source_key for m in stored} == {"push:partner"}
    # The same posts again, freshly signed: nothing new.
    body2 = json.dumps([post_row(1), post_row(2)]).encode()
    again = await (await client.post("/api/ingest/partner", data=body2, headers=signed(body2, time.time() + 1))).json()
    assert (again["accepted"], again["duplicates"]) == (0, 2)


@pytest.mark.parametrize("mutate, message", [
    (lambda body, h: {**h, "X-Crmsphere-Signature": "sha256=" + "0" * 64}, "does not match"),
    (lambda body, h: signed(body, time.time() - 301), "5 minutes"),
    (lambda body, h: signed(body, secret="wrong"), "does not match"),
    (lambda body, h: {"Content-Type": "application/json"}, "missing"),
    (lambda body, h: {**h, "X-Crmsphere-Timestamp": "soon"}, "not a number"),
])
async def test_unsigned_stale_or_forged_requests_are_refused(client: TestClient, mutate, message) -> None:
    body = json.dumps([post_row(1)]).encode()
    resp = await client.post("/api/ingest/partner", data=body, headers=mutate(body, signed(body)))
    assert resp.status == 401
    assert message in (await resp.json())["error"]["message"]
    assert (await (await client.get("/healthz")).json())["counts"]["mentions"] == 0


async def test_exact_replay_is_refused(client: TestClient) -> None:
    body = json.dumps([post_row(1)]).encode()
    headers = signed(body)
    assert (await client.post("/api/ingest/partner", data=body, headers=headers)).status == 202
    replay = await client.post("/api/ingest/partner", data=body, headers=headers)
    assert replay.status == 401 and "already received" in (await replay.json())["error"]["message"]


async def test_bad_bodies_and_unknown_sources(client: TestClient) -> None:
    for body in (b"{not json", b'{"posts": 5}'):
        resp = await client.post("/api/ingest/partner", data=body, headers=signed(body))
        assert resp.status == 400
    assert (await client.post("/api/ingest/feed", data=b"[]", headers=signed(b"[]"))).status == 404
    assert (await client.post("/api/ingest/nosecret", data=b"[]", headers=signed(b"[]"))).status == 404
    big = b"[" + b" " * (3 * 1024 * 1024) + b"]"
    resp = await client.post("/api/ingest/partner", data=big, headers=signed(big))
    assert resp.status == 413 and (await resp.json())["error"]["code"] == "too_large"


async def test_sources_health_and_control(client: TestClient, monkeypatch) -> None:
    from tests.conftest import post

    SCRIPTS["feed"] = [[post("1"), post("2")]]
    listed = await (await client.get("/api/sources")).json()
    by_name = {s["key"]: s for s in listed["items"]}
    assert set(by_name) == {"partner", "nosecret", "feed"}
    assert by_name["nosecret"]["state"] == "not_configured" and "secret" in by_name["nosecret"]["problem"]
    assert by_name["feed"]["interval"] == 60

    resp = await client.post("/api/sources/feed/pause")
    assert resp.status == 200 and (await resp.json())["paused"] is True
    await client.post("/api/sources/feed/resume")
    assert (await client.post("/api/sources/feed/run")).status == 202
    # The run goes on after the answer, as a task of the app: await it rather than poll.
    await asyncio.gather(*client.app[BACKGROUND])
    feed = next(s for s in (await (await client.get("/api/sources")).json())["items"] if s["key"] == "feed")
    assert feed["state"] == "ok" and feed["total_items"] == 2
    assert (await client.post("/api/sources/nothing/run")).status == 404

    monkeypatch.setenv("CRMSPHERE_ADMIN_TOKEN", "tok")
    assert (await client.post("/api/sources/feed/pause")).status == 401
    ok = await client.post("/api/sources/feed/pause", headers={"Authorization": "Bearer tok"})
    assert ok.status == 200


async def test_each_push_is_the_push_sources_run_in_its_health(client: TestClient) -> None:
    async def partner() -> dict:
        listed = await (await client.get("/api/sources")).json()
        return next(s for s in listed["items"] if s["key"] == "partner")

    assert (await partner())["state"] == "never_run"
    body = json.dumps({"posts": [post_row(1), post_row(2)]}).encode()
    assert (await client.post("/api/ingest/partner", data=body, headers=signed(body))).status == 202
    health = await partner()
    assert (health["state"], health["last_items"], health["total_items"]) == ("ok", 2, 2)
    assert health["last_run_at"] and health["error"] is None

    # A sender that changed its format: every post named, nothing stored.
    rows = [{**post_row(i), "author": None, "user": {"screen_name": f"user{i}"}} for i in (3, 4, 5)]
    body = json.dumps(rows).encode()
    resp = await client.post("/api/ingest/partner", data=body, headers=signed(body, time.time() + 1))
    assert (await resp.json())["accepted"] == 0
    health = await partner()
    assert (health["state"], health["last_items"], health["total_items"]) == ("degraded", 0, 2)
    assert health["error"] == ("nothing stored: all 3 item(s) rejected, e.g. posts[0]: "
                               "field 'author' must be an object with a 'handle'")

    # The answer, degraded source and all, is the one the OpenAPI document describes.
    doc = await (await client.get("/api/openapi.json")).json()
    listing = doc["paths"]["/api/sources"]["get"]["responses"]["200"]["content"]["application/json"]
    jsonschema.validate(await (await client.get("/api/sources")).json(),
                        {**listing["schema"], "components": doc["components"]})
    assert "degraded" in doc["components"]["schemas"]["SourceHealth"]["properties"]["state"]["enum"]

    body = json.dumps([post_row(6)]).encode()
    await client.post("/api/ingest/partner", data=body, headers=signed(body, time.time() + 2))
    health = await partner()
    assert (health["state"], health["total_items"], health["error"]) == ("ok", 3, None)


async def test_a_batch_with_truncated_emoji_and_nul_keeps_every_post(client: TestClient) -> None:
    """A lone surrogate (an emoji cut in half) or a NUL in a pushed post is repaired to U+FFFD;
    the good posts of the batch are stored with it."""
    rows = [post_row(1), post_row(2, text="Nimbus dark mode is here \ud83d"),
            post_row(3, author={"handle": "jo\x00r", "name": "Jo \udc4d"}), post_row(4)]
    body = json.dumps({"posts": rows}).encode()  # json writes the lone halves as \ud83d escapes
    assert b"\\ud83d" in body
    resp = await client.post("/api/ingest/partner", data=body, headers=signed(body))
    result = await resp.json()
    assert resp.status == 202, result
    assert (result["accepted"], result["rejected"]) == (4, [])
    listed = {m["external_id"]: m for m in (await (await client.get("/api/mentions")).json())["items"]}
    assert listed["t3_000002"]["text"] == "Nimbus dark mode is here \ufffd"
    assert listed["t3_000003"]["author"]["handle"] == "jo\ufffdr"
    assert listed["t3_000003"]["author"]["name"] == "Jo \ufffd"


async def test_an_engagement_count_beyond_64_bits_drops_only_that_post(client: TestClient) -> None:
    rows = [post_row(1), post_row(2, engagement={"likes": 2**64}), post_row(3)]
    body = json.dumps(rows).encode()
    result = await (await client.post("/api/ingest/partner", data=body, headers=signed(body))).json()
    assert result["accepted"] == 2
    assert [r["where"] for r in result["rejected"]] == ["posts[1]"]
    assert "engagement" in result["rejected"][0]["reason"]
