"""The source coordinator: health, back-off, logging once, pause, leases."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from config.settings import SourceSettings
from domain.errors import AuthFailed, ConfigError, SourceUnavailable
from crmsphere.sources import SourceRunner
from nlp.runner import Analyzer
from storage import Store
from tests.conftest import post
from tests.scripted_source import RUNS, SCRIPTS


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def analyzer():
    a = Analyzer()
    await a.start([])
    yield a
    await a.close()


def source(name: str, **kw) -> SourceSettings:
    return SourceSettings(kind="scripted", name=name, interval=60, **kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True)
def reset_scripts():
    SCRIPTS.clear()
    RUNS.clear()


async def runner_for(store, analyzer, clock, *sources, holder="A") -> SourceRunner:
    r = SourceRunner(store, analyzer, list(sources), environ={}, clock=clock, holder=holder)
    await r.start()
    return r


async def test_successful_run_stores_posts_and_health(store: Store, analyzer, clock) -> None:
    SCRIPTS["s1"] = [[post("1"), post("2")], [post("2"), post("3")]]
    runner = await runner_for(store, analyzer, clock, source("s1"))
    h = await runner.run_once("s1")
    assert (h.state, h.last_items, h.total_items, h.rate_limit_remaining) == ("ok", 2, 2, 99)
    h = await runner.run_once("s1")
    assert (h.last_items, h.total_items) == (1, 3)
    assert await store.get_cursor("s1") == {"n": 4}
    assert (await store.get_source_health("s1")) == h


async def test_failure_backs_off_logs_once_and_recovery_logs_once(
        store: Store, analyzer, clock, caplog) -> None:
    SCRIPTS["s1"] = [SourceUnavailable("503 from source"), SourceUnavailable("503 again"), [post("1")]]
    SCRIPTS["s2"] = [[post("2")]]
    runner = await runner_for(store, analyzer, clock, source("s1"), source("s2"))
    caplog.set_level(logging.INFO, logger="crmsphere.sources")
    h = await runner.run_once("s1")
    assert (h.state, h.failures, h.error) == ("failing", 1, "503 from source")
    assert h.next_attempt_at == clock.now + timedelta(seconds=60)
    assert (await runner.run_once("s2")).state == "ok"  # the others go on
    clock.advance(30)
    assert (await runner.run_once("s1")).failures == 1  # still backing off: not run
    clock.advance(31)
    h = await runner.run_once("s1")
    assert (h.failures, h.error_since) == (2, clock.now - timedelta(seconds=61))
    assert h.next_attempt_at == clock.now + timedelta(seconds=120)  # doubled
    clock.advance(121)
    h = await runner.run_once("s1")
    assert (h.state, h.failures, h.error, h.total_items) == ("ok", 0, None, 1)
    messages = [r.getMessage() for r in caplog.records if "s1" in r.getMessage()]
    assert len([m for m in messages if "failing" in m]) == 1
    assert len([m for m in messages if "recovered" in m]) == 1
    assert RUNS["s1"] == ["", "", ""]


async def test_retry_after_from_the_source_is_honoured(store: Store, analyzer, clock) -> None:
    SCRIPTS["s1"] = [SourceUnavailable("429", retry_after=900), [post("1")]]
    runner = await runner_for(store, analyzer, clock, source("s1"))
    h = await runner.run_once("s1")
    assert h.next_attempt_at == clock.now + timedelta(seconds=900)


async def test_auth_failure_disables_until_resumed(store: Store, analyzer, clock) -> None:
    SCRIPTS["s1"] = [AuthFailed("401 bad token"), [post("1")]]
    runner = await runner_for(store, analyzer, clock, source("s1"))
    assert (await runner.run_once("s1")).state == "auth_failed"
    clock.advance(10_000)
    assert (await runner.run_once("s1")).state == "auth_failed"
    assert len(RUNS["s1"]) == 1
    await runner.set_paused("s1", False)
    assert (await runner.run_once("s1")).state == "ok"


async def test_unexpected_error_is_contained(store: Store, analyzer, clock) -> None:
    SCRIPTS["s1"] = [ValueError("parser blew up")]
    runner = await runner_for(store, analyzer, clock, source("s1"))
    h = await runner.run_once("s1")
    assert h.state == "failing" and "ValueError: parser blew up" in h.error


async def test_paused_source_is_skipped(store: Store, analyzer, clock) -> None:
    SCRIPTS["s1"] = [[post("1")]]
    runner = await runner_for(store, analyzer, clock, source("s1"))
    await runner.set_paused("s1", True)
    assert (await runner.run_once("s1", force=True)).paused
    assert "s1" not in RUNS
    await runner.set_paused("s1", False)
    assert (await runner.run_once("s1")).total_items == 1


async def test_not_configured_and_disabled_sources_are_left_out(store: Store, analyzer, clock) -> None:
    runner = await runner_for(store, analyzer, clock, source("bad", broken=True),
                              source("off", enabled=False), source("good"))
    assert [n for n, _ in runner.scheduled()] == ["good"]
    assert "broken" in runner.problems["bad"]
    assert (await runner.health("bad")).state == "not_configured"


async def test_a_source_running_elsewhere_is_not_run_twice(store: Store, analyzer, clock) -> None:
    SCRIPTS["s1"] = [[post("1")]]
    a = await runner_for(store, analyzer, clock, source("s1"), holder="A")
    b = await runner_for(store, analyzer, clock, source("s1"), holder="B")
    assert await store.acquire_lease("source:s1", "A", 900, clock.now.timestamp())
    assert (await b.run_once("s1")).state == "never_run"
    await store.release_lease("source:s1", "A")
    assert (await b.run_once("s1")).state == "ok"
    assert (await a.health("s1")).total_items == 1


def test_unknown_kind_is_a_config_error(store: Store) -> None:
    with pytest.raises(ConfigError) as info:
        SourceRunner(store, Analyzer(), [SourceSettings(kind="myspace", name="m")], environ={})
    assert info.value.key == "sources[0].kind"
