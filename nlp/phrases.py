"""Many phrases found at once in lower-cased text, on word boundaries (Aho-Corasick).

One pass over the raw text finds every gazetteer phrase, including mail domains
inside addresses, which a token matcher misses (``help@x.io`` is one token).
Building the automaton never touches spaCy's tokenizer, so its cache stays clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

import ahocorasick

V = TypeVar("V")


def lower_same_length(text: str) -> str:
    """``text.lower()``, keeping every character's offset (a few letters lower to two)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class PhraseIndex(Generic[V]):
    """Phrases (matched case-insensitively, whole words only) mapped to lists of values.

    Phrases added after the search structure was built (an alias a manager taught) go to
    a second, small automaton: building the failure links again costs ~0.2 s at 100k
    phrases, the small one a few microseconds.  It is folded into the main one once it
    holds ``LATE_LIMIT`` phrases.
    """

    LATE_LIMIT = 2_000

    def __init__(self) -> None:
        self._automaton = ahocorasick.Automaton()
        # Phrases before the first build wait in a dict: a look-up in the automaton costs
        # ~5 µs (a second of the start-up at 100k customers), a dict's a tenth of that.
        self._pending: dict[str, tuple[int, list[V]]] = {}
        self._ready = False
        self._late: ahocorasick.Automaton | None = None
        self._late_ready = True
        #: times the main automaton was built (a learned phrase must not rebuild it)
        self.builds = 0

    def add(self, phrase: str, value: V) -> None:
        """Add ``value`` under ``phrase``; empty phrases are ignored."""
        self.add_key(" ".join(phrase.lower().split()), value)

    def add_key(self, key: str, value: V) -> None:
        """``add`` for a phrase already lower-cased with single spaces."""
        if not key:
            return
        existing = self._entry(key)
        if existing is not None:
            existing[1].append(value)  # the automaton holds this very list: no rebuild needed
        elif self._ready and len(self._automaton):
            if self._late is None:
                self._late = ahocorasick.Automaton()
            self._late.add_word(key, (len(key), [value]))
            self._late_ready = False
            if len(self._late) >= self.LATE_LIMIT:
                self._fold_late()
        else:
            self._pending[key] = (len(key), [value])
            self._ready = False

    def _entry(self, key: str) -> tuple[int, list[V]] | None:
        found = self._pending.get(key)
        if found is not None:
            return found
        found = self._automaton.get(key, None)
        if found is None and self._late is not None:
            found = self._late.get(key, None)
        return found

    def _fold_late(self) -> None:
        assert self._late is not None
        self._pending.update(self._late.items())
        self._late = None
        self._late_ready = True
        self._ready = False

    def get(self, phrase: str) -> list[V]:
        """The values added under exactly ``phrase`` (normalised like ``add``), or ``[]``."""
        found = self._entry(" ".join(phrase.lower().split()))
        return found[1] if found else []

    def __len__(self) -> int:
        late = len(self._late) if self._late is not None else 0
        return len(self._automaton) + len(self._pending) + late

    def finalise(self) -> None:
        """Build the search structure (done lazily on the first search otherwise)."""
        if self._pending:
            add_word = self._automaton.add_word
            for key, entry in self._pending.items():
                add_word(key, entry)
            self._pending = {}
        if len(self._automaton):
            self._automaton.make_automaton()
            self.builds += 1
        self._ready = True

    def find(self, low: str) -> Iterator[tuple[int, int, list[V]]]:
        """``(start, end, values)`` of every whole-word phrase in lower-cased ``low``."""
        if not self._ready:
            self.finalise()
        if self._late is None:
            yield from self._find_in(self._automaton, low)
            return
        if not self._late_ready:
            self._late.make_automaton()
            self._late_ready = True
        # In the order one automaton holding both would give: by end, longer first.
        yield from sorted((*self._find_in(self._automaton, low), *self._find_in(self._late, low)),
                          key=lambda found: (found[1], found[0]))

    @staticmethod
    def _find_in(automaton: ahocorasick.Automaton, low: str) -> Iterator[tuple[int, int, list[V]]]:
        if not len(automaton):
            return
        n = len(low)
        for last, (length, values) in automaton.iter(low):
            start = last - length + 1
            end = last + 1
            if start > 0 and _is_word_char(low[start - 1]):
                continue
            if end < n and _is_word_char(low[end]):
                continue
            yield start, end, values
