"""Settings: defaults < --config file < environment < command line, validated, frozen.

The layering is pydantic-settings' (the sources are in ``config.settings_sources``); the
sections are plain pydantic models.  Load once in the composition root and pass the result
down; nothing deep in the code reads configuration by itself.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from domain.errors import ConfigError
from config.routing import RoutingSettings
from config.forum import ForumSettings
from config.notify import NotifySettings
from config.crm import CrmSettings
from config.dashboard import DashboardSettings
from config.replies import RepliesSettings
from config.settings_sources import (
    ENV_PREFIX,
    LAYERS,
    TomlEnvironSource,
    TomlFileSource,
    settings_layers,
)

DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")
DEMO_DIR = Path(__file__).with_name("demo")
__all__ = ["DEFAULTS_FILE", "DEMO_DIR", "ENV_PREFIX", "Settings", "load_settings"]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # Host names (the Host header, port ignored) this server answers; others get 421, which
    # stops DNS rebinding.  The bind host is always added; "*.example.com" takes subdomains.
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]")
    # Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For is believed: behind
    # them the client is the nearest address in that header that is not one of them.  Empty:
    # the peer of the connection is the client (the header is ignored; anyone can send it).
    trusted_proxies: tuple[str, ...] = ()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(f"IP addresses or networks such as 10.0.0.0/8 ('{value}' is not one)") from None
        return values

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            bare = name.removeprefix("*.")
            ipv6 = bare.startswith("[") and bare.endswith("]")  # [::1]: the colons are the address
            if not bare or any(ch in bare for ch in "/@\\ \t?#*" + ("" if ipv6 else ":[]")):
                raise ValueError(f"host names without scheme, port or path ('{name}' is not one)")
        return tuple(name.lower().rstrip(".") for name in names)


class StoreSettings(_Section):
    url: str = "sqlite:///data/crmsphere.db"

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "mongodb://", "mongodb+srv://")):
            raise ValueError("a URL starting sqlite:///, mongodb:// or mongodb+srv://")
        return value


class NlpSettings(_Section):
    workers: int = Field(0, ge=0, le=64)
    batch_size: int = Field(256, ge=1, le=100_000)
    review_below: float = Field(0.6, ge=0.0, le=1.0)
    # Taxonomy file; empty means the built-in config/topics.toml.
    topics_file: str = ""
    positive_above: float = Field(0.05, ge=-1.0, le=1.0)
    negative_below: float = Field(-0.05, ge=-1.0, le=1.0)
    max_chars: int = Field(5000, ge=100, le=1_000_000)
    languages: tuple[str, ...] = ("en",)
    components: tuple[str, ...] = ("language_detector", "customer_linker", "topic_tagger",
                                   "sentiment_scorer", "intent_classifier")
    base_pipeline: str = ""
    spam_authors: int = Field(3, ge=2, le=1000)
    # How long a text's authors are remembered (across processes, in the store) for spam;
    # the store keeps one small row per post for this long.
    spam_window_hours: float = Field(2.0, gt=0.0, le=24.0 * 7)
    # Where ``crmsphere nlp train`` saves the topic model; used when it holds one.
    model_dir: str = "data/nlp-model"
    model_threshold: float = Field(0.5, gt=0.0, le=1.0)
    # Posts analysed normally before spaCy memory zones keep the vocabulary from growing with
    # every new link and handle (0: zones at once; -1: never, for one-off batch jobs).
    warm_posts: int = Field(20_000, ge=-1, le=100_000_000)
    # Seconds between checks for customers changed by another process (0: never check).
    customer_check_seconds: float = Field(5.0, ge=0.0, le=3600.0)
    # Where `crmsphere analyze --customers FILE` keeps the gazetteer built from FILE, signed
    # with a key kept there (nlp/gazetteer_cache.py); empty: build it at every start.
    gazetteer_cache_dir: str = "data/gazetteer-cache"
    # How many registries' builds that folder keeps (most recently used; ~70 MB each at 100k
    # customers): two files analysed in turn, or two releases, do not rebuild each other's.
    gazetteer_cache_builds: int = Field(4, ge=1, le=64)

    @field_validator("topics_file")
    @classmethod
    def _default_topics(cls, value: str) -> str:
        return value or str(Path(__file__).with_name("topics.toml"))


class ImportSettings(_Section):
    batch_size: int = Field(500, ge=1, le=100_000)


class SchedulerSettings(_Section):
    enabled: bool = True
    lease_ttl: float = Field(30.0, ge=3.0, le=3600.0)


class EventsSettings(_Section):
    # Seconds between the lease holder's rounds of the notifications and CRM consumers of
    # recorded events (the process that committed an event wakes them at once); 0: off.
    consume_seconds: float = Field(5.0, ge=0, le=86400)
    # Days an event is kept after every consumer with a cursor passed it; then the leader's
    # ``events-prune`` job deletes it.
    retain_days: float = Field(7.0, gt=0, le=3650)


class ApiSettings(_Section):
    # Name of the environment variable holding the admin token for source control and
    # other operator endpoints.
    admin_token_env: str = "CRMSPHERE_ADMIN_TOKEN"
    # Without a token, treat an anonymous caller from this machine (loopback) as the operator.
    # Off by default: behind a reverse proxy on the same machine every request is loopback.
    trust_loopback: bool = False


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class SourceSettings(BaseModel):
    """One configured source instance (a ``[[sources]]`` table).

    Kind-specific keys (``subreddits``, ``queries``, ``feeds``...) are kept as they
    are for the collector; keys ending in ``_env`` name environment variables that
    hold credentials, which are never written in the table itself.
    """

    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False)

    kind: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    interval: float = Field(300.0, ge=1.0, le=7 * 86400)
    enabled: bool = True
    base_url: str | None = None
    # Posting credentials (``[sources.reply]``): ``*_env`` keys separate from the reading ones,
    # checked against the platform's reply writer when replies are set up; never collector options.
    reply: dict[str, Any] | None = None

    def options(self, environ: Mapping[str, str]) -> dict[str, Any]:
        """The table as collector options, with ``credentials`` read from the named variables."""
        options = self.model_dump(exclude={"reply"})
        credentials: dict[str, str] = {}
        for key, value in options.items():
            if key.endswith("_env") and isinstance(value, str) and environ.get(value):
                credentials[key.removesuffix("_env")] = environ[value]
        options["credentials"] = credentials
        return options


class Settings(BaseSettings):
    """The whole validated configuration (build it with ``load_settings``)."""

    # Keys are matched as spelled (``[Server]`` is refused like any unknown key), and defaults
    # are the sections' own, already valid.
    model_config = SettingsConfigDict(frozen=True, extra="forbid", case_sensitive=True,
                                      validate_default=False)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The command line (init values) over the layers ``load_settings`` set; never the
        process environment read behind the caller's back, nor a .env or secrets directory."""
        return (init_settings, *LAYERS.get())

    sources: tuple[SourceSettings, ...] = ()

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: tuple[SourceSettings, ...]) -> tuple[SourceSettings, ...]:
        seen: set[str] = set()
        for source in sources:
            if source.name in seen:
                raise ValueError(f"unique source names ('{source.name}' appears twice)")
            seen.add(source.name)
        return sources

    server: ServerSettings = ServerSettings()
    store: StoreSettings = StoreSettings()
    nlp: NlpSettings = NlpSettings()
    imports: ImportSettings = ImportSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    events: EventsSettings = EventsSettings()
    api: ApiSettings = ApiSettings()
    logging: LoggingSettings = LoggingSettings()
    routing: RoutingSettings = RoutingSettings()
    forum: ForumSettings = ForumSettings()
    notify: NotifySettings = NotifySettings()
    crm: CrmSettings = CrmSettings()
    dashboard: DashboardSettings = DashboardSettings()
    replies: RepliesSettings = RepliesSettings()


def _dotted(overrides: Mapping[str, Any]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for dotted, value in overrides.items():
        if value is None:
            continue
        *parents, leaf = dotted.split(".")
        node = layer
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return layer


def _expected(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "no such setting (check the spelling)"
    msg = str(error["msg"])
    for prefix in ("Input should be ", "Value error, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    return msg


def load_settings(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings from every layer; ``ConfigError`` names the first bad key.

    ``environ`` is the environment to read ``CRMSPHERE_*`` variables from (``os.environ``
    when not given); ``overrides`` are dotted keys from the command line (``None`` values
    are left out)."""
    files = [TomlFileSource(Settings, DEFAULTS_FILE)]
    if config_file is not None:
        files.append(TomlFileSource(Settings, Path(config_file)))
    environment = TomlEnvironSource(Settings, os.environ if environ is None else environ)
    try:
        with settings_layers((environment, *reversed(files))):
            return Settings(**_dotted(overrides or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        value = first.get("input")
        if first["type"] == "extra_forbidden":
            value = value if not isinstance(value, dict) else "{...}"
        raise ConfigError(key, value, _expected(first)) from exc
