"""The ``[replies]`` section: replying where the customer spoke (who approves, saved replies,
how often the send job runs)."""

from __future__ import annotations

from string import Formatter

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: The placeholders a saved reply may use.
PLACEHOLDERS = ("customer_name", "idea_url")


class RepliesSettings(BaseModel):
    """Replies to mentions on their platform: drafted, approved by a second person, sent once."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    #: a second person must approve a reply before it is sent (per team below)
    require_approval: bool = True
    #: team key -> whether that team's replies need approval (overrides ``require_approval``)
    approval_by_team: dict[str, bool] = Field(default_factory=dict)
    #: team members (not only managers and admins) may approve and send replies
    team_members_may_send: bool = False
    #: saved replies by name; placeholders {customer_name} and {idea_url}
    saved_replies: dict[str, str] = Field(default_factory=lambda: {
        "shipped": "Thanks for the idea, {customer_name}: this shipped. {idea_url}",
        "thanks": "Thanks {customer_name}, we have passed this on to the team.",
    })
    #: statuses meaning "shipped": reaching one drafts a reply to every linked mention
    shipped_statuses: tuple[str, ...] = ("done",)
    #: the saved reply drafted when an idea ships
    shipped_reply: str = "shipped"
    #: seconds between runs of the send job (approved replies no wake-up sent, rate-limit retries);
    #: 0: no job, replies go out only in the round their approval wakes
    job_interval: float = Field(60.0, ge=0.0, le=86400.0)
    #: seconds after which a send that never finished is checked with the platform and retried
    stale_sending_seconds: float = Field(120.0, ge=5.0, le=86400.0)
    #: longest reply text
    max_chars: int = Field(5000, ge=50, le=100_000)

    @field_validator("saved_replies")
    @classmethod
    def _known_placeholders(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            try:
                fields = [f for _, f, _, _ in Formatter().parse(text) if f is not None]
            except ValueError as exc:
                raise ValueError(f"saved reply {name!r}: {exc}") from None
            for placeholder in fields:
                if placeholder not in PLACEHOLDERS:
                    raise ValueError(f"saved reply {name!r}: unknown placeholder {{{placeholder}}} "
                                     f"(known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})")
        return value

    @model_validator(mode="after")
    def _shipped_reply_exists(self) -> RepliesSettings:
        if self.shipped_reply not in self.saved_replies:
            raise ValueError(f"shipped_reply {self.shipped_reply!r} names no saved reply "
                             f"(known: {', '.join(sorted(self.saved_replies))})")
        return self

    def needs_approval(self, team_key: str | None) -> bool:
        """Whether a reply in ``team_key``'s queue waits for a second person."""
        return self.approval_by_team.get(team_key or "", self.require_approval)
