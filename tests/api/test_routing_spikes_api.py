"""A routed spike in the team queue, over real HTTP: the API and the page show what spiked,
the window and the count against the baseline (and no made-up customer for a topic spike)."""

from __future__ import annotations

from datetime import UTC, datetime

from api.keys import RUNTIME
from community.routing_items import spike_routable
from domain.routing import RoutedItem
from domain import utcnow
from domain.dashboard import SpikeAlert
from tests.conftest import customer
from tests.helpers import ROUTING_IDLE

CONFIG = ROUTING_IDLE + """
[[routing.teams]]
key = "care"
name = "Customer care"
"""


async def test_queue_api_and_page_show_spikes(app_client) -> None:
    client = await app_client(CONFIG)
    store = client.app[RUNTIME].store
    detected = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    day = datetime(2026, 11, 20, tzinfo=UTC)
    topic = spike_routable(SpikeAlert("topic", "billing", day, detected, 40, 3.71, 11.01))
    who = spike_routable(SpikeAlert("customer", "cus_1", day, detected, 12, 1.0, 3.0),
                         customer("cus_1", segment="enterprise", annual_revenue=9_000_000))
    for item in (topic, who):
        await store.route_item(RoutedItem(item=item, rule_id="spikes", team_key="care",
                                          event="spike.detected", routed_at=utcnow()), [])

    resp = await client.get("/api/teams/care/queue")
    assert resp.status == 200
    items = {e["item"]["id"]: e for e in (await resp.json())["items"]}
    spike = items["topic:billing:2026-11-20"]["item"]["spike"]
    assert (spike["subject_kind"], spike["count"], spike["baseline"], spike["window_end"]) == (
        "topic", 40, 3.71, "2026-11-20T15:30:00Z")
    assert items["customer:cus_1:2026-11-20"]["customer"]["segment"] == "enterprise"

    page = await client.get("/teams/care")
    assert page.status == 200
    html = await page.text()
    assert "Spike in</dt><dd>topic billing" in html
    # Rounded, with units (the API above keeps the stored decimals).
    assert "<dd>40 mentions in 24 h; usually about 4 a day; alert above 11</dd>" in html
    assert "3.71" not in html and "11.01" not in html
    assert "2026-11-19 15:30</time> to <time" in html
    assert "customer Acme Anvils" in html and "Segment</dt><dd>enterprise" in html
    assert html.count('class="customer-context"') == 1  # only the customer spike has a customer
