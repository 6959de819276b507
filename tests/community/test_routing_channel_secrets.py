"""A Slack-style URL is a secret: a failed delivery's reason (stored, and shown to every staff
member on the dead-letter pages) names its host, never the URL or an environment value."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from community.deliveries_channels import DeliveryFailed, send_slack
from domain.routing import Delivery
from domain import utcnow

SECRET_PATH = "/services/T0/B0/s3cr3tpath"


def _delivery(target: dict) -> Delivery:
    return Delivery(None, "design", "slack", target, {"text": "hi"}, "key-1", next_attempt_at=utcnow())


async def test_a_refused_slack_post_does_not_show_its_url(aiohttp_server) -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=404, text="no_team")

    app = web.Application()
    app.router.add_post(SECRET_PATH, refuse)
    server = await aiohttp_server(app)
    env = {"DESIGN_SLACK": str(server.make_url(SECRET_PATH))}
    async with aiohttp.ClientSession() as http:
        with pytest.raises(DeliveryFailed) as failed:
            await send_slack(http, _delivery({"url": None, "url_env": "DESIGN_SLACK"}), env, 2.0)
    assert failed.value.permanent and "HTTP 404" in failed.value.reason
    assert "s3cr3tpath" not in failed.value.reason and "127.0.0.1" in failed.value.reason


async def test_an_environment_value_that_is_no_url_is_not_echoed() -> None:
    # A team whose slack_url_env names another variable (an API key, say) must not leak it.
    env = {"OTHER_SECRET": "sk_live_abcdef123456"}
    async with aiohttp.ClientSession() as http:
        with pytest.raises(DeliveryFailed) as failed:
            await send_slack(http, _delivery({"url": None, "url_env": "OTHER_SECRET"}), env, 2.0)
    assert "sk_live_abcdef123456" not in failed.value.reason
    assert "not a valid URL" in failed.value.reason
