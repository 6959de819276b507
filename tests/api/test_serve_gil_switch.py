"""``serve`` hands the GIL between threads every half millisecond: the SQLite writer thread takes
it back after each statement, and with Python's default (5 ms) every take-back could wait that
long behind the event loop's requests."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

from api.server import GIL_SWITCH_SECONDS, serve
from tests.helpers import app_settings
from tests.serve_helpers import free_port


async def _listening(port: int) -> None:
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            await asyncio.sleep(0.1)


async def test_a_served_process_switches_threads_every_half_millisecond(tmp_path: Path) -> None:
    default = sys.getswitchinterval()
    port = free_port()
    settings = app_settings(tmp_path, overrides={"server.port": port, "server.host": "127.0.0.1"})
    served = asyncio.ensure_future(serve(settings))
    try:
        await asyncio.wait_for(_listening(port), 120)
        assert sys.getswitchinterval() == GIL_SWITCH_SECONDS <= default / 10
    finally:
        served.cancel()
        await asyncio.gather(served, return_exceptions=True)
        sys.setswitchinterval(default)
