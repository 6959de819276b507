"""A receiver's ``Retry-After`` on a 429 or 503, on every HTTP channel, against local receivers
answering as real ones do: Slack's ``429 rate_limited`` with ``Retry-After: 30``, a proxy's
``503`` with an HTTP-date, Discord's JSON ``retry_after`` (or a Cloudflare 429 with the header
only), and what servers also send: garbage, a negative number, another script's digits and a
wait of centuries.  The wait is honoured, bounded by ``routing.retry_after_max``; what cannot
be read leaves the usual back-off.  Stored on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from community.deliveries import DeliveryWorker
from community.routing import Router
from config.routing import RoutingSettings, RuleSettings, TeamSettings
from domain.retry_after import bounded_retry_after, parse_retry_after
from storage import Store
from tests.community.test_routing_deliveries import ITEM, Clock
from tests.conftest import T0
from tests.stored import stored_delivery

SLACK_PATH = "/services/T0ACME/B0CARE/xoxbWebhookSecretPart"
DISCORD_PATH = "/api/webhooks/1184598734521192448/kV3xQ9-tM2pLrW8yZc0aBdEfGhIjKlMnOpQrSt"
#: back-off with ``rand`` pinned at 0: half of ``backoff_base`` (equal jitter)
BACKOFF = 5.0
CAP = 900.0


class Limited:
    """A receiver answering the given refusals first, then accepting."""

    def __init__(self, *refusals: web.Response) -> None:
        self.refusals = list(refusals)
        self.accepted = 0

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        if self.refusals:
            return self.refusals.pop(0)
        self.accepted += 1
        return web.Response(status=204) if "webhooks" in request.path else web.Response(text="ok")


def _team(channel: str, url: str) -> TeamSettings:
    if channel == "webhook":
        return TeamSettings(key="care", name="Care", webhook_url=url, webhook_secret_env="CARE_SECRET")
    if channel == "slack":
        return TeamSettings(key="care", name="Care", slack_url_env="CARE_SLACK")
    return TeamSettings(key="care", name="Care", channels={"discord": {"url_env": "CARE_DISCORD"}})


async def _delivery_after(aiohttp_server: Any, store: Store, channel: str, refusal: web.Response,
                          clock: Clock) -> tuple[Any, DeliveryWorker, Limited, aiohttp.ClientSession]:
    receiver = Limited(refusal)
    app = web.Application()
    for path in ("/hook", SLACK_PATH, DISCORD_PATH):
        app.router.add_post(path, receiver.handle)
    server = await aiohttp_server(app)
    settings = RoutingSettings(
        teams=(_team(channel, str(server.make_url("/hook"))),),
        rules=(RuleSettings(id="all", team="care"),), allow_private_targets=True,
        backoff_base=2 * BACKOFF, retry_after_max=CAP, send_timeout=5.0)
    env = {"CARE_SECRET": "s3cret", "CARE_SLACK": str(server.make_url(SLACK_PATH)),
           "CARE_DISCORD": str(server.make_url(DISCORD_PATH))}
    router = Router(store, settings, clock=clock)
    await router.start()
    await router.on_event("mention.analysed", ITEM)
    http = aiohttp.ClientSession()
    worker = DeliveryWorker(store, http, settings, environ=env, clock=clock, rand=lambda: 0.0)
    assert await worker.run_once() == 1
    (delivery,) = (await store.list_deliveries()).items
    assert delivery.channel == channel
    return delivery, worker, receiver, http


def _http_date(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


#: (what the receiver answers, the wait expected from T0)
CASES = {
    "slack-429-seconds": (lambda: web.Response(status=429, text="rate_limited",
                                               headers={"Retry-After": "30"}), 30.0),
    "proxy-503-http-date": (lambda: web.Response(
        status=503, text="<html><body><h1>503 Service Unavailable</h1></body></html>",
        content_type="text/html", headers={"Retry-After": _http_date(T0 + timedelta(seconds=600))}),
        600.0),
    "429-fractional-seconds": (lambda: web.Response(status=429, headers={"Retry-After": "42.5"}), 42.5),
    "429-centuries": (lambda: web.Response(status=429, headers={"Retry-After": "9999999999"}), CAP),
    "429-date-far-ahead": (lambda: web.Response(status=429, headers={
        "Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}), CAP),
    "503-date-in-the-past": (lambda: web.Response(status=503, headers={
        "Retry-After": _http_date(T0 - timedelta(days=1))}), BACKOFF),
    "429-garbage": (lambda: web.Response(status=429, headers={"Retry-After": "soon"}), BACKOFF),
    "429-negative": (lambda: web.Response(status=429, headers={"Retry-After": "-120"}), BACKOFF),
    "429-superscript-digit": (lambda: web.Response(status=429, headers={"Retry-After": "²"}), BACKOFF),
    "429-year-out-of-range": (lambda: web.Response(status=429, headers={
        "Retry-After": "Fri, 31 Dec 99999 23:59:59 GMT"}), BACKOFF),
    # a 500's Retry-After is no promise (RFC 9110 gives it meaning on 503 and 3xx only)
    "500-ignored": (lambda: web.Response(status=500, headers={"Retry-After": "600"}), BACKOFF),
}


@pytest.mark.parametrize("channel", ["webhook", "slack", "discord"])
@pytest.mark.parametrize("case", sorted(CASES))
async def test_a_refused_delivery_waits_as_long_as_the_receiver_asks_within_the_cap(
        aiohttp_server: Any, store: Store, channel: str, case: str) -> None:
    refusal, wait = CASES[case]
    clock = Clock()
    delivery, worker, receiver, http = await _delivery_after(aiohttp_server, store, channel,
                                                             refusal(), clock)
    async with http:
        waiting = await stored_delivery(store, delivery.id)
        assert waiting.state == "pending" and waiting.next_attempt_at is not None
        assert (waiting.next_attempt_at - T0).total_seconds() == pytest.approx(wait)
        clock.now = waiting.next_attempt_at - timedelta(seconds=1)
        assert await worker.run_once() == 0  # not a second early
        clock.now = waiting.next_attempt_at
        assert await worker.run_once() == 1
    assert receiver.accepted == 1
    assert (await stored_delivery(store, delivery.id)).state == "sent"


@pytest.mark.parametrize(("body", "wait"), [
    ({"message": "You are being rate limited.", "retry_after": 64.57, "global": False}, 64.57),
    ({"message": "You are being rate limited.", "retry_after": 1e12, "global": True}, CAP),
    # unreadable in the body: the header (a date, from the proxy in front) says it
    ({"message": "You are being rate limited.", "retry_after": "NaN", "global": False}, 300.0),
])
async def test_discord_reads_its_json_retry_after_then_the_header(
        aiohttp_server: Any, store: Store, body: dict[str, Any], wait: float) -> None:
    refusal = web.json_response(body, status=429, headers={
        "Retry-After": _http_date(T0 + timedelta(seconds=300)), "X-RateLimit-Scope": "user"})
    clock = Clock()
    delivery, _, _, http = await _delivery_after(aiohttp_server, store, "discord", refusal, clock)
    async with http:
        waiting = await stored_delivery(store, delivery.id)
    assert waiting.next_attempt_at is not None
    assert (waiting.next_attempt_at - T0).total_seconds() == pytest.approx(wait)


def test_the_parser_reads_what_servers_send() -> None:
    now = 1_445_412_480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(" 7 ", now) == 7.0
    assert parse_retry_after("0.25", now) == 0.25
    assert parse_retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now) == 60.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:29:00 -0000", now) == 60.0
    assert parse_retry_after("Tue, 20 Oct 2015 07:28:00 GMT", now) == 0.0  # past: now
    for garbage in (None, "", "   ", "soon", "-1", "1e3", "inf", "NaN", "²", "١٢٠", "0x10",
                    "Fri, 31 Dec 99999 23:59:59 GMT", "Mon, 32 Foo 2015 07:28:00 GMT"):
        assert parse_retry_after(garbage, now) is None, garbage
    assert bounded_retry_after(None, CAP) is None
    assert bounded_retry_after(float("nan"), CAP) is None
    assert bounded_retry_after(-3.0, CAP) is None
    assert bounded_retry_after(float("inf"), CAP) == CAP
    assert bounded_retry_after(12.0, CAP) == 12.0
