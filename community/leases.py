"""A store lease held for the length of one job, kept alive while the job runs.

A source or CRM sync run takes a lease so that two processes never run it at once.  The
lease is short and renewed every third of its life while the run goes on, so a process
that dies in the middle of a run frees it within one period instead of blocking the
source on every other process until a long expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from storage.base import Store

log = logging.getLogger(__name__)

RUN_LEASE_TTL = 30.0


class LeaseLost(RuntimeError):
    """The lease was taken over while its holder's block still ran; the block was stopped."""


@contextlib.asynccontextmanager
async def held_lease(store: Store, name: str, holder: str, ttl: float = RUN_LEASE_TTL,
                     clock: Callable[[], float] = time.time,
                     sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> AsyncIterator[bool]:
    """Yield whether ``holder`` got lease ``name``; while the block runs the lease is
    renewed (every ``ttl / 3`` seconds, waited with ``sleep``), and released when it ends.
    Not got: the block runs with ``False``.

    Should a renewal find the lease taken (the renewals were held up for a whole period and
    another process took it), the block is cancelled and ``LeaseLost`` raised in its place:
    two processes never go on running the same job.  Jobs stop safely anywhere (a source
    stores each batch with its cursor in one transaction).
    """
    if not await store.acquire_lease(name, holder, ttl, clock()):
        yield False
        return
    running = asyncio.current_task()
    lost = False

    async def keep() -> None:
        nonlocal lost
        while True:
            await sleep(ttl / 3)
            try:
                if not await store.acquire_lease(name, holder, ttl, clock()):
                    log.warning("lease %s was taken over while %s held it: stopping its run", name, holder)
                    lost = True
                    if running is not None:
                        running.cancel()
                    return
            except Exception:  # a store hiccup: try again next period
                log.exception("could not renew lease %s", name)

    keeper = asyncio.create_task(keep(), name=f"lease:{name}")
    try:
        yield True
    except asyncio.CancelledError:
        if lost and running is not None and running.uncancel() == 0:
            raise LeaseLost(f"lease {name} was taken over while {holder} held it") from None
        raise
    finally:
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        await store.release_lease(name, holder)
