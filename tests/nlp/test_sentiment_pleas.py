"""Words of asking are not words of mood: a complaint that ends in a plea stays negative."""

from __future__ import annotations

import pytest

from domain import Author, RawPost, utcnow
from nlp.pipeline import StageOptions, analyse_posts, build_pipeline
from tests.conftest import acme_customers


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(acme_customers(), options=StageOptions())


def _score(nlp, text: str) -> float:
    post = RawPost(source="x", external_id="1", author=Author("someone"), created_at=utcnow(), text=text)
    return analyse_posts(nlp, [post], 8, StageOptions())[0].sentiment


@pytest.mark.parametrize(("text", "sign"), [
    ("@acmeanvils the app crashed again :( Acme Anvils support please help", -1),
    ("help! cannot log in since the update", -1),
    ("no help at all from support", -1),
    ("please add dark mode", 0),
    ("I contacted support today", 0),
    ("support was so helpful, thanks!", 1),
])
def test_pleas_and_support_carry_no_mood_of_their_own(nlp, text: str, sign: int) -> None:
    score = _score(nlp, text)
    assert (score > 0.05) - (score < -0.05) == sign, score
