"""Mail to the team's addresses, through the configured SMTP server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator

from community.channels.registry import ChannelConfig, RoutingChannel, SendContext, register
from community.deliveries_channels import send_mail
from community.routing_items import mail_payload
from domain.routing import Delivery, RoutedItem, Team
from config.routing_checks import check_mail_addresses


class MailConfig(ChannelConfig):
    """``to``: one or more addresses."""

    to: tuple[str, ...] = Field(min_length=1)

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_mail_addresses(value)


@register("mail")
class Mail(RoutingChannel):
    """One mail per delivery; its Message-ID comes from the idempotency key."""

    Config = MailConfig

    @classmethod
    def payload(cls, routed: RoutedItem, team: Team, queue_url: str) -> dict[str, Any]:
        """Subject and plain-text body."""
        return mail_payload(routed, team, queue_url)

    @classmethod
    def escalated(cls, payload: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
        """The same mail, its subject marked overdue."""
        return {**payload, "subject": f"[overdue] {payload['subject']}"[:200]}

    @classmethod
    def team_view(cls, config: Any) -> dict[str, Any]:
        """The addresses."""
        return {"mail_to": list((config or {}).get("to", ()))}

    @classmethod
    def view_schema(cls) -> dict[str, Any]:
        """A list of texts."""
        return {"mail_to": {"type": "array", "items": {"type": "string"}}}

    @classmethod
    async def send(cls, ctx: SendContext, delivery: Delivery) -> None:
        """Hand the mail to the SMTP server."""
        await send_mail(ctx.smtp, delivery, ctx.environ, ctx.timeout)
