"""The ``[routing]`` section: teams, ordered rules, rule sets, outbox and SMTP settings.

Teams are ``[[routing.teams]]`` tables and rules ``[[routing.rules]]`` tables, in
the order they are tried.  Secrets (webhook signing keys, SMTP passwords, Slack
URLs) are never written here: the tables name the environment variables that
hold them (keys ending in ``_env``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from domain.routing import EVENTS, FLAT_CHANNEL_KEYS, Team, TeamChannels
from domain.signals import signal_named
from config.routing_escalations import EscalationBookSettings, EscalationSettings
from config.routing_checks import (
    ENV_NAME,
    TABLE_KEY,
    FrozenSettings,
    channel_registry,
    check_channel_names,
    check_http_url,
    check_mail_addresses,
    registered_channel,
)

_FLAT_KEYS = tuple(k for keys in FLAT_CHANNEL_KEYS.values() for k in keys)

_ENV = ENV_NAME


class TeamSettings(FrozenSettings):
    """One team: who is in it, how it is reached, how soon it must acknowledge."""

    key: str = Field(pattern=TABLE_KEY)
    name: str = Field(min_length=1, max_length=200)
    members: tuple[str, ...] = ()
    webhook_url: str | None = Field(None, pattern=r"^https?://")
    webhook_secret_env: str | None = Field(None, pattern=_ENV)
    mail_to: tuple[str, ...] = ()
    slack_url: str | None = Field(None, pattern=r"^https?://")
    slack_url_env: str | None = Field(None, pattern=_ENV)
    ack_sla_minutes: int | None = Field(None, ge=1, le=60 * 24 * 365)

    #: channel name -> its configuration (``[routing.teams.channels.<name>]``), validated by the
    #: channel's module; the flat keys above are the same for webhook, mail and Slack.
    channels: dict[Annotated[str, AfterValidator(registered_channel)], dict[str, Any]] = {}

    @field_validator("mail_to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_mail_addresses(value)

    @field_validator("webhook_url", "slack_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value)

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        known = channel_registry()
        checked = {}
        for name, raw in value.items():
            channel = known[name]  # the key's validator refused unknown names
            try:
                checked[name] = channel.team_config(raw)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in (name, *first["loc"]))
                msg = first["msg"].removeprefix("Value error, ")
                raise ValueError(f"a valid {name} channel ({where}: {msg})") from None
        return checked

    @field_validator("members")
    @classmethod
    def _members(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) > 500 or any(not m.strip() or len(m) > 200 for m in value):
            raise ValueError("at most 500 members, each 1 to 200 characters")
        return value

    @model_validator(mode="after")
    def _signed_webhook(self) -> TeamSettings:
        if self.webhook_url and not self.webhook_secret_env:
            raise ValueError("webhook_secret_env naming the variable with the signing secret "
                             "whenever webhook_url is set")
        flat = self.model_dump(include=set(_FLAT_KEYS), exclude_defaults=True)
        both = set(TeamChannels.from_flat(**flat).configs) & set(self.channels)
        if both:
            raise ValueError(f"each channel configured once (channels.{sorted(both)[0]} and its "
                             "flat keys are both set)")
        return self

    def to_team(self) -> Team:
        """The domain team."""
        return Team(
            key=self.key, name=self.name, members=self.members,
            channels=self.team_channels(),
            ack_sla_minutes=self.ack_sla_minutes)

    def team_channels(self) -> TeamChannels:
        """The flat keys' channels, then the ``channels`` tables'."""
        flat = TeamChannels.from_flat(**self.model_dump(include=set(_FLAT_KEYS)))
        return TeamChannels({**flat.configs, **self.channels})

    def fingerprint(self) -> str:
        """A hash of this table, to tell when the config of a team changed."""
        data = self.model_dump(mode="json")
        if not data["channels"]:  # as before ``channels`` existed: no needless re-seed
            del data["channels"]
        raw = json.dumps(data, sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


class RuleSettings(FrozenSettings):
    """One routing rule: conditions (all must hold; a list means any of) and actions.

    An empty or missing condition always holds.  Actions: route to ``team`` with
    ``priority``, and notify the team on ``notify`` (default: every channel it has).
    """

    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")
    set: str = Field("default", pattern=r"^[A-Za-z0-9_-]{1,50}$")
    # conditions
    events: tuple[str, ...] = ()
    kinds: tuple[Literal["mention", "idea", "spike"], ...] = ()
    topics: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    #: NLP signal -> the values it may have (any of): every registered signal, by name
    #: (``domain.signals``; ``{urgency = ["urgent"], sentiment = ["negative"]}``).
    signals: dict[str, tuple[str, ...]] = Field(default_factory=dict, max_length=40)
    sentiment_at_or_below: float | None = Field(None, ge=-1.0, le=1.0)
    sentiment_above: float | None = Field(None, ge=-1.0, le=1.0)
    votes_at_least: int | None = Field(None, ge=0)
    impact_at_least: float | None = Field(None, ge=0)
    segments: tuple[str, ...] = ()
    revenue_at_least: int | None = Field(None, ge=0)
    sources: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    # actions
    team: str = Field(pattern=TABLE_KEY)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    notify: tuple[str, ...] | None = None


    @field_validator("notify")
    @classmethod
    def _known_channels(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return check_channel_names(value)

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for event in value:
            if event not in EVENTS:
                raise ValueError(f"event names among {', '.join(EVENTS)} (got {event!r})")
        return value

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not k.strip() for k in value):
            raise ValueError("non-empty keywords")
        return value

    @field_validator("signals")
    @classmethod
    def _known_signals(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        # Checked against the registry: a misspelt signal or value would never match, silently.
        for name, wanted in value.items():
            signal = signal_named(name)
            if signal is None:
                raise ValueError(f"signal names an NLP signal (got {name[:40]!r})")
            if not wanted:
                raise ValueError(f"at least one value of signal {name!r}")
            for one in wanted:
                if (why := signal.check(one)) is not None:
                    raise ValueError(f"signal {name!r}: {one[:70]!r} {why}")
        return value


class RuleBookSettings(FrozenSettings):
    """The ordered rules and their rule sets, as the TOML holds them and ``PUT
    /api/routing/rules`` takes them (validated by the same models)."""

    rule_sets: dict[str, Literal["first_match", "all_match"]] = {"default": "first_match"}
    rules: tuple[RuleSettings, ...] = ()

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: tuple[RuleSettings, ...]) -> tuple[RuleSettings, ...]:
        seen: set[str] = set()
        for index, rule in enumerate(rules):
            if rule.id in seen:
                raise ValueError(f"unique rule ids (rules[{index}].id '{rule.id}' appears twice)")
            seen.add(rule.id)
        return rules

    @model_validator(mode="after")
    def _known_sets(self) -> RuleBookSettings:
        for index, rule in enumerate(self.rules):
            if rule.set not in self.rule_sets:
                raise ValueError(f"rules[{index}].set to be a key of rule_sets (got '{rule.set}')")
        return self

    def unknown_teams(self, teams: set[str]) -> list[tuple[int, str]]:
        """(index, team) of every rule routing to a team not in ``teams``."""
        return [(i, r.team) for i, r in enumerate(self.rules) if r.team not in teams]

    def body(self) -> dict:
        """JSON-ready values, as the store keeps them."""
        return self.model_dump(mode="json", exclude_defaults=False)

    def fingerprint(self) -> str:
        """A hash of the rules, to tell when the config's rules changed."""
        raw = json.dumps(self.body(), sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


class SmtpSettings(FrozenSettings):
    """Where routed-item mail is sent from."""

    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    sender: str = "crmsphere@localhost"
    username_env: str | None = Field(None, pattern=_ENV)
    password_env: str | None = Field(None, pattern=_ENV)
    start_tls: bool = False
    use_tls: bool = False


class RoutingSettings(FrozenSettings):
    """Teams, rules and the delivery outbox."""

    teams: tuple[TeamSettings, ...] = ()
    rules: tuple[RuleSettings, ...] = ()
    #: rule set name -> "first_match" (stop at the first rule that matches) or "all_match".
    rule_sets: dict[str, Literal["first_match", "all_match"]] = {"default": "first_match"}
    worker_enabled: bool = True
    poll_interval: float = Field(2.0, ge=0.05, le=3600)
    batch_size: int = Field(20, ge=1, le=1000)
    #: attempts before a delivery is dead-lettered (the first send counts).
    max_attempts: int = Field(8, ge=1, le=100)
    backoff_base: float = Field(10.0, ge=0.0, le=86400)
    backoff_max: float = Field(3600.0, ge=0.0, le=7 * 86400)
    #: the longest wait a receiver's ``Retry-After`` (on a 429 or 503) is honoured for: a
    #: receiver asking for longer is tried again after this many seconds.
    retry_after_max: float = Field(3600.0, ge=0.0, le=7 * 86400)
    send_timeout: float = Field(10.0, gt=0, le=600)
    #: a claimed delivery whose worker died is sent again after this many seconds.
    claim_timeout: float = Field(120.0, ge=1.0, le=86400)
    public_url: str = "http://127.0.0.1:8080"
    #: let webhooks and Slack-style URLs reach loopback, private and link-local addresses
    #: (off: an admin-typed URL cannot make the server call its own network; community/net_guard.py)
    allow_private_targets: bool = False
    smtp: SmtpSettings = SmtpSettings()
    escalations: tuple[EscalationSettings, ...] = ()
    #: Seconds between runs of the periodic routing jobs (escalations, routing recorded events); they run
    #: in the process holding the scheduler lease only.  0 turns them off.
    jobs_interval: float = Field(30.0, ge=0, le=86400)
    #: Retired with the sweeper (routing consumes recorded events now): accepted and ignored,
    #: so that existing configuration files still load.
    sweep_grace_seconds: float = Field(60.0, ge=0, le=86400)
    #: Retired, as ``sweep_grace_seconds``.
    sweep_max_age_hours: float = Field(24.0, gt=0, le=24 * 365)

    @field_validator("teams")
    @classmethod
    def _unique_teams(cls, teams: tuple[TeamSettings, ...]) -> tuple[TeamSettings, ...]:
        seen: set[str] = set()
        for team in teams:
            if team.key in seen:
                raise ValueError(f"unique team keys ('{team.key}' appears twice)")
            seen.add(team.key)
        return teams

    @field_validator("rules")
    @classmethod
    def _rules_refer_to_known(cls, rules: tuple[RuleSettings, ...],
                              info: ValidationInfo) -> tuple[RuleSettings, ...]:
        teams = {t.key for t in info.data.get("teams", ())}
        seen: set[str] = set()
        for index, rule in enumerate(rules):
            if rule.id in seen:
                raise ValueError(f"unique rule ids (rules[{index}].id '{rule.id}' appears twice)")
            seen.add(rule.id)
            if rule.team not in teams:
                raise ValueError(f"rules[{index}].team to be a configured team key "
                                 f"(got '{rule.team}'; teams: {', '.join(sorted(teams)) or 'none'})")
        return rules

    @field_validator("escalations")
    @classmethod
    def _escalations_refer_to_known(cls, escalations: tuple[EscalationSettings, ...],
                                    info: ValidationInfo) -> tuple[EscalationSettings, ...]:
        teams = {t.key for t in info.data.get("teams", ())}
        seen: set[str] = set()
        for index, esc in enumerate(escalations):
            if esc.id in seen:
                raise ValueError(f"unique escalation ids ('{esc.id}' appears twice)")
            seen.add(esc.id)
            for key in (*esc.teams, *((esc.route_to,) if esc.route_to else ())):
                if key not in teams:
                    raise ValueError(f"escalations[{index}] to name configured teams (got '{key}')")
        return escalations

    def escalation_book(self) -> EscalationBookSettings:
        """The configured escalations, as the store keeps them."""
        return EscalationBookSettings(escalations=self.escalations)

    def rule_book(self) -> RuleBookSettings:
        """The configured rules and rule sets, as the store keeps them."""
        return RuleBookSettings(rule_sets=self.rule_sets, rules=self.rules)

    @model_validator(mode="after")
    def _known_sets(self) -> RoutingSettings:
        for index, rule in enumerate(self.rules):
            if rule.set not in self.rule_sets:
                raise ValueError(f"rules[{index}].set to be a key of routing.rule_sets "
                                 f"(got '{rule.set}')")
        return self

