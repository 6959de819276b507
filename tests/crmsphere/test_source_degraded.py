"""A run that raised nothing but stored nothing usable, or lost part of its source, is
``degraded`` with the reason — logged once when it starts and once when it ends."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest

from config.settings import SourceSettings
from domain import ImportReport, Rejection
from crmsphere.sources import SourceRunner, degraded_reason
from storage import open_store
from tests.collectors.fake_rss import FeedHost, fixture, make_app
from tests.collectors.fake_x import BEARER, FakeX, clone

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
async def store(tmp_path: Path):
    store = await open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield store
    await store.close()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def runner_for(store, analyzer, http, source: SourceSettings,
                     environ: dict[str, str] | None = None) -> SourceRunner:
    runner = SourceRunner(store, analyzer, [source], http=http, environ=environ or {},
                          clock=lambda: NOW)
    await runner.start()
    return runner


def degraded_logs(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "crmsphere.sources" and ("degraded" in r.getMessage()
                                                  or "recovered" in r.getMessage())]


async def test_feeds_failing_in_a_multi_feed_source_make_it_degraded_and_say_which(
        aiohttp_server, store, analyzer, http, caplog) -> None:
    host = FeedHost()
    server = await aiohttp_server(make_app(host))
    host.base_url = str(server.make_url("/"))
    host.put("/journal/feed/", fixture("rss2.xml"))
    host.put("/down.xml", b"<h1>Internal Server Error</h1>", status=500)
    host.put("/status.html", b"<html><head><title>Status</title></head><body>All good</body></html>",
             content_type="text/html; charset=utf-8")
    feeds = ["/journal/feed/", "/missing.xml", "/down.xml", "/status.html"]
    source = SourceSettings(kind="rss", name="blogs", interval=60,
                            feeds=[host.url(p) for p in feeds])
    runner = await runner_for(store, analyzer, http, source)
    caplog.set_level(logging.INFO, logger="crmsphere.sources")

    health = await runner.run_once("blogs")
    assert (health.state, health.last_items, health.total_items) == ("degraded", 3, 3)
    assert health.error == (
        f"3 part(s) of the source failed: {host.url('/missing.xml')}: HTTP 404 Not Found; "
        f"{host.url('/down.xml')}: HTTP 500 Internal Server Error; "
        f"{host.url('/status.html')}: not an RSS or Atom feed: text/html; charset=utf-8 is not an "
        "XML media type")
    assert health.error_since == NOW and health.last_success_at == NOW
    assert health.next_attempt_at is None  # no back-off: the good feed goes on being read
    assert (await store.get_source_health("blogs")) == health

    again = await runner.run_once("blogs", force=True)
    assert again.state == "degraded" and again.last_items == 0
    assert len(degraded_logs(caplog)) == 1  # once when it started, not every poll

    host.put("/missing.xml", fixture("atom.xml"), content_type="application/atom+xml")
    host.put("/down.xml", fixture("no_dates.xml"))
    host.put("/status.html", fixture("atom_no_updated.xml"), content_type="application/atom+xml")
    fixed = await runner.run_once("blogs", force=True)
    assert (fixed.state, fixed.error, fixed.error_since, fixed.last_items) == ("ok", None, None, 6)
    assert degraded_logs(caplog)[1:] == ["source blogs recovered: no longer degraded"]


async def test_a_search_whose_every_tweet_is_rejected_is_degraded_not_ok(
        aiohttp_server, store, analyzer, http) -> None:
    fake = FakeX()
    server = await aiohttp_server(fake.app())
    newest = fake.newest_first()[0]
    for i in range(5):
        fake.add(clone(newest, 60 + i, f"Nimbus tweet number {i}", seq=i))
    # X leaves the authors of suspended accounts out of includes.users.
    fake.users.clear()
    source = SourceSettings(kind="x", name="nimbus", interval=60,
                            base_url=str(server.make_url("")).rstrip("/"), queries=["nimbus"],
                            bearer_token_env="X_BEARER_TOKEN")
    runner = await runner_for(store, analyzer, http, source, {"X_BEARER_TOKEN": BEARER})
    health = await runner.run_once("nimbus")
    assert (health.state, health.last_items) == ("degraded", 0)
    assert health.error.startswith("nothing stored: all 12 item(s) rejected, e.g. x:search:nimbus:")
    assert health.error.endswith("missing from includes.users")
    assert health.last_success_at is None


@pytest.mark.parametrize("report, reason", [
    (ImportReport(), None),  # nothing new: fine
    (ImportReport(duplicates=4), None),
    (ImportReport(accepted=2, rejected=[Rejection("x:q:1", "empty text")]), None),
    (ImportReport(rejected=[Rejection("x:q:1", "empty text")] * 12),
     "nothing stored: all 12 item(s) rejected, e.g. x:q:1: empty text"),
    (ImportReport(accepted=5, failed=[Rejection(f"https://f.example/{i}", "HTTP 404 Not Found")
                                      for i in range(5)]),
     "5 part(s) of the source failed: https://f.example/0: HTTP 404 Not Found; "
     "https://f.example/1: HTTP 404 Not Found; https://f.example/2: HTTP 404 Not Found "
     "(and 2 more)"),
])
def test_what_degraded_means(report: ImportReport, reason: str | None) -> None:
    assert degraded_reason(report) == reason
