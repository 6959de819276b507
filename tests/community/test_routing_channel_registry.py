"""A routing channel is one module: this file adds an incident-pager channel without editing
any core file, configures it from TOML, routes to it and delivers through it end to end.

Also: a second registration of a name fails at start-up, and ``crmsphere config check``
refuses an unknown channel or a channel's bad settings, naming the key.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import Field

from community.channels import (
    CHANNELS,
    ChannelConfig,
    RoutingChannel,
    SendContext,
    register,
    unregister,
)
from community.deliveries import DeliveryWorker
from community.deliveries_channels import DeliveryFailed
from community.routing import Router, plan_deliveries
from community.routing_escalation import Escalator
from domain.routing import Delivery, RoutedItem, Team
from config.routing import TeamSettings
from config.settings import load_settings
from crmsphere.cli import main
from storage import Store, open_store
from tests.conftest import T0
from tests.community.test_routing_deliveries import ITEM, Clock
from tests.stored import stored_delivery

ENV = {"OPS_PAGER_KEY": "R0UT1NGK3Y0000000000000000000000"}


class PagerConfig(ChannelConfig):
    """The events endpoint and the variable holding the integration's routing key."""

    url: str = Field(pattern=r"^https?://")
    routing_key_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    severity: str = Field("error", pattern=r"^(critical|error|warning|info)$")


class Pager(RoutingChannel):
    """Triggers an incident (an Events-API-v2-shaped body), de-duplicated by the delivery key."""

    Config = PagerConfig

    @classmethod
    def payload(cls, routed: RoutedItem, team: Team, queue_url: str) -> dict[str, Any]:
        return {"summary": f"[{routed.priority}] {routed.item.text}"[:1024],
                "source": "crmsphere", "links": [{"href": queue_url, "text": team.name}]}

    @classmethod
    async def send(cls, ctx: SendContext, delivery: Delivery) -> None:
        key = ctx.environ.get(delivery.target["routing_key_env"])
        if not key:
            raise DeliveryFailed("the pager's routing key is not set")
        body = {"routing_key": key, "event_action": "trigger",
                "dedup_key": delivery.idempotency_key,
                "payload": {**delivery.payload, "severity": delivery.target["severity"]}}
        async with ctx.http.post(delivery.target["url"], json=body,
                                 timeout=aiohttp.ClientTimeout(total=ctx.timeout)) as resp:
            if resp.status != 202:
                raise DeliveryFailed(f"HTTP {resp.status} from the pager",
                                     permanent=resp.status == 400)


@pytest.fixture
def pager() -> Iterator[type[Pager]]:
    register("pager")(Pager)
    yield Pager
    unregister("pager")


class PagerService:
    """Answers like an incident service's events endpoint: 429 when rate-limited, 202 after."""

    def __init__(self, rate_limited: int = 0) -> None:
        self.rate_limited = rate_limited
        self.events: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.rate_limited:
            self.rate_limited -= 1
            return web.json_response({"status": "throttle event", "message": "Requests for this "
                                      "service are arriving too quickly."}, status=429)
        if body.get("routing_key") != ENV["OPS_PAGER_KEY"] or "summary" not in body["payload"]:
            return web.json_response({"status": "invalid event", "message": "Event object is "
                                      "invalid", "errors": ["bad routing key"]}, status=400)
        self.events.append(body)
        return web.json_response({"status": "success", "message": "Event processed",
                                  "dedup_key": body["dedup_key"]}, status=202)


def _config(tmp_path: Path, channel_table: str, notify: str = '["pager"]') -> Path:
    config = tmp_path / "crmsphere.toml"
    config.write_text(f'''
[[routing.teams]]
key = "ops"
name = "Operations"
mail_to = ["ops@example.com"]
ack_sla_minutes = 30
{channel_table}

[[routing.rules]]
id = "enterprise"
segments = ["enterprise"]
team = "ops"
priority = "urgent"
notify = {notify}

[[routing.escalations]]
id = "ops-overdue"
teams = ["ops"]
notify = ["pager"]
''')
    return config


async def test_a_channel_from_a_test_module_delivers_end_to_end(
        pager: type[Pager], aiohttp_server: Any, file_store: Store, tmp_path: Path) -> None:
    service = PagerService(rate_limited=1)
    app = web.Application()
    app.router.add_post("/v2/enqueue", service.handle)
    server = await aiohttp_server(app)
    settings = load_settings(_config(tmp_path, f'''
[routing.teams.channels.pager]
url = "{server.make_url("/v2/enqueue")}"
routing_key_env = "OPS_PAGER_KEY"
severity = "critical"'''), environ={}).routing
    assert settings.teams[0].to_team().channels.configured() == ("mail", "pager")
    clock = Clock()
    router = Router(file_store, settings, clock=clock)
    await router.start()
    (routed,) = await router.on_event("mention.analysed", ITEM)
    (delivery,) = (await file_store.list_deliveries()).items
    assert delivery.channel == "pager" and delivery.target["severity"] == "critical"
    async with aiohttp.ClientSession() as http:
        worker = DeliveryWorker(file_store, http, settings,
                                environ=ENV, clock=clock, rand=lambda: 1.0)
        assert await worker.run_once() == 1  # rate-limited: retried later, as any channel
        assert service.events == []
        clock.now = (await stored_delivery(file_store, delivery.id)).next_attempt_at
        assert await worker.run_once() == 1
        (event,) = service.events
        assert event["dedup_key"] == delivery.idempotency_key
        assert event["payload"]["summary"] == "[urgent] Billing is broken"
        assert event["payload"]["severity"] == "critical"
        sent = await stored_delivery(file_store, delivery.id)
        assert sent.state == "sent" and sent.attempts == 2

        # Overdue: the escalation announces on the new channel too (its default message).
        clock.advance(31 * 60)
        assert await Escalator(file_store, settings, clock=clock).run() == 1
        assert await worker.run_once() == 1
    assert len(service.events) == 2
    again = service.events[1]
    assert again["payload"]["escalation"] == "ops-overdue"
    assert again["payload"]["escalated_from"]["routed_id"] == routed.id


