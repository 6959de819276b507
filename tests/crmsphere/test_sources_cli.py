"""``crmsphere sources run|list`` say when a source is degraded, and why (the fake feed host
is served from a thread: the command runs its own event loop)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from crmsphere.cli import EXIT_REJECTED, main
from tests.collectors.fake_rss import FeedHost, fixture, make_app


@pytest.fixture
def threaded_feeds() -> Iterator[FeedHost]:
    host = FeedHost()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(make_app(host))

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        host.base_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"  # type: ignore[attr-defined,union-attr]
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield host
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_run_and_list_show_a_degraded_source_with_its_reason(
        threaded_feeds: FeedHost, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    host = threaded_feeds
    host.put("/journal/feed/", fixture("rss2.xml"))
    host.put("/down.xml", b"<h1>Internal Server Error</h1>", status=500)
    feeds = ", ".join(f'"{host.url(p)}"' for p in ("/journal/feed/", "/gone.xml", "/down.xml"))
    config = tmp_path / "crmsphere.toml"
    config.write_text(f'[[sources]]\nkind = "rss"\nname = "blogs"\nfeeds = [{feeds}]\n')
    args = ["--config", str(config), "--store", f"sqlite:///{tmp_path / 'cli.db'}"]

    assert main([*args, "sources", "run", "blogs"]) == EXIT_REJECTED
    out = capsys.readouterr().out
    assert out.startswith("blogs: degraded, 3 new (2 part(s) of the source failed: ")
    assert main([*args, "sources", "list"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.split()[:4] == ["blogs", "rss", "degraded", "items=3"]
    assert line.endswith(f"2 part(s) of the source failed: {host.url('/gone.xml')}: HTTP 404 Not "
                         f"Found; {host.url('/down.xml')}: HTTP 500 Internal Server Error")
