"""Routing channels by name; a second registration of one name fails at start-up.

A channel is one module: a ``RoutingChannel`` subclass registered with ``@register("name")``,
declaring the configuration a team gives it (a pydantic model, validated when the
configuration loads), the message it sends for a routed item, and how it sends it.  The
delivery worker, the router, escalations and the API reach every channel through here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import aiohttp
from pydantic import BaseModel, ConfigDict

from domain.routing import Delivery, RoutedItem, Team
from config.routing import SmtpSettings


class ChannelConfig(BaseModel):
    """Base of a channel's team configuration: frozen, and unknown keys are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True, slots=True)
class SendContext:
    """What a sender may use: the (SSRF-guarded) HTTP session, the environment holding the
    secrets the targets name, the SMTP settings, the send timeout and the time now."""

    http: aiohttp.ClientSession
    environ: Mapping[str, str]
    smtp: SmtpSettings
    timeout: float
    now: datetime


class RoutingChannel:
    """One way a team hears about routed items.  Subclasses set ``Config`` and define
    ``payload`` and ``send``; the other methods have defaults that suit most channels."""

    #: set by ``register``
    name: ClassVar[str] = ""
    #: the team's configuration of this channel (``[routing.teams.channels.<name>]``)
    Config: ClassVar[type[ChannelConfig]] = ChannelConfig

    @classmethod
    def team_config(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The validated configuration, JSON-ready as teams are stored (raises ValueError)."""
        return cls.Config.model_validate(dict(raw)).model_dump(mode="json")

    @classmethod
    def target(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """Where one delivery goes, as stored with it (secrets only as variable names)."""
        return dict(config)

    @classmethod
    def payload(cls, routed: RoutedItem, team: Team, queue_url: str) -> dict[str, Any]:
        """The message about ``routed`` for ``team``; every channel defines it (``register``
        refuses one that does not)."""
        raise TypeError(f"routing channel {cls.name!r} defines no payload")

    @classmethod
    def escalated(cls, payload: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
        """The message announcing that an item is overdue; ``extra`` says what and since when."""
        return {**payload, **extra}

    @classmethod
    def team_view(cls, config: Mapping[str, Any] | None) -> dict[str, Any]:
        """What ``GET /api/teams`` shows of the team's configuration (never a secret)."""
        return {cls.name: config is not None}

    @classmethod
    def view_schema(cls) -> dict[str, Any]:
        """The OpenAPI properties ``team_view`` returns."""
        return {cls.name: {"type": "boolean", "description": f"whether {cls.name} is set up"}}

    @classmethod
    def shown_target(cls, target: Mapping[str, Any]) -> dict[str, Any]:
        """A delivery's target as staff may see it on the outbox pages."""
        return dict(target)

    @classmethod
    async def send(cls, ctx: SendContext, delivery: Delivery) -> None:
        """Send one delivery, or raise ``DeliveryFailed`` saying whether to retry; every channel
        defines it (``register`` refuses one that does not)."""
        raise TypeError(f"routing channel {cls.name!r} defines no sender")


#: What a channel must define itself: a registry entry without them could never deliver.
_REQUIRED = ("payload", "send")


Ch = TypeVar("Ch", bound=type[RoutingChannel])

CHANNELS: dict[str, type[RoutingChannel]] = {}
#: A channel's name: stored with every delivery, written in ``[routing.teams.channels.<name>]``.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def register(name: str) -> Callable[[Ch], Ch]:
    """Class decorator: make a routing channel available under ``name``."""

    if not _NAME.match(name):
        raise RuntimeError(f"routing channel name {name!r}: lower-case letters, digits and _, "
                           "at most 40")

    def decorate(cls: Ch) -> Ch:
        if name in CHANNELS and CHANNELS[name] is not cls:
            raise RuntimeError(
                f"routing channel {name!r} registered twice: {CHANNELS[name].__module__} "
                f"and {cls.__module__}")
        missing = [m for m in _REQUIRED
                   if getattr(cls, m).__func__ is getattr(RoutingChannel, m).__func__]
        if missing:
            raise RuntimeError(f"routing channel {name!r} ({cls.__module__}) does not define "
                               f"{' and '.join(missing)}")
        cls.name = name
        CHANNELS[name] = cls
        return cls

    return decorate


def unregister(name: str) -> None:
    """Forget a channel (tests that register one of their own clean up with this)."""
    CHANNELS.pop(name, None)


def lookup(name: str) -> type[RoutingChannel] | None:
    """The channel registered as ``name``, or ``None``."""
    return CHANNELS.get(name)
