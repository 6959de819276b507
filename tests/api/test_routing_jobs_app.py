"""The app runs the periodic routing jobs: mentions stored while the routing hook was not
running are routed from their recorded events, and an item left unacknowledged past its team's SLA is
escalated, with no source scheduled in the process (the coordinator takes the lease for them)."""

from __future__ import annotations

from datetime import timedelta

from api.keys import RUNTIME
from domain.routing import RoutableItem, RoutedItem
from domain import utcnow
from tests.conftest import post
from tests.helpers import paused_jobs

CONFIG = """
[routing]
worker_enabled = false
jobs_interval = 60


[[routing.teams]]
key = "care"
name = "Care"
ack_sla_minutes = 1

[[routing.teams]]
key = "leads"
name = "Leads"

[[routing.rules]]
id = "refunds"
keywords = ["refund"]
team = "care"

[[routing.escalations]]
id = "care-late"
teams = ["care"]
route_to = "leads"
priority = "urgent"
"""


async def test_app_sweeps_and_escalates(app_client) -> None:
    # Stored with no hook: as if the process died between commit and routing.
    client = await app_client(CONFIG, customers=True, posts=[post("1", "refund please"), post("2", "hello")])
    rt = client.app[RUNTIME]
    late = RoutableItem(kind="mention", id="old", text="refund from last week", source="x")
    await rt.store.route_item(RoutedItem(item=late, rule_id="refunds", team_key="care",
                                         event="mention.analysed",
                                         routed_at=utcnow() - timedelta(minutes=5)), [])

    async def done() -> bool:
        care = (await rt.store.team_queue("care")).items
        leads = (await rt.store.team_queue("leads")).items
        return any(r.item.text == "refund please" for r in care) and bool(leads)

    # One round of the app's jobs (a paused coordinator, no period slept through).
    async with paused_jobs(client, utcnow) as jobs:
        assert {"routing", "routing-events"} <= set(await jobs.run_due())
    assert await done()
    (onward,) = (await rt.store.team_queue("leads")).items
    assert onward.item.id == "old" and onward.priority == "urgent" and onward.event == "sla_overdue"
    texts = sorted(r.item.text for r in (await rt.store.team_queue("care")).items)
    assert texts == ["refund from last week", "refund please"]
    body = await (await client.get("/api/teams/care/queue")).json()
    assert [e["overdue"] for e in body["items"] if e["item"]["id"] == "old"] == [True]
