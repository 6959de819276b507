"""A sqlite3 connection owned by one thread, driven from asyncio.

Every call hands a whole synchronous function to the connection's thread, so a
transaction of a thousand rows costs one hop off the event loop, not a
thousand.  Reads go to a second connection on their own thread: in WAL mode
they never wait for a writer.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from domain.customer_search import customer_words, name_key
from storage.sqlite.group_commit import InTransaction, Outcome, TransactionQueue, deliver, run_units
from storage.sqlite.schema import MIGRATIONS

R = TypeVar("R")
log = logging.getLogger(__name__)
_WORD = re.compile(r"\w+", re.UNICODE)


@functools.lru_cache(maxsize=256)
def to_db_time(value: datetime) -> str:
    """Fixed-width UTC text, so that text order is time order (a vote writes its time
    three times: made once)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(value: str) -> datetime:
    """The inverse of ``to_db_time``."""
    # to_db_time's text is ISO 8601: fromisoformat reads it ~40x faster than strptime, which
    # counts on every listed row (bench/forum.py).
    return datetime.fromisoformat(value)


def sql_literal(value: str) -> str:
    """``value`` as an SQL string literal, for the domain's declared values only (never outside
    input): written into the statement, the planner matches it against a partial index's
    ``WHERE`` as it does a literal typed there, which a bound parameter would not be."""
    return "'" + value.replace("'", "''") + "'"


def fts_query(text: str) -> str | None:
    """A safe FTS5 query: every word quoted (no operators from users), all required."""
    words = _WORD.findall(text)
    if not words:
        return None
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


#: The most values bound in one ``IN (...)`` list: SQLite limits the variables of a statement.
IN_CHUNK = 500


def rows_in(conn: sqlite3.Connection, sql: str, values: Sequence[Any],
            after: Sequence[Any] = ()) -> Iterator[sqlite3.Row]:
    """The rows of ``sql`` with its ``IN ({marks})`` filled for ``values`` (and the ``?`` after
    that list for ``after``), ``IN_CHUNK`` values at a time to stay under SQLite's variable
    limit: an order holds only within each chunk."""
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start:start + IN_CHUNK]
        yield from conn.execute(sql.format(marks=",".join("?" * len(chunk))), [*chunk, *after])


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def connect(path: str, *, wait: float = 30.0) -> sqlite3.Connection:
    """A connection with the pragmas every crmsphere connection needs."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=wait)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")  # BUSY_TIMEOUT_MS by default
        _enter_wal(conn, wait)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        _register_functions(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _register_functions(conn: sqlite3.Connection) -> None:
    """The domain's folding as SQL functions (migration 0080 fills the search words with them)."""
    conn.create_function("customer_name_fold", 1, name_key, deterministic=True)
    conn.create_function("customer_search_words", 4, _search_words_json, deterministic=True)


def _search_words_json(name: str, company: str | None, emails: str, handles: str) -> str:
    """``customer_words`` of a stored row (e-mails and handles as JSON arrays) as a JSON array."""
    return json.dumps(customer_words(name, company, json.loads(emails or "[]"), json.loads(handles or "[]")))


def _enter_wal(conn: sqlite3.Connection, wait: float) -> None:
    """Put the file in WAL mode, waiting out other processes that are opening it too.

    Switching a new file to WAL (or recovering a WAL another process is creating) can
    answer "database is locked" at once, without calling the busy handler, so several
    processes started together on a new file (``serve`` replicas) retry here instead
    of failing their start-up.
    """
    deadline = time.monotonic() + wait
    pause = 0.01
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() >= deadline:
                raise
        else:
            if str(mode).lower() != "wal":  # a file system without shared memory, say
                log.warning("SQLite kept the %s journal (WAL unavailable): readers will wait for "
                            "writers", mode)
            return
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


