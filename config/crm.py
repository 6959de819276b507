"""The ``[crm]`` section: CRM connectors (``[crm.hubspot]``, ``[crm.salesforce]`` and a
``[crm.<kind>]`` table for any other connector registered in ``crm/registry.py``), the field
mapping, what goes out to the CRM timeline, and the generic bridge (signed events out, signed
batch upserts in).  Every connector is disabled by default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain import PLATFORMS

_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
#: A connector's kind, as ``crm/registry.py`` registers it and ``[crm.<kind>]`` names it.
CONNECTOR_KIND = r"^[a-z][a-z0-9_]{0,39}$"
#: Events of the bridge's outbound stream.
BRIDGE_EVENTS: tuple[str, ...] = ("customer.mention.linked", "customer.idea.created",
                                  "customer.voted", "item.routed", "idea.status_changed",
                                  "customer.reply.sent", "customer.idea.closed")
#: Of those, the ones that become CRM timeline entries (they concern one customer).
TIMELINE_EVENTS: tuple[str, ...] = ("customer.mention.linked", "customer.idea.created",
                                    "customer.voted", "item.routed", "customer.reply.sent",
                                    "customer.idea.closed")


class ObjectMapping(BaseModel):
    """Which CRM property feeds each customer field, for one object type.

    ``name`` lists properties joined with a space (a contact's first and last name);
    ``emails``/``domains``/``aliases`` list properties whose values may hold several
    entries separated by ``separator``; ``handles`` maps a custom property to a platform.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: tuple[str, ...] = ("name",)
    company: str | None = None
    segment: str | None = None
    annual_revenue: str | None = None
    emails: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    handles: dict[str, str] = Field(default_factory=dict)
    separator: str = Field(";", min_length=1, max_length=3)

    @field_validator("handles")
    @classmethod
    def _known_platforms(cls, value: dict[str, str]) -> dict[str, str]:
        for prop, platform in value.items():
            if platform not in PLATFORMS:
                raise ValueError(f"handles.{prop}: a platform among {', '.join(PLATFORMS)}")
        return value

    def properties(self) -> list[str]:
        """Every CRM property this mapping reads (to ask the CRM for them)."""
        found = [*self.name, *self.emails, *self.domains, *self.aliases, *self.handles]
        found += [p for p in (self.company, self.segment, self.annual_revenue) if p]
        return sorted(set(found))


class CrmMapping(BaseModel):
    """The mapping of companies and contacts; ``learned_field`` receives learned identities."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    company: ObjectMapping = ObjectMapping()
    contact: ObjectMapping = ObjectMapping()
    #: custom field (on the company / contact) that learned handles and aliases are written
    #: to; empty: never write back
    learned_field: str = ""


class CrmConnectorSettings(BaseModel):
    """One CRM (``[crm.<kind>]``).  Keys this class does not name are handed to the
    connector as they are; keys ending in ``_env`` name credential variables."""

    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False)

    enabled: bool = False
    interval: float = Field(900.0, ge=1.0, le=7 * 86400)
    base_url: str | None = Field(None, pattern=r"^https?://.+")
    objects: tuple[str, ...] = ("company", "contact")
    mapping: CrmMapping = CrmMapping()
    #: an idea a customer voted for ships: the task for their account owner is due this
    #: many days after it is written (0: the same day)
    idea_closed_task_days: int = Field(3, ge=0, le=365)

    @field_validator("objects")
    @classmethod
    def _known_objects(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if item not in ("company", "contact"):
                raise ValueError("object types among company, contact")
        return value

    def options(self) -> dict[str, Any]:
        """The table as connector options."""
        return self.model_dump()

    def credentials(self, environ: Mapping[str, str]) -> dict[str, str]:
        """Secrets read from the variables named by the ``*_env`` keys (unset ones left out)."""
        return {key.removesuffix("_env"): environ[value]
                for key, value in self.model_dump().items()
                if key.endswith("_env") and isinstance(value, str) and environ.get(value)}


class BridgeSubscriber(BaseModel):
    """A URL receiving the signed event stream (the webhook signature scheme)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    url: str = Field(pattern=r"^https?://.+")
    secret_env: str = Field(pattern=_ENV_NAME)
    events: tuple[str, ...] = BRIDGE_EVENTS

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for event in value:
            if event not in BRIDGE_EVENTS:
                raise ValueError(f"events among {', '.join(BRIDGE_EVENTS)}")
        return value


class BridgeSettings(BaseModel):
    """The generic bridge for any other CRM."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    subscribers: tuple[BridgeSubscriber, ...] = ()
    #: variable holding the secret that signs ``POST /api/customers/sync``; unset: refused
    inbound_secret_env: str = Field("CRMSPHERE_CRM_BRIDGE_SECRET", pattern=_ENV_NAME)
    #: a signed request older (or newer) than this many seconds is refused
    max_skew: int = Field(300, ge=10, le=3600)
    max_records: int = Field(1000, ge=1, le=100_000)
    mapping: CrmMapping = CrmMapping()


class CrmSettings(BaseModel):
    """Two-way CRM sync.  A table besides the keys below is the ``[crm.<kind>]`` of another
    connector, validated as ``CrmConnectorSettings``; whether a connector of that kind is
    registered is checked where the registry is known (``crmsphere config check``, start-up)."""

    # Extra keys are connector tables (checked by ``_connector_tables``), not typos let through.
    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False)

    hubspot: CrmConnectorSettings = CrmConnectorSettings()
    salesforce: CrmConnectorSettings = CrmConnectorSettings()
    #: linked mentions at or above this confidence become timeline entries / bridge events
    min_confidence: float = Field(0.8, ge=0.0, le=1.0)
    #: which events become CRM timeline entries
    timeline_events: tuple[str, ...] = TIMELINE_EVENTS
    bridge: BridgeSettings = BridgeSettings()

    @field_validator("timeline_events")
    @classmethod
    def _known_events(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for event in value:
            if event not in TIMELINE_EVENTS:
                raise ValueError(f"events among {', '.join(TIMELINE_EVENTS)}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _connector_tables(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        tables = {}
        for key, value in data.items():
            if key in cls.model_fields:
                continue
            if not isinstance(key, str) or not re.match(CONNECTOR_KIND, key):
                raise ValueError(f"crm.{key}: a connector kind (lower-case letters, digits and _)")
            if not isinstance(value, Mapping):
                raise ValueError(f"crm.{key}: a table of the {key} connector's settings")
            try:
                tables[key] = CrmConnectorSettings.model_validate(value)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in (key, *first["loc"]))
                raise ValueError(f"crm.{where}: {first['msg']}") from None
        return {**data, **tables}

    def connectors(self) -> dict[str, CrmConnectorSettings]:
        """Every connector table by kind, enabled or not: HubSpot, Salesforce, then the
        ``[crm.<kind>]`` tables of other connectors."""
        others = {kind: table for kind, table in (self.model_extra or {}).items()
                  if isinstance(table, CrmConnectorSettings)}
        return {"hubspot": self.hubspot, "salesforce": self.salesforce, **others}
