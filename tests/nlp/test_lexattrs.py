"""The twins of spaCy's lexical attribute getters return exactly what spaCy's own return."""

from __future__ import annotations

import json
import random
from pathlib import Path

import spacy

from nlp.lexattrs import use_fast_lexeme_attrs
from nlp.pipeline import build_pipeline

DATA = Path(__file__).with_name("data")

SAMPLES = [
    "a", "A", "I", "the", "The", "THE", "Kalomira", "kalomira12", "@kalomi_123", "#fail", "n't", "'s",
    "https://t.example/kalo12", "www.acme.com/a?b=1", "help@acme.io", "x@y", "12", "1,000", "+1.5",
    "-3", "±2", "~4", "1/2", "1/2/3", "a/b", "one", "Twelve", "first", "1st", "22nd", "3rd", "4th",
    "th", "zillion", "bazillionth", "...", "!!", "?!", "!!!!!!!", "-----", "aaaaaaa", "AAAAAAAAA",
    "12345678", "aAaAaA", "$", "$$", "$5", "€", "£20", "(", ")", "[", "<", "«", "»", "“", "”", "``",
    "''", "'", '"', "‘", "’", ":)", ":-(", "<3", "😡", "🎉🎉🎉🎉🎉🎉", "👍🏽", "❤️", "é", "École",
    "ÉCOLE", "straße", "ǅ", "İstanbul", "ﬁne", "ŉ", "١٢٣", "²", "Ⅻ", "ｆｕｌｌ", "\u00a0", " ", "\t\n",
    "x" * 99, "x" * 100, "X" * 150, "é" * 120, "a_b", "_", "__init__", "O'Neil", "rock'n'roll",
    "U.S.", "e.g.", "10:30", "3.5", "5km", "100%", "¿", "¡", "—", "–", "…", "·", "§", "¶", "©",
    "www.", "www.a", "wwwa.com", ".com", "acme.", "acme.com", "acme.io:8080", "acme.io/", "a.b/c",
    "acme.zzzz", "http:/x", "HTTPS://X.IO", "+one", "-First", "~12th", "1,000.5", ",5", ".5", "5/",
    "/5", "+1/2", "1.2.3", "one.", "Twelve/", "+", "-", "~", "±", "1_000", "2:30pm", "#1", "@12",
]


def _strings() -> list[str]:
    rng = random.Random(11)
    alphabet = "aAzZ09_-.,'!?@#$%&()[]{}<>/:;éÉßñ€£😡👍“”«»… \t"
    out = list(SAMPLES)
    out += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 30))) for _ in range(20_000)]
    nlp = spacy.blank("en")
    for name in ("linking.jsonl", "sentiment.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            out += [t.text for t in nlp(json.loads(line)["text"])]
    # Every string spaCy's English defaults know (tokenizer exceptions and stop words).
    out += list(nlp.tokenizer.rules) + sorted(nlp.Defaults.stop_words)
    return [s for s in out if s]


def test_twins_return_what_spacy_returns() -> None:
    spacy_getters = spacy.blank("en").vocab.lex_attr_getters
    fast = spacy.blank("en").vocab
    use_fast_lexeme_attrs(fast)
    assert set(fast.lex_attr_getters) == set(spacy_getters)
    swapped = [attr for attr in spacy_getters if fast.lex_attr_getters[attr] is not spacy_getters[attr]]
    assert len(swapped) >= 20
    for text in _strings():
        for attr in swapped:
            want = spacy_getters[attr](text)
            got = fast.lex_attr_getters[attr](text)
            assert got == want and type(got) is type(want), (attr, text, got, want)


def test_lexemes_made_by_the_pipeline_are_the_same() -> None:
    ours = build_pipeline([]).vocab
    theirs = spacy.blank("en").vocab
    for text in ["https://t.example/kalo12", "@kalomi_123", "Kalomira", "!!!!!!", "1st", "😡"]:
        a, b = ours[text], theirs[text]
        assert (a.lower_, a.norm_, a.shape_, a.prefix_, a.suffix_, a.lang_, a.like_num, a.like_url,
                a.is_punct, a.is_ascii, a.is_stop, a.is_currency, a.is_quote) == \
               (b.lower_, b.norm_, b.shape_, b.prefix_, b.suffix_, b.lang_, b.like_num, b.like_url,
                b.is_punct, b.is_ascii, b.is_stop, b.is_currency, b.is_quote)


def test_remembered_shapes_are_spacys_shapes() -> None:
    # Many strings share a sequence of character classes: the second and later ones take
    # the shape remembered for the first; every one must still be spaCy's own.
    from spacy.lang.lex_attrs import word_shape as spacy_shape

    from nlp import lexattrs

    rng = random.Random(5)
    pieces = ["a", "z", "Q", "M", "0", "7", "-", ".", "/", ":", "_", "@", "!", "é", "😡", "aaaaaa",
              "ZZZZZZ", "999999", "......", "-----", "https://", "www.", "@", "#"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12))) for _ in range(30_000)]
    texts += [f"https://t.example/{word}{n}" for n in range(0, 3_000, 7) for word in ("kalo", "ZELmar")]
    texts += ["x" * n for n in range(1, 130)] + ["Ab" * n for n in range(1, 70)]
    lexattrs._shapes.clear()
    for text in texts + texts[::-1]:
        assert lexattrs.word_shape(text) == spacy_shape(text), text
    assert len(lexattrs._shapes) < len(texts)  # the cache did serve repeats


def test_shape_memory_is_bounded(monkeypatch) -> None:
    from nlp import lexattrs

    monkeypatch.setattr(lexattrs, "SHAPE_CACHE_SIZE", 50)
    lexattrs._shapes.clear()
    for n in range(1, 99):
        assert lexattrs.word_shape("a" * n + "1") == ("x" * min(n, 4) + "d")
        assert len(lexattrs._shapes) <= 50
