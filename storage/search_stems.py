"""Idea search by word stems on MongoDB: "invoice" finds "invoices" and "invoicing".

MongoDB's own text-index stemming depends on the server (and on mongoeco, which the tests
use, there is none), so the stems are made here, with the Snowball English stemmer, and kept
beside each idea in ``search_title`` / ``search_body``; the text index covers those fields
with language "none", and a query is stemmed the same way.  SQLite does the same inside FTS5
with its ``porter`` tokenizer (migration 0065).
"""

from __future__ import annotations

import functools
import re
from typing import Any

_WORD = re.compile(r"\w+", re.UNICODE)
#: Words longer than this are kept whole (nobody searches for them by a part).
_LONGEST = 64


@functools.cache
def _stemmer() -> Any:
    import snowballstemmer  # only the MongoDB backend needs it

    return snowballstemmer.stemmer("english")


def stems(text: str) -> list[str]:
    """The stems of ``text``'s words, lower case, in order."""
    words = [w.lower() for w in _WORD.findall(text or "")]
    return [w if len(w) > _LONGEST else s for w, s in zip(words, _stemmer().stemWords(words), strict=True)]


def search_fields(title: str, body: str) -> dict[str, str]:
    """The stemmed copies of an idea's title and body that its text index covers."""
    return {"search_title": " ".join(stems(title)), "search_body": " ".join(stems(body))}
