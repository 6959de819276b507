"""Spam: the same text from many accounts is flagged across processes and restarts."""

from __future__ import annotations

from pathlib import Path

from domain import MentionQuery
from crmsphere.ingest import store_posts
from nlp.pipeline import StageOptions
from nlp.runner import Analyzer
from storage import open_store
from tests.conftest import acme_customers, post

SPAM = "Win a free iPhone now, click the link https://spam.example/{n}"


async def test_repeats_are_counted_in_the_store_across_analysers_and_stores(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'spam.db'}"
    # Two "worker processes": each its own store connection and analyser, one database file.
    stores = [await open_store(url), await open_store(url)]
    # Wired as the runtime does: the count lives in the store.
    analysers = [Analyzer(options=StageOptions(spam_authors=3), repeat_counter=s.count_text_authors)
                 for s in stores]
    try:
        for analyser in analysers:
            await analyser.start(acme_customers())
        for n, handle in enumerate(["bot1", "bot2", "bot2", "bot3"]):
            i = n % 2
            await store_posts(stores[i], analysers[i], "test",
                              [post(str(n), SPAM.format(n=n), handle=handle, minutes=n)], None)
        # A restart: a fresh analyser remembers nothing, the store does.
        fresh = Analyzer(options=StageOptions(spam_authors=3), repeat_counter=stores[0].count_text_authors)
        await fresh.start(acme_customers())
        await store_posts(stores[0], fresh, "test", [post("9", SPAM.format(n=9), handle="bot4", minutes=9),
                                                     post("10", "a different text entirely", handle="bot5")], None)
        await fresh.close()
        page = await stores[1].list_mentions(MentionQuery(limit=50))
        flagged = {m.post.external_id: "spam_repeated" in m.analysis.flags for m in page.items}
        # bot1, bot2 (twice: one account) are not yet three accounts; bot3 and bot4 are.
        assert flagged == {"0": False, "1": False, "2": False, "3": True, "9": True, "10": False}
    finally:
        for analyser in analysers:
            await analyser.close()
        for store in stores:
            await store.close()


async def test_without_a_store_count_one_process_still_flags() -> None:
    async def not_yet(pairs, window):
        raise NotImplementedError("no count on this backend")

    for counter in (None, not_yet):
        analyser = Analyzer(options=StageOptions(spam_authors=2), repeat_counter=counter)
        await analyser.start([])
        try:
            first, second = await analyser.analyse([post("1", SPAM, handle="a"), post("2", SPAM, handle="b")])
            assert "spam_repeated" not in first.flags and "spam_repeated" in second.flags
            (short,) = await analyser.analyse([post("3", "thanks!!", handle="c")])
            assert "spam_repeated" not in short.flags
            assert analyser.repeat_counter is None  # fell back to counting in this process
        finally:
            await analyser.close()
