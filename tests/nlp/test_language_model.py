"""Language identification on short posts with few function words (a trained model decides)."""

from __future__ import annotations

import pytest

from nlp.pipeline import StageOptions, analyse_posts, build_pipeline
from tests.conftest import acme_customers, post

OPTIONS = StageOptions(languages=("en", "de", "es", "fr"))


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(acme_customers(), options=OPTIONS)


@pytest.mark.parametrize(("text", "language"), [
    ("Lieferung verspätet, Kundenservice schweigt komplett", "de"),
    ("Servicio excelente, entrega rapidísima", "es"),
    ("Pésima atención, factura duplicada", "es"),
    ("Application vraiment lente, impossible d'ouvrir mes factures", "fr"),
    ("Rechnung doppelt abgebucht!! Bitte sofort erstatten", "de"),
    ("the export drops custom fields again", "en"),
])
def test_short_posts_get_their_language(nlp, text: str, language: str) -> None:
    (analysis,) = analyse_posts(nlp, [post(text=text)], options=OPTIONS)
    assert analysis.language == language


def test_too_short_for_the_model_falls_back_to_function_words(nlp) -> None:
    texts = ["ok 👍", "lol #fail", "danke und tschüss"]
    assert [a.language for a in analyse_posts(nlp, [post(text=t) for t in texts], options=OPTIONS)] \
        == ["und", "und", "de"]
