"""The collector contract: built from config, ``fetch(cursor)`` yields batches with their cursor."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from crmsphere.domain import RawPost, Rejection
from crmsphere.errors import NotConfigured


@dataclass(frozen=True, slots=True)
class Batch:
    """Posts fetched together, the items dropped on the way, and the cursor reached after them.

    The store writes the posts and the cursor in one transaction, so resuming
    from the cursor neither skips nor repeats a post.
    """

    posts: tuple[RawPost, ...]
    cursor: dict[str, Any]
    rejected: tuple[Rejection, ...] = field(default=())
    #: Parts of the source (a feed, a search, an account) that could not be read, or only in
    #: part, this run: the others went on, and the run counts as degraded.
    failed: tuple[Rejection, ...] = field(default=())
    #: For a collector whose cursor remembers the items it handed on: ``unsee(external_ids)``
    #: gives the cursor as if those posts had not been handed on (the ingest stage refused
    #: them), so they come again once their source changes them.  ``None``: ``cursor`` stands.
    unsee: Callable[[Collection[str]], dict[str, Any]] | None = field(default=None, compare=False)

    def cursor_without(self, refused_ids: Collection[str]) -> dict[str, Any]:
        """The cursor to store with this batch when the posts ``refused_ids`` were not stored."""
        if refused_ids and self.unsee is not None:
            return self.unsee(refused_ids)
        return self.cursor


class Collector(ABC):
    """A source of posts.  Subclasses set ``kind`` and register with ``@register``."""

    kind: ClassVar[str]
    #: False for sources that are sent posts (push) instead of being polled.
    scheduled: ClassVar[bool] = True

    def __init__(self, key: str, options: Mapping[str, Any], http: Any = None) -> None:
        """``key`` names this configured instance (its cursor); ``http`` is a shared aiohttp session."""
        self.key = key
        self.options = dict(options)
        self.http = http
        #: Requests left in the source's current rate-limit window, and when it resets
        #: (epoch seconds), as the source's headers last said; ``None`` when unknown.
        self.rate_limit_remaining: int | None = None
        self.rate_limit_reset: float | None = None

    def require_credential(self, name: str) -> str:
        """The credential ``name``, or ``NotConfigured`` naming the environment variable to set."""
        value = self.credentials.get(name)
        if not value:
            env = self.options.get(f"{name}_env") or name
            raise NotConfigured(
                f"{self.kind} source {self.options.get('name', '')!r} needs {name}: set {env}")
        return value

    @property
    def credentials(self) -> dict[str, str]:
        """Secrets resolved from the environment variables the config names (``*_env`` keys)."""
        return dict(self.options.get("credentials") or {})

    @abstractmethod
    def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        """Yield batches of posts newer than ``cursor`` (``None``: from the beginning)."""
