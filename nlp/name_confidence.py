"""How sure a customer's name found in a post makes the link: the per-rule confidence cases.

A distinctive name links at its rule's confidence. A one-word name that is an everyday
word ("Bolt", "Apple") needs a cue, and each kind of cue is its own case, because they are
right at very different rates: a legal form right after it ("Bolt Inc."), customer-service
words ("Bolt support", "a call with Bolt about the renewal") or other evidence of the
customer in the post; capitals mid-sentence, with or without generic business words, are
weak (words capitalised by convention, "Republican", "Mrs", sit there as often); in lower
case, or capitalised only by the sentence, it links weakly or not at all. Words of another
sentence count for nothing.
A name of several everyday words ("Summer Day", "Jerry West") is judged by its case and
the words around it (see ``words_confidence``). The values come from ``nlp.calibration``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from spacy.lang.en.stop_words import STOP_WORDS

from nlp.ambiguity import COMPANY_SUFFIXES, has_service_cue, legal_form_after, service_word_after
from nlp.ambiguity import has_context as _has_context
from nlp.calibration import CONFIDENCE
from nlp.wordsense import fold

if TYPE_CHECKING:
    from nlp.linking import CustomerLinker

_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|\n)\W*$")  # a colon starts a clause too


def name_confidence(linker: "CustomerLinker", rule: str, text: str, low: str, s: int, e: int,
                    other_evidence: bool, registered: str = "") -> tuple[float, str]:
    """(confidence, evidence note) of the name ``text[s:e]`` found by ``rule`` (0.0: no link).

    ``low``: the folded lower-case text; ``other_evidence``: something else in the post
    (a handle, an address) already names this customer; ``registered``: the customer's
    registered name, folded and in lower case.
    """
    base = CONFIDENCE[rule]
    span_text = text[s:e]
    if rule == "domain":
        return base, ""
    if " " in low[s:e]:
        return words_confidence(linker, rule, span_text, low, s, e, other_evidence)
    word = low[s:e]
    if word in STOP_WORDS and not other_evidence:
        return 0.0, ""  # "for", "I", "anyone": a function word, whatever the registry says
    lower = span_text.islower()
    if not lower and word not in linker.ordinary:
        return base, ""  # a distinctive word written as a name: no context needed (nor read)
    context = other_evidence or _has_context(low, s, e)
    if lower:
        if word in linker.ordinary and not (other_evidence or _has_context(low, s, e, reach=1)):
            # An everyday word used as one ("fund", "signal"): not even worth a review,
            # unless a business word is right next to it ("signal support").
            return 0.0, ""
        if context:
            return CONFIDENCE["lowercase_with_context"], " (lower case, but business words nearby)"
        return CONFIDENCE["lowercase_word"], " (one lower-case word: may be an ordinary word)"
    # The raw text: folding turned line breaks into spaces.
    at_start = _SENTENCE_START.search(text, 0, s) is not None
    # Each kind of support its own case: they are right at very different rates.
    # A company's legal form right after ("Target Corp"): a company of that name, though
    # maybe another one than the customer ("Bolt Labs" for the customer "Bolt Technologies").
    if legal_form_after(text, low, s, e, registered):
        return CONFIDENCE["ambiguous_with_legal_form"], " (also an ordinary word; business context nearby: a legal form after it)"
    # A service right after it ("Apple support"), or customer-service words in its sentence
    # when the capital is not the sentence's ("a call with Respond about the renewal").
    if other_evidence or service_word_after(low, e) or (not at_start and has_service_cue(low, s, e, reach=5)):
        return CONFIDENCE["ambiguous_with_service_cue"], " (also an ordinary word; business context nearby: customer-service words)"
    # Capitalised mid-sentence among generic business words ("manager", "stock", "staff"):
    # words capitalised by convention ("Republican", "Mrs", "TV") sit there as often as
    # names do, and such links were right no more often than capitals alone (0 of 7 on the
    # calibration sets), so they share that case.
    if context and not at_start:
        return CONFIDENCE["ambiguous_capitalised"], " (also an ordinary word; only generic business words nearby)"
    # At a sentence start random business words nearby are too common to count.
    if context:
        return CONFIDENCE["lowercase_with_context"], " (an ordinary word capitalised by the sentence; business words nearby)"
    if at_start:
        return 0.0, ""  # an everyday word capitalised by the sentence, nothing else
    return CONFIDENCE["ambiguous_capitalised"], " (also an ordinary word or place; no supporting context)"


def words_confidence(linker: "CustomerLinker", rule: str, span_text: str, low: str, s: int, e: int,
                     other_evidence: bool) -> tuple[float, str]:
    """A name of several words: sure, unless every word is an everyday word ("summer day");
    a person's name of common words ("Jerry West") then waits for review without a cue."""
    base = CONFIDENCE[rule]
    words = low[s:e].split()
    # A legal suffix ("kramer ltd") or a hyphenated compound ("hall-martinez") is a cue itself.
    if (words[-1] in COMPANY_SUFFIXES or "-" in span_text
            or not all(linker.sense.is_common(w) for w in words)):
        return base, ""
    # Written as a name: its first and last words capitalised ("Laurence du Berger").
    written = fold(span_text).split()
    titled = written[0][:1].isupper() and written[-1][:1].isupper()
    if len(words) > 2 and rule != "person_name":
        return base, ""  # three everyday words in the registered order are rarely chance
    # Words of customer service near a person's or company's name ("a call with cheryl
    # reynolds about the renewal", "moved to gas logistics ... onboarding was painless"):
    # people type names in lower case, and random words rarely sit among these.
    cue = rule != "alias" and has_service_cue(low, s, e)
    if other_evidence or cue or _has_context(low, s, e):
        if titled or other_evidence:
            return base, ""
        if cue:
            return CONFIDENCE["lowercase_name_with_cue"], " (lower case, but customer-service words nearby)"
        return CONFIDENCE["lowercase_with_context"], " (lower case everyday words, but business words nearby)"
    if not titled:
        return 0.0, ""  # everyday words in lower case ("a lovely summer day")
    if rule == "person_name":
        return (CONFIDENCE["common_person_name"],
                " (a common name: may be someone else of that name; no business words nearby)")
    return base, ""
