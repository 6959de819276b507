"""The ``[dashboard]`` section: spike alerts and share of voice."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class CompetitorSettings(BaseModel):
    """A brand counted in share of voice: its display name and the words that name it."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=80)
    #: names, product names or handles that count as naming it; the name itself always counts
    aliases: tuple[str, ...] = ()

    @field_validator("aliases")
    @classmethod
    def _non_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not a.strip() or len(a) > 80 for a in value):
            raise ValueError("non-empty aliases of at most 80 characters")
        return value

    def terms(self) -> tuple[str, ...]:
        """Every phrase that names this brand, the name first, without repeats."""
        seen: dict[str, None] = {}
        for term in (self.name, *self.aliases):
            seen.setdefault(term.strip(), None)
        return tuple(seen)


class DashboardSettings(BaseModel):
    """Spike alerts (per topic and per customer) and the brands of share of voice."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    #: a subject spikes when its last 24 hours exceed the 7-day mean plus k standard deviations
    spike_k: float = Field(3.0, gt=0.0, le=20.0)
    #: ... and hold at least this many mentions (so 0 -> 2 is no spike)
    spike_min_volume: int = Field(10, ge=1, le=1_000_000)
    #: seconds between evaluations (only the process holding the scheduler lease evaluates)
    spike_interval: float = Field(3600.0, ge=10.0, le=86400.0)
    #: evaluate spikes at all
    spike_alerts: bool = True
    #: our brand for share of voice (empty: share of voice counts competitors only)
    brand: CompetitorSettings | None = None
    competitors: tuple[CompetitorSettings, ...] = ()
