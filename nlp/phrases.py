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
    """Phrases (matched case-insensitively, whole words only) mapped to lists of values."""

    def __init__(self) -> None:
        self._automaton = ahocorasick.Automaton()
        self._ready = False

    def add(self, phrase: str, value: V) -> None:
        """Add ``value`` under ``phrase``; empty phrases are ignored."""
        key = " ".join(phrase.lower().split())
        if not key:
            return
        existing = self._automaton.get(key, None)
        if existing is None:
            self._automaton.add_word(key, (len(key), [value]))
        else:
            existing[1].append(value)
        self._ready = False

    def get(self, phrase: str) -> list[V]:
        """The values added under exactly ``phrase`` (normalised like ``add``), or ``[]``."""
        found = self._automaton.get(" ".join(phrase.lower().split()), None)
        return found[1] if found else []

    def __len__(self) -> int:
        return len(self._automaton)

    def finalise(self) -> None:
        """Build the search structure (done lazily on the first search otherwise)."""
        if len(self._automaton):
            self._automaton.make_automaton()
        self._ready = True

    def find(self, low: str) -> Iterator[tuple[int, int, list[V]]]:
        """``(start, end, values)`` of every whole-word phrase in lower-cased ``low``."""
        if not self._ready:
            self.finalise()
        if not len(self._automaton):
            return
        n = len(low)
        for last, (length, values) in self._automaton.iter(low):
            start = last - length + 1
            end = last + 1
            if start > 0 and _is_word_char(low[start - 1]):
                continue
            if end < n and _is_word_char(low[end]):
                continue
            yield start, end, values
