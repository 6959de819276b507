"""The analytics endpoints take a period, ``since`` / ``until`` (whole UTC days), checked where
the request enters: a clear 400 in the JSON error shape for what a hand-edited link sends."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from api.keys import RUNTIME
from domain import Author, RawPost, utcnow
from domain.dashboard import SpikeAlert
from crmsphere.ingest import store_posts
from tests.helpers import json_of

ENDPOINTS = ["volume", "topics", "sentiment", "share-of-voice", "first-response", "top-authors"]


async def _client(app_client):
    client = await app_client('[dashboard]\nbrand = { name = "Nimbus" }\n')
    rt = client.app[RUNTIME]
    midnight = datetime.combine(utcnow().date(), time(), timezone.utc)
    # One post a day over the last 40 days, by a different author each day.
    posts = [RawPost(source="reddit", external_id=f"t3_{d}", author=Author(f"user{d}"),
                     text=f"Nimbus invoices broken, day {d}",
                     created_at=midnight - timedelta(days=d) + timedelta(seconds=1)) for d in range(40)]
    await store_posts(rt.store, rt.analyzer, "test", posts, None)
    old = midnight - timedelta(days=20)
    await rt.store.record_spike_alerts([
        SpikeAlert("topic", "billing", old, old + timedelta(hours=1), 40, 3.0, 9.0),
        SpikeAlert("topic", "mobile", midnight, utcnow(), 30, 2.0, 8.0)])
    return client, midnight.date()


async def test_since_and_until_choose_the_days(app_client) -> None:
    client, today = await _client(app_client)
    since, until = today - timedelta(days=24), today - timedelta(days=15)
    q = f"?since={since.isoformat()}&until={until.isoformat()}"
    vol = await json_of(await client.get("/api/dashboard/analytics/volume" + q))
    assert vol["days"][0] == since.isoformat() and vol["days"][-1] == until.isoformat()
    assert len(vol["days"]) == 10 and vol["total"] == [1] * 10
    voice = await json_of(await client.get("/api/dashboard/analytics/share-of-voice" + q))
    assert voice["items"][0]["mentions"] == 10
    authors = await json_of(await client.get("/api/dashboard/analytics/top-authors" + q + "&limit=50"))
    assert sorted(a["handle"] for a in authors["items"]) == sorted(f"user{d}" for d in range(15, 25))
    alerts = await json_of(await client.get("/api/dashboard/alerts" + q))
    assert [a["subject"] for a in alerts["items"]] == ["billing"]  # not today's
    # Only ``since``: up to today; ``days`` alone still works as before.
    vol = await json_of(await client.get(f"/api/dashboard/analytics/volume?since={since.isoformat()}"))
    assert vol["days"][-1] == today.isoformat() and len(vol["days"]) == 25
    vol = await json_of(await client.get("/api/dashboard/analytics/volume?days=7"))
    assert len(vol["days"]) == 7


@pytest.mark.parametrize("query, says", [
    ("since=2026-13-01", "parameter 'since' must be a day written YYYY-MM-DD"),
    ("since=yesterday", "parameter 'since' must be a day written YYYY-MM-DD"),
    ("until=2026-11-01T00:00:00Z", "parameter 'until' must be a day written YYYY-MM-DD"),
    ("since=2026-11-20&until=2026-11-01", "must not be after 'until'"),
    ("since=2020-01-01&until=2026-11-01", "at most 365"),
    ("until=2999-01-01", "parameter 'until' must not be after"),
    ("since=%00", "'since' contains a NUL character"),  # refused at the edge already
])
async def test_a_bad_period_is_a_clear_400(app_client, query: str, says: str) -> None:
    client = await app_client()
    for endpoint in ENDPOINTS:
        resp = await client.get(f"/api/dashboard/analytics/{endpoint}?{query}")
        body = await json_of(resp, 400)
        assert says in body["error"]["message"], (endpoint, body)
    body = await json_of(await client.get(f"/api/dashboard/alerts?{query}"), 400)
    assert says in body["error"]["message"]
