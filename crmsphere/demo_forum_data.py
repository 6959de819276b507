"""The community side of the demo as ``config/demo/forum.toml`` describes it, validated.

Teams and rules are validated by the same models as ``[routing]`` in the configuration, so
a demo rule that the real config would refuse is refused here too.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from config.routing import RuleBookSettings, RuleSettings, TeamSettings
from domain.errors import ConfigError

#: Replies starting with this are written by the demo manager instead of a customer.
STAFF_PREFIX = "staff: "


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DemoStaff(_Frozen):
    """A staff account of the demo."""

    email: str
    name: str
    role: Literal["team", "manager", "admin"]


class DemoIdea(_Frozen):
    """One forum idea, where it ends up and what was said about it."""

    title: str
    body: str
    topic: str | None = None
    popularity: int = Field(ge=1, le=10)
    status: str = "open"
    response: str | None = None
    threads: tuple[tuple[str, ...], ...] = ()
    note: str | None = None
    duplicate_of: str | None = None

    @model_validator(mode="after")
    def _response_with_status(self) -> DemoIdea:
        if (self.status != "open") != (self.response is not None):
            raise ValueError(f"idea '{self.title}': a response exactly when the status is not open")
        if any(not thread for thread in self.threads):
            raise ValueError(f"idea '{self.title}': empty comment thread")
        return self


class DemoForum(_Frozen):
    """Everything the community demo loads."""

    seed: int
    password: str = Field(min_length=10)
    customer_accounts: int = Field(ge=1, le=300)
    proxy_votes: int = Field(ge=0, le=5000)
    staff: tuple[DemoStaff, ...]
    teams: tuple[TeamSettings, ...]
    rules: tuple[RuleSettings, ...]
    ideas: tuple[DemoIdea, ...]

    @model_validator(mode="after")
    def _consistent(self) -> DemoForum:
        teams = {t.key for t in self.teams}
        for rule in self.rules:
            if rule.team not in teams:
                raise ValueError(f"rule '{rule.id}' routes to unknown team '{rule.team}'")
        titles = [i.title for i in self.ideas]
        if len(set(titles)) != len(titles):
            raise ValueError("unique idea titles")
        for idea in self.ideas:
            if idea.duplicate_of is not None and idea.duplicate_of not in titles:
                raise ValueError(f"idea '{idea.title}' duplicates unknown idea '{idea.duplicate_of}'")
        if not any(s.role in ("manager", "admin") for s in self.staff):
            raise ValueError("at least one manager or admin (staff write statuses and notes)")
        return self

    def rule_book(self) -> RuleBookSettings:
        """The demo rules as the router takes them (one first-match set)."""
        return RuleBookSettings(rules=self.rules)


def read_demo_forum(path: Path) -> DemoForum:
    """Read and validate the demo's forum file; ``ConfigError`` naming the problem otherwise."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return DemoForum.model_validate(raw)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), "an unreadable file", f"readable TOML ({exc})") from exc
    except ValidationError as exc:
        raise ConfigError(str(path), "invalid demo data", f"valid demo data ({exc})") from exc
