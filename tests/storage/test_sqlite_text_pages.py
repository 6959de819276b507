"""SQLite: pages with a full-text filter, read in slices of time, are exact — across slice
borders, with ids out of time order, other filters and cursors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import storage.sqlite.text_pages as text_pages
from domain import Analysis, Author, Mention, MentionQuery, RawPost
from storage import open_store
from tests.conftest import T0


def _mention(i: int, minutes: int, text: str, source: str) -> Mention:
    return Mention(RawPost(source, f"t{i}", Author(f"h{i % 4}"), text, T0 + timedelta(minutes=minutes)),
                   Analysis())


@pytest.mark.parametrize("plain_max", [0, 10_000], ids=["sliced", "plain"])
async def test_text_pages_are_exact_with_tiny_slices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     plain_max: int) -> None:
    # Slices of 3 mentions: every page spans several slices (unless the words are rare
    # enough to be read the plain way, which must give the same pages).
    monkeypatch.setattr(text_pages, "FIRST_SLICE", 3)
    monkeypatch.setattr(text_pages, "SLICE_GROWTH", 2)
    monkeypatch.setattr(text_pages, "PLAIN_MATCHES_MAX", plain_max)
    store = await open_store(f"sqlite:///{tmp_path / 'pages.db'}")
    try:
        mentions = [_mention(i, i * 7 % 97, "invoice broken" if i % 3 == 0 else "all good",
                             ("x", "reddit")[i % 2]) for i in range(60)]
        await store.save_mentions("t", mentions, None)
        # Stored late with old times: high ids among the oldest mentions.
        late = [_mention(100 + i, -50 + i, "broken invoice again", "x") for i in range(5)]
        await store.save_mentions("t", late, None)
        everything = mentions + late
        for query, keep in [
            (MentionQuery(text="invoice", limit=4), lambda m: "invoice" in m.post.text),
            (MentionQuery(text="broken", source="x", limit=3),
             lambda m: "broken" in m.post.text and m.post.source == "x"),
            (MentionQuery(text="nothing", limit=5), lambda m: False),
        ]:
            expected = sorted((m for m in everything if keep(m)),
                              key=lambda m: m.post.created_at, reverse=True)
            got: list[str] = []
            page = await store.list_mentions(query)
            got += [m.post.external_id for m in page.items]
            while page.next_cursor:
                page = await store.list_mentions(MentionQuery(
                    text=query.text, source=query.source, limit=query.limit, cursor=page.next_cursor))
                assert len(page.items) <= query.limit
                got += [m.post.external_id for m in page.items]
            assert got == [m.post.external_id for m in expected], query
    finally:
        await store.close()
