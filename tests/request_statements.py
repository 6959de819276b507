"""What a request itself ran on a SQLite connection, apart from the app's background work.

A test app runs its event consumers (routing, notices, live feed, CRM), its periodic jobs and
the coordinator's lease beside the requests a test makes: their reads and writes go to the
same reader and writer connections, at moments the test does not choose (a loaded machine
moves them into the request's window).  Counting every statement traced on a connection, or
every call handed to it, counts theirs too.  The functions here attribute each call to the asyncio
task that made it and keep only the calls of aiohttp's request-handling tasks.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

#: The coroutine aiohttp runs each request in (a task of its own, aiohttp.web_protocol).
REQUEST_COROUTINE = "RequestHandler._handle_request"


def serves_a_request(task: asyncio.Task[Any] | None) -> bool:
    """Whether ``task`` is the task aiohttp handles one request in."""
    return task is not None and task.get_coro().__qualname__ == REQUEST_COROUTINE  # type: ignore[union-attr]


def _traced(fn: Callable[[sqlite3.Connection], Any], into: list[str]) -> Callable[[sqlite3.Connection], Any]:
    def call(conn: sqlite3.Connection) -> Any:
        # The connection runs one call at a time (its thread, or inline on the loop when the
        # thread is idle), so what is traced here is this call's alone.
        conn.set_trace_callback(into.append)
        try:
            return fn(conn)
        finally:
            conn.set_trace_callback(None)

    return call


@asynccontextmanager
async def request_statements(connection: Any) -> AsyncIterator[list[list[str]]]:
    """The statements the requests made during the block ran on ``connection`` (a
    ``storage.sqlite.db.ThreadedConnection``: the store's ``_reader`` or ``_writer``), one
    list per call (``run``, or a ``transaction``'s own statements: its ``BEGIN``, savepoint
    and ``COMMIT`` are the writer's, shared with the units it commits with), in order; the
    calls of every other task (consumers, jobs, the coordinator's lease) are left out."""
    calls: list[list[str]] = []

    def wrapped(method: Callable[..., Any]) -> Callable[..., Any]:
        async def traced(fn: Callable[[sqlite3.Connection], Any], **kwargs: Any) -> Any:
            if serves_a_request(asyncio.current_task()):
                calls.append([])
                fn = _traced(fn, calls[-1])
            return await method(fn, **kwargs)

        return traced

    connection.run, connection.transaction = wrapped(connection.run), wrapped(connection.transaction)
    try:
        yield calls
    finally:
        del connection.run, connection.transaction  # the class's methods again


def count_calls_per_request(connection: Any) -> Counter[asyncio.Task[Any]]:
    """From now on, how many calls each request's task hands to ``connection``'s thread
    (the store's ``_writer``); the calls of other tasks are not counted."""
    calls: Counter[asyncio.Task[Any]] = Counter()
    hand = connection._on_thread

    async def counted(fn: Callable[[sqlite3.Connection], Any], conn: sqlite3.Connection) -> Any:
        task = asyncio.current_task()
        if serves_a_request(task):
            assert task is not None
            calls[task] += 1
        return await hand(fn, conn)

    connection._on_thread = counted
    return calls
