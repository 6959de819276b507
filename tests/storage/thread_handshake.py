"""Handshakes with a connection's thread for the tests that make a race happen on purpose:
they know the thread is inside a call, or that a caller is queued, instead of sleeping and
hoping 50 ms were enough on a loaded machine."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
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


async def loop_turns_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Give the event loop's other tasks turns until ``condition()`` holds: for steps that run
    on the loop (a task reaching the writer's queue), so no guessed time is slept; ``timeout``
    only bounds a failure (a step that never comes)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met: the awaited step never came"
        await asyncio.sleep(0)
