"""Collector kinds by name; a second registration of one name fails at start-up.

The built-in collector modules (and the client libraries they import: PRAW, Tweepy,
feedparser...) are imported the first time the registry is read, not when the package is:
a command that never builds a collector (``crmsphere analyze``, ``config check`` of a file
without sources) does not pay for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from domain.errors import NotConfigured

from collectors.base import Collector

C = TypeVar("C", bound=type[Collector])



class _Registry(dict[str, type[Collector]]):
    """A dict that imports the built-in collectors before it is first read."""

    loaded = False
    _loading = False

    def _load(self) -> None:
        if self.loaded or self._loading:  # the modules' own registrations read it meanwhile
            return
        self._loading = True
        try:
            from collectors import load_builtin

            load_builtin()
            self.loaded = True  # only when every module loaded: a failure is raised again
        finally:
            self._loading = False

    def __getitem__(self, kind: str) -> type[Collector]:
        self._load()
        return super().__getitem__(kind)

    def __contains__(self, kind: object) -> bool:
        self._load()
        return super().__contains__(kind)

    def __iter__(self) -> Iterator[str]:
        self._load()
        return super().__iter__()

    def __len__(self) -> int:
        self._load()
        return super().__len__()

    def get(self, kind: str, default: Any = None) -> Any:
        self._load()
        return super().get(kind, default)

    def keys(self) -> Any:
        self._load()
        return super().keys()

    def items(self) -> Any:
        self._load()
        return super().items()

    def values(self) -> Any:
        self._load()
        return super().values()

    def registered(self, kind: str) -> type[Collector] | None:
        """The class registered as ``kind`` so far, without loading the others."""
        return super().get(kind)

    def add(self, kind: str, cls: type[Collector]) -> None:
        """Register ``cls`` as ``kind`` (without loading the others)."""
        super().__setitem__(kind, cls)


COLLECTORS = _Registry()


def register(kind: str) -> Callable[[C], C]:
    """Class decorator: make a collector available under ``kind``."""

    def decorate(cls: C) -> C:
        known = COLLECTORS.registered(kind)  # no loading from inside a module being loaded
        if known is not None and known is not cls:
            raise RuntimeError(
                f"collector kind {kind!r} registered twice: {known.__module__} "
                f"and {cls.__module__}")
        cls.kind = kind
        COLLECTORS.add(kind, cls)
        return cls

    return decorate


def create_collector(kind: str, key: str, options: Mapping[str, Any], http: Any = None) -> Collector:
    """An instance of the collector registered as ``kind``."""
    try:
        cls = COLLECTORS[kind]
    except KeyError:
        raise NotConfigured(f"no collector named {kind!r}; known: {sorted(COLLECTORS)}") from None
    return cls(key, options, http)


def platform_names() -> dict[str, str]:
    """How pages name each platform a collector declares a label for, by kind."""
    return {kind: cls.label for kind, cls in sorted(COLLECTORS.items()) if cls.label}
