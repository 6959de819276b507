"""Routing channels: one module per channel, each registering itself by name.

Importing this package imports every module in it, so that a new channel is one
new file and touches no core file.
"""

from __future__ import annotations

import importlib
import pkgutil

from community.channels.registry import (
    CHANNELS,
    ChannelConfig,
    RoutingChannel,
    SendContext,
    lookup,
    register,
    unregister,
)

__all__ = ["CHANNELS", "ChannelConfig", "RoutingChannel", "SendContext", "load_builtin",
           "lookup", "register", "unregister"]


def load_builtin() -> None:
    """Import every built-in channel module so that each registers its name."""
    for info in pkgutil.iter_modules(__path__):
        if info.name != "registry":
            importlib.import_module(f"{__name__}.{info.name}")


load_builtin()
