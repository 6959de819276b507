"""The VADER-derived scorer against vaderSentiment's own SentimentIntensityAnalyzer.

3,000 sentences are generated from VADER's lexicon, its boosters and negators, "but",
capitals and punctuation, plus (in a share of them) the words where this scorer departs
from VADER on purpose. Every sentence whose compound score differs by more than 0.05 must
be explained by one of the documented divergences below; the rest must agree.
"""

from __future__ import annotations

import random
import string

import pytest
from vaderSentiment.vaderSentiment import BOOSTER_DICT, NEGATE, SentimentIntensityAnalyzer

from nlp.feedback_tone import COURTESY
from nlp.intent import REQUEST_PHRASES
from nlp.pipeline import build_pipeline
from nlp.sentiment import BUT_WORDS, DOMAIN_LEXICON, EXTRA_NEGATORS, NEGATABLE_NEUTRAL

FILLER = "the app team release today we our it was is this".split()
OURS_ONLY = sorted(set(DOMAIN_LEXICON) | {"like", "likes"} | set(NEGATABLE_NEUTRAL)
                   | set(EXTRA_NEGATORS) - set(NEGATE) | set(BUT_WORDS) - {"but"} | set(COURTESY))


def _vader_tokens(text: str) -> list[str]:
    return [t.strip(string.punctuation) if len(t.strip(string.punctuation)) > 2 else t
            for t in text.lower().split()]


def _so_this_boost(text: str, lexicon: dict) -> bool:
    tokens = _vader_tokens(text)
    return any(tokens[i - 1] in ("so", "this") and tokens[i] in lexicon for i in range(1, len(tokens)))


def _short_word_glued_to_punctuation(text: str, lexicon: dict) -> bool:
    return any(len(t.strip(string.punctuation)) <= 2 and t != t.strip(string.punctuation)
               and t.strip(string.punctuation).lower() in lexicon for t in text.split())


#: Each divergence we chose: (name, why, does this sentence hold it?)
DIVERGENCES = [
    ("our domain words", "product-feedback words VADER lacks or weighs for general text "
     "(crash, laggy, refund, thanks, dealbreaker; 'like' is mostly 'like a ...'), words that "
     "turn negative when negated ('doesn't load'), more negators ('cant', 'nothing') and more "
     "'but' words (however, though, although), courtesy words dropped beside a complaint",
     lambda text, lexicon: not set(OURS_ONLY).isdisjoint(_vader_tokens(text))),
    ("VADER's so/this boost", "VADER multiplies a word by 1.25 when 'so' or 'this' comes right "
     "before it (its 'never so/this' rule, which by operator precedence also fires without "
     "'never'); we do not copy the slip",
     _so_this_boost),
    ("short words glued to punctuation", "VADER keeps a token of two letters or fewer with its "
     "punctuation ('HA!!', 'xd!'), so finds no valence; spaCy splits the punctuation off",
     _short_word_glued_to_punctuation),
    ("requests", "a request ('please add ...') that scores negative only through what it asks "
     "to fix is neutral here",
     lambda text, lexicon: any(p in text.lower() for p in REQUEST_PHRASES)),
]


def _sentences(n: int, seed: int, lexicon: dict) -> list[str]:
    rng = random.Random(seed)
    words = sorted(w for w in lexicon if w.isalpha() and w not in BOOSTER_DICT)
    boosters = sorted(b for b in BOOSTER_DICT if b.isalpha())
    negators = sorted(w for w in NEGATE if w.isalpha())

    def clause() -> list[str]:
        out = [rng.choice(FILLER) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.3:
            out.append(rng.choice(negators))
        if rng.random() < 0.3:
            out.append(rng.choice(boosters))
        word = rng.choice(OURS_ONLY) if rng.random() < 0.15 else rng.choice(words)
        out.append(word.upper() if rng.random() < 0.15 else word)
        return out + [rng.choice(FILLER) for _ in range(rng.randint(0, 2))]

    texts = []
    for _ in range(n):
        tokens = clause()
        if rng.random() < 0.3:
            tokens += ["but", *clause()]
        texts.append(" ".join(tokens) + rng.choice(["", "", "!", "!!", "?", "??", "."]))
    return texts


@pytest.fixture(scope="module")
def scorer_and_nlp():
    nlp = build_pipeline([])
    return nlp.get_pipe("sentiment_scorer"), nlp


def test_every_divergence_from_vader_is_a_documented_choice(scorer_and_nlp) -> None:
    scorer, nlp = scorer_and_nlp
    vader = SentimentIntensityAnalyzer()
    texts = _sentences(3_000, 11, vader.lexicon)
    unexplained = []
    agreed = explained = 0
    for text in texts:
        ours = scorer.score(nlp.make_doc(text))
        theirs = vader.polarity_scores(text)["compound"]
        if abs(ours - theirs) <= 0.05:
            agreed += 1
        elif any(holds(text, vader.lexicon) for _, _, holds in DIVERGENCES):
            explained += 1
        else:
            unexplained.append((text, round(ours, 3), theirs))
    assert not unexplained, unexplained[:10]
    # Most sentences agree: the departures are the exception, not the rule.
    assert agreed >= 0.8 * len(texts), (agreed, explained)
