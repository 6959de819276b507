"""A trained language identifier for the posts function words cannot settle (py3langid).

py3langid is a maintained fork of langid.py: a naive Bayes model over byte n-grams for
97 languages, shipped inside its wheel (nothing is downloaded). It costs ~100-250 µs a
post, so the ``language_detector`` asks it only when the cheap checks (script, English
function words with no other language's) leave the post open. The model is loaded on
first use (a few seconds: it is stored compressed) and kept for the process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

#: Fewer letters than this and a post is too short for n-gram statistics ("ok", "lol 😂").
MIN_LETTERS = 12

_lock = threading.Lock()
_identifiers: dict[tuple[str, ...], object] = {}


def _identifier(languages: tuple[str, ...]):
    with _lock:
        found = _identifiers.get(languages)
        if found is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            found = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
            # Restricted to the languages we tell apart: fewer classes, fewer confusions
            # with languages nobody here writes in (Welsh for "lol #fail").
            known = [lang for lang in languages if lang in found.nb_classes]
            found.set_languages(known or None)
            _identifiers[languages] = found
        return found


class TrainedLanguageId:
    """``classify(text)`` → a language tag among ``languages``, or None for too little text."""

    def __init__(self, languages: Iterable[str]) -> None:
        self.languages = tuple(sorted(set(languages)))

    def classify(self, text: str) -> str | None:
        """The most likely language of ``text``, or None when it has too few letters."""
        if sum(1 for ch in text if ch.isalpha()) < MIN_LETTERS:
            return None
        lang, _score = _identifier(self.languages).classify(text)
        return lang
