"""Product feedback: a constructive request is not negative, politeness round a complaint is not praise."""

from __future__ import annotations

import pytest

from domain import Author, RawPost, utcnow
from nlp.pipeline import StageOptions, analyse_posts, build_pipeline
from tests.conftest import acme_customers


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(acme_customers(), options=StageOptions())


def _labels(nlp, texts: list[str]) -> list[str]:
    posts = [RawPost("x", str(i), Author("someone"), text, utcnow()) for i, text in enumerate(texts)]
    return [a.sentiment_label for a in analyse_posts(nlp, posts, 8, StageOptions())]


def test_constructive_requests_are_not_negative(nlp) -> None:
    requests = [
        "please add an option to hide the annoying banner",
        "Feature request: let us turn off the terrible notification sound",
        "can you add a dark theme? my eyes hurt at night",
        "would love an export, copying by hand is painful",
        "please add dark mode",
    ]
    assert "negative" not in _labels(nlp, requests)


def test_a_request_with_a_complaint_stays_negative(nlp) -> None:
    assert _labels(nlp, ["please add a refund button, you charged me twice and support is useless"]) \
        == ["negative"]


def test_polite_complaints_are_not_positive(nlp) -> None:
    complaints = [
        "Hope you're well! Just flagging that we were charged twice again. Thanks!",
        "Hi team, thanks so much for your help! Unfortunately the export is still broken.",
        "Kind regards, but I'm afraid the app still crashes daily.",
        "With all due respect, your support has been useless.",
        "Thanks for nothing",
        "Love the team, but the new pricing is a dealbreaker for us.",
    ]
    assert "positive" not in _labels(nlp, complaints)


def test_courtesy_still_counts_when_nothing_is_wrong(nlp) -> None:
    assert _labels(nlp, ["thanks so much, the sync works great now", "Hope you're well, love the new editor!"]) \
        == ["positive", "positive"]
