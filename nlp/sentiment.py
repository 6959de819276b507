"""The ``sentiment_scorer`` component: a score in [-1, 1] from token attributes, in one pass.

VADER's lexicon (shipped in the vaderSentiment wheel) is loaded once into a dict keyed
by spaCy's hash of the lower-case word, so a post costs one ``to_array`` and a loop of
dict look-ups instead of VADER's own (slow) string pipeline. The rules follow VADER's
ideas, tuned for social and product-feedback text:
- negation within three words flips and damps a word ("not good", "doesn't work");
- ALL-CAPS words in a post that is not all caps weigh more;
- intensifiers ("very", "so", "barely") push the next words;
- "but" halves what came before and strengthens what follows;
- "!" and "??" emphasise the overall direction; emoji and emoticons carry valence;
- product-failure words ("crashes", "laggy", "unusable") are negative even without swearing.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from importlib import resources

from spacy.attrs import IS_ALPHA, IS_UPPER, LOWER
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc
from vaderSentiment.vaderSentiment import BOOSTER_DICT, C_INCR, N_SCALAR, NEGATE

from nlp.feedback_tone import drop_courtesy, idiom_valence, request_not_negative

# Product feedback words VADER does not know (or knows too weakly for this domain).
DOMAIN_LEXICON: dict[str, float] = {
    "crash": -2.0, "crashes": -2.2, "crashed": -2.2, "crashing": -2.2, "crashy": -2.0,
    "buggy": -2.0, "bug": -1.2, "bugs": -1.4, "glitch": -1.5, "glitches": -1.5, "glitchy": -1.8,
    "laggy": -1.8, "lagging": -1.6, "lags": -1.4, "slow": -1.4, "slower": -1.4, "sluggish": -1.6,
    "freezes": -1.8, "froze": -1.8, "frozen": -1.2, "freezing": -1.2, "hangs": -1.2,
    "unusable": -2.5, "unresponsive": -2.0, "outage": -2.2, "outages": -2.2, "downtime": -1.8,
    "timeout": -1.4, "timeouts": -1.4, "overcharged": -2.2, "refund": -1.2, "broke": -1.8,
    "wtf": -2.0, "smh": -1.5, "meh": -1.0, "ugh": -1.5, "unacceptable": -2.4, "disappointing": -2.2,
    "nightmare": -2.5, "useless": -2.3, "garbage": -2.4, "trash": -2.0, "ridiculous": -1.8,
    "cancelling": -1.2, "canceling": -1.2, "switching": -0.6, "waiting": -0.8, "still": -0.2,
    "fixed": 1.2, "smooth": 1.6, "seamless": 2.0, "intuitive": 1.8, "snappy": 1.8, "fast": 1.2,
    "faster": 1.3, "reliable": 1.8, "lifesaver": 2.5, "kudos": 2.0, "rocks": 1.5, "shoutout": 1.5,
    "flawless": 2.6, "flawlessly": 2.6, "effortless": 1.8, "responsive": 1.4, "helpful": 1.9,
    "solid": 1.2, "stable": 1.0, "finally": 0.3, "thank": 1.5, "thanks": 1.6, "ty": 1.2,
    "dealbreaker": -2.5, "deal-breaker": -2.5,
    # Words of asking, not of mood, in product feedback: "support please help" is a plea
    # (VADER scores all three positive, so a complaint ending in one read as praise).
    "help": 0.0, "please": 0.0, "support": 0.0,
}
# Verbs with no mood of their own that turn negative when negated ("doesn't load").
NEGATABLE_NEUTRAL = ("work", "works", "working", "worked", "load", "loads", "loading", "sync",
                     "syncs", "syncing", "open", "opens", "connect", "connects", "respond",
                     "responds", "help", "helps", "helped", "start", "starts", "save", "saves",
                     "update", "updates", "log", "login", "charge", "arrive", "arrived", "show")
EXTRA_NEGATORS = ("n't", "nt", "no", "not", "never", "nothing", "none", "nobody", "without",
                  "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "wont", "wasnt", "aint")
# Common emoji, hand-weighted; others get the valence of their name's words.
EMOJI: dict[str, float] = {
    "😀": 2.0, "😁": 2.0, "😂": 1.5, "🤣": 1.5, "😃": 2.0, "😄": 2.0, "😅": 0.8, "😊": 2.0,
    "😍": 2.8, "🥰": 2.8, "😘": 2.0, "👍": 1.8, "🙌": 2.0, "👏": 2.0, "❤": 2.5, "💯": 1.8,
    "🎉": 2.0, "🔥": 1.5, "✨": 1.2, "😎": 1.5, "🤩": 2.5, "🥳": 2.2, "💪": 1.5, "🙏": 1.2,
    "⭐": 1.2, "🌟": 1.5, "💚": 2.0, "💙": 2.0, "💖": 2.5, "🚀": 1.5, "✅": 1.0, "😻": 2.2,
    "😡": -2.8, "😠": -2.5, "🤬": -3.0, "😤": -2.0, "😞": -2.0, "😔": -1.8, "😟": -1.8,
    "😢": -2.0, "😭": -2.2, "😩": -2.2, "😫": -2.2, "🤮": -2.8, "🤢": -2.2, "👎": -2.0,
    "💩": -2.2, "😒": -1.6, "🙄": -1.6, "🤦": -1.8, "😖": -2.0, "😣": -1.8, "💔": -2.2,
    "😱": -1.5, "😬": -1.0, "🐌": -1.2, "❌": -1.2, "😑": -0.8, "😐": -0.4, "🫠": -1.0,
}
BUT_WORDS = ("but", "however", "though", "although")
SCALE = 15.0  # VADER's normalisation constant: score = s / sqrt(s² + 15)


def _lexicon_lines(name: str) -> list[str]:
    return (resources.files("vaderSentiment") / name).read_text(encoding="utf-8").splitlines()


@lru_cache(maxsize=1)
def word_valences() -> dict[str, float]:
    """VADER's lexicon plus the domain words, by lower-case word."""
    valences: dict[str, float] = {}
    for line in _lexicon_lines("vader_lexicon.txt"):
        parts = line.split("\t")
        if len(parts) >= 2:
            try:
                valences[parts[0].strip()] = float(parts[1])
            except ValueError:
                continue
    valences.update(DOMAIN_LEXICON)
    for word in ("like", "likes"):  # mostly "like a ..." on social media, not liking
        valences[word] = 0.4
    return valences


