"""Names spelt as one word: hashtags (``#AcmeAnvils``), and handles or web domains nobody registered.

On X, Bluesky, Mastodon and Instagram a brand is named by a hashtag; people also @mention
or link a company by its name run together (``@acmeanvils``, ``acmeanvils.com``) when the
registry holds another handle or no domain. Each name and alias is kept under its
letters and digits alone (``squash``: case, spaces, hyphens, underscores and diacritics
dropped), and a company's name also without its legal form ("Kramer Ltd" under
``kramerltd`` and ``kramer``) — but a spelling that is one common word or surname
(``#kramer``, ``#bolt``) is not kept: it names a customer too rarely to link alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from nlp.wordsense import NOT_ALNUM, WordSense, name_words, squash, stem_words

# "#" then the tag; the look-behind (after the literal, so the engine jumps from "#" to "#")
# skips "C#" and "##", and "&#8217;"-style entities. X, Mastodon and Bluesky all end a tag
# at "." (Bluesky keeps letters, digits, "_" and "-"), so "#Mr._James_Baldwin_PhD" is
# the tag "#Mr" there; but whoever wrote it spelt a titled name, so the run on past a dot
# with a letter or digit right after it (group 2) is read first, and the platform's tag
# when that spells no one ("#AcmeAnvils.Great" is still Acme Anvils).
_HASHTAG = re.compile(r"#(?<![\w&#]#)(\w{1,60})((?:\.\w+)*)")
# A host name in a link or bare ("acmeanvils.com", "www.acme-anvils.io/pricing"): the label
# right before the last dot of the host. Starts with the literal "." so the scan is in C.
_DOMAIN_LABEL = re.compile(r"\.(?:[a-z]{2,24})(?![\w.-])|\.(?:[a-z]{2,24})(?=/)")
# Matched on the reversed text before the dot: the label is read back from the dot in one
# step (a "$"-anchored search forwards would retry at every position, ~8 µs a post).
_LABEL_REVERSED = re.compile(r"[a-z0-9-]{2,63}")
_SECOND_LEVEL = frozenset(("co", "com", "org", "net", "ac", "gov", "ltd", "plc", "edu"))
_SHORTEST = 4  # a spelling under four letters ("#ai", "#acme" is four) is too easy to hit


class Spelling(NamedTuple):
    """A customer a run-together spelling stands for, and how distinctive that spelling is.

    A named tuple rather than a frozen dataclass: a saved gazetteer (``nlp.gazetteer_cache``)
    holds ~150,000 of them, and tuples load from a pickle in two thirds of the time.
    """

    customer_id: str
    #: "company_name", "person_name" or "alias": what was run together
    source: str
    #: how many words the spelling had before running together ("acme anvils": 2)
    words: int
    #: the spelling dropped the company's legal form ("kramer ltd" kept as "kramer")
    stem: bool
    #: a person's name whose every word is common ("Jerry West"): needs other support
    common_person: bool


class SpellingIndex:
    """Run-together spellings of names and aliases → the customers spelt."""

    def __init__(self, sense: WordSense) -> None:
        self.sense = sense
        self.spellings: dict[str, list[Spelling]] = {}

    def __len__(self) -> int:
        return len(self.spellings)

    def add(self, customer_id: str, phrase: str, source: str, person: bool = False,
            words: list[str] | None = None) -> None:
        """Index ``phrase`` (a name or alias) of ``customer_id`` and, for a company, its stem.

        ``words``: ``name_words(phrase)``, when the caller has them already.
        """
        # Folded and split once (this runs for every name of a 100k registry).
        forms = [(name_words(phrase) if words is None else words, False)]
        stem = stem_words(forms[0][0]) if source == "company_name" else None
        if stem:
            forms.append((stem, True))
        is_common = self.sense.is_common
        for words, is_stem in forms:
            key = "".join(words)
            if not key.isalnum():
                key = NOT_ALNUM.sub("", key)
            if len(key) < _SHORTEST or key.isdigit():
                continue
            if len(words) == 1 and is_common(words[0]):
                continue  # "#kramer", "#bolt": an everyday word or a surname
            common_person = person and all(is_common(w) for w in words)
            entries = self.spellings.get(key)
            if entries is None:
                self.spellings[key] = [Spelling(customer_id, source, len(words), is_stem, common_person)]
            elif not any(e.customer_id == customer_id for e in entries):
                entries.append(Spelling(customer_id, source, len(words), is_stem, common_person))

    def hashtags(self, text: str) -> Iterator[tuple[int, int, list[Spelling]]]:
        """``(start, end, spellings)`` of each hashtag in ``text`` that spells a customer."""
        spellings = self.spellings
        for m in _HASHTAG.finditer(text):
            if m.group(2):
                found = spellings.get(squash(m.group(1) + m.group(2)))
                if found:
                    yield m.start(), m.end(), found
                    continue
            tag = m.group(1)
            if len(tag) < 3:
                continue  # "#Mr", "#1": no name
            found = spellings.get(tag.lower().replace("_", "") if tag.isascii() else squash(tag))
            if found:
                yield m.start(), m.end(1), found

    def lookup(self, word: str) -> list[Spelling]:
        """The spellings a handle or a domain label (``acme_anvils``, ``acme-anvils``) matches."""
        return self.spellings.get(squash(word), [])

    def domain_labels(self, low: str) -> Iterator[tuple[int, int, str]]:
        """``(start, end, host)`` of the label before each top-level domain in lower-cased ``low``."""
        for m in _DOMAIN_LABEL.finditer(low):
            dot = m.start()
            label = _LABEL_REVERSED.match(low[max(0, dot - 64):dot][::-1])
            if label is None:
                continue
            start = dot - label.end()
            if low[start:dot] in _SECOND_LEVEL and start > 1 and low[start - 1] == ".":
                # "kramerltd.co.uk": the name is the label before "co".
                dot = start - 1
                label = _LABEL_REVERSED.match(low[max(0, dot - 64):dot][::-1])
                if label is None:
                    continue
                start = dot - label.end()
            if start and (low[start - 1] in "@_" or low[start - 1].isalnum()):
                continue  # an address's domain (the mail rule has it) or a word glued on
            yield start, dot, low[start:m.end()]
