"""Collectors: one module per source, each registering itself by name.

Every module in it is imported (``load_builtin``) the first time the registry is read, so
that a new source is one new file and touches no core file.
"""

from __future__ import annotations

import importlib
import pkgutil

from collectors.base import Batch, Collector
from collectors.registry import COLLECTORS, create_collector, register

__all__ = ["Batch", "Collector", "COLLECTORS", "create_collector", "register", "load_builtin"]

_INFRASTRUCTURE = {"base", "registry", "customers_csv", "post_format", "scheduler", "web",
                   "x_stream_rules", "paging", "http_json", "x_errors", "reddit_errors"}


def load_builtin() -> None:
    """Import every built-in collector module so that each registers its name."""
    for info in pkgutil.iter_modules(__path__):
        if info.name not in _INFRASTRUCTURE:
            importlib.import_module(f"{__name__}.{info.name}")
