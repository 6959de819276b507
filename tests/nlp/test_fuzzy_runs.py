"""Fuzzy candidates: a capitalised run inside an exact match is skipped whole, as its windows were."""

from __future__ import annotations

import random
import re

from nlp import fuzzy
from nlp.fuzzy import MAX_WORDS, MIN_NAME, FuzzyNames


def _candidates_window_by_window(names: FuzzyNames, text: str, taken: list[tuple[int, int]]):
    """The candidates as found before the shortcut: every window of every run tried."""
    out = []
    for run in fuzzy._CAPITALISED_RUN.finditer(text):
        if run.end() - run.start() < MIN_NAME - 1:
            continue
        if run.start() and (text[run.start() - 1].isalnum() or text[run.start() - 1] in "_@#./"):
            continue
        words = [(m.start() + run.start(), m.end() + run.start(), m.group().lower())
                 for m in re.finditer(r"\S+", run.group())]
        found: list[tuple[int, int]] = []
        for n in range(min(MAX_WORDS, len(words)), 0, -1):
            for first in range(len(words) - n + 1):
                window = words[first:first + n]
                start, end = window[0][0], window[-1][1]
                if any(s < end and start < e and not (start <= s and e <= end and (s, e) != (start, end))
                       for s, e in taken):
                    continue
                if any(s <= start and end <= e for s, e in found):
                    continue
                for name in names._lookup([w for _, _, w in window]):
                    found.append((start, end))
                    out.append((start, end, name))
    return out


def test_same_candidates_as_window_by_window() -> None:
    rng = random.Random(3)
    names = FuzzyNames(frozenset({"apple", "target"}))
    real = ["acme anvils", "zentrix labs", "jordan lee consulting", "zentrix", "kalomira", "fen dorquin"]
    for name in real:
        names.add(name)
    words = ["Acme", "Anvils", "Acmr", "Anvls", "Zentrix", "Zntrix", "Labs", "Jordan", "Lee", "Lea",
             "Consulting", "Kalomira", "Kalomra", "Fen", "Dorquin", "Dorqin", "the", "app", "is", "I",
             "Apple", "Target", "crashes", "and", "@Acme", "#Zentrix", "x.Acme"]
    checked = 0
    for _ in range(6_000):
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 14)))
        low = text.lower()
        # Exact matches as the linker passes them: whole-word occurrences of the real names.
        taken = [(m.start(), m.end()) for name in real
                 for m in re.finditer(r"(?<!\w)" + re.escape(name) + r"(?!\w)", low)]
        if rng.random() < 0.3 and len(text) > 3:
            a = rng.randrange(len(text) - 1)
            taken.append((a, rng.randrange(a + 1, len(text) + 1)))
        got = list(names.candidates(text, taken))
        assert got == _candidates_window_by_window(names, text, taken), (text, taken)
        checked += bool(got)
    assert checked > 100