@lru_cache(maxsize=1)
def emoji_valences() -> dict[str, float]:
    """Emoji valences: the hand-weighted table, else the mean valence of the emoji's name."""
    words = word_valences()
    table: dict[str, float] = {}
    for line in _lexicon_lines("emoji_utf8_lexicon.txt"):
        char, _, description = line.partition("\t")
        if len(char) != 1:
            continue
        scores = [words[w] for w in description.lower().split() if w in words]
        if scores:
            table[char] = max(-3.0, min(3.0, sum(scores) / len(scores)))
    table.update(EMOJI)
    return table


def _hashes(words) -> set[int]:
    return {get_string_id(w) for w in words}


# Markers in the one-lookup table for words without a valence of their own.
_BUT = "but"
_NEGATABLE = "negatable"
# Only a run of two capitals can make a word ALL CAPS ("I" and "A" do not count as shouting).
# Two classes rather than "{2}": a pattern that starts with a class is scanned in C (3x faster).
_CAPS_RUN = re.compile(r"[A-Z\u00c0-\u00d6\u00d8-\u00de][A-Z\u00c0-\u00d6\u00d8-\u00de]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


class SentimentScorer:
    """Sets ``doc._.sentiment`` (score in [-1, 1]) from the tokens' lower-case hashes."""

    def __init__(self, nlp: Language, name: str = "sentiment_scorer") -> None:
        self.name = name
        # One dict look-up per token: a valence, a marker, or nothing (most tokens).
        self.table: dict[int, float | str] = {}
        for words, marker in ((NEGATABLE_NEUTRAL, _NEGATABLE), (BUT_WORDS, _BUT)):
            self.table.update((get_string_id(w), marker) for w in words)
        self.table.update((get_string_id(w), v) for w, v in word_valences().items())
        self.boost = {get_string_id(w): v for w, v in BOOSTER_DICT.items()}
        self.negators = _hashes(NEGATE) | _hashes(EXTRA_NEGATORS)
        # Negators and intensifiers in one set: most posts have neither (one test in C).
        self.window_words = frozenset(self.negators | self.boost.keys())
        self.emoji = emoji_valences()

    def __call__(self, doc: Doc) -> Doc:
        if doc.user_data.get("full", True):
            doc.user_data["sentiment"] = self.score(doc)
        return doc

    def score(self, doc: Doc) -> float:
        """The compound score of ``doc`` in [-1, 1]."""
        if not len(doc):
            return 0.0
        lowers = doc.user_data.get("lowers")
        if lowers is None:
            lowers = doc.to_array(LOWER).tolist()
        text = doc.user_data.get("text") or doc.text
        table = self.table
        # Most posts hold no negator and no intensifier: set tests (in C) skip the
        # per-word windows below.
        if self.window_words.isdisjoint(lowers):
            negators = boost = None
        else:
            negators = None if self.negators.isdisjoint(lowers) else self.negators
            boost = None if self.boost.keys().isdisjoint(lowers) else self.boost
        scored: list[tuple[int, float]] = []
        negated: set[int] = set()
        but_at = -1
        # map() does the look-ups in C; only the few lexicon tokens reach Python code.
        for i, v in [(i, v) for i, v in enumerate(map(table.get, lowers)) if v is not None]:
            if v is _BUT:
                if but_at < 0:
                    but_at = i
                continue
            if v is _NEGATABLE:
                if negators is not None and _negated(lowers, i, negators):
                    scored.append((i, -1.5))
                continue
            if boost is not None:
                for k, damp in ((1, 1.0), (2, 0.95), (3, 0.9)):
                    j = i - k
                    if j < 0:
                        break
                    b = boost.get(lowers[j])
                    if b is not None:
                        v += (b if v > 0 else -b) * damp
            if negators is not None and _negated(lowers, i, negators):
                v *= N_SCALAR
                negated.add(i)
            scored.append((i, v))
        if scored:
            scored = drop_courtesy(lowers, scored, doc.user_data.get("low") or text.lower())
        if scored and _CAPS_RUN.search(text):
            scored = self._caps(doc, scored, negated)
        total = 0.0
        for i, v in scored:
            if but_at >= 0:
                v *= 0.5 if i < but_at else 1.5
            total += v
        if not text.isascii():
            emoji = self.emoji
            for ch in _NON_ASCII.findall(text):
                v = emoji.get(ch)
                if v is not None:
                    total += v
        low = doc.user_data.get("low") or text.lower()
        total += idiom_valence(low)
        total += _emphasis(text, total)
        return request_not_negative(low, total / math.sqrt(total * total + SCALE))

    @staticmethod
    def _caps(doc: Doc, scored: list[tuple[int, float]], negated: set[int]) -> list[tuple[int, float]]:
        """ALL-CAPS words weigh more, but only against a mixed-case background.

        As in VADER, capitals raise a word before negation scales it: a negated word's
        increment is scaled by ``|N_SCALAR|`` too.
        """
        attrs = doc.to_array([IS_UPPER, IS_ALPHA]).tolist()
        alpha_words = sum(row[1] for row in attrs)
        caps_words = sum(1 for row in attrs if row[0] and row[1])
        if not 0 < caps_words < alpha_words:
            return scored
        out = []
        for i, v in scored:
            if attrs[i][0] and attrs[i][1]:
                increment = C_INCR * (-N_SCALAR if i in negated else 1.0)
                v += increment if v > 0 else -increment
            out.append((i, v))
        return out


def _negated(lowers: list[int], i: int, negators: set[int]) -> bool:
    return not negators.isdisjoint(lowers[max(0, i - 3):i])


def _emphasis(text: str, total: float) -> float:
    """Exclamation and repeated question marks push the score further its own way."""
    if total == 0.0:
        return 0.0
    extra = min(text.count("!"), 4) * 0.292
    questions = text.count("?")
    if questions > 1:
        extra += min(questions * 0.18, 0.96)
    return extra if total > 0 else -extra


def label_of(score: float, positive_above: float = 0.05, negative_below: float = -0.05) -> str:
    """``positive``, ``negative`` or ``neutral`` for a score."""
    if score > positive_above:
        return "positive"
    if score < negative_below:
        return "negative"
    return "neutral"


if not Doc.has_extension("sentiment"):
    Doc.set_extension("sentiment", getter=lambda doc: doc.user_data.get("sentiment", 0.0))


@Language.factory("sentiment_scorer")
def make_sentiment_scorer(nlp: Language, name: str) -> SentimentScorer:
    """The lexicon-and-rules sentiment component."""
    return SentimentScorer(nlp, name)
