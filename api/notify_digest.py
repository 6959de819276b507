"""The daily-digest job of a serving process: every ``notify.digest_check_seconds`` the
process that leads (holds the collector scheduler's lease, or — with no scheduler running —
a lease of its own) queues the digests that are due."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web

from api.keys import RUNTIME, SCHEDULER, SETTINGS
from community.digest import DailyDigest

log = logging.getLogger(__name__)

DIGEST_LEASE = "digest"


async def _leads(app: web.Application, ttl: float) -> bool:
    if SCHEDULER in app:
        return app[SCHEDULER].is_leader
    runtime = app[RUNTIME]
    return await runtime.store.acquire_lease(DIGEST_LEASE, runtime.sources.holder, ttl, time.time())


async def _digest_loop(app: web.Application, every: float) -> None:
    runtime = app[RUNTIME]
    assert runtime.notifier is not None
    digest = DailyDigest(runtime.store, app[SETTINGS].notify, runtime.notifier.base_url)
    while True:
        try:
            if await _leads(app, every * 3):
                await digest.run()
        except Exception:  # the job boundary: log, try again next period
            log.exception("daily digest run failed")
        await asyncio.sleep(every)


async def digest_job_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the digest job while the app serves (``notify.digest_check_seconds`` 0: never)."""
    every = app[SETTINGS].notify.digest_check_seconds
    if not every or app[RUNTIME].notifier is None:
        yield
        return
    task = asyncio.create_task(_digest_loop(app, every), name="daily-digest")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
