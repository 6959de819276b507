"""Contract: top authors over whole days stay exact while the period moves and mentions arrive
(the SQLite backend answers them from kept, rolled windows)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from domain import Analysis, Author, Mention, RawPost
from storage import Store
from tests.conftest import T0

DAY = timedelta(days=1)
MIDNIGHT = T0.replace(hour=0)


def _mention(i: int, day: int, handle: str, source: str, likes: int, name: str | None) -> Mention:
    post = RawPost(source, f"a{i}", Author(handle, name), f"post {i}",
                   MIDNIGHT + day * DAY + timedelta(minutes=i % 600), engagement={"likes": likes})
    return Mention(post, Analysis())


def _corpus() -> list[Mention]:
    """Twelve days of posts by eight authors on two sources, unevenly spread so the ranking
    changes with the period."""
    out = []
    i = 0
    for day in range(12):
        for k in range(8):
            for _ in range((day * 3 + k * 5) % 4):
                i += 1
                out.append(_mention(i, day, f"h{k}", ("x", "reddit")[(k + day) % 2], i % 7,
                                    f"Name {k}" if i % 3 else None))
    return out


def _expected(mentions: list[Mention], since: datetime, until: datetime, limit: int) -> list[tuple]:
    n: dict[tuple[str, str], int] = defaultdict(int)
    reach: dict[tuple[str, str], int] = defaultdict(int)
    names: dict[tuple[str, str], str | None] = defaultdict(lambda: None)
    for m in mentions:
        if since <= m.post.created_at < until:
            key = (m.post.source, m.post.author.handle)
            n[key] += 1
            reach[key] += sum(m.post.engagement.values())
            if m.post.author.name and (names[key] is None or m.post.author.name > names[key]):
                names[key] = m.post.author.name
    ranked = sorted(n, key=lambda k: (-n[k], k[1], k[0]))[:limit]
    return [(k[0], k[1], names[k], n[k], reach[k]) for k in ranked]


async def _top(store: Store, first: int, end: int, limit: int = 5) -> list[tuple]:
    rows = await store.top_authors(MIDNIGHT + first * DAY, MIDNIGHT + end * DAY, limit)
    return [(a.source, a.handle, a.name, a.mentions, a.engagement) for a in rows]


async def test_top_authors_stay_exact_as_the_period_moves(store: Store) -> None:
    mentions = _corpus()
    await store.save_mentions("t", mentions, None)
    # A period, the same again, moved by a day each way, shortened, far away, then more
    # periods than are kept, and one longer than a kept window may be.
    for first, end in [(0, 5), (0, 5), (1, 6), (0, 5), (2, 5), (6, 12), (0, 12), (3, 9), (1, 6),
                       (0, 1), (2, 3), (4, 5), (6, 7), (8, 9), (0, 1), (1, 6), (-90, 12)]:
        got = await _top(store, first, end)
        assert got == _expected(mentions, MIDNIGHT + first * DAY, MIDNIGHT + end * DAY, 5), (first, end)
        assert got  # every period here has posts


async def test_top_authors_count_mentions_stored_after_the_period_was_asked(store: Store) -> None:
    mentions = _corpus()
    await store.save_mentions("t", mentions, None)
    assert await _top(store, 2, 8) == _expected(mentions, MIDNIGHT + 2 * DAY, MIDNIGHT + 8 * DAY, 5)
    await _top(store, 3, 9)  # another period kept as well
    # A newcomer posts a lot inside both periods, and once outside them.
    late = [_mention(1000 + j, 4 + j % 3, "newcomer", "x", 50, "New One") for j in range(9)]
    late.append(_mention(2000, 11, "newcomer", "x", 50, "New One"))
    await store.save_mentions("t", late, None)
    everything = mentions + late
    for first, end in [(2, 8), (3, 9), (5, 12)]:
        got = await _top(store, first, end)
        assert got == _expected(everything, MIDNIGHT + first * DAY, MIDNIGHT + end * DAY, 5)
    assert (await _top(store, 2, 8))[0][:4] == ("x", "newcomer", "New One", 9)
