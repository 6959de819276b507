"""Serve mongoeco's MongoDB wire protocol on 127.0.0.1 for the test suite.

Run under Python >= 3.13 with ``mongoeco`` installed (tests/conftest.py builds
that environment).  Prints the server's URI on one line, then serves until its
standard input closes or it receives SIGTERM, so a test run that dies never
leaves the server behind.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading


async def serve() -> None:
    """Start the wire server, announce its URI, and wait for the end of stdin or SIGTERM."""
    from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

    server = AsyncMongoEcoProxyServer(host="127.0.0.1", port=0)
    address = await server.start()
    print(address.uri, flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    # Reading stdin blocks, so a daemon thread does it; its end (parent gone) stops the server.
    threading.Thread(target=_wait_for_eof, args=(loop, stop), daemon=True).start()
    await stop.wait()
    await server.close()


def _wait_for_eof(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Block until stdin closes, then ask the loop to stop."""
    sys.stdin.read()
    loop.call_soon_threadsafe(stop.set)


if __name__ == "__main__":
    if sys.version_info < (3, 13):
        sys.exit("mongoeco needs Python >= 3.13")
    asyncio.run(serve())
