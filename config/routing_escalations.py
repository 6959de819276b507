"""The ``[[routing.escalations]]`` tables: what happens to an item its team did not
acknowledge within the team's SLA, as the config and ``PUT /api/routing/escalations`` give them."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import Field, field_validator, model_validator

from config.routing_checks import TABLE_KEY, FrozenSettings, check_channel_names


class EscalationSettings(FrozenSettings):
    """What happens to an item its team did not acknowledge within the team's SLA.

    Applies to the items of ``teams`` (empty: every team with an ``ack_sla_minutes``), once
    ``after_minutes`` have passed beyond the SLA.  Actions (at least one): route the item to
    ``route_to`` as well, raise its ``priority``, and ``notify`` channels (of ``route_to`` when
    given, else of the item's own team; ``None``: every channel when routing, none otherwise).
    Each escalation happens once per item.
    """

    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")
    teams: tuple[str, ...] = ()
    after_minutes: int = Field(0, ge=0, le=60 * 24 * 365)
    route_to: str | None = Field(None, pattern=TABLE_KEY)
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    notify: tuple[str, ...] | None = None


    @field_validator("notify")
    @classmethod
    def _known_channels(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return check_channel_names(value)

    @model_validator(mode="after")
    def _does_something(self) -> EscalationSettings:
        if self.route_to is None and self.priority is None and not self.notify:
            raise ValueError(f"escalation '{self.id}' needs an action: route_to, priority or notify")
        return self


class EscalationBookSettings(FrozenSettings):
    """The escalation rules, as ``[[routing.escalations]]`` holds them and ``PUT
    /api/routing/escalations`` takes them (validated by the same models)."""

    escalations: tuple[EscalationSettings, ...] = ()

    @field_validator("escalations")
    @classmethod
    def _unique_ids(cls, escalations: tuple[EscalationSettings, ...]) -> tuple[EscalationSettings, ...]:
        seen: set[str] = set()
        for index, esc in enumerate(escalations):
            if esc.id in seen:
                raise ValueError(f"unique escalation ids (escalations[{index}].id '{esc.id}' "
                                 "appears twice)")
            seen.add(esc.id)
        return escalations

    def unknown_teams(self, teams: set[str]) -> list[tuple[str, str]]:
        """(field, team) of every team named by an escalation that is not in ``teams``."""
        found = []
        for index, esc in enumerate(self.escalations):
            for pos, key in enumerate(esc.teams):
                if key not in teams:
                    found.append((f"escalations[{index}].teams[{pos}]", key))
            if esc.route_to is not None and esc.route_to not in teams:
                found.append((f"escalations[{index}].route_to", esc.route_to))
        return found

    def body(self) -> dict:
        """JSON-ready values, as the store keeps them."""
        return self.model_dump(mode="json", exclude_defaults=False)

    def fingerprint(self) -> str:
        """A hash of the escalations, to tell when the config's escalations changed."""
        raw = json.dumps(self.body(), sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]
