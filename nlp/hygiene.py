"""Text hygiene before analysis: entities and invisible characters, size, language, spam.

Everything here is plain string work so it can run before a Doc exists (a Doc's
text cannot change afterwards) and in the parent process (repeated texts are
only visible across a whole batch).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import OrderedDict

# Zero-width and direction marks that split words invisibly ("Ac\u200bme") or hide text.
# A regex, not str.translate: translate with a table costs ~20 µs on every non-ASCII post.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e]")
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]{2,}")
# Three words outside links, read left to right as a scan for "a link, else a word" would
# (a link is taken whole even where it starts like a word); atomic groups keep each step's
# choice, so one match call answers what a loop over matches did.
_THREE_WORDS = re.compile(r"(?:(?>" + _URL.pattern + r"|(?![^\W\d_]{2}).)*+(?>[^\W\d_]{2,})){3}",
                          re.IGNORECASE | re.DOTALL)


def normalise_text(text: str, max_chars: int) -> tuple[str, tuple[str, ...]]:
    """The text as analysed (entities decoded, invisible characters gone, cut to size) and flags."""
    flags: list[str] = []
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii() and _INVISIBLE.search(text):
        # U+200D joins emoji sequences too; dropping it keeps each emoji's own meaning.
        text = _INVISIBLE.sub("", text)
    if len(text) > max_chars:
        text = text[:max_chars]
        flags.append("truncated")
    if is_link_only(text):
        flags.append("link_only")
    return text, tuple(flags)


def is_link_only(text: str) -> bool:
    """True when a post is one or more links with at most a couple of words around them."""
    if "http" not in text and "www." not in text:
        return False
    # Stops at the third word outside a link, so an ordinary post costs a few characters.
    return _THREE_WORDS.match(text) is None


# Short function words tell languages apart well on social text (a few dozen each).
STOPWORDS: dict[str, tuple[str, ...]] = {
    "en": ("the", "and", "is", "it", "to", "of", "in", "that", "this", "for", "with", "you",
           "my", "on", "was", "are", "have", "not", "but", "just", "can", "me", "so", "be",
           "your", "what", "why", "how", "when", "i", "we", "they", "do", "does", "at", "an", "a",
           "after", "every", "again", "please", "thanks", "from", "or", "there", "would", "our"),
    "es": ("el", "la", "los", "las", "que", "de", "y", "en", "es", "por", "para", "con", "una",
           "un", "muy", "pero", "mi", "no", "se", "lo", "del", "al", "cuando", "gracias", "está",
           "esta", "hoy", "porque", "como", "también", "otra", "vez", "funciona"),
    "fr": ("le", "la", "les", "et", "est", "une", "un", "des", "du", "pour", "pas", "que", "qui",
           "dans", "avec", "mais", "je", "il", "nous", "vous", "mon", "très", "ce", "sur", "encore",
           "merci", "fonctionne", "toujours", "ne", "depuis"),
    "de": ("der", "die", "das", "und", "ist", "nicht", "ich", "mit", "ein", "eine", "auf", "für",
           "den", "von", "zu", "es", "aber", "sehr", "wieder", "funktioniert", "bei", "nach",
           "mein", "danke", "seit", "immer", "noch", "wie"),
    "pt": ("o", "os", "as", "que", "de", "e", "em", "um", "uma", "para", "com", "não", "mas",
           "muito", "meu", "minha", "por", "obrigado", "funciona", "mais", "ainda", "está", "você"),
    "it": ("il", "lo", "gli", "che", "di", "e", "è", "un", "una", "per", "con", "non", "ma",
           "molto", "mio", "della", "sono", "grazie", "funziona", "ancora", "anche", "come"),
    "nl": ("de", "het", "een", "en", "is", "niet", "ik", "van", "met", "op", "voor", "maar",
           "mijn", "dat", "werkt", "nog", "weer", "bedankt", "heel", "ook", "wel"),
}

_SCRIPTS: tuple[tuple[int, int, str], ...] = (
    (0x0400, 0x04FF, "ru"), (0x0600, 0x06FF, "ar"), (0x0590, 0x05FF, "he"),
    (0x0900, 0x097F, "hi"), (0x3040, 0x30FF, "ja"), (0xAC00, 0xD7AF, "ko"),
    (0x4E00, 0x9FFF, "zh"), (0x0E00, 0x0E7F, "th"), (0x0370, 0x03FF, "el"),
)


_NON_LATIN = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi, _ in _SCRIPTS) + "]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")


def script_language(text: str) -> str | None:
    """The language of a non-Latin script that most letters of ``text`` are written in."""
    found = _NON_LATIN.findall(text)  # a regex scan: emoji-only posts stay cheap
    if not found:
        return None
    counts: dict[str, int] = {}
    for ch in found:
        code = ord(ch)
        for low, high, lang in _SCRIPTS:
            if low <= code <= high:
                counts[lang] = counts.get(lang, 0) + 1
                break
    lang, n = max(counts.items(), key=lambda kv: kv[1])
    if "ja" in counts and lang == "zh":
        lang = "ja"  # Japanese mixes kana into kanji; Chinese has no kana
    return lang if n * 2 >= n + len(_LATIN_LETTER.findall(text)) else None


def text_fingerprint(text: str) -> str | None:
    """A short hash of a text with links, case and spacing ignored; ``None`` for short texts.

    "thanks!" from many people is not spam, so texts under 12 characters have none.
    """
    key = " ".join(_URL.sub("", text).lower().split())
    if len(key) < 12:
        return None
    # 8 bytes: a collision between two texts within the spam window is vanishingly rare.
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()


class RepeatTracker:
    """Remembers recent texts and by whom, to flag the same text from many accounts.

    Per process: the ``analyze`` command uses it; ingest counts in the store instead,
    so that the count holds across worker processes and restarts. Bounded: the oldest texts are forgotten first, so a long-running process does not grow.
    """

    def __init__(self, authors: int = 3, capacity: int = 50_000) -> None:
        self.authors = authors
        self.capacity = capacity
        self._seen: OrderedDict[str, set[str]] = OrderedDict()

    def add(self, text: str, author: str) -> bool:
        """Record ``author`` writing ``text``; True when enough accounts wrote the same."""
        key = text_fingerprint(text)
        if key is None:
            return False
        writers = self._seen.get(key)
        if writers is None:
            writers = self._seen[key] = set()
            if len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(key)
        if len(writers) < self.authors:
            writers.add(author)
        return len(writers) >= self.authors
