"""Inline reads of a ThreadedConnection: on the loop once its thread is idle, never waiting
for a lock there; writes always on the thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from storage.sqlite.db import BUSY_TIMEOUT_MS, ThreadedConnection, connect
from tests.storage.thread_handshake import BusyCall, loop_turns_until


async def _opened(path: Path) -> ThreadedConnection:
    setup = connect(str(path))
    setup.execute("CREATE TABLE IF NOT EXISTS t (n INTEGER)")
    setup.close()
    conn = ThreadedConnection(str(path), "test")
    await conn.open()
    return conn


async def test_inline_read_runs_on_the_loop_once_the_thread_is_idle(tmp_path: Path) -> None:
    conn = await _opened(tmp_path / "a.db")
    loop_thread = threading.get_ident()
    try:
        assert await conn.run(lambda c: threading.get_ident(), inline=True) == loop_thread
        assert await conn.run(lambda c: threading.get_ident()) != loop_thread
        call = BusyCall()
        busy = asyncio.ensure_future(conn.run(call))
        await call.inside()  # the thread is in the middle of a call
        ran_on = asyncio.ensure_future(conn.run(lambda c: threading.get_ident(), inline=True))
        await loop_turns_until(lambda: ran_on.done() or bool(conn._waiters))
        assert not ran_on.done()  # waits for the busy call, never runs beside it ...
        call.release()
        assert await busy and await ran_on == loop_thread  # ... then runs on the loop
        assert await conn.run(lambda c: c.execute("PRAGMA busy_timeout").fetchone()[0],
                              inline=True) == 0  # inline: never waits for a lock
        assert await conn.run(lambda c: c.execute("PRAGMA busy_timeout").fetchone()[0]) == BUSY_TIMEOUT_MS
    finally:
        await conn.close()


async def test_inline_reads_go_on_while_another_process_writes_and_writes_stay_on_the_thread(
        tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    conn = await _opened(path)
    other = sqlite3.connect(path, isolation_level=None)
    loop_thread = threading.get_ident()
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock...
        other.execute("INSERT INTO t VALUES (5)")
        # ...a WAL reader does not wait for it, so the read runs on the loop at once
        assert await conn.run(lambda c: (threading.get_ident(), c.execute("SELECT count(*) FROM t").fetchone()[0]),
                              inline=True) == (loop_thread, 0)
        other.execute("COMMIT")
        ran = []

        def write(c: sqlite3.Connection) -> int:
            ran.append(threading.get_ident())
            c.execute("INSERT INTO t VALUES (1)")
            return c.execute("SELECT count(*) FROM t").fetchone()[0]

        assert await conn.transaction(write) == 2 and ran[0] != loop_thread  # a commit may wait on the disk
    finally:
        other.close()
        await conn.close()


async def test_a_transaction_that_fails_is_rolled_back(tmp_path: Path) -> None:
    conn = await _opened(tmp_path / "c.db")
    try:
        def bad(c: sqlite3.Connection) -> None:
            c.execute("INSERT INTO t VALUES (7)")
            raise ValueError("refused")

        try:
            await conn.transaction(bad)
        except ValueError:
            pass
        else:
            raise AssertionError("the error must reach the caller")
        assert await conn.run(lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0], inline=True) == 0
        assert await conn.run(lambda c: c.in_transaction) is False
    finally:
        await conn.close()


async def test_an_inline_read_waits_only_for_the_calls_handed_before_it(tmp_path: Path) -> None:
    conn = await _opened(tmp_path / "d.db")
    stop = False

    async def client() -> None:  # keeps the thread busy with back-to-back calls
        while not stop:
            await conn.run(lambda c: time.sleep(0.005))

    clients = [asyncio.ensure_future(client()) for _ in range(2)]
    try:
        await loop_turns_until(lambda: conn._in_flight > 0)  # the clients keep the thread busy
        read = conn.run(lambda c: c.execute("SELECT 1").fetchone()[0], inline=True)
        # The clients hand their next call before their last one is counted finished, so the
        # thread is never idle until they stop, and they stop only after the read answered:
        # a read held up until the thread is idle (or the clients stop) never answers.  The
        # bound is there for that failure only, not as a speed limit.
        assert await asyncio.wait_for(read, 120) == 1
        assert conn._in_flight > 0 and not any(c.done() for c in clients)  # still going
    finally:
        stop = True
        await asyncio.gather(*clients)
        await conn.close()


async def test_a_cancelled_caller_does_not_free_the_connection_before_its_call_ends(tmp_path: Path) -> None:
    conn = await _opened(tmp_path / "e.db")
    call = BusyCall()
    try:
        slow = asyncio.ensure_future(conn.run(call))
        await call.inside()  # the call runs on the thread
        slow.cancel()
        await asyncio.gather(slow, return_exceptions=True)  # the caller is gone
        read = asyncio.ensure_future(conn.run(lambda c: threading.get_ident(), inline=True))
        await loop_turns_until(lambda: read.done() or bool(conn._waiters))
        assert not read.done()  # the thread still uses the connection: no inline read beside it
        call.release()
        assert await asyncio.wait_for(read, 5) == threading.get_ident()  # then on the loop
    finally:
        call.release()
        await conn.close()


def test_only_short_idea_pages_are_read_on_the_loop() -> None:
    from domain.forum import IdeaQuery
    from storage.sqlite.ideas import INLINE_MAX_OFFSET, _short

    assert _short(IdeaQuery(sort="top")) and _short(IdeaQuery(sort="new", offset=INLINE_MAX_OFFSET))
    assert not _short(IdeaQuery(sort="trending"))  # computed over every idea
    assert not _short(IdeaQuery(sort="top", offset=INLINE_MAX_OFFSET + 1))  # walks the index
    assert not _short(IdeaQuery(sort="top", text="dark mode"))  # full-text search


async def test_a_consumer_cursor_is_read_on_the_loop(tmp_path: Path) -> None:
    """A routing round follows every vote that crossed a threshold; its cursor is one row read
    by its key, cheaper on the loop than a hop to the reader's thread and back."""
    from storage import open_store

    store = await open_store(f"sqlite:///{tmp_path / 'cursor.db'}")
    try:
        assert await store.set_event_cursor("routing", 7) == 7
        await asyncio.sleep(0)  # whatever the opening handed to the reader has finished
        handed = store._reader._handed  # type: ignore[attr-defined]
        assert await store.get_event_cursor("routing") == 7
        assert await store.get_event_cursor("nobody yet") == 0
        assert store._reader._handed == handed  # type: ignore[attr-defined]
    finally:
        await store.close()


