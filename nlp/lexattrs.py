"""Faster twins of spaCy's lexical attribute functions: same values, less Python per new word.

spaCy computes ~23 attributes (lower case, shape, like_num, is_punct, ...) the first time
it meets a string, each by a Python function. A firehose brings new strings in almost
every post (each link, many handles), so this runs all the time: ~18 µs a new string,
a third of the tokenizer's time on the benchmark corpus. Some of it is avoidable:
``like_num`` scans two lists, ``is_ascii``, ``is_punct`` and ``like_url`` loop over the
characters in Python, and small wrappers add a Python frame each. ``word_shape`` keeps spaCy's loop but
remembers its answers by the string's character classes (below).

``use_fast_lexeme_attrs(vocab)`` swaps in equivalents for the getters that are spaCy's own
defaults (checked by identity; anything else is left alone). Every twin returns exactly
what the original returns, for every string (``tests/nlp/test_lexattrs.py`` compares them);
non-ASCII text takes the original path where the fast one would differ.

Two of the twins lean on spaCy internals, not its public API: the English number words
(``spacy.lang.en.lex_attrs._num_words`` / ``_ordinal_words``) and the NORM getter's wrapped
function (``spacy.util._get_attr_unless_lookup``).  ``probe_spacy_internals`` checks that they
are there and shaped as in spaCy 3.8; when they are not, those two twins stay off (one
warning is logged) and spaCy's own getters run: same values, a little slower.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from types import ModuleType
from typing import Any

import spacy
import spacy.util
from spacy.lang import lex_attrs as base
from spacy.lang.en import lex_attrs as en
from spacy.vocab import Vocab

log = logging.getLogger(__name__)

_ASCII = [chr(i) for i in range(128)]
_ASCII_PUNCT = "".join(c for c in _ASCII if unicodedata.category(c).startswith("P"))
_ASCII_CURRENCY = "".join(c for c in _ASCII if unicodedata.category(c) == "Sc")
# Each ASCII byte to its shape character: upper-case letters "X", lower-case "x", digits "d",
# anything else itself (what spaCy's word_shape writes before it cuts runs).
_SHAPE_CLASSES = bytes.maketrans(
    bytes(range(128)),
    "".join("X" if c.isalpha() and c.isupper() else "x" if c.isalpha() else "d" if c.isdigit() else c
            for c in _ASCII).encode("ascii"))
#: Largest number of shapes remembered (then forgotten all at once): a few MB at most.
SHAPE_CACHE_SIZE = 20_000
_shapes: dict[bytes, str] = {}


def word_shape(text: str) -> str:
    """``spacy.lang.lex_attrs.word_shape``, remembered by the ASCII string's character classes.

    spaCy's shape of an ASCII string depends only on the sequence of its characters'
    classes ("https://t.example/kalo12" and "https://q.arcadia/zelo57" both read
    "xxxx://x.xxxx/xxxxdd"), and new strings of a firehose come in few such sequences
    (links, handles), so the class sequence (one ``bytes.translate``, ~0.3 µs) looks up the
    shape spaCy's loop (~1-3 µs) computed for the first string of that sequence.
    """
    if len(text) >= 100 or not text.isascii():
        return base.word_shape(text)
    key = text.encode("ascii").translate(_SHAPE_CLASSES)
    shape = _shapes.get(key)
    if shape is None:
        shape = base.word_shape(text)
        if len(_shapes) >= SHAPE_CACHE_SIZE:
            _shapes.clear()
        _shapes[key] = shape
    return shape


def is_punct(text: str) -> bool:
    """``spacy.lang.lex_attrs.is_punct``: every character is punctuation (Unicode "P*")."""
    if text.isascii():
        return not text.strip(_ASCII_PUNCT)
    return base.is_punct(text)


def is_currency(text: str) -> bool:
    """``spacy.lang.lex_attrs.is_currency``: every character is a currency sign ("Sc")."""
    if text.isascii():
        return not text.strip(_ASCII_CURRENCY)
    return base.is_currency(text)


# A character no number-like ASCII string holds after its first (sign) character: digits,
# number words, fractions and ordinals are made of letters, digits, "," "." and "/" only.
_NOT_IN_NUMBER = re.compile(r"[^0-9A-Za-z,./]")


def like_num_en_with(number_words: frozenset[str]) -> Callable[[str], bool]:
    """``spacy.lang.en.lex_attrs.like_num``, with its number words (``number_words``) in a set.

    Links and handles (most new strings) are told at their first ":" or "@" by one search.
    """

    def like_num_en(text: str) -> bool:
        if text.isascii() and _NOT_IN_NUMBER.search(text, 1) is not None:
            return False
        if text.startswith(("+", "-", "±", "~")):
            text = text[1:]
        text = text.replace(",", "").replace(".", "")
        if text.isdigit():
            return True
        if text.count("/") == 1:
            num, denom = text.split("/")
            if num.isdigit() and denom.isdigit():
                return True
        text_lower = text.lower()
        if text_lower in number_words:
            return True
        return text_lower.endswith(("st", "nd", "rd", "th")) and text_lower[:-2].isdigit()

    return like_num_en


def like_url(text: str) -> bool:
    """``spacy.lang.lex_attrs.like_url``: its first tests, then the "." test in C (its loop
    over the characters in Python costs ~1 µs on a new word), then the original."""
    if text.startswith(("http://", "https://")):
        return True
    if text.startswith("www.") and len(text) >= 5:
        return True
    if text[0] == "." or text[-1] == "." or "@" in text or "." not in text:
        return False
    return base.like_url(text)


def _members(*values: str) -> Callable[[str], bool]:
    return frozenset(values).__contains__


_BRACKETS = _members("(", ")", "[", "]", "{", "}", "<", ">")
_QUOTES = _members('"', "'", "`", "«", "»", "‘", "’", "‚", "‛", "“", "”", "„", "‟", "‹", "›", "❮", "❯",
                   "''", "``")
_LEFT = _members("(", "[", "{", "<", '"', "'", "«", "‘", "‚", "‛", "“", "„", "‟", "‹", "❮", "``")
_RIGHT = _members(")", "]", "}", ">", '"', "'", "»", "’", "”", "›", "❯", "''")

#: spaCy's function -> its twin (plain ``str`` methods where the original only wraps one).
TWINS: dict[Callable[..., Any], Callable[..., Any]] = {
    base.lower: str.lower,
    base.prefix: itemgetter(0),
    base.suffix: itemgetter(slice(-3, None)),
    base.is_alpha: str.isalpha,
    base.is_digit: str.isdigit,
    base.is_lower: str.islower,
    base.is_space: str.isspace,
    base.is_title: str.istitle,
    base.is_upper: str.isupper,
    base.is_ascii: str.isascii,
    base.is_punct: is_punct,
    base.is_currency: is_currency,
    base.word_shape: word_shape,
    base.like_url: like_url,
    base.is_bracket: _BRACKETS,
    base.is_quote: _QUOTES,
    base.is_left_punct: _LEFT,
    base.is_right_punct: _RIGHT,
}


@dataclass(frozen=True, slots=True)
class SpacyInternals:
    """The private parts of spaCy two twins need, each ``None`` when it is not as expected."""

    #: ``spacy.util._get_attr_unless_lookup(default_func, lookups, string)``
    get_attr_unless_lookup: Callable[..., Any] | None
    #: ``spacy.lang.en.lex_attrs._num_words`` and ``_ordinal_words``, lower case
    en_number_words: frozenset[str] | None


def probe_spacy_internals(util: ModuleType | Any, en_attrs: ModuleType | Any) -> SpacyInternals:
    """What of spaCy's internals is there and shaped as expected, in ``util`` (``spacy.util``)
    and ``en_attrs`` (``spacy.lang.en.lex_attrs``); logs one warning naming what is not."""
    problems = []
    lookup = getattr(util, "_get_attr_unless_lookup", None)
    if not callable(lookup):
        problems.append("spacy.util._get_attr_unless_lookup is missing")
        lookup = None
    else:
        try:
            params = list(inspect.signature(lookup).parameters)
        except (TypeError, ValueError):  # a builtin without a signature
            params = []
        if params != ["default_func", "lookups", "string"]:
            problems.append(f"spacy.util._get_attr_unless_lookup takes ({', '.join(params)}), "
                            "not (default_func, lookups, string)")
            lookup = None
    words: frozenset[str] | None = None
    lists = [getattr(en_attrs, name, None) for name in ("_num_words", "_ordinal_words")]
    if all(isinstance(v, (list, tuple, frozenset, set)) and v and all(isinstance(w, str) for w in v)
           for v in lists):
        words = frozenset(w for v in lists for w in v)
    else:
        problems.append("spacy.lang.en.lex_attrs._num_words / _ordinal_words are missing or "
                        "not lists of words")
    if problems:
        log.warning("spaCy %s is not shaped as expected (%s): the lexical attribute speed-ups "
                    "that rely on it are off; analysis is unchanged, only slower",
                    spacy.__version__, "; ".join(problems))
    return SpacyInternals(lookup, words)


@functools.cache
def installed_spacy_internals() -> SpacyInternals:
    """The installed spaCy's internals, probed once per process."""
    return probe_spacy_internals(spacy.util, en)


