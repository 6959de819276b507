"""Product feedback is not general text: requests are not anger, and politeness is not praise.

Two corrections to the lexicon score, both cheap on the common path:
- **Politeness wrapped round a complaint** ("Hi team, thanks so much! Unfortunately the
  export is still broken. Thanks!"): in a post that also holds a negative word or a
  complaint phrase ("charged twice"), words of
  courtesy (thanks, hope, appreciate, regards, respect...) carry no valence. Without a
  negative word they still count ("thanks, works great now").
- **A constructive request** ("please add an option to hide the annoying banner", "can you
  add a dark theme? my eyes hurt at night") describes what is missing; it is not negative
  unless it also holds a complaint phrase (refund, cancel, broken, charged twice...).
Also idioms whose words say the opposite of the phrase ("thanks for nothing").
"""

from __future__ import annotations

import re

from spacy.strings import get_string_id

from nlp.intent import _COMPLAINT, _REQUEST

COURTESY = ("thanks", "thank", "thx", "ty", "hope", "appreciate", "appreciated", "kind", "kindly",
            "regards", "respect", "cheers", "welcome", "sorry", "please", "pls", "great", "well")
_COURTESY = frozenset(get_string_id(w) for w in COURTESY)
_SARCASM = re.compile(r"\b(?:thanks|thank you|thx) for nothing\b")
#: The valence an idiom gives the post (VADER's scale, -4..4).
SARCASM_VALENCE = -2.5


def drop_courtesy(lowers: list[int], scored: list[tuple[int, float]], low: str) -> list[tuple[int, float]]:
    """``scored`` without courtesy words' positive valence when some word is negative
    or the post holds a complaint phrase ("charged twice")."""
    if _COURTESY.isdisjoint(lowers):  # most posts: one set test in C
        return scored
    courteous = [k for k, (i, v) in enumerate(scored) if v > 0 and lowers[i] in _COURTESY]
    if not courteous:
        return scored
    if not any(v < 0 for _, v in scored) and not _COMPLAINT.search(low):
        return scored
    return [item for k, item in enumerate(scored) if k not in courteous]


def idiom_valence(low: str) -> float:
    """Valence of idioms the word scores misread (0 for most posts: one substring test)."""
    if "for nothing" in low and _SARCASM.search(low):
        return SARCASM_VALENCE
    return 0.0


def request_not_negative(low: str, score: float) -> float:
    """``score``, or 0 when it is negative only because a request describes what is missing."""
    if score >= 0 or not _REQUEST.search(low) or _COMPLAINT.search(low):
        return score
    return 0.0
