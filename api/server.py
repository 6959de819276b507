"""Serving the app until interrupted."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from api.app import create_app
from config.settings import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> None:
    """Run the web app on ``settings.server`` until cancelled (Ctrl-C, SIGTERM)."""
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.server.host, settings.server.port)
    await site.start()
    log.info("serving on http://%s:%d", settings.server.host, settings.server.port)
    print(f"crmsphere serving on http://{settings.server.host}:{settings.server.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
