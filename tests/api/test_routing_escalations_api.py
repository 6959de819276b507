"""Escalation rules through the API (admins): read, replace, validation with the same models as
the TOML, persistence across a restart, and the escalator using what an admin set."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from community.routing import Router
from community.routing_escalation import Escalator
from community.routing_escalation_book import EscalationBook
from domain.routing import RoutableItem
from config.routing_escalations import EscalationBookSettings, EscalationSettings
from tests.api.forum_helpers import token_for
from tests.community.test_routing_deliveries import Clock
from tests.helpers import ROUTING_IDLE, app_settings

CONFIG = ROUTING_IDLE + """
[[routing.teams]]
key = "care"
name = "Customer care"
ack_sla_minutes = 5

[[routing.teams]]
key = "leads"
name = "Leads"

[[routing.escalations]]
id = "care-late"
teams = ["care"]
priority = "high"
"""


@pytest.fixture
async def client(app_client) -> TestClient:
    return await app_client(CONFIG)


async def test_admins_read_and_replace_escalations(client: TestClient) -> None:
    body = await (await client.get("/api/routing/escalations")).json()
    assert [e["id"] for e in body["escalations"]] == ["care-late"]
    assert (body["version"], body["updated_by"]) == (1, "config")  # seeded at start-up
    new = {"escalations": [
        {"id": "care-very-late", "teams": ["care"], "after_minutes": 30, "route_to": "leads",
         "priority": "urgent", "notify": []}]}
    resp = await client.put("/api/routing/escalations", json=new)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert (body["version"], body["updated_by"]) == (2, "operator")
    assert body["escalations"][0]["route_to"] == "leads" and body["escalations"][0]["after_minutes"] == 30
    again = await (await client.get("/api/routing/escalations")).json()
    assert again["escalations"] == body["escalations"] and again["version"] == 2


@pytest.mark.parametrize("payload, field", [
    ({}, "escalations"),
    ({"escalations": "care"}, "escalations"),
    ({"escalations": [{"id": "x", "teams": ["care"]}]}, "escalations[0]"),  # no action
    ({"escalations": [{"id": "x", "priority": "extreme"}]}, "escalations[0].priority"),
    ({"escalations": [{"id": "x", "priority": "high", "colour": "red"}]}, "escalations[0].colour"),
    ({"escalations": [{"id": "x", "priority": "high", "after_minutes": -1}]}, "escalations[0].after_minutes"),
    ({"escalations": [{"id": "x", "priority": "high"}, {"id": "x", "priority": "low"}]}, "escalations"),
    ({"escalations": [{"id": "x", "route_to": "nobody"}]}, "escalations[0].route_to"),
    ({"escalations": [{"id": "x", "teams": ["care", "ghosts"], "priority": "high"}]}, "escalations[0].teams[1]"),
])
async def test_bad_escalations_are_refused_naming_the_field(client: TestClient, payload, field) -> None:
    resp = await client.put("/api/routing/escalations", json=payload)
    assert resp.status == 400, payload
    error = (await resp.json())["error"]
    assert error["details"]["field"] == field, error
    assert (await (await client.get("/api/routing/escalations")).json())["version"] == 1


async def test_only_admins(client: TestClient, monkeypatch) -> None:
    resp = await client.put("/api/routing/escalations", data=b"{nope",
                            headers={"Content-Type": "application/json"})
    assert resp.status == 400
    customer = await token_for(client, "jo@acmeanvils.example")
    staff = await token_for(client, "pm@crm.example", role="manager")
    for headers in (customer, staff):
        assert (await client.get("/api/routing/escalations", headers=headers)).status == 403
        resp = await client.put("/api/routing/escalations", json={"escalations": []}, headers=headers)
        assert resp.status == 403
    monkeypatch.setenv("CRMSPHERE_ADMIN_TOKEN", "s3cret")
    assert (await client.get("/api/routing/escalations")).status == 401
    resp = await client.put("/api/routing/escalations", json={"escalations": []},
                            headers={"Authorization": "Bearer s3cret"})
    assert resp.status == 200 and (await resp.json())["escalations"] == []


async def test_stored_escalations_drive_the_escalator_and_survive_a_restart(tmp_path: Path) -> None:
    settings = app_settings(tmp_path, CONFIG)
    from storage import open_store

    store = await open_store(settings.store.url)
    try:
        clock = Clock()
        router = Router(store, settings.routing, clock=clock)
        await router.start()
        routed = await _route(router)
        book = EscalationBook(store, clock)
        await book.replace(EscalationBookSettings(escalations=(
            EscalationSettings(id="to-leads", teams=("care",), route_to="leads", notify=()),)), "ann")
        clock.advance(6 * 60)
        assert await Escalator(store, settings.routing, clock=clock).run() == 1
        kinds = {(r.team_key, r.rule_id) for r in await store.routed_for_item("mention", "1")}
        assert ("leads", "escalation:to-leads") in kinds
        assert (await store.get_routed(routed.id)).priority == "normal"  # "care-late" is not in force
        # A restart with the same config keeps the admin's escalations.
        await Router(store, settings.routing, clock=clock).start()
        assert [e.id for e in await book.in_force(settings.routing.escalations)] == ["to-leads"]
    finally:
        await store.close()
    # A changed config wins over the API edit (as for rules and teams).
    changed = app_settings(tmp_path, CONFIG.replace('priority = "high"', 'priority = "urgent"'))
    store = await open_store(changed.store.url)
    try:
        await Router(store, changed.routing).start()
        (esc,) = await EscalationBook(store).in_force(())
        assert (esc.id, esc.priority) == ("care-late", "urgent")
    finally:
        await store.close()


async def _route(router: Router):
    from domain.routing import RoutedItem

    item = RoutableItem(kind="mention", id="1", text="x")
    stored = await router.store.route_item(
        RoutedItem(item=item, rule_id="r", team_key="care", event="mention.analysed",
                   routed_at=router.clock()), [])
    assert stored is not None
    return stored
