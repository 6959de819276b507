"""``create_app(settings)``: the aiohttp application, its resources opened in ``cleanup_ctx``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from api.compression import compression_middleware
from api.edges import quiet_client_body_errors, request_edges
from api.error_pages import error_answers
from api.host_guard import host_guard
from api.keys import BACKGROUND, PUBLIC_CACHE, RUNTIME, SCHEDULER, SETTINGS
from api.public_cache import PublicCache
from api.roles import (
    ROLE,
    check_role,
    runs_jobs_of,
    setup_role_routes,
)
from api.routes import setup_routes
from api.routing.queues import delivery_worker_ctx
from api.security_headers import setup_security_headers
from api.template_filters import add_filters
from config.settings import Settings
from crmsphere.jobs import job_names_of_role, running_jobs
from crmsphere.runtime import open_runtime

TEMPLATES = Path(__file__).with_name("templates")


async def _runtime_ctx(app: web.Application) -> AsyncIterator[None]:
    # A delivery worker needs no NLP pipeline (see api/roles.py).
    async with open_runtime(app[SETTINGS], with_nlp=app[ROLE] != "worker") as runtime:
        app[RUNTIME] = runtime
        app[PUBLIC_CACHE] = PublicCache(runtime.store.forum_stamp,
                                        app[SETTINGS].forum.public_cache_entries)
        yield
        for task in list(app[BACKGROUND]):
            task.cancel()
        await asyncio.gather(*app[BACKGROUND], return_exceptions=True)


async def _coordinator_ctx(app: web.Application) -> AsyncIterator[None]:
    """The periodic jobs of this process's role (crmsphere/jobs.py), on one coordinator."""
    async with running_jobs(app[RUNTIME], app[ROLE]) as coordinator:
        if coordinator is not None:
            app[SCHEDULER] = coordinator
        yield


def create_app(settings: Settings, role: str = "all") -> web.Application:
    """The web application for ``settings`` in process ``role`` (api/roles.py); the store opens
    when it starts."""
    # The Host check comes first: a rebound name reaches no handler and no error page.  The
    # compression next, so that it sees every answer as sent, error pages too; then the errors
    # (JSON under /api/, pages elsewhere), then ids and text held to the rules.  Four layers:
    # each is a call and a coroutine more on every request (bench/forum.py).
    app = web.Application(
        middlewares=[host_guard(settings.server), compression_middleware(), error_answers, request_edges],
        client_max_size=2 * 1024 * 1024)
    logo_origin = settings.forum.logo_origin()
    setup_security_headers(app, (logo_origin,) if logo_origin else ())
    quiet_client_body_errors()  # a body that lies about its encoding is the client's fault
    app[SETTINGS] = settings
    app[ROLE] = check_role(role)
    app[BACKGROUND] = set()
    aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
        undefined=jinja2.StrictUndefined)
    add_filters(aiohttp_jinja2.get_env(app))
    app.cleanup_ctx.append(_runtime_ctx)
    if job_names_of_role(role):
        app.cleanup_ctx.append(_coordinator_ctx)
    if runs_jobs_of(role, "worker"):
        app.cleanup_ctx.append(delivery_worker_ctx)
    if runs_jobs_of(role, "api"):
        setup_routes(app)
    else:
        setup_role_routes(app)
    return app
