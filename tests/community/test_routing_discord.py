"""The Discord channel against a local server answering as Discord's webhook endpoint does:
204 on success, 429 with ``retry_after``, 404 for a deleted webhook, 401 for a wrong token and
400 ``Invalid Form Body`` for a message past Discord's limits or with keys it does not know."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from api.openapi.routing import SCHEMAS
from api.routing.queues import team_json
from community.channels.discord import escape_markdown
from community.deliveries import DeliveryWorker
from community.routing import Router
from community.routing_escalation import Escalator
from config.settings import load_settings
from crmsphere.cli import main
from domain.routing import RoutableItem
from storage import Store
from tests.community.test_routing_deliveries import Clock
from tests.stored import stored_delivery

WEBHOOK_ID, TOKEN = "1184598734521192448", "kV3xQ9-tM2pLrW8yZc0aBdEfGhIjKlMnOpQrStUvWxYz_1234567890abcdefGHIJ"
#: The keys Discord's "Execute Webhook" takes (any other one is a 400).
_MESSAGE_KEYS = {"content", "username", "avatar_url", "tts", "embeds", "allowed_mentions",
                 "components", "files", "payload_json", "attachments", "flags", "thread_name",
                 "applied_tags", "poll"}
_EMBED_KEYS = {"title", "type", "description", "url", "timestamp", "color", "footer", "image",
               "thumbnail", "video", "provider", "author", "fields"}


def _form_error(where: str, code: str, message: str) -> web.Response:
    return web.json_response({"message": "Invalid Form Body", "code": 50035, "errors": {
        where: {"_errors": [{"code": code, "message": message}]}}}, status=400)


def _refusal(body: Mapping[str, Any]) -> web.Response | None:
    """Discord's 400 for a message it refuses, or ``None``."""
    unknown = set(body) - _MESSAGE_KEYS
    if unknown:
        return _form_error(sorted(unknown)[0], "UNKNOWN_FIELD", "Unknown field.")
    if len(body.get("content") or "") > 2000:
        return _form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    name = str(body.get("username", ""))
    if "discord" in name.lower() or "clyde" in name.lower() or not 1 <= len(name) <= 80:
        return _form_error("username", "USERNAME_INVALID_CONTAINS", "Username cannot contain \"discord\"")
    total = 0
    for i, embed in enumerate(body.get("embeds") or []):
        if set(embed) - _EMBED_KEYS:
            return _form_error(f"embeds.{i}", "UNKNOWN_FIELD", "Unknown field.")
        if len(embed.get("title", "")) > 256 or len(embed.get("description", "")) > 4096:
            return _form_error(f"embeds.{i}", "BASE_TYPE_MAX_LENGTH", "Too long.")
        url = embed.get("url")
        if url is not None and not str(url).startswith(("http://", "https://")):
            return _form_error(f"embeds.{i}.url", "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        for field in embed.get("fields", []):
            if len(field["name"]) > 256 or len(field["value"]) > 1024:
                return _form_error(f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Too long.")
            total += len(field["name"]) + len(field["value"])
        total += len(embed.get("title", "")) + len(embed.get("description", ""))
    if total > 6000:
        return _form_error("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    return None


class DiscordWebhook:
    """One webhook of a channel; ``rate_limited`` first calls answer 429, ``deleted`` 404."""

    def __init__(self, rate_limited: int = 0, deleted: bool = False) -> None:
        self.rate_limited, self.deleted = rate_limited, deleted
        self.messages: list[dict[str, Any]] = []
        self.refused: list[str] = []

    async def execute(self, request: web.Request) -> web.Response:
        if self.deleted or request.match_info["id"] != WEBHOOK_ID:
            return web.json_response({"message": "Unknown Webhook", "code": 10015}, status=404)
        if request.match_info["token"] != TOKEN:
            return web.json_response({"message": "Invalid Webhook Token", "code": 50027}, status=401)
        if self.rate_limited:
            self.rate_limited -= 1
            return web.json_response(
                {"message": "You are being rate limited.", "retry_after": 297.342, "global": False},
                status=429, headers={"Retry-After": "298", "X-RateLimit-Scope": "shared"})
        body = await request.json()
        refused = _refusal(body)
        if refused is not None:
            self.refused.append(refused.text or "")
            return refused
        self.messages.append(body)
        return web.Response(status=204)


async def _discord(aiohttp_server: Any, hook: DiscordWebhook) -> str:
    app = web.Application()
    app.router.add_post("/api/webhooks/{id}/{token}", hook.execute)
    server = await aiohttp_server(app)
    return str(server.make_url(f"/api/webhooks/{WEBHOOK_ID}/{TOKEN}"))


def _config(tmp_path: Path, channel: str) -> Path:
    path = tmp_path / "crmsphere.toml"
    path.write_text(f'''
[routing]
allow_private_targets = true

[[routing.teams]]
key = "care"
name = "Care [EU] *night*"
ack_sla_minutes = 30
{channel}

[[routing.rules]]
id = "enterprise"
segments = ["enterprise"]
team = "care"
priority = "urgent"

[[routing.escalations]]
id = "care-overdue"
teams = ["care"]
notify = ["discord"]
''')
    return path


#: What customers really post: a mass ping, a masked link, a user mention, markdown, a
#: javascript: "link" as the post's address, and more text than one message may hold.
HOSTILE = RoutableItem(
    kind="mention", id="9001", source="reddit", author="angry_admin", customer_id="cus_acme",
    customer_name="Acme Anvils", segment="enterprise", revenue=5_000_000, topics=("billing",),
    url="javascript:alert(document.cookie)",
    text="@everyone BILLING IS DOWN **again** <@&1184598734521192449> see "
         "[status](https://evil.example/phish) ||spoiler|| # not a heading\n> quoted " + "!" * 6000)


async def test_a_team_on_discord_hears_of_a_routed_item_and_of_its_escalation(
        aiohttp_server: Any, store: Store, tmp_path: Path) -> None:
    hook = DiscordWebhook(rate_limited=1)
    url = await _discord(aiohttp_server, hook)
    settings = load_settings(_config(tmp_path, '[routing.teams.channels.discord]\n'
                                                'url_env = "CARE_DISCORD_URL"'), environ={}).routing
    clock = Clock()
    router = Router(store, settings, clock=clock)
    await router.start()
    (routed,) = await router.on_event("mention.analysed", HOSTILE)
    (delivery,) = (await store.list_deliveries()).items
    assert delivery.channel == "discord"
    assert TOKEN not in str(delivery.target)  # the URL (with its token) stays out of the store

    async with aiohttp.ClientSession() as http:
        worker = DeliveryWorker(store, http, settings, environ={"CARE_DISCORD_URL": url},
                                clock=clock, rand=lambda: 0.0)
        assert await worker.run_once() == 1
        waiting = await stored_delivery(store, delivery.id)
        # Rate-limited: retried no sooner than Discord asked (well past the first back-off).
        assert waiting.state == "pending" and waiting.next_attempt_at is not None
        assert waiting.next_attempt_at >= clock.now + timedelta(seconds=297)
        assert TOKEN not in (waiting.last_error or "") and "429" in (waiting.last_error or "")
        clock.now = waiting.next_attempt_at
        assert await worker.run_once() == 1
        assert hook.refused == []
        (message,) = hook.messages
        assert (await stored_delivery(store, delivery.id)).state == "sent"

        assert message["allowed_mentions"] == {"parse": []}  # nobody is pinged
        assert message["username"] == "crmsphere"
        assert message["content"].startswith("**[urgent]** mention from Acme Anvils (enterprise")
        assert "Care \\[EU\\] \\*night\\*" in message["content"]
        (embed,) = message["embeds"]
        assert "url" not in embed  # a javascript: address is no link
        assert embed["description"].startswith(
            "\\@everyone BILLING IS DOWN \\*\\*again\\*\\* \\<\\@&1184598734521192449\\> see "
            "\\[status\\](https://evil.example/phish)")
        assert "\\|\\|spoiler\\|\\| \\# not a heading\n\\> quoted" in embed["description"]
        assert embed["description"].endswith("…")
        assert {"name": "Topics", "value": "billing", "inline": True} in embed["fields"]

        # Unacknowledged past the SLA: the escalation goes out in a shape Discord takes too.
        clock.advance(31 * 60)
        assert await Escalator(store, settings, clock=clock).run() == 1
        assert await worker.run_once() == 1
    assert hook.refused == []
    overdue = hook.messages[1]
    assert overdue["content"].startswith(":rotating_light: **overdue** **[urgent]**")
    assert overdue["embeds"] == message["embeds"]
    assert routed.id is not None


async def test_a_deleted_discord_webhook_is_dead_lettered_naming_its_host_only(
        aiohttp_server: Any, store: Store, tmp_path: Path) -> None:
    url = await _discord(aiohttp_server, DiscordWebhook(deleted=True))
    settings = load_settings(_config(tmp_path, '[routing.teams.channels.discord]\n'
                                                f'url = "{url}"\nusername = "Acme care desk"'),
                             environ={}).routing
    clock = Clock()
    router = Router(store, settings, clock=clock)
    await router.start()
    await router.on_event("mention.analysed", HOSTILE)
    async with aiohttp.ClientSession() as http:
        assert await DeliveryWorker(store, http, settings, environ={}, clock=clock).run_once() == 1
    (dead,) = (await store.list_deliveries("dead")).items
    assert dead.attempts == 1  # no retry can bring a deleted webhook back
    assert "HTTP 404 from the Discord webhook on 127.0.0.1: Unknown Webhook" in (dead.last_error or "")
    assert TOKEN not in (dead.last_error or "")


def test_the_team_api_and_openapi_show_discord_without_its_url(tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path, '[routing.teams.channels.discord]\n'
                                               'url = "https://discord.com/api/webhooks/1/T0kenZ9"'),
                             environ={}).routing
    shown = team_json(settings.teams[0].to_team())["channels"]
    assert shown["discord"] is True and shown["discord_url_env"] is None
    assert "T0kenZ9" not in str(shown)
    assert {"discord", "discord_url_env"} <= set(SCHEMAS["Team"]["properties"]["channels"]["properties"])


@pytest.mark.parametrize(("table", "named"), [
    ('username = "Discord support"', "discord.username"),
    ('url = "javascript:alert(1)"', "discord.url"),
    ('url_env = "CARE DISCORD"', "discord.url_env"),
    ('username = "care"', "url_env (or url)"),
])
def test_config_check_refuses_bad_discord_settings_naming_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, named: str) -> None:
    path = _config(tmp_path, f"[routing.teams.channels.discord]\n{table}")
    assert main(["--config", str(path), "config", "check"]) == 2
    err = capsys.readouterr().err
    assert "routing.teams.0.channels" in err and named in err


def test_markdown_in_text_is_shown_as_written() -> None:
    assert escape_markdown("a_b *c* `d` ~~e~~ <@1>") == "a\\_b \\*c\\* \\`d\\` \\~\\~e\\~\\~ \\<\\@1\\>"
