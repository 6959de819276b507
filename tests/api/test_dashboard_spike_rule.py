"""One definition of a spike: the volume chart's spike days follow the spike alerts' rule
(``[dashboard] spike_k`` and ``spike_min_volume``), and the answer names the rule, so the page
cannot say "Spikes on 6 days" by one rule beside "No spike alerts" by another."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any

from api.keys import RUNTIME
from domain import Author, RawPost, utcnow
from crmsphere.ingest import store_posts
from tests.helpers import json_of

# Mentions per day over the 13 days before today (the 7 shown days need 7 days of baseline
# each), then today's: 13 is above the last week's mean + 2σ (12.8) but not above mean + 3σ
# (13.8), the alerts' default rule.
HISTORY = [10, 12, 10, 12, 10, 12, 10, 12, 10, 12, 10, 12, 10]
TODAY = 13


async def _seed(client: Any) -> str:
    rt = client.app[RUNTIME]
    midnight = datetime.combine(utcnow().date(), time(), timezone.utc)
    posts = []
    for back, count in enumerate([TODAY, *reversed(HISTORY)]):
        day = midnight - timedelta(days=back)
        posts += [RawPost(source="reddit", external_id=f"t3_{back}_{n}",
                          author=Author(f"user{back}_{n}"), text=f"Nimbus sync broke again {n}",
                          created_at=day + timedelta(seconds=n + 1)) for n in range(count)]
    await store_posts(rt.store, rt.analyzer, "test", posts, None)
    return midnight.date().isoformat()


async def test_volume_spikes_follow_the_alert_rule(app_client) -> None:
    client = await app_client()
    today = await _seed(client)
    vol = await json_of(await client.get("/api/dashboard/analytics/volume?days=7"))
    assert vol["total"][-1] == TODAY and vol["days"][-1] == today
    assert vol["spikes"] == []  # not a spike by the rule the alerts use
    assert vol["spike_rule"] == {"k": 3.0, "min_volume": 10, "baseline_days": 7}


async def test_a_configured_rule_moves_the_chart_and_the_alerts_together(app_client) -> None:
    client = await app_client("[dashboard]\nspike_k = 2.0\nspike_min_volume = 14\n")
    await _seed(client)
    vol = await json_of(await client.get("/api/dashboard/analytics/volume?days=7"))
    # Above mean + 2σ, yet under the minimum volume: no spike.
    assert vol["spikes"] == [] and vol["spike_rule"]["min_volume"] == 14


async def test_the_configured_rule_finds_the_spike_on_chart_and_topics(app_client) -> None:
    client = await app_client("[dashboard]\nspike_k = 2.0\nspike_min_volume = 10\n")
    today = await _seed(client)
    vol = await json_of(await client.get("/api/dashboard/analytics/volume?days=7"))
    assert vol["spikes"] == [today] and vol["spike_rule"]["k"] == 2.0
    topics = await json_of(await client.get("/api/dashboard/analytics/topics?days=7"))
    assert topics["spike_rule"] == vol["spike_rule"]
