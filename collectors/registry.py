"""Collector kinds by name; a second registration of one name fails at start-up."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from crmsphere.errors import NotConfigured

from collectors.base import Collector

C = TypeVar("C", bound=type[Collector])

COLLECTORS: dict[str, type[Collector]] = {}


def register(kind: str) -> Callable[[C], C]:
    """Class decorator: make a collector available under ``kind``."""

    def decorate(cls: C) -> C:
        if kind in COLLECTORS and COLLECTORS[kind] is not cls:
            raise RuntimeError(
                f"collector kind {kind!r} registered twice: {COLLECTORS[kind].__module__} "
                f"and {cls.__module__}")
        cls.kind = kind
        COLLECTORS[kind] = cls
        return cls

    return decorate


def create_collector(kind: str, key: str, options: Mapping[str, Any], http: Any = None) -> Collector:
    """An instance of the collector registered as ``kind``."""
    try:
        cls = COLLECTORS[kind]
    except KeyError:
        raise NotConfigured(f"no collector named {kind!r}; known: {sorted(COLLECTORS)}") from None
    return cls(key, options, http)
