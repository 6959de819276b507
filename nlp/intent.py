"""The ``intent_classifier`` component: complaint, question, praise, idea or other.

Rules over the text and the sentiment score, in an order that matches how managers
read posts: a request ("please add...") is an idea even when polite or annoyed, a
negative post is a complaint even when it ends in a question, a plain question is a
question, a positive post is praise.
"""

from __future__ import annotations

import re

import ahocorasick
from spacy.language import Language
from spacy.tokens import Doc

from nlp.signals.builtin import INTENTS  # noqa: F401  (declared with the signal)

_ADD = ("add", "make", "support", "please add")


def _phrases(*parts: tuple[str, ...] | str) -> list[str]:
    """Every phrase made of one choice per part, joined by single spaces."""
    out = [""]
    for part in parts:
        choices = (part,) if isinstance(part, str) else part
        out = [f"{head} {c}" if head else c for head in out for c in choices]
    return out


# Requests ("please add...") and complaint words, as fixed phrases matched on whole words of
# the lower-cased text (one Aho-Corasick pass; a regex alternation of them tried at every
# position cost ~5 µs a post).
REQUEST_PHRASES = (
    _phrases("would be", ("nice", "great", "awesome", "cool", "helpful", "amazing"))
    + _phrases(("it'd be", "itd be"), ("nice", "great", "awesome", "cool"))
    + _phrases(("please", "pls", "plz"), ("add", "support", "bring", "make", "let", "consider",
                                          "allow", "give", "implement"))
    + ["feature request", "i wish", "would love", "suggestion", "idea:", "consider adding", "roadmap"]
    + _phrases("wish", ("it", "you", "there", "the", "i"))
    + _phrases(("could you", "can you"), _ADD)
    + _phrases(("you should", "should"), ("add", "support", "let", "allow", "offer", "have"))
    + _phrases("would", ("love", "like"), ("to see", "it if", "a", "an", "the option", "support", "dark",
                                           "more", "some", "better"))
    + _phrases(("any", "no"), ("plan", "plans"), ("to", "for"))
    + _phrases("how about", ("adding", "a", "an"))
    + _phrases("add", ("support", "an option", "a way"))
    + _phrases(("need", "needs"), ("a", "an"), ("option", "way", "setting", "feature"))
    + _phrases("can we", ("get", "have"))
)
COMPLAINT_PHRASES = (
    "refund", "cancel", "canceling", "cancelling", "cancelled", "worst", "broken", "not working",
    "doesn't work", "doesnt work", "stopped working", "unacceptable", "still waiting", "charged twice",
    "overcharged", "scam", "down again", "outage",
)
#: Phrases that match at the start of any word beginning with them ("crashes", "crashy").
COMPLAINT_PREFIXES = ("crash",)

_QUESTION_START = re.compile(
    r"^\W*(?:how|what|why|when|where|who|which|is|are|can|does|do|did"
    r"|anyone|anybody|has)\b")


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class _Phrases:
    """Fixed phrases found in lower-cased text on word boundaries (``\\b`` as a regex has it)."""

    def __init__(self, whole: tuple[str, ...] | list[str], prefixes: tuple[str, ...] = ()) -> None:
        self._automaton = ahocorasick.Automaton()
        for phrase in whole:
            # The end needs a boundary: no word character next after a word character,
            # a word character next after anything else ("idea:" is followed by a word).
            self._automaton.add_word(phrase, (len(phrase), _word_char(phrase[-1])))
        for phrase in prefixes:
            self._automaton.add_word(phrase, (len(phrase), None))
        self._automaton.make_automaton()

    def search(self, low: str) -> bool:
        """True when some phrase occurs in ``low`` starting and ending on a word boundary."""
        n = len(low)
        for last, (length, word_end) in self._automaton.iter(low):
            start = last - length + 1
            if start and _word_char(low[start - 1]):
                continue
            if word_end is None:
                return True
            after = last + 1 < n and _word_char(low[last + 1])
            if after != word_end:
                return True
        return False


_REQUEST = _Phrases(REQUEST_PHRASES)
_COMPLAINT = _Phrases(COMPLAINT_PHRASES, COMPLAINT_PREFIXES)

if not Doc.has_extension("intent"):
    Doc.set_extension("intent", getter=lambda doc: doc.user_data.get("intent", "other"))


def classify_intent(low: str, sentiment: float) -> str:
    """The intent of a lower-cased post with a sentiment score."""
    if _REQUEST.search(low):
        return "idea"
    negative = sentiment < -0.05
    if negative and (sentiment < -0.3 or _COMPLAINT.search(low)):
        return "complaint"
    if "?" in low or _QUESTION_START.match(low):
        return "complaint" if _COMPLAINT.search(low) else "question"
    if negative:
        return "complaint"
    if sentiment > 0.3:
        return "praise"
    return "other"


class IntentClassifier:
    """Sets ``doc._.intent`` from the text and ``doc._.sentiment`` (so it runs after the scorer)."""

    def __init__(self, nlp: Language, name: str = "intent_classifier") -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        if doc.user_data.get("full", True):
            doc.user_data["intent"] = classify_intent(doc.user_data.get("low") or doc.text.lower(),
                                                      doc.user_data.get("sentiment", 0.0))
        return doc


@Language.factory("intent_classifier")
def make_intent_classifier(nlp: Language, name: str) -> IntentClassifier:
    """The rule-based intent component."""
    return IntentClassifier(nlp, name)
