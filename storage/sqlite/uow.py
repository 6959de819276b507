"""The unit of work in SQLite: repositories over the writer connection, one transaction.

Every repository call is a plain function of the connection (``_Uow.call``).  ``run``
hands the whole rule to the writer thread in one hop and drives its coroutine there
(``run_to_end``): no call waits on anything, so the rule's reads, checks and writes are one
``BEGIN IMMEDIATE`` transaction and one round trip — the vote's hot path.  ``async with``
holds the writer thread for the block instead (``_HeldWriter``), each call one round trip.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import weakref
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from domain import Customer
from domain.events import NewEvent
from domain.forum import Account, ApiToken, Idea, RateWindow, Vote
from storage.contract.uow import (
    CommentRows, CustomerRows, EventRows, IdeaRows, LinkRows, RateRows,
    ThresholdRows, UnitOfWork, UnitOfWorkScope, VoteRow, VoteRows, run_to_end,
)
from storage.sqlite.customers import SqliteCustomerEdits, _customers_from_rows
from storage.sqlite.db import ThreadedConnection, to_db_time
from storage.sqlite.events import record_events
from storage.sqlite.idea_rows import fetch_idea, with_counts
from storage.sqlite.merges import SqliteMergeRows
from storage.sqlite.crm import SqliteCrmRecords, SqliteCustomerRefs
from storage.sqlite.people import SqliteAuthorLinks, SqlitePersonRows
from storage.sqlite.rate import bump_rate_hit
from storage.sqlite.uow_forum import forum_repositories
from storage.sqlite.vote_rows import read_token_vote_subjects, read_vote_subjects

R = TypeVar("R")
_VOTE_COLUMNS = ("id", "idea_id", "customer_id", "account_id", "proxy", "proxy_note",
                 "proxy_source", "created_at")
#: ids per ``IN (...)`` list (SQLite's bound-parameter limit is 32766)
_CHUNK = 10_000


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i:i + _CHUNK] for i in range(0, len(values), _CHUNK)]


class _Uow(UnitOfWork):
    """The repositories over one connection; ``call`` runs a function of it.  Each is made
    when a rule first uses it: a vote uses six of the twenty, once per vote."""

    def __init__(self, call: Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]) -> None:
        self.call = call

    def __getattr__(self, name: str) -> Any:
        if name in _FORUM:
            for each, repository in zip(_FORUM, forum_repositories(self.call)):
                setattr(self, each, repository)
            return getattr(self, name)
        make = _REPOSITORIES.get(name)
        if make is None:
            raise AttributeError(name)
        repository = make(self)
        setattr(self, name, repository)
        return repository

    async def vote_subjects(self, idea_id: int, customer_id: str) -> tuple[Idea, Customer | None]:
        return await self.call(lambda conn: read_vote_subjects(conn, idea_id, customer_id))

    async def token_vote_subjects(self, token_hash: str, idea_id: int
                                  ) -> tuple[tuple[ApiToken, Account] | None, Idea | None, Customer | None]:
        return await self.call(lambda conn: read_token_vote_subjects(conn, token_hash, idea_id))


class _Repo:
    def __init__(self, uow: _Uow) -> None:
        self._call = uow.call


class _Ideas(_Repo, IdeaRows):
    async def get(self, idea_id: int) -> Idea:
        return await self._call(lambda conn: fetch_idea(conn, idea_id))

    async def count_vote(self, idea: Idea, impact: float) -> Idea | None:
        # The write lock is held since the idea was read: it cannot have changed, so the
        # counts are the read ones plus this vote (the same double addition SQLite makes).
        # No RETURNING: fetching a returned row steps the statement again, and every step
        # hands the GIL to the event loop and waits to get it back.
        def write(conn: sqlite3.Connection) -> Idea | None:
            counted = conn.execute("UPDATE ideas SET vote_count = vote_count + 1, impact = impact + ? "
                                   "WHERE id = ?", (impact, idea.id)).rowcount
            return with_counts(idea, idea.vote_count + 1, idea.impact + impact) if counted else None

        return await self._call(write)

    async def uncount_vote(self, idea: Idea, impact: float) -> Idea:
        row = await self._call(lambda conn: conn.execute(
            "UPDATE ideas SET vote_count = vote_count - 1, impact = max(0, impact - ?) "
            "WHERE id = ? RETURNING vote_count, impact", (impact, idea.id)).fetchone())
        return idea if row is None else with_counts(idea, row[0], row[1])

    async def set_merged(self, idea_id: int, target_id: int | None, now: datetime) -> None:
        await self._call(lambda conn: conn.execute(
            "UPDATE ideas SET merged_into = ?, updated_at = ? WHERE id = ?",
            (target_id, to_db_time(now), idea_id)))

    async def recount(self, idea_id: int) -> None:
        await self._call(lambda conn: conn.execute(
            "UPDATE ideas SET vote_count = (SELECT count(*) FROM votes WHERE idea_id = ?) WHERE id = ?",
            (idea_id, idea_id)))


class _Customers(_Repo, CustomerRows):
    async def get(self, customer_id: str) -> Customer | None:
        def read(conn: sqlite3.Connection) -> Customer | None:
            rows = conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchall()
            return next(iter(_customers_from_rows(conn, rows)), None)

        return await self._call(read)


class _Rates(_Repo, RateRows):
    async def hit(self, window: RateWindow) -> int:
        return await self._call(lambda conn: bump_rate_hit(
            conn, window.scope, window.subject, window.window_start, window.forget_before))


class _Votes(_Repo, VoteRows):
    async def add(self, vote: Vote) -> bool:
        return await self._call(lambda conn: conn.execute(
            "INSERT INTO votes (idea_id, customer_id, account_id, proxy, proxy_note, proxy_source, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idea_id, customer_id) DO NOTHING",
            (vote.idea_id, vote.customer_id, vote.account_id, int(vote.proxy), vote.proxy_note,
             vote.proxy_source, to_db_time(vote.created_at))).rowcount == 1)  # one step, no row fetched

    async def remove(self, idea_id: int, customer_id: str) -> bool:
        return await self._call(lambda conn: conn.execute(
            "DELETE FROM votes WHERE idea_id = ? AND customer_id = ?", (idea_id, customer_id)).rowcount == 1)

    async def of_customers(self, idea_id: int, customer_ids: Sequence[str]) -> set[str]:
        def read(conn: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            for chunk in _chunks(list(customer_ids)):
                found.update(r[0] for r in conn.execute(
                    f"SELECT customer_id FROM votes WHERE idea_id = ? AND customer_id IN ({_marks(chunk)})",
                    [idea_id, *chunk]))
            return found

        return await self._call(read)

    async def rows(self, idea_id: int) -> list[VoteRow]:
        return await self._call(lambda conn: [
            {k: r[k] for k in _VOTE_COLUMNS} for r in conn.execute(
                "SELECT * FROM votes WHERE idea_id = ? ORDER BY id", (idea_id,))])

    async def delete(self, vote_ids: Sequence[int]) -> None:
        def write(conn: sqlite3.Connection) -> None:
            for chunk in _chunks(list(vote_ids)):
                conn.execute(f"DELETE FROM votes WHERE id IN ({_marks(chunk)})", chunk)

        await self._call(write)

    async def move(self, from_idea: int, to_idea: int, vote_ids: Sequence[int] | None = None) -> None:
        def write(conn: sqlite3.Connection) -> None:
            if vote_ids is None:
                conn.execute("UPDATE votes SET idea_id = ? WHERE idea_id = ?", (to_idea, from_idea))
            for chunk in _chunks(list(vote_ids or ())):
                conn.execute(f"UPDATE votes SET idea_id = ? WHERE idea_id = ? AND id IN ({_marks(chunk)})",
                             [to_idea, from_idea, *chunk])

        await self._call(write)

    async def restore(self, rows: Sequence[VoteRow]) -> None:
        await self._call(lambda conn: conn.executemany(
            f"INSERT OR IGNORE INTO votes ({', '.join(_VOTE_COLUMNS)}) VALUES ({_marks(_VOTE_COLUMNS)})",
            [[v[k] for k in _VOTE_COLUMNS] for v in rows]))


class _Comments(_Repo, CommentRows):
    async def ids(self, idea_id: int) -> list[int]:
        return await self._call(lambda conn: [r[0] for r in conn.execute(
            "SELECT id FROM comments WHERE idea_id = ? ORDER BY id", (idea_id,))])

    async def move(self, from_idea: int, to_idea: int, thread_ids: Sequence[int] | None = None) -> None:
        def write(conn: sqlite3.Connection) -> None:
            if thread_ids is None:
                conn.execute("UPDATE comments SET idea_id = ? WHERE idea_id = ?", (to_idea, from_idea))
            for chunk in _chunks(list(thread_ids or ())):
                conn.execute(f"UPDATE comments SET idea_id = ? WHERE idea_id = ? AND "
                             f"(id IN ({_marks(chunk)}) OR parent_id IN ({_marks(chunk)}))",
                             [to_idea, from_idea, *chunk, *chunk])

        await self._call(write)


class _Links(_Repo, LinkRows):
    def __init__(self, uow: _Uow, table: str, column: str) -> None:
        super().__init__(uow)
        self._table, self._column = table, column  # fixed names, never input

    async def of(self, idea_id: int) -> list[int]:
        return await self._call(lambda conn: [r[0] for r in conn.execute(
            f"SELECT {self._column} FROM {self._table} WHERE idea_id = ? ORDER BY {self._column}",
            (idea_id,))])

    async def add(self, idea_id: int, ids: Sequence[int]) -> None:
        sql = f"INSERT OR IGNORE INTO {self._table} (idea_id, {self._column}) VALUES (?, ?)"
        if len(ids) == 1:  # a voter following (executemany costs more for one row)
            await self._call(lambda conn: conn.execute(sql, (idea_id, ids[0])))
        else:
            await self._call(lambda conn: conn.executemany(sql, [(idea_id, i) for i in ids]))

    async def remove(self, idea_id: int, ids: Sequence[int] | None = None) -> None:
        def write(conn: sqlite3.Connection) -> None:
            if ids is None:
                conn.execute(f"DELETE FROM {self._table} WHERE idea_id = ?", (idea_id,))
            for chunk in _chunks(list(ids or ())):
                conn.execute(f"DELETE FROM {self._table} WHERE idea_id = ? AND {self._column} "
                             f"IN ({_marks(chunk)})", [idea_id, *chunk])

        await self._call(write)


class _Thresholds(_Repo, ThresholdRows):
    async def record_each(self, idea_id: int, names: Sequence[str], at: datetime) -> list[str]:
        # One statement for every threshold the idea has reached (an idea past 10, 50 and 100
        # votes ran three INSERTs a vote, each a hand-over of the GIL): RETURNING names those
        # inserted now, and steps no row when all were recorded before (almost every vote).
        if not names:
            return []
        when = to_db_time(at)
        sql = (f"INSERT INTO idea_thresholds VALUES {', '.join(['(?, ?, ?)'] * len(names))} "
               "ON CONFLICT DO NOTHING RETURNING threshold")

        def write(conn: sqlite3.Connection) -> list[str]:
            new = {row[0] for row in conn.execute(sql, [v for name in names for v in (idea_id, name, when)])}
            return [name for name in names if name in new]  # RETURNING's order is unspecified

        return await self._call(write)


class _Events(_Repo, EventRows):
    async def record(self, events: Sequence[NewEvent], at: datetime) -> None:
        if events:
            await self._call(lambda conn: record_events(conn, events, at))


#: how ``_Uow`` makes each repository
_REPOSITORIES: dict[str, Callable[[_Uow], Any]] = {
    "ideas": lambda uow: _Ideas(uow), "customers": lambda uow: _Customers(uow),
    "rates": lambda uow: _Rates(uow), "votes": lambda uow: _Votes(uow),
    "comments": lambda uow: _Comments(uow),
    "followers": lambda uow: _Links(uow, "idea_followers", "account_id"),
    "mentions": lambda uow: _Links(uow, "idea_mentions", "mention_id"),
    "thresholds": lambda uow: _Thresholds(uow), "events": lambda uow: _Events(uow),
    "merges": lambda uow: SqliteMergeRows(uow.call),
    "people": lambda uow: SqlitePersonRows(uow.call),
    "customer_edits": lambda uow: SqliteCustomerEdits(uow.call),
    "author_links": lambda uow: SqliteAuthorLinks(uow.call),
    "crm_records": lambda uow: SqliteCrmRecords(uow.call),
    "customer_refs": lambda uow: SqliteCustomerRefs(uow.call),
}
#: the forum's repositories, made together (``forum_repositories``)
_FORUM = ("comment_records", "idea_records", "status_changes", "notifications", "reports")


class _HeldWriter:
    """The writer thread held in one transaction for an ``async with`` block: the block's
    calls are queued to it; other writes wait on the thread until the block ends (so the
    block must write through its repositories only)."""

    _END = object()

    def __init__(self, writer: ThreadedConnection) -> None:
        self._writer = writer
        self._calls: queue.SimpleQueue[tuple[Any, asyncio.Future[Any] | None]] = queue.SimpleQueue()
        self._held: asyncio.Future[None] | None = None

    async def begin(self) -> None:
        loop = asyncio.get_running_loop()
        began: asyncio.Future[None] = loop.create_future()

        def hold(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            loop.call_soon_threadsafe(began.set_result, None)
            while True:
                fn, answer = self._calls.get()
                if fn is self._END:
                    conn.execute("COMMIT" if answer is None else "ROLLBACK")
                    return
                try:
                    result = fn(conn)
                except BaseException as exc:  # handed to the awaiting block, which decides
                    loop.call_soon_threadsafe(_settle, answer, None, exc)
                else:
                    loop.call_soon_threadsafe(_settle, answer, result, None)

        self._held = asyncio.ensure_future(self._writer.hand(hold))
        try:
            await asyncio.wait({began, self._held}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled while waiting for the writer: nobody will end the
            # block, so the transaction is told now to roll back as soon as it has begun
            self._calls.put((self._END, loop.create_future()))
            raise
        if not began.done():  # BEGIN failed: the thread's error
            await self._held

    async def call(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._calls.put((fn, answer))
        return await answer

    async def end(self, commit: bool) -> None:
        self._calls.put((self._END, None if commit else asyncio.get_running_loop().create_future()))
        if self._held is not None:
            await self._held


def _settle(answer: asyncio.Future[Any] | None, result: Any, error: BaseException | None) -> None:
    if answer is None or answer.done():  # the awaiting block was cancelled
        return
    if isinstance(error, StopIteration):  # a future refuses to carry it (its block would wait
        # for ever): ``next()`` over an empty result
        error = RuntimeError(f"the call raised StopIteration: {error!r}")
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(result)


class _Scope(UnitOfWorkScope):
    def __init__(self, writer: ThreadedConnection) -> None:
        self._writer = writer
        self._held: _HeldWriter | None = None

    async def __aenter__(self) -> UnitOfWork:
        self._held = _HeldWriter(self._writer)
        await self._held.begin()
        return _Uow(self._held.call)

    async def __aexit__(self, kind: Any, error: Any, trace: Any) -> None:
        assert self._held is not None
        await self._held.end(commit=kind is None)

    async def run(self, work: Callable[[UnitOfWork], Awaitable[R]]) -> R:
        writer = self._writer

        def in_transaction(conn: sqlite3.Connection) -> R:
            return run_to_end(work(_direct_uow(writer, conn)))  # type: ignore[arg-type]

        return await writer.transaction(in_transaction)


#: The unit of work ``run`` hands its rules on each writer: the connection with its
#: repositories, made when a rule first uses each and kept (they are plain functions of the
#: connection and hold nothing of a unit), not made again for every vote on the writer thread.
_DIRECT: weakref.WeakKeyDictionary[ThreadedConnection, tuple[sqlite3.Connection, _Uow]] = (
    weakref.WeakKeyDictionary())


def _direct_uow(writer: ThreadedConnection, conn: sqlite3.Connection) -> _Uow:
    """The unit of work whose calls run at once on ``conn`` (on its writer's thread)."""
    kept = _DIRECT.get(writer)
    if kept is not None and kept[0] is conn:
        return kept[1]

    async def call(fn: Callable[[sqlite3.Connection], Any]) -> Any:
        return fn(conn)

    uow = _Uow(call)
    _DIRECT[writer] = (conn, uow)
    return uow


class SqliteUnitOfWork:
    """``unit_of_work`` of ``SqliteStore``."""

    _writer: ThreadedConnection

    def unit_of_work(self) -> UnitOfWorkScope:
        """One transaction on the writer connection (see the module's docstring)."""
        return _Scope(self._writer)
