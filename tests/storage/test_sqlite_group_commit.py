"""Group commit on the SQLite writer: transactions queued while the thread is busy share one
commit, each in a savepoint of its own, so one that fails is rolled back alone."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from storage.sqlite.db import ThreadedConnection, connect
from tests.storage.thread_handshake import BusyCall, loop_turns_until


async def _opened(path: Path) -> tuple[ThreadedConnection, list[str]]:
    """A writer on a table with a unique column, and the statements it runs from now on."""
    setup = connect(str(path))
    setup.execute("CREATE TABLE votes (idea_id INTEGER, customer_id TEXT, UNIQUE (idea_id, customer_id))")
    setup.close()
    conn = ThreadedConnection(str(path), "test-writer")
    await conn.open()
    ran: list[str] = []
    await conn.run(lambda c: c.set_trace_callback(ran.append))
    return conn, ran


def _vote(idea: int, customer: str):
    def write(c: sqlite3.Connection) -> int:
        return c.execute("INSERT INTO votes VALUES (?, ?) RETURNING rowid", (idea, customer)).fetchone()[0]
    return write


async def _behind_a_busy_thread(conn: ThreadedConnection, calls) -> list:
    """Hand ``calls`` to the writer while its thread is busy, then let it go; the outcomes."""
    call = BusyCall()
    busy = asyncio.ensure_future(conn.run(call))
    await call.inside()  # the thread is inside the busy call: the transactions queue
    waiting = [asyncio.ensure_future(conn.transaction(fn)) for fn in calls]
    await loop_turns_until(lambda: conn._in_flight == 1 + len(calls))  # every one is queued
    call.release()
    assert await busy
    return await asyncio.gather(*waiting, return_exceptions=True)


def _stored(path: Path) -> list[tuple[int, str]]:
    reader = sqlite3.connect(path)
    try:
        return reader.execute("SELECT idea_id, customer_id FROM votes ORDER BY rowid").fetchall()
    finally:
        reader.close()


async def test_transactions_queued_behind_a_busy_writer_share_one_commit(tmp_path: Path) -> None:
    conn, ran = await _opened(tmp_path / "g.db")
    try:
        ran.clear()
        outcomes = await _behind_a_busy_thread(conn, [_vote(7, f"cus_{n:03d}") for n in range(32)])
        assert outcomes == list(range(1, 33))
        assert [s for s in ran if s in ("BEGIN IMMEDIATE", "COMMIT")] == ["BEGIN IMMEDIATE", "COMMIT"]
        assert _stored(tmp_path / "g.db") == [(7, f"cus_{n:03d}") for n in range(32)]
        assert conn._in_flight == 0
    finally:
        await conn.close()


async def test_a_group_opens_one_savepoint_a_transaction_and_releases_none(tmp_path: Path) -> None:
    """Each transaction's savepoint nests in the one before and the commit ends them all: one
    statement a transaction (each statement hands the GIL over), not a savepoint and a release."""
    conn, ran = await _opened(tmp_path / "s.db")
    try:
        ran.clear()
        assert await _behind_a_busy_thread(conn, [_vote(7, f"cus_{n:03d}") for n in range(8)]) == list(range(1, 9))
        assert [s for s in ran if not s.startswith("INSERT")] == ["BEGIN IMMEDIATE", *["SAVEPOINT unit"] * 8, "COMMIT"]
    finally:
        await conn.close()


async def test_a_failing_transaction_in_a_group_is_rolled_back_alone(tmp_path: Path) -> None:
    """A double vote (the unique key refuses it) after a first row of the same transaction:
    both of its rows are gone, its caller hears the database's error, the others are stored."""
    path = tmp_path / "f.db"
    conn, _ = await _opened(path)
    try:
        await conn.transaction(_vote(1, "cus_jo"))

        def vote_twice(c: sqlite3.Connection) -> None:
            c.execute("INSERT INTO votes VALUES (2, 'cus_jo')")
            c.execute("INSERT INTO votes VALUES (1, 'cus_jo')")  # voted before

        def not_a_number(c: sqlite3.Connection) -> None:
            c.execute("INSERT INTO votes VALUES (3, 'cus_ann')")
            int("12\u00a0345")  # a rule raising on hostile text after its first write

        outcomes = await _behind_a_busy_thread(
            conn, [_vote(1, "cus_ann"), vote_twice, _vote(1, "cus_bo"), not_a_number, _vote(2, "cus_bo")])
        assert isinstance(outcomes[1], sqlite3.IntegrityError)
        assert isinstance(outcomes[3], ValueError)
        assert [o for i, o in enumerate(outcomes) if i not in (1, 3)] == [2, 3, 4]  # rowids of rolled-back rows are taken again
        assert _stored(path) == [(1, "cus_jo"), (1, "cus_ann"), (1, "cus_bo"), (2, "cus_bo")]
    finally:
        await conn.close()


