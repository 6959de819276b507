"""Writing back where the customer spoke: one reply writer per platform, registered by source.

A collector reads a platform; a reply writer posts one reply in one of its threads.  Writers
know the platform's write API and nothing else: which reply to send, who approved it and
whether it was sent already are decided by the replies workflow in ``community/``, which calls
``find_sent`` before every (re-)send so that a retry after a crash never posts twice.

Posting credentials are separate from reading ones: a source table names them in its
``[sources.reply]`` table with ``*_env`` keys (``access_token_env = "MASTODON_REPLY_TOKEN"``), and
the workflow hands the resolved values to the writer as ``credentials``; ``credential_names``
says which a writer needs, so the dashboard can say why a reply button is off.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """The stored post a reply answers, as its collector stored it."""

    source: str  # the platform: "reddit", "x", "mastodon", "bluesky", "discourse", "hackernews"
    external_id: str  # the post's id on the platform (as in ``RawPost.external_id``)
    url: str | None = None
    thread_id: str | None = None  # the thread's first post, when the collector knew it
    parent_id: str | None = None  # the post this one answered, when the collector knew it
    author_handle: str | None = None


@dataclass(frozen=True, slots=True)
class SentReply:
    """A reply the platform accepted: its id there and where a person can see it."""

    platform_id: str
    url: str | None = None


class ReplyFailed(Exception):
    """The platform did not take the reply; ``reason`` is fit to show a manager."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReplyRateLimited(ReplyFailed):
    """The platform asked us to wait (429 or its own limit); try again after ``retry_after`` s."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class ReplyAuthFailed(ReplyFailed):
    """The posting credentials were refused (401/403): a person must fix them."""


class ReplyNotSupported(ReplyFailed):
    """The platform has no write API (Hacker News): copy the text and open the thread."""


class ReplyOutcomeUnknown(ReplyFailed):
    """The request went out but no answer came back (timeout, dropped connection): the reply
    may be posted.  The workflow keeps it ``sending`` and asks ``find_sent`` before any retry."""


class ReplySettings(BaseModel):
    """The ``[sources.reply]`` table of a source: ``*_env`` keys naming the variables that hold
    the posting credentials, plus a writer's own keys.  A writer declares its model with
    ``extra="forbid"`` (unknown keys refused, so a misspelt key is named instead of silently
    leaving replies off); a writer that declares none takes ``*_env`` keys only."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @model_validator(mode="after")
    def _only_env_keys(self) -> ReplySettings:
        for key, value in (self.model_extra or {}).items():
            if not key.endswith("_env"):
                raise ValueError(f"{key!r}: only *_env keys (the names of variables) belong here")
            if not isinstance(value, str) or not value:
                raise ValueError(f"{key!r} must name an environment variable")
        return self

    def env_names(self) -> dict[str, str]:
        """Credential name -> the environment variable that holds it."""
        return {k.removesuffix("_env"): v for k, v in self.model_dump().items()
                if k.endswith("_env") and isinstance(v, str) and v}


class ReplyWriter(ABC):
    """Posts replies on one platform.  Subclasses set ``source`` through ``@register_writer``."""

    source: ClassVar[str]
    #: The posting credentials this writer needs (keys of ``credentials``).
    credential_names: ClassVar[tuple[str, ...]] = ()
    #: The model of the source's ``[sources.reply]`` table for this writer.
    settings_model: ClassVar[type[ReplySettings]] = ReplySettings
    #: What a person should know before replying there (shown by the reply box), if anything.
    note: ClassVar[str] = ""

    def __init__(self, credentials: Mapping[str, str], options: Mapping[str, Any],
                 http: Any = None) -> None:
        """``options`` is the source's table (base URLs, user agent); ``http`` a shared
        ``aiohttp.ClientSession`` for writers that speak HTTP themselves."""
        self.credentials, self.options, self.http = dict(credentials), dict(options), http

    @property
    def source_key(self) -> str:
        """The configured source this writer posts for (its ``name``), else the platform."""
        return str(self.options.get("name") or self.source)

    def missing_credentials(self) -> list[str]:
        """The credential names this writer needs and was not given."""
        return [n for n in self.credential_names if not self.credentials.get(n)]

    @abstractmethod
    async def find_sent(self, target: ReplyTarget, text: str) -> SentReply | None:
        """Our reply with ``text`` already in the thread under ``target`` (a send whose answer
        was lost), or ``None``.  Raises ``ReplyFailed`` when the platform cannot be asked."""

    @abstractmethod
    async def send(self, target: ReplyTarget, text: str) -> SentReply:
        """Post ``text`` as a reply to ``target``; ``ReplyFailed`` (or a subclass) says why not."""