def _twin(getter: Callable[..., Any], internals: SpacyInternals) -> Callable[..., Any]:
    twin = TWINS.get(getter)
    if twin is not None:
        return twin
    if getter is en.like_num and internals.en_number_words is not None:
        return like_num_en_with(internals.en_number_words)
    if isinstance(getter, functools.partial):
        # is_stop(stops=...), get_lang(lang=...) and the NORM look-up before lower().
        if getter.func is base.is_stop and not getter.args and set(getter.keywords) == {"stops"}:
            stops = getter.keywords["stops"]
            return lambda text: text.lower() in stops
        if getter.func is base.get_lang and not getter.args and set(getter.keywords) == {"lang"}:
            lang = getter.keywords["lang"]
            return lambda text: lang
        lookup = internals.get_attr_unless_lookup
        if (lookup is not None and getter.func is lookup and not getter.keywords and len(getter.args) == 2
                and getter.args[0] in (base.lower, str.lower) and len(getter.args[1]) == 1):
            table = getter.args[1][0]
            return lambda text: table[text] if text in table else text.lower()
    return getter


def use_fast_lexeme_attrs(vocab: Vocab, internals: SpacyInternals | None = None) -> None:
    """Swap ``vocab``'s default lexical attribute getters for their twins (same values);
    the twins needing spaCy internals only where ``internals`` (default: the installed
    spaCy's) has them."""
    internals = internals or installed_spacy_internals()
    getters = vocab.lex_attr_getters
    if getters:
        vocab.lex_attr_getters = {attr: _twin(getter, internals) for attr, getter in getters.items()}

