"""The social tokenizer gives exactly the tokens of spaCy's default English tokenizer."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
import spacy

from nlp.pipeline import build_pipeline
from nlp.tokenizer import _COMMON_URL, SOCIAL_TOKEN, blank

DATA = Path(__file__).with_name("data")

CORES = [
    "https://t.example/kalo12", "http://a.com", "https://a.com/", "https://a.com/x?y=1&z=2",
    "https://a.com/x-y_z", "https://a.com/x#frag", "www.acme.com", "www.acme.com/a?b=1",
    "https://a.com/x.html", "https://a.com/x,y", "https://a.com/x(y)", "https://a.com/🎉x",
    "https://a.com/x'y", "https://a.com/x:y", "https://a.com/100%", "https://a.com/x...y",
    "https://a.com/5km", "https://a.com/x\"y", "http://localhost:8080/x", "http://10.0.0.1/x",
    "https://a.com/@user", "https://a.com/$5", "https://a.com/a/b/c/", "https://a", "http://",
    "https://a.com/x_", "HTTPS://A.COM/X", "https://a.com/x~y", "https://a.com/[x]y",
    "@acme", "@acme_support", "@a", "@a.b", "@acme.bsky.social", "@user@mastodon.social",
    "@foo-bar", "@1234", "@_x", "@x_", "@FooBar", "@foo.Bar", "@a...b", "@foo@bar", "@é", "@ab'c",
    "help@acme.io", "a.b+c@x-y.co.uk", "HELP@ACME.IO", "x@y.z", "a@b", "a..b@c.d", "+a@b.c",
    "-a@b.c", ".a@b.c", "é@x.y", "a@b.c1", "p12@kalomira.example",
]
PREFIXES = ["", "(", '"', "'", "[", "...", "“", "#"]
SUFFIXES = ["", ".", ",", ")", "!", "?", "'s", "’s", "...", ":)", "?)", '."', "-", ";", ":", "'"]


@pytest.fixture(scope="module")
def tokenizers():
    return spacy.blank("en").tokenizer, blank("en").tokenizer


def _same(default, social, text: str) -> None:
    assert [t.text for t in social(text)] == [t.text for t in default(text)], text


def test_links_handles_and_addresses_split_as_spacy_does(tokenizers) -> None:
    default, social = tokenizers
    for core in CORES:
        for before in PREFIXES:
            for after in SUFFIXES:
                _same(default, social, before + core + after)


def test_random_link_like_chunks_split_as_spacy_does(tokenizers) -> None:
    default, social = tokenizers
    rng = random.Random(3)
    parts = list("._-@/:?#&=%+,;~$*'!()") + ["é", "🎉", "’", "'s", "km", "...", "/"]
    taken = 0
    for _ in range(20_000):
        chunk = rng.choice(["https://", "www.", "@", "", "https://a.com/", "ab.cd@", "@ab.c@", "("])
        for _ in range(rng.randrange(1, 8)):
            chunk += ("".join(rng.choice("abkmxyzABKX019_") for _ in range(rng.randrange(1, 5)))
                      if rng.random() < 0.7 else rng.choice(parts))
        taken += SOCIAL_TOKEN.match(chunk) is not None
        _same(default, social, chunk)
    assert taken > 500  # the fast path was exercised, not only the fallback


def test_words_numbers_and_special_cases_split_as_spacy_does(tokenizers) -> None:
    default, social = tokenizers
    rng = random.Random(5)
    words = [k for k in default.rules if k.strip()]  # "gonna", "can't", ":)", "U.S." ...
    words += ["".join(rng.choice("abcxyzKXM") for _ in range(rng.randrange(1, 12))) for _ in range(3_000)]
    words += [str(rng.randrange(10 ** rng.randrange(1, 9))) for _ in range(1_000)]
    words += ["5km", "10am", "3pm", "2nd", "100k", "x5", "Im", "dont", "Cannot", "GONNA", "lets"]
    for word in words:
        for before, after in ((rng.choice(PREFIXES), rng.choice(SUFFIXES)), ("", ""), ("(", ")")):
            _same(default, social, before + word + after)


def test_common_links_pass_spacys_url_test(tokenizers) -> None:
    """Whatever the short common-link pattern accepts, spaCy's own URL pattern accepts too."""
    default, _ = tokenizers
    rng = random.Random(8)
    labels = ["a", "b1", "x-y", "-a", "a-", "0", "é", "", "t", "kalo-mira", "x" * 63, "y" * 64, "10"]
    tlds = ["com", "io", "CO", "c", "example", "z" * 63, "z" * 64, "1a", "é"]
    junk = ["", "", "", ":80", ":8080", ":1", "/", "/p", "?q=1", "#f", "@u", "%20", "_", "..", "-"]
    common = re.compile(r"(?:" + _COMMON_URL + r")\Z")
    passed = 0
    for _ in range(30_000):
        link = rng.choice(["https://", "http://", "www.", "https://www.", "HTTP://"])
        link += ".".join(rng.choice(labels) for _ in range(rng.randrange(1, 4))) + "." + rng.choice(tlds)
        link += "".join(rng.choice(junk) for _ in range(rng.randrange(0, 4)))
        if common.match(link):
            passed += 1
            assert default.url_match(link), link
    assert passed > 1_000