async def test_a_full_disk_in_a_group_fails_only_the_transaction_that_filled_it(tmp_path: Path) -> None:
    """SQLite may end the whole transaction on a full disk: the group's other transactions
    are stored all the same (run again on their own), the one that did not fit fails."""
    path = tmp_path / "full.db"
    conn, _ = await _opened(path)
    try:
        pages = await conn.run(lambda c: c.execute("PRAGMA page_count").fetchone()[0])
        await conn.run(lambda c: c.execute(f"PRAGMA max_page_count = {pages + 4}"))

        def huge(c: sqlite3.Connection) -> None:  # an imported comment far over the room left
            c.execute("INSERT INTO votes VALUES (9, ?)", ("x" * 400_000,))

        outcomes = await _behind_a_busy_thread(conn, [_vote(1, "cus_jo"), huge, _vote(1, "cus_ann")])
        assert isinstance(outcomes[1], sqlite3.OperationalError) and "full" in str(outcomes[1])
        assert (outcomes[0], outcomes[2]) == (1, 2)
        assert _stored(path) == [(1, "cus_jo"), (1, "cus_ann")]
        assert await conn.transaction(_vote(1, "cus_bo")) > 0  # the writer goes on
    finally:
        await conn.close()


async def test_a_transaction_whose_caller_gave_up_before_its_turn_does_not_run(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    conn, _ = await _opened(path)
    try:
        call = BusyCall()
        busy = asyncio.ensure_future(conn.run(call))
        await call.inside()
        gone = asyncio.ensure_future(conn.transaction(_vote(1, "cus_jo")))
        kept = asyncio.ensure_future(conn.transaction(_vote(1, "cus_ann")))
        await loop_turns_until(lambda: conn._in_flight == 3)  # both wait for the writer
        gone.cancel()  # the request was dropped while its vote waited for the writer
        call.release()
        await busy
        assert await kept == 1
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert _stored(path) == [(1, "cus_ann")]
        assert conn._in_flight == 0  # the connection counts nothing as still running
    finally:
        await conn.close()


async def test_a_transaction_handed_after_closing_hears_that_the_connection_is_closed(tmp_path: Path) -> None:
    conn, _ = await _opened(tmp_path / "x.db")
    closing = asyncio.ensure_future(conn.close())
    await asyncio.sleep(0)
    late = asyncio.ensure_future(conn.transaction(_vote(1, "cus_jo")))  # a request still finishing
    await closing
    with pytest.raises(RuntimeError, match="closed"):
        await late


async def test_a_transaction_raising_stop_iteration_fails_alone_and_keeps_no_caller_waiting(
        tmp_path: Path) -> None:
    """``next()`` over the rows of an idea nobody voted for yet raises StopIteration, which an
    asyncio future cannot carry: its caller hears a RuntimeError, the others their results."""
    path = tmp_path / "s.db"
    conn, _ = await _opened(path)
    try:
        def first_voter(c: sqlite3.Connection) -> str:
            c.execute("INSERT INTO votes VALUES (5, 'cus_probe')")
            return next(iter(c.execute("SELECT customer_id FROM votes WHERE idea_id = 404")))[0]

        outcomes = await asyncio.wait_for(
            _behind_a_busy_thread(conn, [_vote(1, "cus_jo"), first_voter, _vote(1, "cus_ann")]), 30)
        assert isinstance(outcomes[1], RuntimeError) and "StopIteration" in str(outcomes[1])
        assert (outcomes[0], outcomes[2]) == (1, 2)
        assert _stored(path) == [(1, "cus_jo"), (1, "cus_ann")]
        alone = await asyncio.wait_for(asyncio.gather(conn.transaction(first_voter), return_exceptions=True), 30)
        assert isinstance(alone[0], RuntimeError)  # alone in its transaction, the same
        assert conn._in_flight == 0
    finally:
        await conn.close()


async def test_a_plain_call_or_a_unit_of_work_step_raising_stop_iteration_fails_instead_of_hanging(
        tmp_path: Path) -> None:
    """The same ``next()`` slip outside a grouped transaction: a call handed to the thread,
    and a step inside a unit of work's held transaction, each fail their caller with a
    RuntimeError (an asyncio future cannot carry StopIteration, and the caller waited for ever)."""
    from storage.sqlite.uow import _HeldWriter

    path = tmp_path / "s.db"
    conn, _ = await _opened(path)
    try:
        def first_voter(c: sqlite3.Connection) -> str:
            return next(iter(c.execute("SELECT customer_id FROM votes WHERE idea_id = 404")))[0]

        [plain] = await asyncio.wait_for(asyncio.gather(conn.run(first_voter), return_exceptions=True), 30)
        assert isinstance(plain, RuntimeError) and "StopIteration" in str(plain)

        held = _HeldWriter(conn)
        await asyncio.wait_for(held.begin(), 30)
        [step] = await asyncio.wait_for(asyncio.gather(held.call(first_voter), return_exceptions=True), 30)
        assert isinstance(step, RuntimeError) and "StopIteration" in str(step)
        assert await asyncio.wait_for(held.call(_vote(2, "cus_after")), 30) == 1  # the block goes on
        await asyncio.wait_for(held.end(commit=True), 30)
        assert _stored(path) == [(2, "cus_after")]
    finally:
        await conn.close()


async def test_the_store_writer_keeps_its_savepoint_journal_in_memory(tmp_path: Path) -> None:
    """A group's savepoints journal every page they change; on disk SQLite spilled that
    journal to a new temporary file for each group of votes (an open, ~35 writes a vote, an
    unlink).  The store's writer keeps it in memory; the reader is left as it was."""
    from storage import open_store

    store = await open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        assert await store._writer.run(lambda c: c.execute("PRAGMA temp_store").fetchone()[0]) == 2  # MEMORY
        assert await store._reader.run(lambda c: c.execute("PRAGMA temp_store").fetchone()[0]) == 0
    finally:
        await store.close()


async def test_a_group_wakes_the_event_loop_once_and_hands_the_thread_one_call(tmp_path: Path) -> None:
    """The event loop is a vote's bottleneck (bench/forum.py): the votes queued while the
    writer is busy are handed to its thread in one call, and their answers come back to the
    loop in one wake-up, not one per vote."""
    conn, _ = await _opened(tmp_path / "w.db")
    loop = asyncio.get_running_loop()
    wakes: list[int] = []
    wake = loop.call_soon_threadsafe

    writer = conn._executor._thread_name_prefix  # the test's own hand-shake wakes the loop too

    def counted(callback, *args, **kwargs):  # type: ignore[no-untyped-def]
        if threading.current_thread().name.startswith(writer):
            wakes.append(1)
        return wake(callback, *args, **kwargs)

    submit = conn._executor.submit
    handed: list[int] = []

    def counted_submit(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        handed.append(1)
        return submit(fn, *args, **kwargs)

    loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
    conn._executor.submit = counted_submit  # type: ignore[method-assign]
    try:
        outcomes = await _behind_a_busy_thread(conn, [_vote(3, f"cus_{n:03d}") for n in range(20)])
        assert outcomes == list(range(1, 21))
        # The busy call and the group of twenty: two calls handed, two wake-ups.
        assert (len(handed), len(wakes)) == (2, 2)
    finally:
        del loop.call_soon_threadsafe
        del conn._executor.submit
        await conn.close()
