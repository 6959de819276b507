"""Slack-compatible incoming webhooks, whose URL is itself the secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator, model_validator

from community.channels.registry import ChannelConfig, RoutingChannel, SendContext, register
from community.deliveries_channels import send_slack
from community.routing_items import slack_payload
from domain.routing import Delivery, RoutedItem, Team
from config.routing_checks import ENV_NAME, check_http_url


class SlackConfig(ChannelConfig):
    """``url`` (kept out of the configuration file, ideally) or ``url_env`` naming the variable
    that holds it."""

    url: str | None = None
    url_env: str | None = Field(None, pattern=ENV_NAME)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value)

    @model_validator(mode="after")
    def _somewhere(self) -> SlackConfig:
        if not self.url and not self.url_env:
            raise ValueError("url or url_env")
        return self


@register("slack")
class Slack(RoutingChannel):
    """POSTs a Slack-formatted message through the guarded session."""

    Config = SlackConfig

    @classmethod
    def payload(cls, routed: RoutedItem, team: Team, queue_url: str) -> dict[str, Any]:
        """Slack ``text`` with the item's excerpt and the queue link."""
        return slack_payload(routed, team, queue_url)

    @classmethod
    def escalated(cls, payload: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
        """The same text, flagged overdue."""
        return {"text": ":rotating_light: *overdue* " + str(payload.get("text", ""))}

    @classmethod
    def team_view(cls, config: Any) -> dict[str, Any]:
        """Whether Slack is set up and the variable's name; never the URL."""
        config = config or {}
        return {"slack": bool(config.get("url") or config.get("url_env")),
                "slack_url_env": config.get("url_env")}

    @classmethod
    def view_schema(cls) -> dict[str, Any]:
        """A flag and a nullable text."""
        return {"slack": {"type": "boolean", "description": "whether Slack is set up (the URL is a secret)"},
                "slack_url_env": {"anyOf": [{"type": "string"}, {"type": "null"}]}}

    @classmethod
    def shown_target(cls, target: Mapping[str, Any]) -> dict[str, Any]:
        """The URL is a secret: shown as hidden."""
        return {"url_env": target.get("url_env"), "url": "(hidden)" if target.get("url") else None}

    @classmethod
    async def send(cls, ctx: SendContext, delivery: Delivery) -> None:
        """POST the message; failure reasons name the host only, and a 429's or 503's
        ``Retry-After`` (seconds or a date) is waited for."""
        await send_slack(ctx.http, delivery, ctx.environ, ctx.timeout, ctx.now.timestamp())
