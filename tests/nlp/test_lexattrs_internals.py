"""The speed-ups that lean on spaCy internals turn off, with one warning, when those internals
are missing or shaped differently (checked against stand-in modules, spaCy itself untouched),
and the analysis stays the same; with the installed spaCy they stay on."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
import spacy
import spacy.util
from spacy.attrs import LIKE_NUM, NORM
from spacy.lang.en import lex_attrs as en

from collectors.customers_csv import read_customers_csv
from crmsphere.analyze_cli import parse_line
from nlp import pipeline
from nlp.lexattrs import SpacyInternals, probe_spacy_internals, use_fast_lexeme_attrs
from nlp.pipeline import StageOptions, analyse_posts, build_pipeline
from nlp.topics import load_taxonomy
from tests.nlp.test_lexattrs import DATA, _strings

ROOT = Path(__file__).resolve().parents[2]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "nlp.lexattrs" and r.levelno == logging.WARNING]


def test_the_installed_spacy_keeps_the_fast_path(caplog: pytest.LogCaptureFixture) -> None:
    internals = probe_spacy_internals(spacy.util, en)
    assert internals.get_attr_unless_lookup is not None and "twelve" in (internals.en_number_words or ())
    assert _warnings(caplog) == []
    spacys = spacy.blank("en").vocab.lex_attr_getters
    fast = spacy.blank("en").vocab
    use_fast_lexeme_attrs(fast, internals)
    assert fast.lex_attr_getters[LIKE_NUM] is not spacys[LIKE_NUM]
    assert fast.lex_attr_getters[NORM] is not spacys[NORM]


def test_missing_internals_turn_their_speed_ups_off_with_one_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    # A spaCy release that renamed both: the modules have their public parts only.
    util = SimpleNamespace(get_lang_class=spacy.util.get_lang_class)
    en_attrs = SimpleNamespace(like_num=en.like_num, LEX_ATTRS=en.LEX_ATTRS)
    internals = probe_spacy_internals(util, en_attrs)
    assert internals == SpacyInternals(None, None)
    (warning,) = _warnings(caplog)
    assert "_get_attr_unless_lookup is missing" in warning and "_num_words" in warning
    assert "speed-ups" in warning and "off" in warning

    spacys = spacy.blank("en").vocab.lex_attr_getters
    degraded = spacy.blank("en").vocab
    use_fast_lexeme_attrs(degraded, internals)
    getters = degraded.lex_attr_getters
    assert getters[LIKE_NUM] is spacys[LIKE_NUM]  # spaCy's own, not the twin
    assert getters[NORM].func is spacys[NORM].func
    swapped = [a for a in spacys if getters[a] is not spacys[a] and a != NORM]
    assert len(swapped) >= 18  # the twins on public API stay on
    for text in _strings():
        for attr in spacys:
            assert getters[attr](text) == spacys[attr](text), (attr, text)


def test_internals_of_another_shape_are_not_used(caplog: pytest.LogCaptureFixture) -> None:
    def _get_attr_unless_lookup(string: str, table: dict, fallback: object) -> str:
        return string

    util = SimpleNamespace(_get_attr_unless_lookup=_get_attr_unless_lookup)
    en_attrs = SimpleNamespace(_num_words="zero one two three", _ordinal_words=("first", 2))
    assert probe_spacy_internals(util, en_attrs) == SpacyInternals(None, None)
    (warning,) = _warnings(caplog)
    assert "takes (string, table, fallback)" in warning
    assert "not lists of words" in warning


@pytest.fixture(scope="module")
def corpus() -> tuple[list, StageOptions, list]:
    customers, rejected = read_customers_csv(DATA / "customers.csv")
    assert not rejected
    options = StageOptions(topics=load_taxonomy(ROOT / "config" / "topics.toml"))
    lines = [line for name in ("linking.jsonl", "sentiment.jsonl")
             for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
    return customers, options, [parse_line(line)[1] for line in lines]


def test_the_analysis_is_the_same_without_the_internals(
        corpus: tuple[list, StageOptions, list], monkeypatch: pytest.MonkeyPatch) -> None:
    customers, options, posts = corpus
    fast = analyse_posts(build_pipeline(customers, options=options), posts, options=options)
    without = functools.partial(use_fast_lexeme_attrs, internals=SpacyInternals(None, None))
    monkeypatch.setattr(pipeline, "use_fast_lexeme_attrs", without)  # our module, not spaCy
    slow_nlp = build_pipeline(customers, options=options)
    assert slow_nlp.vocab.lex_attr_getters[LIKE_NUM] is en.like_num  # the speed-up is off
    slow = analyse_posts(slow_nlp, posts, options=options)
    assert len(fast) == len(posts) > 100
    assert slow == fast
