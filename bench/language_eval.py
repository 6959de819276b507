"""Language identification on short posts (not a test): function words alone vs. the trained model.

    .venv/bin/python bench/language_eval.py [--per-language 300]

Text not written here: spaCy's own example sentences for each language (real sentences,
shipped in spaCy) and Faker's per-locale sentence generator (random words of that
language's word list), each also cut to its first 3-6 words, with social-media noise
(@handle, #tag, emoji, link) added to half. Both methods run in the same process on the
same posts: accuracy per language and overall, and µs per post.
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
import time
from collections import Counter
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from faker import Faker  # noqa: E402
from spacy.attrs import LOWER  # noqa: E402

from nlp.language import LanguageDetector  # noqa: E402
from nlp.tokenizer import blank  # noqa: E402

LOCALES = {"en": "en_US", "de": "de_DE", "fr": "fr_FR", "es": "es_ES", "it": "it_IT", "nl": "nl_NL"}
NOISE = ["@acme_hq", "#fail", "😂", "🔥", "https://t.co/x1y2", "lol", "#ad"]


def make_posts(per_language: int, seed: int) -> list[tuple[str, str]]:
    """``(language, text)`` pairs."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for lang, locale in LOCALES.items():
        fake = Faker(locale)
        fake.seed_instance(seed)
        real = list(importlib.import_module(f"spacy.lang.{lang}.examples").sentences)
        for i in range(per_language):
            text = rng.choice(real) if i % 3 == 0 else fake.sentence(nb_words=rng.randint(5, 12))
            if i % 2:
                words = text.split()
                text = " ".join(words[:rng.randint(3, 6)])
            if rng.random() < 0.5:
                text = f"{text} {rng.choice(NOISE)}"
            out.append((lang, text))
    # Portuguese: spaCy's sentences only (Faker's pt locales write Latin lorem ipsum).
    for sentence in importlib.import_module("spacy.lang.pt.examples").sentences:
        out.append(("pt", sentence))
    return out


def run(detector: LanguageDetector, nlp, posts: list[tuple[str, str]], use_model: bool) -> tuple[Counter, Counter, float]:
    """Right and total per language, and µs per post (tokenising excluded)."""
    right: Counter = Counter()
    total: Counter = Counter()
    docs = [(lang, text, nlp.make_doc(text).to_array(LOWER).tolist()) for lang, text in posts]
    model = detector.model
    detector.model = model if use_model else None
    if use_model and model is not None:
        model.classify("warm the model up before timing it")
    start = time.process_time()
    guesses = [detector.detect(text, lowers) for _, text, lowers in docs]
    seconds = time.process_time() - start
    detector.model = model
    for (lang, _, _), guess in zip(docs, guesses):
        total[lang] += 1
        right[lang] += guess == lang
    return right, total, 1e6 * seconds / len(posts)


def main() -> None:
    """Print accuracy per language for both methods."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    posts = make_posts(args.per_language, args.seed)
    nlp = blank("en")
    detector = LanguageDetector(nlp, analysed=tuple(LOCALES) + ("pt",))
    results = {name: run(detector, nlp, posts, use)
               for name, use in (("function words (before)", False), ("with py3langid (now)", True))}
    langs = sorted({lang for lang, _ in posts})
    print(f"{len(posts):,} short posts in {len(langs)} languages")
    print(f"{'method':26} {'overall':>8} " + " ".join(f"{lang:>6}" for lang in langs) + "   µs/post")
    for name, (right, total, micros) in results.items():
        overall = sum(right.values()) / sum(total.values())
        print(f"{name:26} {overall:8.3f} " + " ".join(f"{right[lang] / total[lang]:6.2f}" for lang in langs)
              + f"   {micros:7.1f}")


if __name__ == "__main__":
    main()
