"""The ``[notify]`` section: telling customers what happened to their ideas.

Mail goes out through the routing outbox and its ``[routing.smtp]`` server; this
section only says where links point, how unsubscribe links are signed, and which
vote and impact thresholds are announced to routing.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


#: thresholds of each kind at most: every one an idea has reached is recorded with each vote in
#: one statement (SQLite binds at most 32,766 values), and an announcement per step is already
#: more than followers want
MAX_THRESHOLDS = 100


class NotifySettings(BaseModel):
    """Follower mail, account mail and the idea events published to routing."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    #: mail customers about status changes and responses (in-app notifications are always kept)
    mail_enabled: bool = True
    #: where links in customer mail point; empty means ``routing.public_url``
    base_url: str = Field("", pattern=r"^(https?://.+)?$")
    #: environment variable holding the key that signs unsubscribe links; when unset, a random
    #: key is made once and kept in the store
    unsubscribe_key_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    #: mail only addresses their owners proved (verification or sign-in link)
    verified_only: bool = True
    #: an idea reaching each of these vote counts publishes ``idea.vote_threshold`` once
    vote_thresholds: tuple[int, ...] = Field((10, 50, 100, 500), max_length=MAX_THRESHOLDS)
    #: ... and each of these impact scores
    impact_thresholds: tuple[float, ...] = Field((), max_length=MAX_THRESHOLDS)
    #: hour (UTC) from which the daily digest of the day before is queued
    digest_hour: int = Field(7, ge=0, le=23)
    #: how often the scheduler's leader looks for digests to queue (seconds; 0: never)
    digest_check_seconds: float = Field(600.0, ge=0)

    @field_validator("vote_thresholds", "impact_thresholds")
    @classmethod
    def _positive(cls, value: tuple) -> tuple:
        if any(v <= 0 for v in value):
            raise ValueError("positive thresholds")
        return tuple(sorted(set(value)))