def statements(script: str) -> list[str]:
    """The SQL statements of a script (trigger bodies with their inner semicolons kept whole)."""
    found: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                found.append(buffer)
            buffer = ""
    if buffer.strip() and not all(
            not ln.strip() or ln.strip().startswith("--") for ln in buffer.splitlines()):
        raise ValueError(f"unterminated SQL statement in migration: {buffer.strip()[:80]!r}")
    return found


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations not yet applied, in order; returns the newest number applied.

    Each migration runs in its own ``BEGIN IMMEDIATE`` transaction that first checks
    whether it is applied, so two processes starting on a new file at once apply every
    migration exactly once (the second waits for the first, then finds it done).
    """
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    newest = max(MIGRATIONS)
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    if row[0] is not None and row[0] > newest:
        raise RuntimeError(
            f"database schema version {row[0]} is newer than this crmsphere "
            f"({newest}); upgrade crmsphere")
    for version, script in MIGRATIONS.items():
        rebuild = script.startswith(REBUILDS)
        if rebuild:
            # Outside the transaction: the pragma does nothing inside one.
            conn.execute("PRAGMA foreign_keys = OFF")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                done = conn.execute("SELECT 1 FROM schema_version WHERE version = ?", (version,)).fetchone()
                if not done:
                    for statement in statements(script):
                        conn.execute(statement)
                    if rebuild:
                        _check_foreign_keys(conn, version)
                    conn.execute("INSERT INTO schema_version VALUES (?)", (version,))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            if rebuild:
                conn.execute("PRAGMA foreign_keys = ON")
    return newest


#: The first line of a migration that makes a table anew (create, copy, drop, rename: the
#: only way to drop a constraint in SQLite).  It runs with foreign keys off, or dropping the
#: old table would delete every row referring to it (ON DELETE CASCADE); the references are
#: checked before its commit instead.
REBUILDS = "-- rebuilds a table"


def _check_foreign_keys(conn: sqlite3.Connection, version: int) -> None:
    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise RuntimeError(f"migration {version} left {len(broken)} broken references in {tables}")


BUSY_TIMEOUT_MS = 30_000


class ThreadedConnection:
    """One sqlite3 connection and the single thread allowed to use it.

    A read marked ``inline`` runs on the event loop itself when the connection's thread
    has nothing in flight — for the hot reads of a request (a token, a session, a page of
    ideas), whose SQL takes tens of microseconds while a hop to the thread and back costs a
    queue hand-over, a thread wake-up and a wake-up of the loop (three system calls, each
    tens of microseconds on a virtual machine; bench/forum.py).  Inline work never waits
    for a lock: the busy timeout is zero meanwhile, and a file another process is
    recovering sends the call to the thread as usual.  Writes always go to the thread: a
    commit can wait on the disk (the system flushing dirty pages or a checkpoint's fsync
    held commits for 60-400 ms here), and then only the writer waits, not every request
    the loop is serving (measured: reads beside votes kept a 17 ms worst case on the
    thread, 128 ms with inline commits).
    """

    def __init__(self, path: str, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._in_flight = 0  # calls handed to the thread and not yet finished there
        self._handed = self._finished = 0  # calls handed to the thread / finished, ever
        # The connection's busy timeout now: 0 while inline calls follow each other, set
        # back before a call on the thread (a pragma costs as much as a point read).
        self._busy_ms = BUSY_TIMEOUT_MS
        # inline calls waiting for the calls handed before them: (how many must have
        # finished, a future of the waiter's own loop — a store may be driven by more than
        # one event loop over its life, e.g. in a CLI)
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._queued = TransactionQueue()  # transactions waiting for the thread (group commit)
        self._closed = False  # set on the thread when the connection closes

    async def open(self) -> None:
        """Open the connection on its thread."""
        self._conn = await self.run(lambda _conn: connect(self._path), opened=False)

    async def run(self, fn: Callable[[sqlite3.Connection], R], *, opened: bool = True,
                  inline: bool = False) -> R:
        """Run ``fn(conn)`` on the connection's thread (or, ``inline``, maybe on the loop:
        then ``fn`` must only read) and return its result."""
        conn = self._conn
        if opened and conn is None:
            raise RuntimeError("connection is closed")
        if inline and conn is not None and await self._inline_turn():
            self._busy_timeout(conn, 0)
            try:
                return fn(conn)
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
            # A read found the file busy (another process recovering the WAL): the thread
            # waits for it instead of the loop.
        return await self._on_thread(fn, conn)

    async def _inline_turn(self) -> bool:
        """Whether an inline call may run now.  The calls handed to the thread before it
        finish first (queueing behind them on the thread would cost a hop each, and under
        load every call arriving meanwhile would follow them there); calls handed after it
        do not hold it up further: if some are in flight by then it takes the thread too."""
        if self._in_flight:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append((self._handed, waiter))
            await waiter
        return not self._in_flight

    def _busy_timeout(self, conn: sqlite3.Connection, ms: int) -> None:
        if self._busy_ms != ms:
            conn.execute(f"PRAGMA busy_timeout = {ms}")
            self._busy_ms = ms

    async def _on_thread(self, fn: Callable[[sqlite3.Connection], R], conn: sqlite3.Connection | None) -> R:
        """Every call handed to the thread passes here (a transaction joins the queued group)."""
        if isinstance(fn, InTransaction):
            return await self._grouped(fn)
        def waiting(conn: sqlite3.Connection) -> R:
            if conn is not None:
                self._busy_timeout(conn, BUSY_TIMEOUT_MS)
            try:
                return fn(conn)
            except StopIteration as exc:  # an asyncio future refuses to carry it: the caller
                # would wait for ever (``next()`` over an empty result)
                raise RuntimeError(f"the call raised StopIteration: {exc!r}") from exc

        loop = asyncio.get_running_loop()
        call = self._executor.submit(waiting, conn)  # type: ignore[arg-type]
        self._in_flight += 1
        self._handed += 1
        try:
            return await asyncio.wrap_future(call, loop=loop)
        finally:
            if call.done():
                self._call_finished()
            else:  # the awaiting task was cancelled while the thread still runs the call:
                # the connection is busy until it ends, whatever the caller does
                call.add_done_callback(lambda _: loop.call_soon_threadsafe(self._call_finished))

    def _close_on_thread(self, conn: sqlite3.Connection) -> None:
        # Transactions handed after this (by requests still finishing) hear that the
        # connection is closed instead of running on it.
        self._closed = True
        conn.close()

    def _call_finished(self) -> None:
        self._in_flight -= 1
        self._finished += 1
        ready = [w for w in self._waiters if w[0] <= self._finished]
        if ready:
            self._waiters = [w for w in self._waiters if w[0] > self._finished]
            for _, waiter in ready:
                if not waiter.done():
                    waiter.set_result(None)

    async def transaction(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Run ``fn(conn)`` inside BEGIN IMMEDIATE ... COMMIT on the thread, rolled back if
        it raises.  Transactions queued while the thread is busy share one commit, each in
        a savepoint of its own (storage.sqlite.group_commit): one that raises is rolled
        back alone, and each caller hears of its own once the commit is done."""
        return await self._on_thread(InTransaction(fn), self._conn)

    async def _grouped(self, unit: InTransaction[R]) -> R:
        if self._conn is None:
            raise RuntimeError("connection is closed")
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[R] = loop.create_future()
        self._in_flight += 1
        self._handed += 1
        if self._queued.add((unit.fn, answer, loop)):
            self._executor.submit(self._run_queued)
        return await answer

    def _run_queued(self) -> None:
        """On the thread: run the transactions queued so far and hand back their outcomes."""
        units = self._queued.take()
        conn = self._conn
        if conn is None or self._closed:
            outcomes: list[Outcome] = [(u, None, RuntimeError("connection is closed")) for u in units]
        else:
            self._busy_timeout(conn, BUSY_TIMEOUT_MS)
            try:
                outcomes = run_units(conn, units)
            except BaseException as exc:  # boundary: a broken connection; every caller hears it
                log.exception("running %d queued transaction(s) failed", len(units))
                outcomes = [(u, None, exc) for u in units]
        deliver(outcomes, self._call_finished)

    @property
    def is_open(self) -> bool:
        """Whether the connection is open."""
        return self._conn is not None

    async def hand(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Run ``fn(conn)`` on the thread with no transaction of its own (a unit of work's
        held transaction, storage.sqlite.uow)."""
        if self._conn is None:
            raise RuntimeError("connection is closed")
        return await self._on_thread(fn, self._conn)

    async def close(self) -> None:
        """Close the connection and stop its thread."""
        if self._conn is not None:
            await self.run(self._close_on_thread)
            self._conn = None
        self._executor.shutdown(wait=True)


def sqlite_path(url: str) -> str:
    """The file path of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError(f"not a sqlite URL: {url!r}")
    path = url[len(prefix):]
    if path in ("", ":memory:"):
        raise ValueError("an in-memory database cannot be shared by two connections; name a file")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return path