async def test_a_page_of_events_is_read_on_the_loop_by_each_kinds_index(tmp_path: Path) -> None:
    """A routing round after a vote that crossed a threshold reads a page of events: on the
    loop (the reader's thread idle), each kind by its index to the page's size, and the same
    page as ``kind IN (...)`` read in id order; a list of kinds longer than any of ours reads
    on the thread."""
    from domain import utcnow
    from domain.events import NewEvent
    from storage import open_store
    from storage.sqlite.events import BRANCHES_MAX

    store = await open_store(f"sqlite:///{tmp_path / 'events.db'}")
    try:
        kinds = ["idea.voted", "idea.vote_threshold", "mention.stored", "idea.created"]
        recorded = [NewEvent(kinds[n % 3], str(n), {"n": n, "name": "Zoë"}) for n in range(60)]
        await store.unit_of_work().run(lambda uow: uow.events.record(recorded, utcnow()))
        everything = await store.read_events(0, kinds, 1000)
        assert [e.payload["n"] for e in everything] == list(range(60))
        await asyncio.sleep(0)
        handed = store._reader._handed  # type: ignore[attr-defined]
        wanted = kinds[1:]  # idea.voted, the most of them, left out
        after = everything[10].id
        page = await store.read_events(after, wanted, 7)
        assert store._reader._handed == handed  # type: ignore[attr-defined]
        expected = [e for e in everything if e.id > after and e.kind in wanted][:7]
        assert [(e.id, e.kind, e.payload) for e in page] == [(e.id, e.kind, e.payload) for e in expected]
        assert await store.read_events(everything[-1].id, wanted, 7) == []
        many = [*wanted, *(f"other.{n}" for n in range(BRANCHES_MAX))]
        assert [e.id for e in await store.read_events(after, many, 7)] == [e.id for e in expected]
        assert store._reader._handed == handed + 1  # type: ignore[attr-defined]
        # A long page (kinds times limit past INLINE_ROWS_MAX) is read on the thread too.
        assert [e.payload["n"] for e in await store.read_events(0, kinds, 1000)] == list(range(60))
        assert store._reader._handed == handed + 2  # type: ignore[attr-defined]
    finally:
        await store.close()
