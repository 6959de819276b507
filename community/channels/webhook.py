"""The signed JSON webhook: the routed item, signed with the team's secret (HMAC-SHA256)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from community.channels.registry import ChannelConfig, RoutingChannel, SendContext, register
from community.deliveries_channels import send_webhook
from community.routing_items import webhook_payload
from domain.routing import Delivery, RoutedItem, Team
from config.routing_checks import ENV_NAME, check_http_url


class WebhookConfig(ChannelConfig):
    """``url`` receives the POST; ``secret_env`` names the variable holding the signing secret."""

    url: str
    secret_env: str = Field(pattern=ENV_NAME)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_http_url(value)


@register("webhook")
class Webhook(RoutingChannel):
    """POSTs the signed item, with an idempotency key receivers use to drop a re-send."""

    Config = WebhookConfig

    @classmethod
    def payload(cls, routed: RoutedItem, team: Team, queue_url: str) -> dict[str, Any]:
        """The item, its routing and the queue link, as JSON."""
        return webhook_payload(routed, team, queue_url)

    @classmethod
    def team_view(cls, config: Any) -> dict[str, Any]:
        """The URL and the name of the secret's variable."""
        config = config or {}
        return {"webhook_url": config.get("url"), "webhook_secret_env": config.get("secret_env")}

    @classmethod
    def view_schema(cls) -> dict[str, Any]:
        """Two nullable texts."""
        text = {"anyOf": [{"type": "string"}, {"type": "null"}]}
        return {"webhook_url": text, "webhook_secret_env": text}

    @classmethod
    async def send(cls, ctx: SendContext, delivery: Delivery) -> None:
        """POST through the guarded session; the timestamp signed is the time now, and a 429's or
        503's ``Retry-After`` (seconds or a date) is waited for."""
        await send_webhook(ctx.http, delivery, ctx.environ, int(ctx.now.timestamp()), ctx.timeout)
