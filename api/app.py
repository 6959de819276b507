"""``create_app(settings)``: the aiohttp application, its resources opened in ``cleanup_ctx``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from api.errors import json_errors
from api.keys import BACKGROUND, RUNTIME, SCHEDULER, SETTINGS
from collectors.scheduler import CollectorScheduler
from api.routes import setup_routes
from api.routing import delivery_worker_ctx
from config.settings import Settings
from crmsphere.runtime import open_runtime

TEMPLATES = Path(__file__).with_name("templates")


async def _runtime_ctx(app: web.Application) -> AsyncIterator[None]:
    async with open_runtime(app[SETTINGS]) as runtime:
        app[RUNTIME] = runtime
        yield
        for task in list(app[BACKGROUND]):
            task.cancel()
        await asyncio.gather(*app[BACKGROUND], return_exceptions=True)


async def _scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    settings, runtime = app[SETTINGS], app[RUNTIME]
    runner = runtime.sources
    if not settings.scheduler.enabled or not runner.scheduled():
        yield
        return
    ttl = settings.scheduler.lease_ttl
    scheduler = CollectorScheduler(
        runner.scheduled(), runner.run_once,
        acquire_lease=lambda: runtime.store.acquire_lease("scheduler", runner.holder, ttl, time.time()),
        release_lease=lambda: runtime.store.release_lease("scheduler", runner.holder),
        lease_ttl=ttl)
    app[SCHEDULER] = scheduler
    await scheduler.start()
    yield
    await scheduler.stop()


def create_app(settings: Settings) -> web.Application:
    """The whole web application for ``settings``; the store opens when it starts."""
    app = web.Application(middlewares=[json_errors], client_max_size=2 * 1024 * 1024)
    app[SETTINGS] = settings
    app[BACKGROUND] = set()
    aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
        undefined=jinja2.StrictUndefined)
    app.cleanup_ctx.append(_runtime_ctx)
    app.cleanup_ctx.append(_scheduler_ctx)
    app.cleanup_ctx.append(delivery_worker_ctx)
    setup_routes(app)
    return app