def test_labelled_posts_split_as_spacy_does(tokenizers) -> None:
    default, social = tokenizers
    for name in ("linking.jsonl", "sentiment.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            _same(default, social, json.loads(line)["text"])


def test_the_blank_pipeline_uses_it() -> None:
    nlp = build_pipeline([])
    assert nlp.config["nlp"]["tokenizer"]["@tokenizers"] == "crmsphere.social_tokenizer.v1"
    doc = nlp.make_doc("@acme_support https://t.example/x1, mail help@acme.io! can't :)")
    assert [t.text for t in doc] == ["@acme_support", "https://t.example/x1", ",", "mail",
                                     "help@acme.io", "!", "ca", "n't", ":)"]
    # Still a plain spaCy tokenizer: it serialises and loads back.
    again = blank("en").tokenizer.from_bytes(nlp.tokenizer.to_bytes())
    assert again.token_match.__self__.pattern == SOCIAL_TOKEN.pattern


def _built_the_old_way():
    """The social tokenizer as it was once built: spaCy's default, then ``token_match`` set
    (which reloads every special case)."""
    nlp = spacy.blank("en")
    tokenizer = spacy.registry.tokenizers.get("spacy.Tokenizer.v1")()(nlp)
    tokenizer.token_match = SOCIAL_TOKEN.match
    return tokenizer


def test_built_at_once_it_splits_as_built_the_old_way(tokenizers) -> None:
    _, social = tokenizers
    old = _built_the_old_way()
    assert social.rules == old.rules and social.url_match == old.url_match
    rng = random.Random(11)
    texts = [before + core + after for core in CORES for before in PREFIXES for after in SUFFIXES]
    texts += [k for k in old.rules if k.strip()]  # every special case, alone and in a post
    texts += ["I can't log in :( gonna try @acme_support again... (U.S. team?) e.g. https://a.com/x's",
              "“Don’t” — we’re 100% done w/ it!!1 #fail 🎉🎉 ¯\\_(ツ)_/¯ <3 lol :-)",
              "cannot\u00a0login\tto\nhttps://acme.io/a,b help@acme.io's 5km 3pm o'clock ’cause y'all"]
    for line in (DATA / "sentiment.jsonl").read_text(encoding="utf-8").splitlines():
        texts.append(json.loads(line)["text"])
    rng.shuffle(texts)
    texts.append(" ".join(texts[:400]))
    for text in texts:
        assert [(t.text, t.whitespace_, t.norm_) for t in social(text)] == \
            [(t.text, t.whitespace_, t.norm_) for t in old(text)], text


def test_building_loads_the_special_cases_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted, not timed: each special case's tokens are checked once per load of the rules.
    Setting ``token_match`` after construction loaded them all a second time."""
    import spacy.tokenizer as spacy_tokenizer

    checked: list[object] = []
    check = spacy_tokenizer.intify_attrs

    def counting(*args, **kwargs):
        checked.append(args)
        return check(*args, **kwargs)

    monkeypatch.setattr(spacy_tokenizer, "intify_attrs", counting)
    spacy.blank("en")
    once = len(checked)
    assert once > 1_000  # the count sees spaCy's own single load
    del checked[:]
    blank("en")
    assert len(checked) == once
