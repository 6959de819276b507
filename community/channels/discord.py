"""Discord channel webhooks: a message with one embed per routed item.

The webhook's URL holds its token (``/api/webhooks/<id>/<token>``), so, as for Slack, it is
configured as ``url_env`` naming the variable that holds it (or, less wisely, as ``url``), is
never stored with a delivery when it comes from the environment, and failure reasons name its
host only.  What a customer wrote is shown as text: Discord markdown is escaped and the
message may mention nobody (``allowed_mentions``), so an ``@everyone`` in a post pings no one.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import aiohttp
from pydantic import Field, field_validator, model_validator

from community.channels.registry import ChannelConfig, RoutingChannel, SendContext, register
from community.deliveries_channels import DeliveryFailed, asked_wait, host_only
from community.net_guard import TargetRefused
from community.routing_items import spike_label
from config.routing_checks import ENV_NAME, check_http_url
from domain.routing import Delivery, RoutableItem, RoutedItem, Team

#: Discord's own limits on a webhook message (longer is refused with a 400).
CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_MAX = 1024
#: The excerpt of the item shown; the team queue has the rest.
EXCERPT_MAX = 1000
#: An embed's link must be a well-formed http(s) URL, or Discord refuses the whole message.
_LINK = re.compile(r"^https?://[^\s<>\"]{1,2000}$")
#: Characters Discord reads as markdown, a masked link, a quote, a heading or a mention
#: (escaped with ``\``; a masked link needs its ``[``, a mention its ``<`` or ``@``).
_MARKDOWN = re.compile(r"([\\*_~`|>\[\]<#@])")
#: The embed's stripe per priority.
_COLOURS = {"urgent": 0xD0342C, "high": 0xE8A317, "normal": 0x3B82F6, "low": 0x9CA3AF}
#: Statuses a later attempt may get through: rate limits and the server's own failures.
_RETRYABLE = {408, 425, 429}


def escape_markdown(text: str) -> str:
    """``text`` shown as written: markdown, quotes, headings and mentions escaped."""
    return _MARKDOWN.sub(r"\\\1", text)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


class DiscordConfig(ChannelConfig):
    """``url_env`` naming the variable holding the webhook's URL (or ``url`` itself), and the
    name the messages are posted under."""

    url: str | None = None
    url_env: str | None = Field(None, pattern=ENV_NAME)
    username: str = Field("crmsphere", min_length=1, max_length=80)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        # Discord refuses these in a webhook's name (and the whole message with them).
        if any(word in value.lower() for word in ("discord", "clyde", "@", "#", "```")):
            raise ValueError("a name without 'discord', 'clyde', @, # or ```")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> DiscordConfig:
        if not self.url and not self.url_env:
            raise ValueError("url_env (or url)")
        return self


def _speaker(item: RoutableItem) -> str:
    if item.kind == "spike":
        return f"spike in {spike_label(item)}"
    who = item.customer_name or (f"@{item.author}" if item.author else "an unknown customer")
    facts = ", ".join(f for f in (item.segment, f"revenue {item.revenue:,}" if item.revenue else None) if f)
    where = f" on {item.source}" if item.source else ""
    return f"{item.kind} from {who}{f' ({facts})' if facts else ''}{where}"


def discord_payload(routed: RoutedItem, team: Team, queue_url: str) -> dict[str, Any]:
    """The webhook message for a routed item: a headline and an embed with the excerpt."""
    item = routed.item
    headline = (f"**[{routed.priority}]** {escape_markdown(_speaker(item))} routed to "
                f"{escape_markdown(team.name)} (rule {escape_markdown(routed.rule_id)})")
    embed: dict[str, Any] = {
        "title": _cut(item.title or _speaker(item), TITLE_MAX),
        "description": _cut(escape_markdown(_cut(item.text, EXCERPT_MAX)), DESCRIPTION_MAX),
        "color": _COLOURS.get(routed.priority, _COLOURS["normal"]),
        "fields": [{"name": "Team queue", "value": _cut(f"[{escape_markdown(team.name)}]({queue_url})",
                                                        FIELD_MAX)}],
    }
    if item.url and _LINK.match(item.url):
        embed["url"] = item.url
    if item.topics:
        embed["fields"].append({"name": "Topics", "inline": True,
                                "value": _cut(escape_markdown(", ".join(item.topics)), FIELD_MAX)})
    if routed.routed_at:
        embed["timestamp"] = routed.routed_at.isoformat()
    return {"content": _cut(headline, CONTENT_MAX), "embeds": [embed],
            "allowed_mentions": {"parse": []}}


def _retry_after(resp: aiohttp.ClientResponse, body: Any, now: float) -> float | None:
    # A 429's JSON body's ``retry_after`` is exact (fractional seconds); the header, read as
    # every channel reads it, is rounded (and what a proxy's 503 carries).  The worker bounds
    # the wait by ``routing.retry_after_max``.
    said = body.get("retry_after") if isinstance(body, dict) and resp.status == 429 else None
    if isinstance(said, (int, float)) and not isinstance(said, bool) and math.isfinite(said) and said >= 0:
        return float(said)
    return asked_wait(resp, now)


async def _refusal(resp: aiohttp.ClientResponse, where: str, now: float) -> DeliveryFailed:
    text = await resp.text(errors="replace")
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    said = body.get("message") if isinstance(body, dict) else None
    reason = f"HTTP {resp.status} from {where}: {_cut(str(said or text).strip(), 200)}".strip()
    permanent = 400 <= resp.status < 500 and resp.status not in _RETRYABLE
    return DeliveryFailed(reason, permanent, retry_after=_retry_after(resp, body, now))


@register("discord")
class Discord(RoutingChannel):
    """POSTs a Discord webhook message through the guarded session."""

    Config = DiscordConfig

    @classmethod
    def payload(cls, routed: RoutedItem, team: Team, queue_url: str) -> dict[str, Any]:
        """A headline, the item's excerpt in an embed, links to the post and the queue."""
        return discord_payload(routed, team, queue_url)

    @classmethod
    def escalated(cls, payload: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
        """The same message, its headline marked overdue (Discord refuses unknown keys)."""
        content = f":rotating_light: **overdue** {payload.get('content', '')}"
        return {**payload, "content": _cut(content, CONTENT_MAX)}

    @classmethod
    def team_view(cls, config: Any) -> dict[str, Any]:
        """Whether Discord is set up and the variable's name; never the URL."""
        config = config or {}
        return {"discord": bool(config.get("url") or config.get("url_env")),
                "discord_url_env": config.get("url_env")}

    @classmethod
    def view_schema(cls) -> dict[str, Any]:
        """A flag and a nullable text."""
        return {"discord": {"type": "boolean",
                            "description": "whether Discord is set up (the URL is a secret)"},
                "discord_url_env": {"anyOf": [{"type": "string"}, {"type": "null"}]}}

    @classmethod
    def shown_target(cls, target: Mapping[str, Any]) -> dict[str, Any]:
        """The URL is a secret: shown as hidden."""
        return {"url_env": target.get("url_env"), "url": "(hidden)" if target.get("url") else None,
                "username": target.get("username")}

    @classmethod
    async def send(cls, ctx: SendContext, delivery: Delivery) -> None:
        """POST the message; a 429 waits as long as Discord asks, a deleted webhook (404) or a
        refused message (400) is dead-lettered at once."""
        url = delivery.target.get("url")
        if not url:
            name = delivery.target.get("url_env")
            url = ctx.environ.get(name) if name else None
            if not url:
                raise DeliveryFailed(f"environment variable {name!r} (named by url_env) is not set")
        where = host_only(str(url), "the Discord webhook")
        body = {**delivery.payload, "username": delivery.target.get("username") or "crmsphere"}
        try:
            async with ctx.http.post(str(url), json=body, allow_redirects=False,
                                     timeout=aiohttp.ClientTimeout(total=ctx.timeout)) as resp:
                if 200 <= resp.status < 300:
                    return
                raise await _refusal(resp, where, ctx.now.timestamp())
        except TimeoutError:
            raise DeliveryFailed(f"no answer from {where} within {ctx.timeout:g} s") from None
        except TargetRefused as exc:  # sending again would be refused again
            raise DeliveryFailed(str(exc).replace(str(url), where), permanent=True) from None
        except (aiohttp.ClientError, ValueError) as exc:  # ValueError: not a URL at all
            raise DeliveryFailed(f"{type(exc).__name__} sending to {where}: "
                                 f"{str(exc).replace(str(url), where)}") from None
