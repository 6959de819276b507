"""Handshakes with a connection's thread for the tests that make a race happen on purpose:
they know the thread is inside a call, or that a caller is queued, instead of sleeping and
hoping 50 ms were enough on a loaded machine."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable


class BusyCall:
    """A call that holds a connection's thread until ``release``; ``inside`` returns once the
    thread has started it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()

    def __call__(self, _conn: sqlite3.Connection) -> bool:
        self.entered.set()
        return self.gate.wait(10)

    async def inside(self) -> None:
        """Once the thread runs the call (waited for on another thread, not the loop)."""
        assert await asyncio.to_thread(self.entered.wait, 10), "the thread never started the call"

    def release(self) -> None:
        """Let the call end."""
        self.gate.set()


async def loop_turns_until(condition: Callable[[], bool], turns: int = 10_000) -> None:
    """Give the event loop's other tasks turns until ``condition()`` holds: for steps that run
    on the loop alone (a task reaching the writer's queue), so no time is waited for."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"condition not met after {turns} turns of the event loop")
