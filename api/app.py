"""``create_app(settings)``: the aiohttp application, its resources opened in ``cleanup_ctx``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from api.errors import json_errors
from api.keys import RUNTIME, SETTINGS
from api.routes import setup_routes
from config.settings import Settings
from crmsphere.runtime import open_runtime

TEMPLATES = Path(__file__).with_name("templates")


async def _runtime_ctx(app: web.Application) -> AsyncIterator[None]:
    async with open_runtime(app[SETTINGS]) as runtime:
        app[RUNTIME] = runtime
        yield


def create_app(settings: Settings) -> web.Application:
    """The whole web application for ``settings``; the store opens when it starts."""
    app = web.Application(middlewares=[json_errors], client_max_size=2 * 1024 * 1024)
    app[SETTINGS] = settings
    aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
        undefined=jinja2.StrictUndefined)
    app.cleanup_ctx.append(_runtime_ctx)
    setup_routes(app)
    return app
