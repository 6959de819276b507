"""Times whose text is valid ISO 8601 but whose UTC instant no ``datetime`` can hold
(``9999-12-31T23:59:59-05:00`` is in the year 10000 once in UTC; ``0001-01-01T00:00:00+01:00``
is in the year 0): refused by name where they come in, never a 500 or a stopped import.
And posts sent dated years ahead, whose mentions would fall outside every dashboard period
until then: refused by name, the rest of the batch kept.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from collectors import create_collector
from crmsphere.ingest import run_collector
from nlp.runner import Analyzer
from storage import Store
from tests.collectors.test_jsonl_import import analyzer  # noqa: F401  (the fixture: an analyzer knowing the Acme customers)
from tests.conftest import post_row, write_jsonl
from tests.helpers import signed_headers, start_app

BEYOND = ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00"]
PUSH_SECRET = "push-secret-for-the-dates"
SOURCES = """
[[sources]]
kind = "push"
name = "partner"
secret_env = "DATES_PUSH_SECRET"
"""


async def test_an_import_line_dated_beyond_the_calendar_is_named_and_the_rest_kept(
        tmp_path: Path, store: Store, analyzer: Analyzer) -> None:  # noqa: F811  (the imported fixture)
    f = write_jsonl(tmp_path / "posts.jsonl", [
        post_row(1), post_row(2, created_at=BEYOND[0]), post_row(3, created_at=BEYOND[1]), post_row(4)])
    report = await run_collector(create_collector("jsonl", "import", {"path": f}), store, analyzer)
    assert report.accepted == 2
    reasons = {r.where.rsplit(":", 1)[1]: r.reason for r in report.rejected}
    assert set(reasons) == {"2", "3"}
    assert all("created_at" in reason and "range" in reason for reason in reasons.values())
    stored = await store.mentions_after(0, 10)
    assert sorted(m.post.external_id for m in stored) == ["t3_000001", "t3_000004"]


async def test_a_pushed_post_dated_beyond_the_calendar_is_named_and_the_rest_kept(
        aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATES_PUSH_SECRET", PUSH_SECRET)
    client = await start_app(aiohttp_client, tmp_path, SOURCES)
    body = json.dumps([post_row(1), post_row(2, created_at=BEYOND[0])]).encode()
    async with client.post("/api/ingest/partner", data=body,
                           headers=signed_headers(body, PUSH_SECRET)) as resp:
        assert resp.status < 500, await resp.text()
        answer = await resp.json()
    assert answer["accepted"] == 1
    assert [r["where"] for r in answer["rejected"]] == ["posts[1]"]
    assert "created_at" in answer["rejected"][0]["reason"]


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", BEYOND)
async def test_a_listing_filter_beyond_the_calendar_is_a_400_naming_it(
        aiohttp_client: Any, tmp_path: Path, name: str, value: str) -> None:
    client = await start_app(aiohttp_client, tmp_path)
    for path in ("/api/mentions", "/api/dashboard/mentions.csv"):
        async with client.get(path, params={name: value}) as resp:
            assert resp.status == 400, (path, resp.status, await resp.text())
            error = (await resp.json())["error"]
            assert error["details"] == {"parameter": name} and "range of dates" in error["message"]


async def test_an_import_line_dated_years_ahead_is_named_and_the_rest_kept(
        tmp_path: Path, store: Store, analyzer: Analyzer) -> None:  # noqa: F811  (the imported fixture)
    # Dated then, a mention would fall outside every dashboard period until that year.
    now = datetime(2026, 12, 7, 23, 0, tzinfo=timezone.utc)
    f = write_jsonl(tmp_path / "posts.jsonl", [
        post_row(1), post_row(2, created_at="2099-01-01T00:00:00Z"),
        post_row(3, created_at="2026-12-08T13:00:00+00:00")])  # hours ahead: a zone written wrong
    collector = create_collector("jsonl", "import", {"path": f})
    collector.clock = lambda: now
    report = await run_collector(collector, store, analyzer)
    assert report.accepted == 2
    assert [(r.where.rsplit(":", 1)[1], r.reason) for r in report.rejected] == [
        ("2", "field 'created_at' is more than a day after now: 2099-01-01T00:00:00+00:00")]


async def test_a_pushed_post_dated_years_ahead_is_named_and_the_rest_kept(
        aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATES_PUSH_SECRET", PUSH_SECRET)
    client = await start_app(aiohttp_client, tmp_path, SOURCES)
    body = json.dumps([post_row(1), post_row(2, created_at="2099-01-01T00:00:00Z")]).encode()
    async with client.post("/api/ingest/partner", data=body,
                           headers=signed_headers(body, PUSH_SECRET)) as resp:
        answer = await resp.json()
    assert answer["accepted"] == 1
    assert [(r["where"], r["reason"]) for r in answer["rejected"]] == [
        ("posts[1]", "field 'created_at' is more than a day after now: 2099-01-01T00:00:00+00:00")]
