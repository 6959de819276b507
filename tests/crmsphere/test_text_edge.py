"""The text rules at the edge (``domain/text_edge.py``): the rules themselves, and a
collected post with a truncated emoji stored through the shared ingest path."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from collectors import create_collector
from domain import MentionQuery
from domain.errors import BadInput
from crmsphere.ingest import run_collector
from domain.text_edge import MAX_DEPTH, decode_json, third_party_text, typed_text
from nlp.runner import Analyzer
from storage import open_store
from tests.collectors.fake_hackernews import Algolia, make_app
from tests.conftest import acme_customers


def test_lone_surrogates_become_the_replacement_character_and_pairs_are_joined() -> None:
    assert third_party_text("dark mode \ud83d") == "dark mode \ufffd"
    assert third_party_text("\udc4d first, then \ud83d\udc4d") == "\ufffd first, then \U0001f44d"
    assert typed_text("ship it \ud83d", "title") == "ship it \ufffd"
    assert third_party_text("nul\x00here") == "nul\ufffdhere"
    with pytest.raises(BadInput, match="'title' contains a NUL") as info:
        typed_text("Dark\x00mode", "title")
    assert info.value.details == {"field": "title"}


def test_json_is_bounded_and_each_problem_names_its_place() -> None:
    assert decode_json(b'{"rules": [{"when": "\\ud83d"}]}') == {"rules": [{"when": "\ufffd"}]}
    with pytest.raises(BadInput, match=r"'rules\[1\]\.team' contains a NUL"):
        decode_json(b'{"rules": [{"team": "a"}, {"team": "b\\u0000"}]}')
    assert decode_json(b'{"t": "b\\u0000"}', "replace") == {"t": "b\ufffd"}
    with pytest.raises(BadInput, match=r"'ids\[0\]' is an integer beyond"):
        decode_json(b'{"ids": [9223372036854775808]}')
    assert decode_json(b"[-9223372036854775808, 9223372036854775807]") == [-(2**63), 2**63 - 1]
    assert decode_json(b'{"n": 99999999999999999999}', bound_ints=False) == {"n": 10**20 - 1}
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert decode_json(ok) is not None
    for deep in ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), '{"a":' * 5000 + "1" + "}" * 5000):
        with pytest.raises(BadInput, match="nested deeper than 64"):
            decode_json(deep)
    for bad, message in [(b"NaN", "not JSON"), (b'{"x": Infinity}', "not JSON"),
                         (b"\xff{}", "not UTF-8"), (b"{oops", "not JSON")]:
        with pytest.raises(BadInput, match=message):
            decode_json(bad)


async def test_a_collected_post_with_a_truncated_emoji_is_stored(aiohttp_server,
                                                                 tmp_path: Path) -> None:
    index = Algolia()
    index.load_captured()
    # What Algolia hands on when the comment was cut mid-emoji by the client that posted it.
    index.add(46029999, 1795190000, comment_text="Nimbus dark mode shipped \ud83d",
              author="jo_r\x00")
    server = await aiohttp_server(make_app(index))
    store = await open_store(f"sqlite:///{tmp_path / 'crm.db'}")
    await store.upsert_customers(acme_customers())
    analyzer = Analyzer(workers=0)
    await analyzer.start(acme_customers())
    try:
        async with aiohttp.ClientSession() as http:
            collector = create_collector("hackernews", "hackernews:hn", {
                "kind": "hackernews", "name": "hn", "interval": 60, "enabled": True,
                "base_url": str(server.make_url("")), "queries": ["nimbus"], "credentials": {}},
                http)
            report = await run_collector(collector, store, analyzer)
        assert report.accepted == 4
        stored = {m.post.external_id: m for m in (await store.list_mentions(
            MentionQuery(limit=10))).items}
        cut = stored["46029999"].post
        assert cut.text == "Nimbus dark mode shipped \ufffd"
        assert cut.author.handle == "jo_r\ufffd"
    finally:
        await analyzer.close()
        await store.close()
