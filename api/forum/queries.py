"""The query strings of the ideas forum's JSON routes, read into pydantic models
(``api/query_models.py``) and described by the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.query_models import Flag, Query, text


class IdeaListQuery(Query):
    """How to browse ideas: order, filters and page."""

    sort: Literal["trending", "top", "new", "impact"] = "trending"
    status: text(40) | None = None
    topic: text(60) | None = None
    tag: text(40) | None = None
    mine: Flag = Field(False, description="1, true or yes: only the caller's ideas")
    q: text(300) | None = Field(None, description="full text")
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


class SimilarQuery(Query):
    """A title being typed, and an idea to leave out."""

    title: text(300)
    exclude: int = Field(0, ge=0, le=2**62, description="an idea id to leave out")


class VoteCountsQuery(Query):
    """The ideas whose counts are wanted."""

    ids: text(1200) = Field(description="1 to 100 idea ids separated by commas")


class UnvoteQuery(Query):
    """Whose vote is taken back (staff: a customer's proxy vote)."""

    customer_id: text(200) | None = Field(None, description="staff only")
