"""What a customer search matches: the folded words of a customer, and the terms of a query.

The search is a *word-prefix* match, as Chatwoot's and HubSpot's contact pickers do: every
term typed must begin some word of the customer's name, company, e-mail addresses or
handles.  "ann" finds "Anna Smith" and "Ann-Marie Lee" but not "Joanne" (a substring match
would need a full scan of the registry per keystroke; a prefix of an indexed word is one
range read of an index).  Case and accents do not count: text is folded (NFKD, combining
marks dropped, case-folded), so "jose" finds "José" and "ÉMILE" finds "Emile".

Both store backends index the same words (``customer_words``) and read the same terms
(``query_terms``), so they answer a query alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: A word is indexed (and a term compared) on at most this many characters: a longer term
#: still finds the word, the index stays small whatever a CRM sends.
WORD_CHARS = 64
#: Terms of a query beyond this many are ignored (each one is a range read of the index).
MAX_TERMS = 8
#: Runs of letters and digits (``_`` is a separator, as in a handle ``anna_smith``).
_PARTS = re.compile(r"[^\W_]+")
#: What a term may start or end with that is not part of a word ("@anna", "(acme)").
_EDGE = "".join(chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum())


def fold(text: str) -> str:
    """``text`` without case or accents: NFKD, combining marks dropped, case-folded; control,
    format (a zero-width space pasted inside a name), private-use and unassigned characters
    dropped too (kept, they would make a word no one can type, and a NUL no BSON string holds)."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if _kept(ch))
    # casefold can bring marks back (e.g. "İ"); a second pass drops them too.
    return "".join(ch for ch in unicodedata.normalize("NFKD", bare.casefold()) if _kept(ch))


def _kept(ch: str) -> bool:
    """Whether a character of decomposed text stays in its folded form (blanks do: they
    separate words)."""
    return ch.isspace() or not (unicodedata.combining(ch) or unicodedata.category(ch).startswith("C"))


def _words_of(text: str) -> set[str]:
    """The words of one value: each blank-separated token whole (edges trimmed: "o'brien",
    "jean-luc") and each run of letters and digits in it ("o", "brien", "jean", "luc")."""
    found: set[str] = set()
    for token in fold(text).split():
        whole = token.strip(_EDGE)
        if whole:
            found.add(whole[:WORD_CHARS])
        found.update(part[:WORD_CHARS] for part in _PARTS.findall(token))
    return found


def _address_words(address: str) -> set[str]:
    """An e-mail address's words: the address, its local part's words and the whole domain
    ("anna.smith@acme.com": itself, "anna", "smith", "acme.com"), but not the top-level
    domain alone, which would make "com" match every customer."""
    folded = fold(address).strip()
    local, _, domain = folded.partition("@")
    found = {folded[:WORD_CHARS]} if folded else set()
    found.update(_words_of(local))
    if domain:
        found.add(domain[:WORD_CHARS])
    return found


def customer_words(name: str, company: str | None, emails: Iterable[str],
                   handles: Iterable[str]) -> list[str]:
    """The folded words a customer is found by (sorted, each once)."""
    found = _words_of(name) | _words_of(company or "")
    for address in emails:
        found |= _address_words(address)
    for handle in handles:
        found |= _words_of(handle.strip().lstrip("@"))
    return sorted(found)


def name_key(name: str) -> str:
    """A name as search results are ranked and ordered by it (folded, blanks single)."""
    return " ".join(fold(name).split())


def query_terms(text: str) -> list[str]:
    """The terms of a search query: folded, blank-separated, edges trimmed ("@anna" is
    "anna"), at most ``MAX_TERMS`` of them.  Query syntax of any engine (``%``, ``"``, ``*``,
    ``NEAR``, regex characters) is plain text here; a query of only punctuation has no
    terms and matches nothing."""
    terms: list[str] = []
    for token in fold(text).split():
        term = token.strip(_EDGE)[:WORD_CHARS]
        if term and term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


def prefix_end(prefix: str) -> str:
    """The least string above every string that starts with ``prefix`` (a range read's end)."""
    return prefix + "\U0010ffff"
