"""Fuzzy candidates: a capitalised run inside an exact match is skipped whole, as its windows were."""

from __future__ import annotations

import random
import re

from nlp.fuzzy import FuzzyNames


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
        assert got == list(names.candidates(text, taken, skip_runs_inside_taken=False)), (text, taken)
        checked += bool(got)
    assert checked > 100
