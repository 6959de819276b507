"""Run leases: renewed while a run goes on, freed soon after a holder dies mid-run."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from community.leases import held_lease
from storage.base import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_lease_is_renewed_while_the_run_goes_on_and_released_after(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    renewed = asyncio.Event()
    acquire = store.acquire_lease

    async def noting_renewals(name: str, holder: str, ttl: float, now: float) -> bool:
        got = await acquire(name, holder, ttl, now)
        if holder == "A" and now > 1_000_000.0:  # a renewal from the moved clock, not the start
            renewed.set()
        return got

    monkeypatch.setattr(store, "acquire_lease", noting_renewals)
    async with held_lease(store, "source:s", "A", ttl=0.6, clock=clock) as held:
        assert held
        clock.now += 0.5  # most of a period passes; the keeper renews from "now" (every 0.2 s)
        await asyncio.wait_for(renewed.wait(), 10)  # the keeper's renewal, however slow the machine
        clock.now += 0.4  # past the first expiry, within a renewed one
        assert not await store.acquire_lease("source:s", "B", 0.6, clock.now)
    assert await store.acquire_lease("source:s", "B", 0.6, clock.now)


async def test_a_holder_that_died_mid_run_frees_the_lease_after_one_period(store: Store) -> None:
    clock = Clock()
    dead = held_lease(store, "source:s", "A", ttl=30, clock=clock)
    assert await dead.__aenter__()  # the process dies inside the run: never exits
    async with held_lease(store, "source:s", "B", clock=clock) as held:
        assert not held
    clock.now += 31
    async with held_lease(store, "source:s", "B", clock=clock) as held:
        assert held
        await dead.__aexit__(None, None, None)  # A's late end: B's lease is not A's to release
        assert not await store.acquire_lease("source:s", "C", 30, clock.now)


async def test_a_run_whose_lease_was_taken_over_is_stopped(store: Store) -> None:
    from community.leases import LeaseLost

    clock = Clock()
    steps = []

    async def run() -> None:
        async with held_lease(store, "source:s", "A", ttl=0.3, clock=clock) as held:
            assert held
            clock.now += 1  # renewals held up past the TTL: B takes the lease ...
            assert await store.acquire_lease("source:s", "B", 30, clock.now)
            steps.append("running")
            # ... and A's run, however long, must not go on beside B's: the keeper's next
            # renewal (0.1 s) stops it; a run left alone would go on after this wait.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.Event().wait(), 10)
            steps.append("went on")

    with pytest.raises(LeaseLost):
        await run()
    assert steps == ["running"]
    assert not await store.acquire_lease("source:s", "C", 30, clock.now)  # B still holds it
