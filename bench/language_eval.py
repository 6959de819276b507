"""Language identification on short posts (not a test): function words alone vs. trained models.

    .venv/bin/python bench/language_eval.py [--per-language 300]

Text not written here: spaCy's own example sentences for each language (real sentences,
shipped in spaCy) and Faker's per-locale sentence generator (random words of that
language's word list), each also cut to its first 3-6 words, with social-media noise
(@handle, #tag, emoji, link) added to half. Both methods run in the same process on the
same posts: accuracy per language and overall, and µs per post.

The trained model the detector asks (py3langid, shipped) is compared in the same run with
lingua-language-detector (``pip install lingua-language-detector``; skipped when absent),
in its high- and low-accuracy modes, put in its place: the same cheap checks first, the
same posts reaching the model. Also printed per model: seconds to load (CPU), memory it
added (resident set, MB), and µs per post on the posts that reach it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from faker import Faker  # noqa: E402
from spacy.attrs import LOWER  # noqa: E402

from nlp.langid_model import MIN_LETTERS, TrainedLanguageId  # noqa: E402
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


class LinguaId:
    """lingua-language-detector behind the interface of ``TrainedLanguageId``."""

    def __init__(self, languages: tuple[str, ...], low_accuracy: bool) -> None:
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        builder = LanguageDetectorBuilder.from_iso_codes_639_1(
            *(IsoCode639_1.from_str(lang) for lang in languages)).with_preloaded_language_models()
        self.detector = (builder.with_low_accuracy_mode() if low_accuracy else builder).build()

    def classify(self, text: str) -> str | None:
        """The most likely language, or None (too little text, as for py3langid)."""
        if sum(1 for ch in text if ch.isalpha()) < MIN_LETTERS:
            return None
        found = self.detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found is not None else None


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def load_models(languages: tuple[str, ...]) -> dict[str, tuple[object, float, float]]:
    """Name → (model, CPU seconds to load, MB of resident memory it added)."""
    makers = {"py3langid (now)": lambda: _warm(TrainedLanguageId(languages))}
    try:
        import lingua  # noqa: F401
    except ImportError:
        print("lingua-language-detector is not installed: compared with py3langid only")
    else:
        # Low first: lingua keeps loaded models for the process, and high accuracy uses the
        # low mode's models and more (its load figures are what it adds on top).
        makers["lingua, low accuracy"] = lambda: LinguaId(languages, low_accuracy=True)
        makers["lingua, high accuracy"] = lambda: LinguaId(languages, low_accuracy=False)
    out = {}
    for name, make in makers.items():
        rss, start = _rss_mb(), time.process_time()
        model = make()
        out[name] = (model, time.process_time() - start, _rss_mb() - rss)
    return out


def _warm(model: TrainedLanguageId) -> TrainedLanguageId:
    model.classify("warm the model up before timing it")  # py3langid loads on first use
    return model


def run(detector: LanguageDetector, nlp, posts: list[tuple[str, str]],
        model: object | None) -> tuple[Counter, Counter, float, int]:
    """Right and total per language, µs per post (tokenising excluded), posts the model saw."""
    right: Counter = Counter()
    total: Counter = Counter()
    docs = [(lang, text, nlp.make_doc(text).to_array(LOWER).tolist()) for lang, text in posts]
    seen = [0]
    if model is not None:
        inner = model.classify

        def counted(text: str) -> str | None:
            seen[0] += 1
            return inner(text)
        model = type("Counted", (), {"classify": staticmethod(counted)})()
    shipped = detector.model
    detector.model = model
    start = time.process_time()
    guesses = [detector.detect(text, lowers) for _, text, lowers in docs]
    seconds = time.process_time() - start
    detector.model = shipped
    for (lang, _, _), guess in zip(docs, guesses):
        total[lang] += 1
        right[lang] += guess == lang
    return right, total, 1e6 * seconds / len(posts), seen[0]


def main() -> None:
    """Print accuracy per language for both methods."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    posts = make_posts(args.per_language, args.seed)
    nlp = blank("en")
    languages = tuple(LOCALES) + ("pt",)
    detector = LanguageDetector(nlp, analysed=languages)
    models = load_models(tuple(sorted(languages)))
    results = {"function words alone": run(detector, nlp, posts, None)}
    for name, (model, _, _) in models.items():
        results[f"with {name}"] = run(detector, nlp, posts, model)
    langs = sorted({lang for lang, _ in posts})
    print(f"{len(posts):,} short posts in {len(langs)} languages")
    print(f"{'method':32} {'overall':>8} " + " ".join(f"{lang:>6}" for lang in langs)
          + "   µs/post  µs/post the model saw")
    for name, (right, total, micros, seen) in results.items():
        overall = sum(right.values()) / sum(total.values())
        per_model = f"{micros * len(posts) / seen:8.1f} ({seen:,})" if seen else ""
        print(f"{name:32} {overall:8.3f} " + " ".join(f"{right[lang] / total[lang]:6.2f}" for lang in langs)
              + f"   {micros:7.1f}  {per_model}")
    for name, (_, seconds, megabytes) in models.items():
        extra = " (on top of the low-accuracy models)" if name == "lingua, high accuracy" else ""
        print(f"{name:32} load {seconds:5.2f} s CPU, {megabytes:6.0f} MB resident{extra}")


if __name__ == "__main__":
    main()
