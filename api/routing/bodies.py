"""The request bodies of routing (``/api/teams``, ``/api/routed``, ``/api/route``, the rules and
escalations admins edit, a mention sent to product): pydantic models, declared on the routes
(``api/contract.py``) and described by the OpenAPI document. Teams, rules and escalations are
validated by the same models as the configuration file."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from api.contract import Body, PositiveId, text
from domain.routing import ROUTED_STATUSES
from config.routing_checks import TABLE_KEY as TEAM_KEY
from config.routing import (
    EscalationBookSettings,
    EscalationSettings,
    RuleBookSettings,
    RuleSettings,
    TeamSettings,
)

#: Who acted, as the audit log names them.
By = text(100)
Priority = text(20)
Note = text(5000)
TeamKey = text(50)


def _key_from_the_path(schema: dict[str, Any]) -> None:
    schema["required"] = [name for name in schema.get("required", []) if name != "key"]


class TeamBody(TeamSettings):
    """A team as ``PUT /api/teams/{key}`` takes it: the key is the path's."""

    # Required by the model, which is handed the path's key; a caller need not send it.
    model_config = ConfigDict(json_schema_extra=_key_from_the_path)

    key: str = Field(pattern=TEAM_KEY, description="ignored: the key is the path's")


_MODES = ("first_match", "all_match")


class RoutingRulesBody(RuleBookSettings):
    """The whole ordered list of routing rules, and the rule sets they belong to."""

    rules: tuple[RuleSettings, ...]
    mode: Literal["first_match", "all_match"] | None = Field(
        None, description="short for rule_sets.default")

    @model_validator(mode="before")
    @classmethod
    def _mode_is_the_default_set(cls, data: Any) -> Any:
        # Folded in before the rule sets are checked, so rules of set "default" are known.
        # Only a mode that is one: any other value is left for ``mode``'s own check, whose
        # error names the field the caller sent (not "rule_sets.default", which they did not).
        if (isinstance(data, dict) and data.get("mode") in _MODES
                and isinstance(data.get("rule_sets", {}), dict)):
            data = {**data, "rule_sets": {**data.get("rule_sets", {}), "default": data["mode"]}}
        return data

    def book(self) -> RuleBookSettings:
        """The rules as the configuration file would hold them."""
        return RuleBookSettings(rule_sets=self.rule_sets, rules=self.rules)


class RoutingEscalationsBody(EscalationBookSettings):
    """The whole list of escalation rules."""

    escalations: tuple[EscalationSettings, ...]

    def book(self) -> EscalationBookSettings:
        """The escalations as the configuration file would hold them."""
        return EscalationBookSettings(escalations=self.escalations)


class AcknowledgeBody(Body):
    """Who acknowledges a routed item."""

    by: By = "operator"


class RoutedStatusBody(Body):
    """A routed item's new status."""

    status: text(40) = Field(description=", ".join(ROUTED_STATUSES))
    by: By = "operator"


class RoutedCommentBody(Body):
    """A comment on a routed item."""

    text: Note
    by: By = "operator"


class IdeaFields(Body):
    """What a new idea made from a mention starts from (each defaults to the mention's)."""

    title: str | None = None
    body: str | None = None
    topic: str | None = None
    hide_handle: bool = Field(False, description="leave the author's handle and the post's "
                                                  "link out of the idea")

    def given(self) -> dict[str, Any]:
        """The fields the caller gave."""
        return self.model_dump(exclude_unset=True)


class AttachMentionBody(Body):
    """The idea a mention is linked to."""

    idea_id: PositiveId


class RouteBody(Body):
    """A mention routed to a team by hand, and/or sent to product."""

    mention_id: PositiveId | None = Field(None, description='or `id` with `kind` "mention"')
    kind: Literal["mention"] = Field("mention", description="ideas are routed by rules")
    id: PositiveId | None = None
    team: TeamKey | None = Field(None, description="required unless converting or attaching")
    priority: Priority = "normal"
    note: Note | None = None
    by: By = "operator"
    convert_to_idea: IdeaFields | Literal[True] | None = Field(
        None, description="make a new idea backed by the mention (not with attach_to_idea)")
    attach_to_idea: PositiveId | None = Field(None, description="link the mention to this idea")
