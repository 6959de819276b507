"""The NLP signals' declarations and their registry, read by every layer.

A signal is one value the NLP stage gives each post (its sentiment label, its intent, its
language, ...). Its ``Signal`` says everything the other layers need: the spaCy component
that computes it, how the value is read from a Doc, where it is stored, the filter the
listings offer, the facet the dashboard counts, its JSON schema, its label on pages and
whether routed items' webhook bodies and CRM activities carry it. Storage filters and
facets, the API's filters and answers, the OpenAPI document, the dashboard, the live feed,
the CSV export, evaluation, routing rules and the webhook and CRM payloads loop over
``signals()``. (Only the mention row and document still write and read the three columns
sentiment, intent and language have had since the first schema; a signal declared since has
no column, and needs none: its values go to the generic store.)

Part of the domain leaf: it imports nothing of crmsphere but the leaf, so storage and config
read it. The signals themselves are declared in ``nlp/signals/`` (one module per signal, next
to its spaCy component), and importing ``nlp.signals`` registers them all; the composition
root does so before anything reads the registry, and reading an empty registry is an error
rather than a silent "no signal" (a filter on intent would be dropped).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain import Analysis
from domain.routing import RoutableItem

#: What a component left in ``doc.user_data`` (``Doc.user_data``), and the stage's options.
Reader = Callable[[Mapping[Any, Any], Any], str]


@dataclass(frozen=True)
class Signal:
    """One NLP signal, declared once (see the module's docstring)."""

    #: The signal's name: the query parameter of the listings, the facet and the stored key.
    name: str
    #: How pages name it ("Intent").
    label: str
    #: The spaCy factory of its component (``@Language.factory``).
    factory: str
    #: The module that declares the factory (imported when a pipeline is built).
    module: str
    #: The value given when the component did not run or found nothing.
    default: str
    #: The values it can take; empty: free text of at most ``max_len`` characters.
    values: tuple[str, ...] = ()
    max_len: int = 64
    #: The value from a Doc's ``user_data`` after the pipeline ran (default: ``user_data[name]``).
    read: Reader | None = None
    #: The component's spaCy config, from the stage's options.
    config: Callable[[Any], dict[str, Any]] = field(default=lambda options: {})
    #: The field of ``Analysis`` holding the value; ``None`` for a signal kept with the others
    #: of its kind (``Analysis.signals``; the ``mention_signals`` table, the ``signals`` array
    #: of a mention document), indexed there.
    stored_field: str | None = None
    #: The SQLite column and MongoDB field of a signal with a field (default: ``stored_field``).
    column: str | None = None
    #: The key of the mention in the API's JSON (default: ``name``) and its JSON Schema.
    json_field: str | None = None
    json_schema: dict[str, Any] | None = None
    #: The JSON value of an analysis (default: the stored value).
    json_value: Callable[[Analysis], Any] | None = None
    #: Whether the dashboard counts it next to its filters (and shows it in live events).
    facet: bool = True
    #: Whether the dashboard's CSV export has a column for it (named ``name``).
    exported: bool = True
    #: The post's own field shown on the dashboard when the analysis holds no value.
    post_field: str | None = None
    #: Whether a routed mention's webhook body (its ``item``, under ``key``) and its CRM
    #: activity carry the value. Routing rules can test every signal either way.
    in_payloads: bool = True

    def value_of(self, analysis: Analysis) -> str | None:
        """The signal's value in ``analysis`` (``None`` when the analysis holds none)."""
        if self.stored_field is not None:
            return getattr(analysis, self.stored_field, None)
        return dict(getattr(analysis, "signals", ())).get(self.name)

    def read_doc(self, user_data: Mapping[Any, Any], options: Any) -> str:
        """The signal's value for a Doc the pipeline ran over."""
        return self.reader(options)(user_data)

    def reader(self, options: Any) -> Callable[[Mapping[Any, Any]], str]:
        """``read_doc`` for the stage's ``options``, as one call a post (the stage's hot loop)."""
        read = self.read
        if read is not None:
            return lambda user_data: read(user_data, options)
        name, default = self.name, self.default
        return lambda user_data: user_data.get(name, default)

    @property
    def stored_as(self) -> str | None:
        """The column (SQLite) and field (MongoDB) of a signal with its own; ``None``: generic."""
        return self.column or self.stored_field

    @property
    def analysis_key(self) -> str:
        """Its key in the dashboard's ``analysis`` object (the ``Analysis`` field, or ``name``)."""
        return self.stored_field or self.name

    @property
    def key(self) -> str:
        """The mention's key for it in JSON answers."""
        return self.json_field or self.name

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the value in a mention (nullable: older rows may lack it)."""
        if self.json_schema is not None:
            return self.json_schema
        if self.values:
            return {"anyOf": [{"type": "string", "enum": list(self.values)}, {"type": "null"}]}
        return nullable("string")

    def filter_schema(self) -> dict[str, Any]:
        """The JSON Schema of the filter parameter."""
        if self.values:
            return {"enum": list(self.values), "type": "string"}
        return {"maxLength": self.max_len, "type": "string"}

    def json_of(self, analysis: Analysis) -> Any:
        """The signal's JSON value in a mention."""
        if self.json_value is not None:
            return self.json_value(analysis)
        return self.value_of(analysis)

    def check(self, value: str) -> str | None:
        """Why ``value`` is not a value this signal filters on (``None``: it is)."""
        if self.values and value not in self.values:
            *head, last = [repr(v) for v in self.values]
            return f"should be {', '.join(head)} or {last}" if head else f"should be {last}"
        if len(value) > self.max_len:
            return f"should have at most {self.max_len} characters"
        return None


#: Names the listings use for other filters (and their paging): a signal cannot take them.
RESERVED = frozenset({"customer", "customer_id", "source", "q", "text", "topic", "topics", "since",
                      "until", "limit", "cursor", "status", "assignee", "tag", "signals", "flags"})

#: Keys a routed mention's webhook item and CRM activity have besides their signals: a signal
#: without a field of its own sits next to them under its key, so it cannot take one. (The
#: historic signals, intent and sentiment, are those fields of the routed item.)
PAYLOAD_KEYS = frozenset(RoutableItem.__dataclass_fields__) | frozenset(
    {"mention_id", "author", "url", "confidence", "evidence"})

_SIGNALS: dict[str, Signal] = {}


def nullable(json_type: str) -> dict[str, Any]:
    """A JSON Schema of ``json_type`` or ``null`` (the shape the OpenAPI document uses)."""
    return {"anyOf": [{"type": json_type}, {"type": "null"}]}


def register_signal(signal: Signal) -> Signal:
    """Add ``signal`` to the registry; a second signal of the same name is an error."""
    if signal.name in RESERVED or not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", signal.name):
        raise ValueError(f"{signal.name!r} cannot name an NLP signal (lower-case letters, digits "
                         f"and _; not one of the listings' other filters)")
    if signal.name in _SIGNALS and _SIGNALS[signal.name] != signal:
        raise ValueError(f"two NLP signals are named {signal.name!r}")
    if signal.stored_field is None and signal.key in PAYLOAD_KEYS:
        raise ValueError(f"{signal.key!r} cannot name an NLP signal (routed items and CRM "
                         f"activities have a field of that name)")
    if any(s.factory == signal.factory and s.name != signal.name for s in _SIGNALS.values()):
        raise ValueError(f"the component {signal.factory!r} already computes another signal")
    _SIGNALS[signal.name] = signal
    return signal


def unregister_signal(name: str) -> None:
    """Remove a signal (tests that declare their own)."""
    _SIGNALS.pop(name, None)


def facets() -> tuple[Signal, ...]:
    """The signals the dashboard counts next to its filters."""
    return tuple(s for s in signals() if s.facet)


def signals() -> tuple[Signal, ...]:
    """Every registered signal, in registration order."""
    if not _SIGNALS:
        raise LookupError("no NLP signal is registered: import nlp.signals (the composition "
                          "root does) before reading the signal registry")
    return tuple(_SIGNALS.values())


def signal_named(name: str) -> Signal | None:
    """The signal called ``name``, if any."""
    signals()  # an empty registry is an error, not "no such signal"
    return _SIGNALS.get(name)


def payload_signals() -> tuple[Signal, ...]:
    """The signals routed mentions' webhook bodies and CRM activities carry, in order."""
    return tuple(s for s in signals() if s.in_payloads)


def values_of(analysis: Analysis) -> tuple[tuple[str, str], ...]:
    """``(signal, value)`` of every registered signal ``analysis`` holds a value of."""
    return tuple((s.name, v) for s in signals() if (v := s.value_of(analysis)) is not None)


def stored_apart() -> tuple[Signal, ...]:
    """The signals kept in the generic store (no field of their own), by name."""
    return tuple(sorted((s for s in signals() if s.stored_field is None), key=lambda s: s.name))


def signal_pairs(analysis: Analysis) -> tuple[tuple[str, str], ...]:
    """The ``(signal, value)`` pairs of ``analysis`` for the generic store."""
    return tuple((s.name, v) for s in stored_apart() if (v := s.value_of(analysis)) is not None)


def filters_of(query: Any) -> list[tuple[Signal, str]]:
    """The signal filters a ``MentionQuery`` (or ``MentionFilter``) sets, with their values."""
    chosen = dict(getattr(query, "signals", ()) or ())
    out = []
    for s in signals():
        # The first signals are fields of ``MentionQuery`` (callers build ``intent=...``).
        value = getattr(query, s.name, None) if s.name in _fields(query) else chosen.get(s.name)
        if value:
            out.append((s, value))
    return out


def matches(analysis: Analysis, chosen: Iterable[tuple[Signal, str]]) -> bool:
    """Whether ``analysis`` has every chosen signal value."""
    return all(s.value_of(analysis) == value for s, value in chosen)


def _fields(query: Any) -> Mapping[str, Any]:
    return getattr(query, "__dataclass_fields__", None) or getattr(type(query), "model_fields", {})
