"""Near misses of customer names: one typo (edit distance 1) in one word of a name.

Tried only on capitalised spans of a post that matched no name exactly, so a post
without such spans costs one regex scan. Every other word of the name must be exact;
the mistyped word is found through small buckets keyed by the rest of the name, the
word's length and its first or second letter (a typo keeps one of them in place), and
checked with rapidfuzz's Levenshtein distance. Short words are not tried ("Shel" is not
"Shell"), nor one-word names that are ordinary words ("Orage" is too often something else).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rapidfuzz.distance import Levenshtein

#: Shortest whole name tried, and shortest word of a name that may carry the typo.
MIN_NAME = 6
MIN_WORD = 4
MAX_WORDS = 4
# Runs of capitalised words ("Ame Anvils", "Jrdan Lee Consulting") on one line; a lone
# capital ("I", "A") starts none. No look-behind: the engine then jumps from capital to
# capital (4x faster); a run inside a word, handle or URL is skipped in code.
_CAPITALISED_RUN = re.compile(r"[A-Z][\w'&-]+(?:[ \t]+[A-Z][\w'&-]*)*")
_WORD = re.compile(r"\S+")
_POSSESSIVE = re.compile(r"(?<=\w)['’]s?$")


class FuzzyNames:
    """Names indexed for one-typo look-ups."""

    def __init__(self, ordinary: frozenset[str]) -> None:
        self.ordinary = ordinary
        # "words|position|rest of the name" → (word, name) for each word that may carry a typo:
        # one look-up rules out most windows. Split into buckets by the word's length and its
        # first or second letter only when a post first needs that rest (``_buckets_of``):
        # building every bucket up front was a second of the start-up at 100k customers.
        self._rests: dict[str, list[tuple[str, str]]] = {}
        self._buckets: dict[str, dict[tuple[int, int, str], list[tuple[str, str]]]] = {}

    def __len__(self) -> int:
        return len(self._rests)

    def add(self, name: str) -> None:
        """Index a name (lower case, single spaces) unless it is too short or too ordinary."""
        words = name.split()
        n = len(words)
        if len(name) < MIN_NAME or n > MAX_WORDS or (n == 1 and name in self.ordinary):
            return
        rests = self._rests
        for i, word in enumerate(words):
            # An ordinary word may carry the typo only when the rest of the name is there exactly.
            if len(word) < MIN_WORD or (n == 1 and word in self.ordinary):
                continue
            rest = f"{n}|{i}|{' '.join(words[:i] + words[i + 1:])}"
            entries = rests.get(rest)
            if entries is None:
                rests[rest] = [(word, name)]
            else:
                entries.append((word, name))
                self._buckets.pop(rest, None)  # split again when next needed

    def _buckets_of(self, rest: str) -> dict[tuple[int, int, str], list[tuple[str, str]]]:
        """The words under ``rest`` by (length, position 0 or 1, the letter there)."""
        buckets = self._buckets.get(rest)
        if buckets is None:
            buckets = self._buckets[rest] = {}
            for word, name in self._rests[rest]:
                for pos in (0, 1):
                    buckets.setdefault((len(word), pos, word[pos]), []).append((word, name))
        return buckets

    def candidates(self, text: str, taken: list[tuple[int, int]], *,
                   skip_runs_inside_taken: bool = True) -> Iterator[tuple[int, int, str]]:
        """``(start, end, name)`` of spans in ``text`` one typo away from an indexed name.

        Spans that overlap an exact match in ``taken`` without containing it are skipped.
        ``skip_runs_inside_taken`` is only a shortcut (a run inside one exact match is
        skipped whole rather than window by window): the same candidates either way.
        """
        if not self._rests:
            return
        for run in _CAPITALISED_RUN.finditer(text):
            if run.end() - run.start() < MIN_NAME - 1:
                continue  # too short to be a name of MIN_NAME letters less one
            if run.start() and (text[run.start() - 1].isalnum() or text[run.start() - 1] in "_@#./"):
                continue
            # A run inside one exact match ("Acme Anvils" found as it is): each of its windows
            # would be skipped below (~10 µs a post naming a customer).
            if skip_runs_inside_taken and any(s <= run.start() and run.end() <= e for s, e in taken):
                continue
            words = [(m.start() + run.start(), m.end() + run.start(), m.group().lower())
                     for m in _WORD.finditer(run.group())]
            # A possessive is not a typo: "Patrick Harris'" is "Patrick Harris" (found exactly).
            first, last_end, last = words[-1]
            bare = _POSSESSIVE.sub("", last)
            if bare != last:
                words[-1] = (first, last_end - (len(last) - len(bare)), bare)
            found: list[tuple[int, int]] = []
            # Longest windows first: "Zntrix Labs" is the company, not the alias "Zentrix".
            for n in range(min(MAX_WORDS, len(words)), 0, -1):
                for first in range(len(words) - n + 1):
                    window = words[first:first + n]
                    start, end = window[0][0], window[-1][1]
                    # Skip windows cutting an exact match, and exact matches themselves.
                    if any(s < end and start < e and not (start <= s and e <= end and (s, e) != (start, end))
                           for s, e in taken):
                        continue
                    if any(s <= start and end <= e for s, e in found):
                        continue
                    for name in self._lookup([w for _, _, w in window]):
                        found.append((start, end))
                        yield start, end, name

    def _lookup(self, words: list[str]) -> set[str]:
        found: set[str] = set()
        n = len(words)
        if n == 1 and len(words[0]) < MIN_NAME - 1:
            return found
        for i, typed in enumerate(words):
            if len(typed) < MIN_WORD - 1:
                continue
            rest = f"{n}|{i}|{' '.join(words[:i] + words[i + 1:])}"
            if rest not in self._rests:
                continue
            buckets = self._buckets_of(rest)
            for length in (len(typed) - 1, len(typed), len(typed) + 1):
                for pos in (0, 1):
                    for ch in {typed[0], typed[1]}:
                        for word, name in buckets.get((length, pos, ch), ()):
                            if word != typed and Levenshtein.distance(typed, word, score_cutoff=1) <= 1:
                                found.add(name)
        return found
