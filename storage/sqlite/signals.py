"""NLP signal values in SQLite: a signal with a column of its own is read and filtered there;
every other one has rows in ``mention_signals`` (migration 0074), indexed like topics."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from domain import Analysis
from domain.signals import Signal, filters_of, signal_pairs


def insert_signals(conn: sqlite3.Connection, mention_id: int, analysis: Analysis) -> None:
    """Store the values of the signals without a column of their own."""
    pairs = signal_pairs(analysis)
    if pairs:
        conn.executemany(
            "INSERT OR IGNORE INTO mention_signals (signal, value, mention_id) VALUES (?, ?, ?)",
            [(name, value, mention_id) for name, value in pairs])


def signal_condition(signal: Signal, value: str, args: list[Any]) -> str:
    """The SQL condition on ``mentions m`` that ``signal`` is ``value`` (its argument added)."""
    column = signal.stored_as
    if column is not None:
        args.append(value)
        return f"m.{column} = ?"
    # EXISTS, not IN: a common value holds many mentions (see the topic filter).
    args += [signal.name, value]
    return ("EXISTS (SELECT 1 FROM mention_signals ms WHERE ms.signal = ? AND ms.value = ? "
            "AND ms.mention_id = m.id)")


def add_signal_conditions(query: Any, where: list[str], args: list[Any]) -> None:
    """Add a condition for every signal filter ``query`` sets."""
    for signal, value in filters_of(query):
        where.append(signal_condition(signal, value, args))


def signal_facet(signal: Signal) -> tuple[str, str]:
    """How the dashboard groups mentions by ``signal``: (extra join, grouped expression)."""
    column = signal.stored_as
    if column is not None:
        return "", f"m.{column}"
    # The name is the registry's (lower-case letters, digits and _), never a request's.
    return (f" CROSS JOIN mention_signals fs ON fs.mention_id = m.id AND fs.signal = "
            f"'{signal.name}'", "fs.value")


def signals_of(conn: sqlite3.Connection, ids: Sequence[int],
               marks: str) -> dict[int, tuple[tuple[str, str], ...]]:
    """The generic signal values of the mentions ``ids`` (``marks``: their placeholders)."""
    out: dict[int, list[tuple[str, str]]] = {}
    for r in conn.execute(f"SELECT mention_id, signal, value FROM mention_signals "
                          f"WHERE mention_id IN ({marks}) ORDER BY mention_id, signal", list(ids)):
        out.setdefault(r[0], []).append((r[1], r[2]))
    return {k: tuple(v) for k, v in out.items()}
