"""``bench/linking_eval.py``: what the issue's rules expect for a labelled mention is decided
from what the generator wrote and the registry (wordfreq for everyday words), never by the
linker, and the README's two recalls rest on it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from domain import Customer

BENCH = Path(__file__).resolve().parents[2] / "bench" / "linking_eval.py"


@pytest.fixture(scope="module")
def expect():
    spec = importlib.util.spec_from_file_location("linking_eval", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Expectation([
        Customer("rf_co", "Richard-Freeman", "company"),
        Customer("rf_person", "Richard Freeman", "person"),
        Customer("anna", "Anna Grünewald", "person"),
        Customer("anna2", "Anna Grunewald", "person"),
        Customer("uribe", "Melisa Lloret Uribe", "person"),
        Customer("holmes", "Thomas Holmes", "person"),
        Customer("hernandez", "Dr. Rachel Hernandez", "person"),
        Customer("respond", "Respond Logistics", "company", aliases=("Respond",)),
        Customer("gas", "Gas Logistics", "company"),
        Customer("reed", "Reed, Martin and Brown", "company"),
    ])


def mention(customer: str, phrase: str, written: str, form: str = "as registered", cue: bool = False) -> dict:
    return {"customers": [customer], "phrase": phrase, "written": written, "form": form, "cue": cue}


@pytest.mark.parametrize(("post", "outcome"), [
    # Only one customer writes it so (people drop hyphens and accents, they do not add them).
    (mention("rf_co", "Richard-Freeman", "RICHARD-FREEMAN", "capitals"), "accept"),
    (mention("rf_co", "Richard-Freeman", "Richard Freeman", "hyphen as space"), "review"),
    (mention("anna", "Anna Grünewald", "Anna Grünewald"), "accept"),
    (mention("anna", "Anna Grünewald", "Anna Grunewald", "accents dropped"), "review"),
    (mention("anna", "Anna Grünewald", "#annagrunewald", "hashtag lower"), "review"),
    (mention("uribe", "Melisa Lloret Uribe", "melisa lloret uribe", "lower case"), "accept"),
    # A common person's name, titled or not: only with the template's customer-service words.
    (mention("holmes", "Thomas Holmes", "Thomas Holmes"), "review"),
    (mention("holmes", "Thomas Holmes", "#ThomasHolmes", "hashtag"), "review"),
    (mention("holmes", "Thomas Holmes", "thomas holmes", "lower case", cue=True), "accept"),
    (mention("hernandez", "Dr. Rachel Hernandez", "Dr. Rachel Hernandez"), "review"),
    # An everyday-word alias: capitals are no cue; in lower case it is the word, cue or not.
    (mention("respond", "Respond", "Respond"), "review"),
    (mention("respond", "Respond", "Respond", cue=True), "accept"),
    (mention("respond", "Respond", "respond", "lower case", cue=True), "review"),
    # A company's name of everyday words: two of them in lower case read as words.
    (mention("gas", "Gas Logistics", "Gas Logistics"), "accept"),
    (mention("gas", "Gas Logistics", "gas logistics", "lower case"), "review"),
    (mention("gas", "Gas Logistics", "gas logistics", "lower case", cue=True), "accept"),
    (mention("reed", "Reed, Martin and Brown", "reed, martin and brown", "lower case"), "accept"),
])
def test_expected_outcome(expect, post: dict, outcome: str) -> None:
    assert expect(post)[0] == outcome, expect(post)[1]
