"""The one health state machine of sources and CRM connectors, on its own."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from domain import SourceHealth
from domain.health import auth_refused, completed, failed, is_due, with_paused

NOW = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
log = logging.getLogger("test.health")


def test_failures_back_off_doubling_up_to_an_hour_and_log_once(caplog: pytest.LogCaptureFixture) -> None:
    health = SourceHealth("rss:blog", "rss")
    waits = []
    with caplog.at_level(logging.INFO, logger="test.health"):
        for _ in range(8):
            health = failed(health, NOW, "HTTP 503", interval=600, retry_after=None, label="source rss:blog", log=log)
            waits.append((health.next_attempt_at - NOW).total_seconds())
    assert waits == [600, 1200, 2400, 3600, 3600, 3600, 3600, 3600]
    assert health.failures == 8 and health.error_since == NOW
    assert [r.getMessage() for r in caplog.records] == [
        "source rss:blog failing (will retry with back-off): HTTP 503"]
    assert not is_due(health, NOW) and is_due(health, NOW, force=True)
    assert is_due(health, NOW + timedelta(hours=1))


def test_the_services_own_retry_after_wins_over_the_back_off() -> None:
    health = failed(SourceHealth("x:brand", "x"), NOW, "429", interval=60, retry_after=900,
                    label="source x:brand", log=log)
    assert health.next_attempt_at == NOW + timedelta(seconds=900)


def test_refused_credentials_wait_for_a_person_and_resuming_retries(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="test.health"):
        health = auth_refused(SourceHealth("crm:hubspot", "crm"), NOW, "401", label="crm hubspot", log=log)
        health = auth_refused(health, NOW, "401", label="crm hubspot", log=log)
    assert health.state == "auth_failed" and health.error == "authentication failed: 401"
    assert len(caplog.records) == 1
    assert not is_due(health, NOW + timedelta(days=1)) and is_due(health, NOW, force=True)
    resumed = with_paused(health, False)
    assert resumed.state == "failing" and is_due(resumed, NOW)
    assert not is_due(with_paused(resumed, True), NOW, force=True)  # paused: not even forced


def test_recovery_and_degraded_runs(caplog: pytest.LogCaptureFixture) -> None:
    broken = failed(SourceHealth("rss:blog", "rss"), NOW, "HTTP 503", interval=600, retry_after=None,
                    label="source rss:blog", log=log)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="test.health"):
        half = completed(broken, NOW, items=0, finished_at=NOW, degraded="1 part(s) failed",
                         label="source rss:blog", log=log)
        ok = completed(half, NOW, items=5, finished_at=NOW, notes=["page cap reached"],
                       label="source rss:blog", log=log)
    assert half.state == "degraded" and half.last_success_at is None and half.failures == 0
    assert ok.state == "ok" and ok.error == "page cap reached" and ok.total_items == 5
    assert ok.last_success_at == NOW and ok.error_since is None
    assert [r.getMessage() for r in caplog.records] == [
        "source rss:blog degraded: 1 part(s) failed", "source rss:blog recovered: no longer degraded"]
