"""Mail to a real local SMTP server (aiosmtpd) and Slack-style messages to a local webhook."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import Message
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from community.deliveries import DeliveryWorker
from community.routing import Router
from domain.routing import RoutableItem
from config.routing import RoutingSettings, RuleSettings, SmtpSettings, TeamSettings
from storage import Store
from tests.api.notify_helpers import smtp_server
from tests.community.test_routing_deliveries import ITEM, Clock
from tests.serve_helpers import free_port
from tests.stored import stored_delivery


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        yield inbox, port


async def test_mail_arrives_with_the_item(smtp: tuple[Inbox, int], file_store: Store) -> None:
    inbox, port = smtp
    settings = RoutingSettings(
        teams=(TeamSettings(key="support", name="Customer care",
                            mail_to=("care@example.com", "lead@example.com")),),
        rules=(RuleSettings(id="enterprise", segments=("enterprise",), team="support",
                            priority="urgent"),),
        smtp=SmtpSettings(host="127.0.0.1", port=port, sender="crmsphere@example.com"),
        public_url="http://crm.example")
    clock = Clock()
    router = Router(file_store, settings, clock=clock)
    await router.start()
    await router.on_event("mention.analysed", ITEM)
    async with aiohttp.ClientSession() as http:
        assert await DeliveryWorker(file_store, http, settings, environ={}, clock=clock).run_once() == 1
    (delivery,) = (await file_store.list_deliveries("sent")).items
    ((rcpts, msg),) = inbox.messages
    assert rcpts == ["care@example.com", "lead@example.com"]
    assert msg["From"] == "crmsphere@example.com"
    assert msg["Subject"] == ("[crmsphere] [urgent] mention from Acme Anvils (enterprise, "
                              "revenue 5,000,000) for Customer care")
    assert msg["Message-ID"] == f"<{delivery.idempotency_key}@crmsphere>"
    body = msg.get_content()
    assert "Billing is broken" in body and "rule enterprise" in body
    assert "http://crm.example/api/teams/support/queue" in body


async def test_smtp_down_is_retried(file_store: Store) -> None:
    settings = RoutingSettings(
        teams=(TeamSettings(key="support", name="Care", mail_to=("care@example.com",)),),
        rules=(RuleSettings(id="all", team="support"),),
        smtp=SmtpSettings(host="127.0.0.1", port=free_port()), send_timeout=1.0)
    clock = Clock()
    router = Router(file_store, settings, clock=clock)
    await router.start()
    await router.on_event("mention.analysed", ITEM)
    async with aiohttp.ClientSession() as http:
        await DeliveryWorker(file_store, http, settings, environ={}, clock=clock).run_once()
    (d,) = (await file_store.list_deliveries("pending")).items
    assert d.attempts == 1 and d.last_error.startswith("attempt 1: SMTP")


async def test_slack_message_from_url_in_environment(aiohttp_server, file_store: Store) -> None:
    got: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        got.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/services/T0/B0/xyz", hook)
    server = await aiohttp_server(app)
    settings = RoutingSettings(
        teams=(TeamSettings(key="design", name="Design <UX>", slack_url_env="DESIGN_SLACK"),),
        rules=(RuleSettings(id="x-posts", sources=("x",), team="design"),))
    clock = Clock()
    router = Router(file_store, settings, clock=clock)
    await router.start()
    item = RoutableItem(kind="mention", id="7", text="a <b>bold</b> & broken app", source="x",
                        author="someone", url="https://x.example/7")
    await router.on_event("mention.analysed", item)
    (d,) = (await file_store.list_deliveries()).items
    assert d.target == {"url": None, "url_env": "DESIGN_SLACK"}  # the URL stays out of the store
    env = {"DESIGN_SLACK": str(server.make_url("/services/T0/B0/xyz"))}
    async with aiohttp.ClientSession() as http:
        await DeliveryWorker(file_store, http, settings, environ=env, clock=clock).run_once()
    (message,) = got
    assert "Design &lt;UX&gt;" in message["text"]
    assert "a &lt;b&gt;bold&lt;/b&gt; &amp; broken app" in message["text"]
    assert "<https://x.example/7|original post>" in message["text"]
    assert (await stored_delivery(file_store, d.id)).state == "sent"
