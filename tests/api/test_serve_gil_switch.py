"""``serve`` hands the GIL between threads every half millisecond: the SQLite writer thread takes
it back after each statement, and with Python's default (5 ms) every take-back could wait that
long behind the event loop's requests."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from pathlib import Path

from api.server import GIL_SWITCH_SECONDS, serve
from tests.helpers import app_settings
from tests.serve_helpers import free_port


class _Serving(logging.Handler):
    """Sets ``started`` when ``serve`` says it serves (it runs on this event loop: its own
    word is awaited, not polled for)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.started = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("serving on http://"):
            self.started.set()


async def test_a_served_process_switches_threads_every_half_millisecond(tmp_path: Path) -> None:
    default = sys.getswitchinterval()
    port = free_port()
    settings = app_settings(tmp_path, overrides={"server.port": port, "server.host": "127.0.0.1"})
    serving, server_log = _Serving(), logging.getLogger("api.server")
    server_log.addHandler(serving)
    level = server_log.level
    server_log.setLevel(logging.INFO)
    served = asyncio.ensure_future(serve(settings))
    try:
        await asyncio.wait_for(serving.started.wait(), 120)
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # listening by then
        assert sys.getswitchinterval() == GIL_SWITCH_SECONDS <= default / 10
    finally:
        served.cancel()
        await asyncio.gather(served, return_exceptions=True)
        sys.setswitchinterval(default)
        server_log.removeHandler(serving)
        server_log.setLevel(level)
