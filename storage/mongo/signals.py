"""NLP signal values in MongoDB: a signal with a field of its own is read and filtered there;
every other one is an entry ``{signal, value}`` of the mention's ``signals`` array, covered by
one multikey index (``mentions_signals``)."""

from __future__ import annotations

from typing import Any

from domain import Analysis
from domain.signals import Signal, filters_of, signal_pairs

#: The index of the generic signal values (with the feed's order, as the other filters have).
SIGNAL_INDEX = ([("signals.signal", 1), ("signals.value", 1), ("created_at", -1), ("_id", -1)],
                {"name": "mentions_signals"})


def signal_docs(analysis: Analysis) -> list[dict[str, str]]:
    """The ``signals`` array of a mention document."""
    return [{"signal": name, "value": value} for name, value in signal_pairs(analysis)]


def signals_from_doc(d: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The generic signal values of a mention document (none for one stored before them)."""
    return tuple(sorted((e["signal"], e["value"]) for e in d.get("signals") or ()
                        if isinstance(e, dict) and "signal" in e and "value" in e))


def signal_filter(signal: Signal, value: str) -> dict[str, Any]:
    """The ``find`` filter that ``signal`` is ``value``."""
    field = signal.stored_as
    if field is not None:
        return {field: value}
    return {"signals": {"$elemMatch": {"signal": signal.name, "value": value}}}


def signal_filters(query: Any) -> list[dict[str, Any]]:
    """A filter for every signal filter ``query`` sets."""
    return [signal_filter(signal, value) for signal, value in filters_of(query)]


def signal_grouping(signal: Signal) -> tuple[list[dict[str, Any]], Any]:
    """How the dashboard groups mentions by ``signal``: (stages before the group, its key)."""
    field = signal.stored_as
    if field is not None:
        return [], f"${field}"
    return [{"$unwind": "$signals"}, {"$match": {"signals.signal": signal.name}}], "$signals.value"
