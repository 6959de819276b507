"""``crmsphere crm sync|status`` against the fake HubSpot (served from a thread: the command
runs its own event loop)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from crmsphere.cli import main
from tests.conftest import T0
from tests.crm.fake_hubspot import FakeHubSpot


@pytest.fixture
def threaded_hub() -> Iterator[FakeHubSpot]:
    hub = FakeHubSpot()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(hub.app())

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        hub.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[attr-defined,union-attr]
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield hub
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_sync_and_status(threaded_hub: FakeHubSpot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    base = int(T0.timestamp() * 1000)
    threaded_hub.add("companies", "1", base, name="Acme")
    threaded_hub.add("companies", "2", base + 1, name="Globex", annualrevenue="lots")
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "token-1")
    monkeypatch.setenv("CRMSPHERE_CRM__HUBSPOT__ENABLED", "true")
    monkeypatch.setenv("CRMSPHERE_CRM__HUBSPOT__BASE_URL", threaded_hub.url)  # type: ignore[attr-defined]
    store = ["--store", f"sqlite:///{tmp_path / 'cli.db'}"]
    assert main([*store, "crm", "sync", "--full"]) == 0
    out = capsys.readouterr().out
    assert "crm:hubspot: ok, 1 customer(s) changed" in out and "annualrevenue" in out
    assert main([*store, "crm", "status"]) == 0
    out = capsys.readouterr().out
    assert "company  records=1" in out and "crm:hubspot" in out
    assert main([*store, "crm", "sync", "--connector", "dynamics"]) == 2
    assert "no CRM connector 'dynamics'" in capsys.readouterr().err


def test_sync_fails_when_the_token_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("CRMSPHERE_CRM__HUBSPOT__ENABLED", "true")
    assert main(["--store", f"sqlite:///{tmp_path / 'cli.db'}", "crm", "sync"]) == 1
    assert "set HUBSPOT_ACCESS_TOKEN" in capsys.readouterr().out
