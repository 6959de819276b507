"""Serving the app until interrupted."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from aiohttp import web

from api.app import create_app
from config.settings import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings, role: str = "all") -> None:
    """Run the web app in process ``role`` on ``settings.server`` until cancelled (Ctrl-C, SIGTERM)."""
    runner = web.AppRunner(create_app(settings, role), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.server.host, settings.server.port)
    await site.start()
    # What is loaded by now (~150k objects: modules, NLP pipeline, customer registry) lives
    # as long as the process: frozen, a full garbage collection no longer walks it (such a
    # walk paused the event loop for 100-200 ms at start-up, see bench/forum.py). A gazetteer
    # reload unfreezes, collects the replaced pipeline and freezes again (nlp.runner).
    gc.collect()
    gc.freeze()
    log.info("serving on http://%s:%d", settings.server.host, settings.server.port)
    print(f"crmsphere serving on http://{settings.server.host}:{settings.server.port}", flush=True)
    log.info("process role: %s", role)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
