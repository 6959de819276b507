"""Run leases: renewed while a run goes on, freed soon after a holder dies mid-run."""

from __future__ import annotations

import asyncio

import pytest

from community.leases import held_lease
from storage.base import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Periods:
    """The renewal's ``sleep``: records what it was asked to wait and, when the test lets a
    period pass, moves the clock by exactly that much (no real time goes by)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.asked: list[float] = []
        self._passing: asyncio.Queue[None] = asyncio.Queue()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await self._passing.get()
        self.clock.now += seconds

    def let_one_pass(self) -> None:
        self._passing.put_nowait(None)


def noting_renewals(store: Store, monkeypatch: pytest.MonkeyPatch) -> asyncio.Queue[tuple[str, float]]:
    """Each lease taken or renewed on ``store``, as (holder, time), in order."""
    seen: asyncio.Queue[tuple[str, float]] = asyncio.Queue()
    acquire = store.acquire_lease

    async def noting(name: str, holder: str, ttl: float, now: float) -> bool:
        got = await acquire(name, holder, ttl, now)
        seen.put_nowait((holder, now))
        return got

    monkeypatch.setattr(store, "acquire_lease", noting)
    return seen


async def test_lease_is_renewed_every_third_of_its_life_and_released_after(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    start = clock.now
    periods = Periods(clock)
    seen = noting_renewals(store, monkeypatch)
    async with held_lease(store, "source:s", "A", ttl=30, clock=clock, sleep=periods) as held:
        assert held
        assert await seen.get() == ("A", start)  # taken
        for n in (1, 2, 3, 4):
            periods.let_one_pass()
            # the keeper's renewal, however slow the machine (no time limit of ours)
            assert await seen.get() == ("A", start + 10 * n)
        assert periods.asked[:4] == [10.0, 10.0, 10.0, 10.0]  # a third of the 30 s life
        # 40 s on, long past the first expiry (30 s): still A's, renewed at 40 until 70.
        assert not await store.acquire_lease("source:s", "B", 30, clock.now + 29)
    # released at once when the run ends, not when it would have expired
    assert await store.acquire_lease("source:s", "B", 30, clock.now)


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
    periods = Periods(clock)
    steps = []

    async def run() -> None:
        async with held_lease(store, "source:s", "A", ttl=30, clock=clock, sleep=periods) as held:
            assert held
            clock.now += 31  # renewals held up past the TTL: B takes the lease ...
            assert await store.acquire_lease("source:s", "B", 30, clock.now)
            steps.append("running")
            # ... and A's run, however long, must not go on beside B's: the keeper's next
            # renewal stops it; a run left alone would go on waiting here for ever.
            periods.let_one_pass()
            await asyncio.Event().wait()
            steps.append("went on")

    with pytest.raises(LeaseLost):
        await asyncio.wait_for(run(), 60)  # a bound for a broken keeper only, never reached
    assert steps == ["running"]
    assert not await store.acquire_lease("source:s", "C", 30, clock.now)  # B still holds it
