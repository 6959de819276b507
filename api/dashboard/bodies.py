"""The request bodies of the dashboard (triage, notes, saved views) and of the link review
queue's bulk decisions: pydantic models, declared on the routes (``api/contract.py``) and
described by the OpenAPI document."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema, create_model

from api.contract import Body, PositiveId, text
from domain.triage import TRIAGE_STATUSES, TriageChange
from domain.errors import BadInput
from nlp.signals import signals

#: The most mentions one triage request changes.
MAX_BULK = 500
#: The most links one bulk request decides (a bigger group is decided in parts).
MAX_BULK_LINKS = 2000
#: The most groups one bulk request names.
MAX_BULK_GROUPS = 200
#: The filters a saved view may keep (the stream's query parameters): one per NLP signal
#: declared in ``nlp/signals/`` beside these.
VIEW_FILTERS = ("q", "source", "customer", "topic", "status", "assignee", "tag", "since", "until",
                *(s.name for s in signals()))

_TAG = r"^[\w][\w .:/-]{0,39}$"


def _tag(value: str) -> str:
    if not re.match(_TAG, value.strip()):
        raise ValueError("an invalid tag (letters, digits, space . : / -, at most 40 characters)")
    return value.strip().lower()


#: A triage tag, kept in lower case.
Tag = Annotated[str, AfterValidator(_tag), WithJsonSchema({
    "type": "string", "pattern": _TAG,
    "description": "letters, digits, space . : / -; at most 40 characters"})]


class TriageBody(Body):
    """One triage change to one or many mentions."""

    mention_ids: list[PositiveId] = Field(min_length=1, max_length=MAX_BULK)
    status: Literal[TRIAGE_STATUSES] | None = None
    assignee: PositiveId | Annotated[str, StringConstraints(strip_whitespace=True,
                                                            max_length=100)] | None = Field(
        None, description='a staff account id (or "account:<id>"); "" unassigns')
    add_tags: list[Tag] = Field([], max_length=20)
    remove_tags: list[Tag] = Field([], max_length=20)

    def change(self) -> TriageChange:
        """The change asked for; ``BadInput`` when it changes nothing."""
        assignee = str(self.assignee) if self.assignee is not None else None
        change = TriageChange(status=self.status, assignee=assignee,
                              add_tags=tuple(self.add_tags), remove_tags=tuple(self.remove_tags))
        if change == TriageChange():
            raise BadInput("nothing to change: give status, assignee, add_tags or remove_tags")
        return change


class NoteBody(Body):
    """A private note on a mention."""

    body: text(5000)


#: The filters of a saved view: each the text of one stream filter.
ViewFilters = create_model(
    "ViewFilters", __base__=Body,
    **{name: (Annotated[str, StringConstraints(max_length=500)] | None, None)
       for name in VIEW_FILTERS})


class SavedViewBody(Body):
    """A saved view: a name and the stream's filters."""

    name: text(80)
    filters: ViewFilters = Field(default_factory=ViewFilters)

    def kept_filters(self) -> dict[str, str]:
        """The filters with a value (an empty one is no filter)."""
        given = self.filters.model_dump(exclude_none=True)
        return {name: value.strip() for name, value in given.items() if value.strip()}


class LinkGroupKey(Body):
    """A group of pending links: one customer, one rule, the same matched words."""

    customer_id: text(200)
    rule: text(64)
    phrase: text(500)


class BulkDecisionBody(Body):
    """One decision for every link of the groups and ids given."""

    action: Literal["confirm", "reject"]
    groups: list[LinkGroupKey] = Field([], max_length=MAX_BULK_GROUPS)
    link_ids: list[PositiveId] = Field([], max_length=MAX_BULK_LINKS)


class RefusedAliasBody(Body):
    """A customer's alias never to be linked as a word."""

    customer_id: text(200)
    alias: text(200)
