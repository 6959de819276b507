"""Which customer names are also everyday words, decided from data rather than a hand list.

A word-frequency list shipped inside the ``wordfreq`` wheel (nothing is downloaded) says
how often a word occurs in ordinary text of a language. A one-word name or alias at or
above ``COMMON_ZIPF`` ("Bolt", "Square", "Kramer") is an everyday word or a common surname
somewhere in the analysed languages, so it needs a cue (capitalisation mid-sentence,
business words nearby, a legal suffix, a handle or domain) before it links. A person's
name whose every word is that common ("Jerry West", "Jennifer Smith") is shared by
thousands of people, some of them famous: without a cue it waits for a manager.

Also here: the same-length folding of text (line breaks, hyphens, diacritics) that the
linker matches on, and the registry report of names and aliases that will be ambiguous.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

from spacy.lang.en.stop_words import STOP_WORDS

#: Zipf frequency (log10 of occurrences per billion words) from which a word is "common":
#: 3.0 is once per million words. "kramer" 3.45, "bolt" 4.04 are; "acme" 2.89,
#: "larkspur" 2.12 and invented names (0) are not.
COMMON_ZIPF = 3.0
#: The word list of this size holds exactly the words at or above ``COMMON_ZIPF``.
_WORDLIST = "small"

# Legal forms that people drop when they write a company's name as a handle or hashtag.
LEGAL_SUFFIXES = (
    "inc", "inc.", "incorporated", "corp", "corp.", "corporation", "ltd", "ltd.", "limited",
    "llc", "l.l.c.", "llp", "lp", "plc", "gmbh", "ag", "kg", "sa", "s.a.", "sarl", "srl", "bv",
    "nv", "ab", "oy", "as", "a/s", "pty", "pty ltd", "co", "co.", "& co", "& co.", "and co",
    "and sons", "& sons", "group",
)

# One character for one character: line breaks and tabs become spaces (a name split over
# two lines), hyphens become spaces ("hall-martinez" is "Hall Martinez"), and letters with
# diacritics lose them ("Grünewald" is written "Grunewald" on many keyboards); typographic
# apostrophes are the typewriter one.
_SPACES = "\n\r\t\u00a0\u2007\u202f\u2028\u2029-\u2010\u2011\u2012\u2013"


def _fold_table() -> dict[int, str]:
    table = {ord(c): " " for c in _SPACES}
    for code in range(0xC0, 0x250):
        ch = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if len(base) == 1 and base != ch:
            table[code] = base
    # Letters NFKD leaves alone but keyboards without them write as one letter.
    table.update({ord("ø"): "o", ord("Ø"): "O", ord("ł"): "l", ord("Ł"): "L", ord("đ"): "d",
                  ord("Đ"): "D", ord("ı"): "i"})
    # Phones type a typographic apostrophe ("d’Électricité") where the registry holds "'".
    table.update({ord("\u2019"): "'", ord("\u2018"): "'", ord("\u02bc"): "'"})
    return table


FOLD = _fold_table()
# str.translate looks every character up in a dict (~13 µs a post); most posts need only
# a few C-speed replaces, and the table only when a foldable non-ASCII character is there.
_FOLDABLE = re.compile("[" + "".join(chr(c) for c in sorted(FOLD) if c > 127) + "]")
NOT_ALNUM = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """``text`` with line breaks and hyphens as spaces and diacritics dropped; same length."""
    if "-" in text:
        text = text.replace("-", " ")
    if "\n" in text:
        text = text.replace("\n", " ")
    if "\t" in text or "\r" in text:
        text = text.replace("\t", " ").replace("\r", " ")
    if not text.isascii() and _FOLDABLE.search(text):
        text = text.translate(FOLD)
    return text


def squash(text: str) -> str:
    """Letters and digits only, folded and lower-cased: how a hashtag or handle spells a name."""
    return NOT_ALNUM.sub("", fold(text).lower())


def name_words(name: str) -> list[str]:
    """The words of a name as the linker matches it (folded, lower case)."""
    return fold(name).lower().split()


def without_legal_suffix(name: str) -> str | None:
    """The name without a trailing legal form ("Kramer Ltd" → "Kramer"), or None if it has none."""
    words = stem_words(name_words(name))
    return " ".join(words) if words else None


def stem_words(words: list[str]) -> list[str] | None:
    """Folded lower-case words of a name without a trailing legal form, or None if none."""
    for n in (2, 1):
        if len(words) > n and " ".join(words[-n:]).rstrip(",") in LEGAL_SUFFIXES:
            stem = words[:-n]
            stem[-1] = stem[-1].rstrip(",")
            return stem
    return None


def _wordfreq() -> ModuleType:
    """The ``wordfreq`` module, imported when a word list is first read (not when the
    pipeline module is imported: commands that never link pay nothing for it)."""
    import wordfreq

    return wordfreq


@lru_cache(maxsize=None)
def _frequencies(language: str) -> dict[str, float]:
    try:
        return _wordfreq().get_frequency_dict(language, _WORDLIST)
    except (LookupError, ValueError):
        return {}  # a language wordfreq has no list for: nothing counts as common there


@lru_cache(maxsize=8)
def _common_words(languages: tuple[str, ...]) -> frozenset[str]:
    """Stop words and the words of every language's list, in one set: one look-up a word
    (asked ~150,000 times while a 100k registry is read) and one set for every pipeline."""
    return frozenset(STOP_WORDS).union(*(_frequencies(lang) for lang in languages))


class WordSense:
    """Tells common words from distinctive ones for the languages posts are written in."""

    def __init__(self, languages: Iterable[str] = ("en",)) -> None:
        self.languages = tuple(dict.fromkeys(("en", *languages)))
        self._common = _common_words(self.languages)

    def is_common(self, word: str) -> bool:
        """True when ``word`` (one lower-case word) is a stop word or common in some language.

        Dots do not count: a title, degree or initialism ("dr.", "jr.", "m.d.") is the word
        without them, so it does not make a common name rare.
        """
        return word in self._common or ("." in word and word.replace(".", "") in self._common)

    def common_among(self, phrases: Iterable[str]) -> set[str]:
        """The one-word phrases among ``phrases`` that are common words."""
        return {p for p in phrases if p and " " not in p and self.is_common(p)}

    def all_common(self, name: str) -> bool:
        """True when every word of ``name`` is common ("Summer Day", "Jerry West")."""
        words = name_words(name)
        return bool(words) and all(self.is_common(w) for w in words)


@dataclass(frozen=True, slots=True)
class AmbiguousName:
    """A name or alias of a customer that will not link on its own, and why."""

    customer_id: str
    phrase: str
    reason: str


def ambiguity_report(customers: Iterable, languages: Iterable[str] = ("en",)) -> list[AmbiguousName]:
    """The names and aliases of ``customers`` that need a cue before they link, with the reason.

    Shown when a registry is imported, so whoever keeps it can add a handle, a domain or a
    more distinctive alias.
    """
    sense = WordSense(languages)
    owners: dict[str, set[str]] = {}
    customers = list(customers)
    for c in customers:
        for phrase in (c.name, *c.aliases):
            owners.setdefault(" ".join(name_words(phrase)), set()).add(c.id)
    out: list[AmbiguousName] = []
    for c in customers:
        for phrase in dict.fromkeys((c.name, *c.aliases)):
            key = " ".join(name_words(phrase))
            if not key:
                continue
            words = key.split()
            shared = len(owners.get(key, ())) - 1
            if len(key.replace(" ", "")) <= 2:
                reason = "two letters or fewer: links only with a handle, a domain or business words nearby"
            elif len(words) == 1 and sense.is_common(key):
                reason = "a common word or surname: links only with a cue (capitalised mid-sentence, business words, legal suffix)"
            elif c.kind == "person" and phrase == c.name and sense.all_common(key):
                reason = "every word of this person's name is common: others (public figures too) share it, so name-only mentions await review"
            elif shared > 0:
                reason = f"shared with {shared} other customer{'s' if shared > 1 else ''}: a name-only mention awaits review"
            else:
                continue
            out.append(AmbiguousName(c.id, phrase, reason))
    return out
