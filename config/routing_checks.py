"""Checks the routing settings share with the routing channels' own settings models."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

#: The pattern of a setting that names an environment variable (``*_env``).
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
#: a team's (or table's) key: lower case, digits, ``_`` and ``-``, 1 to 50 characters
TABLE_KEY = r"^[a-z0-9][a-z0-9_-]{0,49}$"


class FrozenSettings(BaseModel):
    """The base of the routing settings: immutable, unknown keys refused, no inf or nan."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def check_http_url(value: str) -> str:
    """``value`` if it is an http(s) URL with a host (and a numeric port, if any)."""
    parts = urlsplit(value)
    if (parts.scheme not in ("http", "https") or not parts.hostname or len(value) > 2000
            or any(c.isspace() or ord(c) < 32 for c in value)):
        raise ValueError(f"an http(s) URL with a host (got {value!r})")
    try:
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError:
        raise ValueError(f"an http(s) URL with a valid port (got {value!r})") from None
    return value


def check_mail_addresses(value: tuple[str, ...]) -> tuple[str, ...]:
    """``value`` if every item is one plain mail address (no display name, no list)."""
    for address in value:
        local, _, domain = address.rpartition("@")
        if (not local or not domain or len(address) > 254
                or any(c in address for c in " \t\r\n<>,;\"") or any(ord(c) < 32 for c in address)):
            raise ValueError(f"mail addresses (got {address!r})")
    return value


def channel_registry() -> dict[str, Any]:
    """The registered routing channels by name."""
    # Imported here: the channels import the routing settings, which import this module.
    from community.channels import CHANNELS

    return CHANNELS


def registered_channel(name: str) -> str:
    """``name`` if it is a registered routing channel."""
    known = channel_registry()
    if name not in known:
        raise ValueError(f"a routing channel among {', '.join(sorted(known))}")
    return name


def check_channel_names(value: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """``value`` if every name is a registered routing channel."""
    for name in value or ():
        try:
            registered_channel(name)
        except ValueError as exc:
            raise ValueError(f"{exc} (got {name!r})") from None
    return value
