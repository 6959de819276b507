"""Query strings read into pydantic models: the listing filters shared by several routes, read
with ``query_of`` (a 400 naming the parameter) and described in the OpenAPI document as the
parameters of each route that declares them (``api/contract.py``, ``query=``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from aiohttp import web
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    create_model,
)

from collectors.post_format import TimeOutOfRange, parse_time
from domain.routing import DELIVERY_STATES, ROUTED_STATUSES
from domain import MentionQuery
from domain.triage import TRIAGE_STATUSES
from domain.errors import BadInput, BadItem, clipped
from nlp.signals import signals
from storage.base import MAX_PAGE

QueryT = TypeVar("QueryT", bound=BaseModel)


class Query(BaseModel):
    """Base of every query model: parameters a route does not read are ignored (links carry
    tracking parameters), and text is converted ("50" is the integer 50)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def text(max_len: int) -> Any:
    """A text parameter of at most ``max_len`` characters, surrounding spaces removed."""
    return Annotated[str, StringConstraints(strip_whitespace=True, max_length=max_len)]


def _utc_time(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return parse_time(value)
    except TimeOutOfRange:
        raise ValueError("is out of the range of dates (years 1 to 9999 in UTC)") from None
    except BadItem:
        raise ValueError("is not an ISO 8601 time (2026-05-01 or 2026-05-01T09:30:00Z)") from None


#: An ISO 8601 time; without a zone, UTC.
Time = Annotated[datetime, BeforeValidator(_utc_time)]


def query_of(request: web.Request, model: type[QueryT]) -> QueryT:
    """The query string read into ``model``; an empty parameter counts as absent. A value that
    does not fit is a 400 naming the parameter."""
    return parameters_of(request.query, model)


def parameters_of(values: Mapping[str, str], model: type[QueryT]) -> QueryT:
    """``values`` read as query parameters into ``model`` (what ``query_of`` does with a query
    string; also for filters kept to be sent as one later, a saved view's)."""
    given = {name: value for name, value in values.items() if value.strip()}
    try:
        return with_signals(model).model_validate(given)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        name = clipped(str(first["loc"][0])) if first["loc"] else "query"
        if first["type"] == "missing":
            raise BadInput(f"parameter '{name}' is required", {"parameter": name}) from None
        message = first["msg"].removeprefix("Value error, ")
        # Our own rules read on from the name ("parameter 'since' must be a day ...").
        joint = " " if message[:1].islower() else ": "
        raise BadInput(f"parameter '{name}'{joint}{message}", {"parameter": name}) from None


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The OpenAPI parameter objects of a query model (an optional one's ``null`` left out:
    an absent parameter is how a query says "none")."""
    schema = with_signals(model).model_json_schema()
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        prop.pop("title", None)
        description = prop.pop("description", "")
        branches = [b for b in prop.pop("anyOf", []) if b.get("type") != "null"]
        if branches:
            prop = {**branches[0], **prop}
        if prop.get("default", 0) is None:
            prop.pop("default")
        parameter: dict[str, Any] = {"name": name, "in": "query", "schema": prop}
        if description:
            parameter["description"] = description
        if name in required:
            parameter["required"] = True
        parameters.append(parameter)
    return parameters


class Paging(Query):
    """A cursor page."""

    limit: int = Field(50, ge=1, le=MAX_PAGE)
    cursor: text(500) | None = Field(None, description="next_cursor of the previous page")


class SearchPage(Paging):
    """A cursor page of a listing searched by name."""

    q: text(200) | None = None


class SignalFilters(Query):
    """Base of the query models that take a filter per NLP signal: ``query_of`` and
    ``query_parameters`` read them with one field per registered signal (``nlp.signals``)."""

    def signal_values(self) -> dict[str, str]:
        """The signal filters set, by signal name."""
        return {s.name: v for s in signals() if (v := getattr(self, s.name, None))}


#: Each model with a field per signal, for the registry as it was when it was made.
_WITH_SIGNALS: dict[tuple[type[BaseModel], tuple[int, ...]], type[BaseModel]] = {}


def with_signals(model: type[QueryT]) -> type[QueryT]:
    """``model`` with a field per registered signal when it takes signal filters."""
    if not issubclass(model, SignalFilters):
        return model
    registered = signals()
    key = (model, tuple(map(id, registered)))
    made = _WITH_SIGNALS.get(key)
    if made is None:
        fields: dict[str, Any] = {
            s.name: ((Literal[s.values] if s.values else text(s.max_len)) | None, None)  # type: ignore[valid-type]
            for s in registered}
        made = _WITH_SIGNALS[key] = create_model(model.__name__, __base__=model,
                                                 __module__=model.__module__, **fields)
    return made  # type: ignore[return-value]


class MentionFilters(SignalFilters):
    """The filters of a mentions listing (and one per NLP signal, see ``SignalFilters``)."""

    customer: text(200) | None = Field(None, description="a customer id")
    source: text(64) | None = None
    q: text(500) | None = Field(None, description="full text")
    topic: text(64) | None = None
    since: Time | None = Field(None, description="ISO 8601; without a zone, UTC")
    until: Time | None = Field(None, description="ISO 8601; without a zone, UTC")

    def mention_query(self, limit: int = 50, cursor: str | None = None) -> MentionQuery:
        """The store's query for these filters."""
        chosen = self.signal_values()
        # The first signals have fields of their own in the query; the others go in ``signals``.
        own = {name: chosen.pop(name) for name in list(chosen) if name in _QUERY_FIELDS}
        return MentionQuery(customer_id=self.customer, source=self.source, text=self.q,
                            topic=self.topic, since=self.since, until=self.until,
                            limit=limit, cursor=cursor, signals=tuple(sorted(chosen.items())),
                            **own)


_QUERY_FIELDS = frozenset(f.name for f in dataclasses.fields(MentionQuery))


class MentionPage(MentionFilters, Paging):
    """The filters of a mentions listing and its page."""

    def mention_query(self, limit: int | None = None, cursor: str | None = None) -> MentionQuery:
        """The store's query for these filters and this page."""
        return super().mention_query(self.limit if limit is None else limit,
                                     self.cursor if cursor is None else cursor)


class StreamFilters(MentionFilters):
    """The dashboard stream's filters: the listing's plus triage status, assignee and tag."""

    status: Literal[TRIAGE_STATUSES] | None = Field(None, description="triage status")
    assignee: text(100) | None = Field(None, description='a staff account id, or "-" for '
                                                         "unassigned")
    tag: text(40) | None = None


class StreamPage(StreamFilters, MentionPage):
    """The dashboard stream's filters and its page (``mention_query`` is ``MentionPage``'s: with
    only ``Paging`` as a base the stream's listing used the filters' own, which dropped
    ``limit`` and ``cursor``: every page was the first, and "Load more" loaded nothing new)."""


#: "1", "true" or "yes" (any case) is yes; any other value no, as links and forms send them.
Flag = Annotated[bool, BeforeValidator(lambda v: v.strip().lower() in ("1", "true", "yes")
                                       if isinstance(v, str) else v)]


class QueuePage(Query):
    """A page of a team's queue, or of the delivery outbox."""

    limit: int = Field(50, ge=1, le=500)
    cursor: text(1000) | None = None


class TeamQueuePage(QueuePage):
    """A team's queue: the statuses to show, and its page."""

    status: text(200) | None = Field(
        None, description=f"statuses separated by commas ({', '.join(ROUTED_STATUSES)})")

    def statuses(self) -> list[str]:
        """The statuses asked for (none: every open one)."""
        return [s.strip() for s in self.status.split(",") if s.strip()] if self.status else []


class DeliveryPage(QueuePage):
    """A page of the delivery outbox, of one state or all."""

    state: Literal[DELIVERY_STATES] | None = None


class NotificationPage(Query):
    """The caller's notifications."""

    unread: Flag = Field(False, description="1, true or yes: unread only")
    limit: int = Field(50, ge=1, le=200)


class ModerationPage(Query):
    """The moderation queue."""

    limit: int = Field(100, ge=1, le=500)


class CustomerView(Query):
    """How much of a customer's history to show."""

    mentions: int = Field(20, ge=0, le=100, description="how many recent mentions")
