"""The collector contract: built from config, ``fetch(cursor)`` yields batches with their cursor."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain import RawPost, Rejection
from domain.errors import NotConfigured

from collectors.paging import (
    DEFAULT_DAILY_REQUEST_BUDGET,
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RUN_SECONDS,
    RunGuard,
)


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


class SourceOptions(BaseModel):
    """The keys every ``[[sources]]`` table may have; each collector adds its own.

    Unknown keys are refused (``extra="forbid"``) so that a misspelt option is named at
    ``crmsphere config check`` instead of being silently ignored.
    """

    # allow_inf_nan: TOML spells inf and nan; a timeout of inf made every request raise
    # OverflowError in aiohttp, and a max_run_seconds of inf took the run's cap away.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    kind: str | None = None
    name: str = ""
    interval: float | None = None
    enabled: bool = True
    base_url: str | None = None
    #: Secrets read from the variables named by the ``*_env`` keys (filled in by the settings).
    credentials: dict[str, str] = Field(default_factory=dict)
    #: Pages read per run at most; the cursor keeps the rest for the next run.
    max_pages: int = Field(DEFAULT_MAX_PAGES, ge=1)
    #: Seconds a run may page for; the cursor keeps the rest for the next run.
    max_run_seconds: float = Field(DEFAULT_MAX_RUN_SECONDS, gt=0)
    #: Requests per UTC day; when spent the source waits for the next day (0: no budget).
    daily_request_budget: int = Field(DEFAULT_DAILY_REQUEST_BUDGET, ge=0)


class BadOption(NotConfigured):
    """An option of a source table that is unknown or has the wrong type."""

    def __init__(self, kind: str, key: str, value: Any, expected: str) -> None:
        self.key, self.value, self.expected = key, value, expected
        super().__init__(f"{kind} option {key!r}: got {value!r}, expected {expected}")


def parse_options(kind: str, model: type[SourceOptions], options: Mapping[str, Any]) -> SourceOptions:
    """``options`` validated by ``model``; ``BadOption`` names the first wrong key."""
    try:
        return model.model_validate(dict(options))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "?"
        if first["type"] == "extra_forbidden":
            known = sorted(k for k in model.model_fields if k not in ("kind", "credentials"))
            raise BadOption(kind, key, first.get("input"),
                            f"no such option; known options: {', '.join(known)}") from None
        raise BadOption(kind, key, first.get("input"), first["msg"].lower()) from None


class Collector(ABC):
    """A source of posts.  Subclasses set ``kind`` and register with ``@register``."""

    kind: ClassVar[str]
    #: False for sources that are sent posts (push) instead of being polled.
    scheduled: ClassVar[bool] = True
    #: How pages name the platform its posts come from ("Hacker News"); empty: the kind itself.
    label: ClassVar[str] = ""
    #: The validated options of this kind; ``None`` leaves the table unchecked.
    options_model: ClassVar[type[SourceOptions] | None] = None

    def __init__(self, key: str, options: Mapping[str, Any], http: Any = None) -> None:
        """``key`` names this configured instance (its cursor); ``http`` is a shared aiohttp session.

        ``BadOption`` (a ``NotConfigured``) names an unknown or malformed option.
        """
        self.key = key
        self.options = dict(options)
        self.limits = SourceOptions()
        if self.options_model is not None:
            self.limits = parse_options(getattr(self, "kind", "source"), self.options_model, options)
            # The given keys as parsed ("10" -> 10); absent ones keep each collector's default.
            self.options.update(self.limits.model_dump(exclude_unset=True))
        self.http = http
        #: Requests the daily budget still allows today; set by the runner before a run.
        self.requests_left: int | None = None
        #: The limits of the current (or last) run.
        self.guard = self.begin_run()
        #: Requests left in the source's current rate-limit window, and when it resets
        #: (epoch seconds), as the source's headers last said; ``None`` when unknown.
        self.rate_limit_remaining: int | None = None
        self.rate_limit_reset: float | None = None

    def begin_run(self) -> RunGuard:
        """A fresh ``RunGuard`` for a run starting now (collectors call it first in ``fetch``)."""
        budget = self.limits.daily_request_budget or None
        self.guard = RunGuard(self.key, max_pages=self.limits.max_pages,
                              max_seconds=self.limits.max_run_seconds, budget=budget,
                              requests_left=self.requests_left if budget else None)
        return self.guard

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
