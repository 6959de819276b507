"""A long-running pipeline does not keep every new string a post brings (links, handles):
after its warm-up each call runs in a spaCy memory zone, with the same results."""

from __future__ import annotations

from domain import Author, RawPost, utcnow
from nlp.pipeline import StageOptions, analyse_posts, build_pipeline
from tests.conftest import acme_customers


def _posts(start: int, n: int) -> list[RawPost]:
    return [RawPost(source="x", external_id=str(i), author=Author(f"fan{i}"), created_at=utcnow(),
                    text=f"@acmeanvils the app crashed again :( https://status.example/p/{i}?r=q{i} "
                         f"#outage{i} Acme Anvils support please help w{i}x")
            for i in range(start, start + n)]


def test_after_the_warm_up_new_strings_are_forgotten_and_results_are_the_same() -> None:
    zoned_options, plain_options = StageOptions(warm_posts=200), StageOptions(warm_posts=-1)
    zoned = build_pipeline(acme_customers(), options=zoned_options)
    plain = build_pipeline(acme_customers(), options=plain_options)
    warm = _posts(0, 200)
    assert analyse_posts(zoned, warm, 64, zoned_options) == analyse_posts(plain, warm, 64, plain_options)
    after_warm_up = len(zoned.vocab.strings)
    for start in range(200, 1200, 250):
        batch = _posts(start, 250)
        got = analyse_posts(zoned, batch, 64, zoned_options)
        assert got == analyse_posts(plain, batch, 64, plain_options)
        assert got[0].links and got[0].links[0].customer_id == "cus_acme"
    assert len(zoned.vocab.strings) == after_warm_up  # nothing kept from the 1,000 new posts
    assert len(plain.vocab.strings) > after_warm_up + 3_000  # ~4 new strings a post, all kept
