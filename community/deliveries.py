"""The outbox worker: claims due deliveries, sends them, retries with back-off, dead-letters.

At-least-once: a delivery is marked sent only after the receiver accepted it; if
the worker dies mid-send the claim expires and another worker sends it again
with the same idempotency key, which receivers use to drop the duplicate.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

import aiohttp

from community.channels import SendContext, lookup
from community.deliveries_channels import DeliveryFailed
from domain.routing import Delivery
from config.routing import RoutingSettings
from domain import utcnow
from domain.retry_after import bounded_retry_after
from storage.base import Store

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class CrmSender(Protocol):
    """Sends one ``crm:<kind>`` delivery, raising ``DeliveryFailed`` (see crm.outbound)."""

    async def deliver(self, delivery: Delivery) -> None: ...


def backoff_delay(attempts: int, base: float, cap: float, rand: Callable[[], float]) -> float:
    """Seconds before attempt ``attempts + 1``: doubling from ``base`` up to ``cap``, with jitter.

    "Equal jitter": half the delay is fixed, half random, so retries of many
    deliveries to one receiver spread out but never come back too soon.
    """
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return delay / 2 + rand() * delay / 2


class DeliveryWorker:
    """Sends the outbox; several workers (in one or many processes) can share one store."""

    def __init__(
        self, store: Store, http: aiohttp.ClientSession, settings: RoutingSettings, *,
        environ: Mapping[str, str] | None = None, clock: Callable[[], datetime] = utcnow,
        sleep: Sleep = asyncio.sleep, rand: Callable[[], float] = random.random,
        worker_id: str | None = None, crm: CrmSender | None = None,
    ) -> None:
        self.store, self.http, self.settings = store, http, settings
        self.environ = os.environ if environ is None else environ
        self.clock, self.sleep, self.rand = clock, sleep, rand
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        #: sends ``crm:<kind>`` deliveries (crm.outbound.CrmOutbound), when CRM sync is on
        self.crm = crm

    async def run_once(self) -> int:
        """Claim one batch of due deliveries and attempt each; returns how many were attempted."""
        now = self.clock()
        claimed = await self.store.claim_deliveries(
            self.worker_id, now, now + timedelta(seconds=self.settings.claim_timeout),
            self.settings.batch_size)
        if claimed:
            await asyncio.gather(*(self._attempt(d) for d in claimed))
        return len(claimed)

    async def run(self) -> None:
        """Send until cancelled; sleeps ``poll_interval`` whenever nothing was due."""
        log.info("delivery worker %s started", self.worker_id)
        while True:
            try:
                attempted = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the worker's boundary: one traceback, then keep polling
                log.exception("delivery worker: claiming failed")
                attempted = 0
            if not attempted:
                await self.sleep(self.settings.poll_interval)

    async def _attempt(self, delivery: Delivery) -> None:
        assert delivery.id is not None
        try:
            await self._send(delivery)
        except DeliveryFailed as exc:
            await self._failed(delivery, exc.reason, exc.permanent, exc.retry_after)
            return
        except Exception as exc:  # a bug in one sender must not stop the others in the batch
            log.exception("delivery %s: unexpected error", delivery.id)
            await self._failed(delivery, f"{type(exc).__name__}: {exc}", False)
            return
        if await self.store.delivery_sent(delivery.id, self.worker_id, self.clock()):
            log.info("delivery %s (%s to team %s) sent on attempt %d", delivery.id,
                     delivery.channel, delivery.team_key, delivery.attempts)

    async def _send(self, delivery: Delivery) -> None:
        # ``crm:<kind>`` deliveries are the CRM's outbound calls, not a routing channel.
        if delivery.channel.startswith("crm:") and self.crm is not None:
            await self.crm.deliver(delivery)
            return
        channel = lookup(delivery.channel)
        if channel is None:
            raise DeliveryFailed(f"unknown channel {delivery.channel!r}", permanent=True)
        await channel.send(SendContext(self.http, self.environ, self.settings.smtp,
                                       self.settings.send_timeout, self.clock()), delivery)

    async def _failed(self, delivery: Delivery, reason: str, permanent: bool,
                      retry_after: float | None = None) -> None:
        assert delivery.id is not None
        error = f"attempt {delivery.attempts}: {reason}"
        if permanent or delivery.attempts >= self.settings.max_attempts:
            await self.store.delivery_failed(delivery.id, self.worker_id, error, None)
            log.warning("delivery %s (%s to team %s) dead-lettered: %s", delivery.id,
                        delivery.channel, delivery.team_key, error)
            return
        delay = backoff_delay(delivery.attempts, self.settings.backoff_base,
                              self.settings.backoff_max, self.rand)
        # The receiver's Retry-After says when, at the earliest; bounded, so that a receiver
        # asking for a year (or sending garbage that reads as a huge number) is tried again.
        wait = bounded_retry_after(retry_after, self.settings.retry_after_max)
        if wait is not None:
            delay = max(delay, wait)
        await self.store.delivery_failed(
            delivery.id, self.worker_id, error, self.clock() + timedelta(seconds=delay))
        log.info("delivery %s failed (%s); retry in %.0f s", delivery.id, error, delay)