W = TypeVar("W", bound=type[ReplyWriter])

WRITERS: dict[str, type[ReplyWriter]] = {}


def register_writer(source: str) -> Callable[[W], W]:
    """Class decorator: the writer for ``source``; a second one for a source fails at import."""

    def decorate(cls: W) -> W:
        if source in WRITERS and WRITERS[source] is not cls:
            raise RuntimeError(f"reply writer for {source!r} registered twice: "
                               f"{WRITERS[source].__module__} and {cls.__module__}")
        cls.source = source
        WRITERS[source] = cls
        return cls

    return decorate


def writer_for(source: str) -> type[ReplyWriter] | None:
    """The registered writer class for ``source``, or ``None`` when there is none."""
    return WRITERS.get(source)


def load_writers() -> dict[str, type[ReplyWriter]]:
    """Import every module of this package (each registers its writer); the writers by source."""
    _import_writer_modules()
    return dict(WRITERS)


@functools.cache
def _import_writer_modules() -> None:
    # Once per process: listing the package's directory cost ~0.15 ms, and a live event
    # asks which platforms have writers for every mention stored while a dashboard is open.
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


class ReplyNotConfigured(Exception):
    """Replies on a source are off; ``reason`` says what to set (shown on the reply button)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def reply_settings(writer: type[ReplyWriter], table: Mapping[str, Any] | None) -> ReplySettings:
    """``table`` (a source's ``reply`` table) validated by the writer's model;
    ``ReplyNotConfigured`` names the first wrong or unknown key."""
    try:
        return writer.settings_model.model_validate(dict(table or {}))
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelt key also leaves the right one missing: name the misspelling.
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        key = ".".join(str(p) for p in first["loc"]) or "?"
        if first["type"] == "extra_forbidden":
            known = ", ".join(sorted(writer.settings_model.model_fields)) or "none"
            raise ReplyNotConfigured(f"{writer.source} reply option {key!r} is unknown "
                                     f"(known: {known})") from None
        message = first["msg"].removeprefix("Value error, ")
        where = f" {key!r}" if first["loc"] else ""
        raise ReplyNotConfigured(f"{writer.source} reply option{where}: {message[:1].lower()}{message[1:]}") from None


def build_writer(source_table: Mapping[str, Any], environ: Mapping[str, str],
                 http: Any = None) -> ReplyWriter:
    """The writer for a configured source (its ``[[sources]]`` table, with its ``reply`` table),
    its posting credentials read from the variables the ``*_env`` keys name.

    ``ReplyNotConfigured`` says why replies are off: no writer for the platform, no ``reply``
    table, a bad key, or which variable to set."""
    kind = str(source_table.get("kind") or "")
    name = str(source_table.get("name") or kind)
    writer = writer_for(kind)
    if writer is None:
        raise ReplyNotConfigured(f"{kind} has no reply writer")
    table = source_table.get("reply")
    if table is None and writer.credential_names:
        names = ", ".join(f"{n}_env" for n in writer.credential_names)
        raise ReplyNotConfigured(f"source {name!r} has no [sources.reply] table: add one with {names}")
    if table is not None and not isinstance(table, Mapping):
        raise ReplyNotConfigured(f"source {name!r}: 'reply' must be a table")
    settings = reply_settings(writer, table)
    env_names = settings.env_names()
    credentials: dict[str, str] = {}
    for credential in writer.credential_names:
        variable = env_names.get(credential)
        if not variable:
            raise ReplyNotConfigured(f"source {name!r}: set {credential}_env in its reply table")
        value = environ.get(variable, "")
        if not value:
            raise ReplyNotConfigured(f"source {name!r}: set {variable} to reply on {kind}")
        credentials[credential] = value
    options = {k: v for k, v in source_table.items() if k not in ("reply", "credentials")}
    options.update({k: v for k, v in settings.model_dump().items()
                    if not k.endswith("_env") and v is not None})
    return writer(credentials, options, http)
