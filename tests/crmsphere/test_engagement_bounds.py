"""Engagement counts a source sends are bounded where every post enters (``crmsphere.ingest``):
a count no platform has (10^30 likes, from a buggy mirror or a hostile server) refuses that post
by name; the rest of the batch is stored and the dashboard's sums still add up."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import aiohttp
import pytest

from collectors import create_collector
from crmsphere.ingest import run_collector
from nlp.runner import Analyzer
from storage import Store
from tests.collectors.fake_x import BEARER, FakeX, clone

NOW = datetime.now(timezone.utc)


@pytest.mark.parametrize("likes", [10**30, 2**63, -(2**63) - 1, 10**13])
async def test_a_count_no_platform_has_refuses_its_post_and_keeps_the_rest(
        aiohttp_server, store: Store, analyzer: Analyzer, likes: int) -> None:
    fake = FakeX()
    newest = fake.newest_first()[0]
    odd = clone(newest, 60, "Nimbus tweet with an odd like count", seq=1)
    odd["public_metrics"] = {**odd["public_metrics"], "like_count": likes}
    fine = clone(newest, 61, "Nimbus tweet liked a normal amount", seq=2)
    fine["public_metrics"] = {**fine["public_metrics"], "like_count": 2**30}
    for tweet in (odd, fine):
        fake.add(tweet)
    server = await aiohttp_server(fake.app())

    async with aiohttp.ClientSession() as http:
        collector = create_collector("x", "x:nimbus", {
            "kind": "x", "name": "nimbus", "base_url": str(server.make_url("")).rstrip("/"),
            "queries": ["nimbus"], "bearer_token_env": "X_BEARER_TOKEN",
            "credentials": {"bearer_token": BEARER}}, http)
        report = await run_collector(collector, store, analyzer)
    assert [(r.where, r.reason) for r in report.rejected] == [
        (f"x:{odd['id']}", "engagement count 'likes' is not a count any platform has "
                           f"({likes}; at most 10^12 either way)")]
    assert report.accepted == len(fake.tweets) - 1
    authors = await store.top_authors(NOW - timedelta(days=3650), NOW + timedelta(days=1))
    assert sum(a.engagement for a in authors) >= 2**30
