"""The ``language_detector`` component: a language tag from scripts, function words and a trained model.

Cheap first (it runs on every post of a firehose): non-Latin scripts are told by code
points, and a post with English function words and none of another language's is English
(most posts, in C). The rest go to a trained identifier (py3langid, see
``nlp.langid_model``); a post too short for it falls back to counting the tokens'
lower-case hashes against short function-word lists. Posts in languages not listed as
analysed get only customer linking.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain

from spacy.attrs import LOWER
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc

from nlp.hygiene import STOPWORDS, script_language
from nlp.langid_model import TrainedLanguageId

UNKNOWN = "und"

if not Doc.has_extension("language"):
    Doc.set_extension("language", getter=lambda doc: doc.user_data.get("language", UNKNOWN))


class LanguageDetector:
    """Sets ``doc._.language`` and whether the post is analysed fully (``user_data['full']``)."""

    def __init__(self, nlp: Language, name: str = "language_detector",
                 analysed: tuple[str, ...] = ("en",), model: bool = True) -> None:
        self.name = name
        self.analysed = frozenset(analysed)
        # The model tells apart the languages of the function-word lists and the analysed ones.
        self.model = TrainedLanguageId({*STOPWORDS, *analysed}) if model else None
        self.words: dict[int, tuple[str, ...]] = {}
        by_word: dict[str, list[str]] = {}
        for lang, words in STOPWORDS.items():
            for w in words:
                by_word.setdefault(w, []).append(lang)
        self.words = {get_string_id(w): tuple(langs) for w, langs in by_word.items()}
        # English stop words, and stop words of other languages only: with some of the first
        # and none of the second, English wins the count outright (the common case, in C).
        self.english = frozenset(h for h, langs in self.words.items() if "en" in langs)
        self.not_english = frozenset(h for h, langs in self.words.items() if "en" not in langs)

    def __call__(self, doc: Doc) -> Doc:
        # The tokens' lower-case hashes are read once here and shared with the later components.
        lowers = doc.to_array(LOWER).tolist() if len(doc) else []
        doc.user_data["lowers"] = lowers
        lang = self.detect(doc.user_data.get("text") or doc.text, lowers)
        doc.user_data["language"] = lang
        doc.user_data["full"] = lang == UNKNOWN or lang in self.analysed
        return doc

    def detect(self, text: str, lowers: list[int]) -> str:
        """The language tag of a text given its tokens' lower-case hashes."""
        if not text.isascii():
            script = script_language(text)
            if script:
                return script
        if self.not_english.isdisjoint(lowers) and not self.english.isdisjoint(lowers):
            return "en"
        if self.model is not None:
            lang = self.model.classify(text)
            if lang is not None:
                return lang
        return self.by_function_words(lowers)

    def by_function_words(self, lowers: list[int]) -> str:
        """The language whose function words the tokens hold most of (``und`` when unclear)."""
        # Look-ups and counting in C.
        counts = Counter(chain.from_iterable(filter(None, map(self.words.get, lowers))))
        if not counts:
            return UNKNOWN
        best = max(counts.values())
        if counts.get("en", 0) == best:
            return "en"
        leaders = [lang for lang, n in counts.items() if n == best]
        if best < 2 or len(leaders) > 1:
            return UNKNOWN
        return leaders[0]


@Language.factory("language_detector", default_config={"analysed": ["en"], "model": True})
def make_language_detector(nlp: Language, name: str, analysed: list[str], model: bool) -> LanguageDetector:
    """The language component; ``analysed`` lists languages that get the full analysis.

    ``model`` False keeps to scripts and function words (no trained identifier).
    """
    return LanguageDetector(nlp, name, tuple(analysed), model)
