"""Signed webhooks to a real receiver on 127.0.0.1: retries with back-off, dead letters, re-send,
claims that expire when a worker dies, and two workers sharing one outbox."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from community.deliveries import DeliveryWorker, backoff_delay
from community.routing import Router
from domain.routing import RoutableItem
from config.routing import RoutingSettings, RuleSettings, TeamSettings
from storage import Store, open_store
from tests.conftest import T0
from tests.stored import stored_delivery

SECRET = "s3cret-for-tests"
ENV = {"PRODUCT_SECRET": SECRET}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Receiver:
    """A webhook endpoint that checks signatures, fails on demand and de-duplicates by key."""

    def __init__(self, fail_first: int = 0, status: int = 500, stalled: bool = False) -> None:
        self.fail_first, self.status = fail_first, status
        #: While not set, every call hangs without an answer (a receiver that stopped
        #: answering): the sender's timeout, not a guessed delay, ends the attempt.
        self.answering = asyncio.Event()
        if not stalled:
            self.answering.set()
        self.calls = 0
        self.accepted: dict[str, dict[str, Any]] = {}
        self.attempts: Counter[str] = Counter()
        self.bad_signatures = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        stamp = request.headers["X-Crmsphere-Timestamp"]
        expected = "sha256=" + hmac.new(SECRET.encode(), stamp.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers["X-Crmsphere-Signature"]):
            self.bad_signatures += 1
            return web.Response(status=401)
        key = request.headers["Idempotency-Key"]
        self.calls += 1
        self.attempts[key] += 1
        with contextlib.suppress(TimeoutError):  # a sender with no timeout hears, late, the answer
            await asyncio.wait_for(self.answering.wait(), 10)
        if self.calls <= self.fail_first:
            return web.Response(status=self.status, text="receiver is unwell")
        self.accepted.setdefault(key, json.loads(body))  # de-duplicate by idempotency key
        return web.json_response({"ok": True})


def settings_for(url: str, **kw: Any) -> RoutingSettings:
    kw.setdefault("max_attempts", 4)
    kw.setdefault("backoff_base", 10.0)
    kw.setdefault("send_timeout", 2.0)
    return RoutingSettings(
        teams=(TeamSettings(key="product", name="Product", webhook_url=url,
                            webhook_secret_env="PRODUCT_SECRET"),),
        rules=(RuleSettings(id="all-mentions", team="product", priority="high"),), **kw)


ITEM = RoutableItem(kind="mention", id="42", text="Billing is broken", source="x",
                    customer_id="cus_acme", customer_name="Acme Anvils", segment="enterprise",
                    revenue=5_000_000)


async def _setup(aiohttp_server, store: Store, receiver: Receiver, **kw: Any):
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    server = await aiohttp_server(app)
    settings = settings_for(str(server.make_url("/hook")), **kw)
    clock = Clock()
    router = Router(store, settings, clock=clock)
    await router.start()
    return settings, clock, router


async def test_signed_webhook_arrives_after_failures(aiohttp_server, file_store: Store) -> None:
    receiver = Receiver(fail_first=2)
    settings, clock, router = await _setup(aiohttp_server, file_store, receiver)
    (routed,) = await router.on_event("mention.analysed", ITEM)
    waits: list[float] = []
    async with aiohttp.ClientSession() as http:
        worker = DeliveryWorker(file_store, http, settings, environ=ENV, clock=clock, rand=lambda: 1.0)
        for _ in range(3):
            assert await worker.run_once() == 1
            d = (await file_store.list_deliveries()).items[0]
            if d.state == "pending":
                waits.append((d.next_attempt_at - clock.now).total_seconds())
                assert await worker.run_once() == 0  # not due yet: nothing is sent early
                clock.now = d.next_attempt_at
    assert waits == [10.0, 20.0]  # doubling back-off (jitter pinned at its top)
    assert receiver.bad_signatures == 0 and receiver.calls == 3
    (key,) = receiver.accepted
    assert receiver.attempts[key] == 3  # the same idempotency key on every attempt
    body = receiver.accepted[key]
    assert body["routed_id"] == routed.id and body["item"]["customer_name"] == "Acme Anvils"
    assert body["team"] == "product" and body["priority"] == "high"
    assert body["trigger"] == "mention.analysed" and body["idempotency_key"] == key
    d = await stored_delivery(file_store, body["delivery_id"])
    assert d.state == "sent" and d.attempts == 3


async def test_receiver_down_dead_letters_with_reason_then_resend(aiohttp_server, file_store: Store) -> None:
    receiver = Receiver(fail_first=10**6, status=503)
    settings, clock, router = await _setup(aiohttp_server, file_store, receiver, max_attempts=3)
    await router.on_event("mention.analysed", ITEM)
    await router.on_event("mention.analysed", RoutableItem(kind="mention", id="43", text="x"))
    async with aiohttp.ClientSession() as http:
        worker = DeliveryWorker(file_store, http, settings, environ=ENV, clock=clock)
        for _ in range(3):
            await worker.run_once()
            clock.advance(3600)
        assert await worker.run_once() == 0
        dead = (await file_store.list_deliveries("dead")).items
        assert len(dead) == 2 and all(d.attempts == 3 for d in dead)
        assert all("attempt 3: HTTP 503" in d.last_error and "receiver is unwell" in d.last_error
                   for d in dead)
        assert receiver.calls == 6 and not receiver.accepted
        # the receiver recovers; an operator re-sends one dead letter with its original key
        receiver.fail_first = 0
        resent = await file_store.resend_delivery(dead[0].id, clock.now)
        assert await worker.run_once() == 1
    assert list(receiver.accepted) == [resent.idempotency_key]
    assert (await stored_delivery(file_store, dead[0].id)).state == "sent"
    assert (await stored_delivery(file_store, dead[1].id)).state == "dead"


async def test_timeouts_are_retried_and_4xx_dead_letters_at_once(aiohttp_server, file_store: Store) -> None:
    receiver = Receiver(fail_first=1, stalled=True)
    settings, clock, router = await _setup(aiohttp_server, file_store, receiver, send_timeout=0.1)
    await router.on_event("mention.analysed", ITEM)
    async with aiohttp.ClientSession() as http:
        worker = DeliveryWorker(file_store, http, settings, environ=ENV, clock=clock)
        await worker.run_once()
        d = (await file_store.list_deliveries()).items[0]
        assert d.state == "pending" and "no answer" in d.last_error
        receiver.fail_first, receiver.status, receiver.calls = 10, 410, 0
        receiver.answering.set()
        clock.advance(3600)
        await worker.run_once()
    d = await stored_delivery(file_store, d.id)
    assert d.state == "dead" and d.attempts == 2 and "HTTP 410" in d.last_error


async def test_missing_secret_is_reported_not_sent_unsigned(aiohttp_server, file_store: Store) -> None:
    receiver = Receiver()
    settings, clock, router = await _setup(aiohttp_server, file_store, receiver, max_attempts=1)
    await router.on_event("mention.analysed", ITEM)
    async with aiohttp.ClientSession() as http:
        await DeliveryWorker(file_store, http, settings, environ={}, clock=clock).run_once()
    (d,) = (await file_store.list_deliveries("dead")).items
    assert "PRODUCT_SECRET" in d.last_error and receiver.calls == 0


async def test_replayed_event_routes_and_delivers_once(aiohttp_server, file_store: Store) -> None:
    receiver = Receiver()
    settings, clock, router = await _setup(aiohttp_server, file_store, receiver)
    assert len(await router.on_event("mention.analysed", ITEM)) == 1
    assert await router.on_event("mention.analysed", ITEM) == []
    async with aiohttp.ClientSession() as http:
        worker = DeliveryWorker(file_store, http, settings, environ=ENV, clock=clock)
        assert await worker.run_once() == 1
        assert await worker.run_once() == 0
    assert receiver.calls == 1


async def test_worker_killed_mid_send_is_resent_with_the_same_key(aiohttp_server, file_store: Store) -> None:
    receiver = Receiver()
    settings, clock, router = await _setup(aiohttp_server, file_store, receiver, claim_timeout=60)
    await router.on_event("mention.analysed", ITEM)
    # A worker claims the delivery and dies before recording anything (as after SIGKILL).
    (lost,) = await file_store.claim_deliveries("killed", clock.now, clock.now + timedelta(seconds=60), 10)
    async with aiohttp.ClientSession() as http:
        worker = DeliveryWorker(file_store, http, settings, environ=ENV, clock=clock)
        assert await worker.run_once() == 0  # the claim still holds
        clock.advance(61)
        assert await worker.run_once() == 1
    assert list(receiver.accepted) == [lost.idempotency_key]
    assert (await stored_delivery(file_store, lost.id)).state == "sent"


async def test_two_workers_send_each_delivery_once(aiohttp_server, tmp_path: Path) -> None:
    receiver = Receiver()
    store_a = await open_store(f"sqlite:///{tmp_path / 'shared.db'}")
    store_b = await open_store(f"sqlite:///{tmp_path / 'shared.db'}")
    try:
        settings, clock, router = await _setup(aiohttp_server, store_a, receiver, batch_size=3)
        for i in range(30):
            await router.on_event("mention.analysed", RoutableItem(kind="mention", id=str(i), text="t"))
        async with aiohttp.ClientSession() as http:
            workers = [DeliveryWorker(s, http, settings, environ=ENV, clock=clock, worker_id=name)
                       for s, name in ((store_a, "a"), (store_b, "b"))]

            async def drain(worker: DeliveryWorker) -> int:
                total = 0
                while n := await worker.run_once():
                    total += n
                return total

            sent = await asyncio.gather(*(drain(w) for w in workers))
    finally:
        await store_b.close()
        await store_a.close()
    assert sum(sent) == 30 and receiver.calls == 30
    assert len(receiver.accepted) == 30 and max(receiver.attempts.values()) == 1


async def test_run_loop_sleeps_when_idle_and_stops_on_cancel(file_store: Store) -> None:
    slept: list[float] = []
    stop = asyncio.Event()

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:
            stop.set()
        await asyncio.sleep(0)

    settings = RoutingSettings(poll_interval=7.0)
    async with aiohttp.ClientSession() as http:
        task = asyncio.create_task(DeliveryWorker(file_store, http, settings, sleep=fake_sleep).run())
        await asyncio.wait_for(stop.wait(), 60)  # a bound for a worker that never sleeps only
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert slept[:2] == [7.0, 7.0]


def test_backoff_grows_caps_and_jitters() -> None:
    assert [backoff_delay(n, 10, 60, lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
    assert backoff_delay(3, 10, 60, lambda: 0.0) == 20  # at least half the delay
