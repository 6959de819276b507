"""Group commit: the transactions queued for a connection's thread share one commit.

Under load many short transactions (votes, each one unit of work) wait for the single
writer thread.  Each used to pay its own ``BEGIN IMMEDIATE``/``COMMIT``, its own WAL
frames for the pages it shares with the others (the idea's page, the events' last page,
the indexes' pages) and its own wake-up of the event loop.  Here the thread takes every
transaction queued by the time it is free (up to ``GROUP_MAX``) and runs them in one
transaction, each inside a ``SAVEPOINT`` of its own (nested in the one before): a unit that
raises is rolled back to its savepoint alone and hears its error; the others commit together, and every caller
hears of its unit only once the commit is done.  The answers go back to the event loop in
one hand-over.

An error that ends the whole transaction (SQLite rolls back by itself on a full disk,
an I/O error or a lock it could not get) would take the group's other units with it: those
are run again, each in a transaction of its own, as they would have run without grouping.
A transaction function is a plain function of the connection, so running it again is the
same as running it once on a fresh transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

R = TypeVar("R")

#: Units of work per shared transaction: enough for every connection of a busy worker,
#: few enough that the first unit's answer does not wait on a long tail.
GROUP_MAX = 64

#: (the unit's function, the future its caller awaits, that caller's loop)
Unit = tuple[Callable[[sqlite3.Connection], Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop]
#: (the unit, its result, its error)
Outcome = tuple[Unit, Any, BaseException | None]


class InTransaction(Generic[R]):
    """``fn`` to run in a write transaction: handed to a connection's thread it joins the
    queued group; called directly it runs alone in ``BEGIN IMMEDIATE`` ... ``COMMIT``."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[sqlite3.Connection], R]) -> None:
        self.fn = fn

    def __call__(self, conn: sqlite3.Connection) -> R:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = self.fn(conn)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result


class TransactionQueue:
    """The transactions waiting for one connection's thread, taken as groups.

    ``add`` (on the event loop) says whether the caller must hand ``run_queued`` to the
    thread: only the first unit of an empty queue does, the units after it join the group
    that call will take.  ``run_queued`` (on the thread) returns the outcomes to deliver.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._units: list[Unit] = []

    def add(self, unit: Unit) -> bool:
        """Queue ``unit``; ``True`` when no group is waiting for the thread yet."""
        with self._lock:
            self._units.append(unit)
            return len(self._units) == 1

    def take(self) -> list[Unit]:
        """Every unit queued so far (the queue is empty afterwards)."""
        with self._lock:
            units, self._units = self._units, []
        return units


def run_units(conn: sqlite3.Connection, units: list[Unit]) -> list[Outcome]:
    """Run ``units`` on ``conn`` in groups of at most ``GROUP_MAX`` (see the module's
    docstring); a unit whose caller stopped waiting before it started is skipped."""
    outcomes: list[Outcome] = [(u, None, None) for u in units if u[1].cancelled()]
    live = [u for u in units if not u[1].cancelled()]
    for start in range(0, len(live), GROUP_MAX):
        group = live[start:start + GROUP_MAX]
        try:
            outcomes += _one_commit(conn, group) if len(group) > 1 else [_alone(conn, group[0])]
        except BaseException as exc:  # the connection itself failed (a savepoint refused):
            if conn.in_transaction:   # nothing of the group was committed
                conn.execute("ROLLBACK")
            outcomes += [(u, None, exc) for u in group]
    return outcomes


def _alone(conn: sqlite3.Connection, unit: Unit) -> Outcome:
    """One unit in a transaction of its own."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except BaseException as exc:  # handed to its caller
        return unit, None, exc
    try:
        result = unit[0](conn)
    except BaseException as exc:  # handed to its caller, after the rollback
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return unit, None, exc
    try:
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return unit, None, exc
    return unit, result, None


def _one_commit(conn: sqlite3.Connection, units: list[Unit]) -> list[Outcome]:
    """``units`` in one transaction, a savepoint each."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except BaseException as exc:  # the write lock not had: each caller hears why
        return [(u, None, exc) for u in units]
    done: list[Outcome] = []
    for index, unit in enumerate(units):
        # Each unit opens its savepoint inside the one before (never released: the commit
        # ends them all). ``ROLLBACK TO unit`` goes back to the newest one, this unit's
        # start, and keeps the units before it; one statement a unit instead of two, each
        # statement a hand-over of the GIL (bench/forum.py).
        conn.execute("SAVEPOINT unit")
        try:
            result = unit[0](conn)
        except BaseException as exc:  # handed to its caller once the others are committed
            if not conn.in_transaction:  # SQLite ended the whole transaction
                return [(unit, None, exc), *_each_alone(conn, [u for u, _, error in done if error is None]),
                        *[o for o in done if o[2] is not None], *_each_alone(conn, units[index + 1:])]
            conn.execute("ROLLBACK TO unit")
            done.append((unit, None, exc))
        else:
            done.append((unit, result, None))
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        # Nothing of the group is stored: each unit runs again on its own and hears its own
        # outcome (an error that persists, such as a full disk, reaches every caller).
        return [*_each_alone(conn, [u for u, _, error in done if error is None]),
                *[o for o in done if o[2] is not None]]
    return done


def _each_alone(conn: sqlite3.Connection, units: list[Unit]) -> list[Outcome]:
    return [_alone(conn, u) for u in units]


def deliver(outcomes: list[Outcome], finished: Callable[[], None]) -> None:
    """Hand the outcomes to their callers' loops, one hand-over per loop; ``finished`` is
    called on the loop once per unit (after its future is settled)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0][2], []).append(outcome)
    for loop, mine in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, mine, finished)
        except RuntimeError:  # the loop was closed meanwhile: nobody is waiting any more
            continue


def _settle(outcomes: list[Outcome], finished: Callable[[], None]) -> None:
    for (_fn, answer, _loop), result, error in outcomes:
        if not answer.done():  # a caller cancelled meanwhile hears nothing
            if isinstance(error, StopIteration):  # ``next()`` on an empty result: a future
                # refuses to carry it (and would leave its caller, and the group's others,
                # waiting for ever)
                answer.set_exception(RuntimeError(f"the transaction raised StopIteration: {error!r}"))
            elif error is not None:
                answer.set_exception(error)
            else:
                answer.set_result(result)
        finished()