async def test_a_stored_delivery_on_a_channel_no_longer_registered_is_dead_lettered(
        pager: type[Pager], file_store: Store, tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path, '''
[routing.teams.channels.pager]
url = "http://127.0.0.1:9/v2/enqueue"
routing_key_env = "OPS_PAGER_KEY"'''), environ={}).routing
    clock = Clock()
    router = Router(file_store, settings, clock=clock)
    await router.start()
    await router.on_event("mention.analysed", ITEM)
    unregister("pager")  # the module was removed; its queued messages stay in the outbox
    async with aiohttp.ClientSession() as http:
        assert await DeliveryWorker(file_store, http, settings, environ=ENV, clock=clock).run_once() == 1
    (dead,) = (await file_store.list_deliveries("dead")).items
    assert "unknown channel 'pager'" in (dead.last_error or "")
    # Routing goes on for the channels that remain (the rule asks for the pager only).
    assert len(await router.on_event("mention.analysed", dataclasses.replace(ITEM, id="43"))) == 1
    assert len((await file_store.list_deliveries()).items) == 1


def test_a_second_channel_with_a_taken_name_fails_at_start_up() -> None:
    class OtherWebhook(RoutingChannel):
        pass

    before = CHANNELS["webhook"]
    with pytest.raises(RuntimeError, match="'webhook' registered twice: community.channels.webhook"):
        register("webhook")(OtherWebhook)
    assert CHANNELS["webhook"] is before


def test_a_channel_that_cannot_send_fails_at_start_up() -> None:
    class Mute(RoutingChannel):
        @classmethod
        def payload(cls, routed, team, queue_url):
            return {"text": "hello"}

    with pytest.raises(RuntimeError, match="'mute' .* does not define send"):
        register("mute")(Mute)
    assert "mute" not in CHANNELS


def _check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--config", str(path), "config", "check"])
    return code, capsys.readouterr().err


def test_config_check_refuses_an_unknown_channel_naming_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _check(_config(tmp_path, '[routing.teams.channels.pagerduty]\nurl = "https://e.example"',
                               notify='["mail"]'), capsys)
    assert code == 2
    assert "routing.teams.0.channels.pagerduty" in err
    assert "a routing channel among discord, mail, slack, webhook" in err


def test_config_check_refuses_a_notify_on_an_unknown_channel(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _check(_config(tmp_path, "", notify='["mail", "sms"]'), capsys)
    assert code == 2 and "routing.rules.0.notify" in err and "'sms'" in err


def test_config_check_refuses_a_channels_bad_settings_naming_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = '[routing.teams.channels.slack]\nurl = "javascript:alert(1)"'
    code, err = _check(_config(tmp_path, table, notify='["slack"]'), capsys)
    assert code == 2
    assert "routing.teams.0.channels" in err and "slack.url" in err and "http(s) URL" in err


def test_a_channel_given_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _check(_config(tmp_path, '[routing.teams.channels.mail]\nto = ["lead@example.com"]',
                               notify='["mail"]'), capsys)
    assert code == 2 and "channels.mail and its flat keys are both set" in err


def test_channels_tables_deliver_like_the_flat_keys() -> None:
    flat = TeamSettings(key="p", name="P", webhook_url="https://hooks.example/p",
                        webhook_secret_env="P_SECRET", slack_url_env="P_SLACK")
    tables = TeamSettings(key="p", name="P", channels={
        "webhook": {"url": "https://hooks.example/p", "secret_env": "P_SECRET"},
        "slack": {"url_env": "P_SLACK"}})
    assert flat.to_team().channels == tables.to_team().channels
    assert dict(flat.to_team().channels.configs["slack"]) == {"url": None, "url_env": "P_SLACK"}


async def test_teams_stored_by_older_versions_keep_their_channels(tmp_path: Path) -> None:
    # Before the registry a team's channels were stored as the flat keys; such a row (an
    # operator's PUT /api/teams, never re-seeded) must still route to the same targets.

    path = tmp_path / "old.db"
    store = await open_store(f"sqlite:///{path}")
    await store.close()
    flat = {"webhook_url": "https://hooks.example.com/care", "webhook_secret_env": "CARE_SECRET",
            "mail_to": ["care@example.com"], "slack_url": None, "slack_url_env": None}
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO teams (key, name, members, channels, updated_at) VALUES "
                     "('care', 'Care', '[]', ?, '2026-01-01T00:00:00.000000Z')", (json.dumps(flat),))
    store = await open_store(f"sqlite:///{path}")
    try:
        team = await store.get_team("care")
    finally:
        await store.close()
    assert team.channels.configured() == ("webhook", "mail")
    routed = RoutedItem(ITEM, "r1", "care", "mention.analysed", id=7, routed_at=T0)
    targets = {d.channel: d.target for d in plan_deliveries(routed, team, None, "http://crm", T0)}
    assert targets == {"webhook": {"url": "https://hooks.example.com/care", "secret_env": "CARE_SECRET"},
                       "mail": {"to": ["care@example.com"]}}

