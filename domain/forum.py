"""Domain types of the customer ideas forum, shared by community/, storage/ and api/.

Like ``domain`` this module imports no layer of crmsphere.  Values are
frozen; the store assigns ids and times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Role = Literal["customer", "team", "manager", "admin"]

#: Roles in rising order of power; a role may do everything a lower one may.
ROLES: tuple[Role, ...] = ("customer", "team", "manager", "admin")

#: Where a staff proxy vote came from.
PROXY_SOURCES: tuple[str, ...] = ("call", "mail", "social", "meeting", "other")


def role_rank(role: str) -> int:
    """The position of ``role`` in ``ROLES`` (-1 for an unknown role)."""
    return ROLES.index(role) if role in ROLES else -1


def is_staff(role: str) -> bool:
    """Team members, managers and admins are staff."""
    return role_rank(role) >= role_rank("team")


@dataclass(frozen=True, slots=True)
class Account:
    """A forum account; ``customer_id`` links it to the customer registry once verified."""

    id: int
    email: str
    name: str
    role: Role = "customer"
    customer_id: str | None = None
    email_verified: bool = False
    blocked: bool = False
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: the account and the CSRF token of its forms."""

    account: Account
    csrf: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An integration token; only its hash is stored, ``role`` is at most its owner's."""

    id: int
    account_id: int
    name: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag on an idea; private tags are shown to staff only."""

    name: str
    public: bool = True


@dataclass(frozen=True, slots=True)
class Idea:
    """A product idea as stored; ``merged_into`` is set while it is merged into another."""

    id: int
    title: str
    body: str
    author_id: int | None
    status: str
    created_at: datetime
    updated_at: datetime
    topic: str | None = None
    tags: tuple[Tag, ...] = ()
    vote_count: int = 0
    comment_count: int = 0
    impact: float = 0.0
    merged_into: int | None = None
    hidden: bool = False
    locked: bool = False
    status_response: str | None = None
    status_changed_at: datetime | None = None
    #: moderation: "pending" (waiting for staff), "approved" or "rejected"
    approval: str = "approved"
    spam: bool = False


@dataclass(frozen=True, slots=True)
class NewIdea:
    """What an author submits."""

    title: str
    body: str
    author_id: int | None
    status: str
    topic: str | None = None
    tags: tuple[Tag, ...] = ()
    approval: str = "approved"


@dataclass(frozen=True, slots=True)
class IdeaPatch:
    """Fields to change on an idea; ``None`` leaves a field as it is."""

    title: str | None = None
    body: str | None = None
    topic: str | None = None
    tags: tuple[Tag, ...] | None = None
    hidden: bool | None = None
    locked: bool | None = None


@dataclass(frozen=True, slots=True)
class Vote:
    """One customer's vote on an idea, cast by ``account_id`` (the customer or a staff proxy)."""

    idea_id: int
    customer_id: str
    account_id: int | None
    created_at: datetime
    proxy: bool = False
    proxy_note: str | None = None
    proxy_source: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class VoterName:
    """One voter of an idea as a page names them; ``name`` and ``company`` are ``None`` when
    the customer is not in the registry."""

    customer_id: str
    name: str | None = None
    company: str | None = None


@dataclass(frozen=True, slots=True)
class VoterGroup:
    """How many votes of an idea came from customers of one segment and annual revenue (what
    weighs a vote); a customer missing from the registry counts with neither."""

    segment: str | None
    annual_revenue: int | None
    votes: int


@dataclass(frozen=True, slots=True)
class IdeaVoters:
    """How many customers voted for an idea, and the first few of them (oldest vote first)."""

    count: int
    first: tuple[VoterName, ...] = ()


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment, a reply (``parent_id``) or a staff-only internal note."""

    id: int
    idea_id: int
    author_id: int | None
    body: str
    created_at: datetime
    parent_id: int | None = None
    internal: bool = False
    updated_at: datetime | None = None
    deleted: bool = False
    approval: str = "approved"
    hidden: bool = False
    spam: bool = False


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One status change with the staff response that explains it."""

    idea_id: int
    from_status: str
    to_status: str
    response: str
    account_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """What a merge moved, so that it can be undone exactly."""

    id: int
    source_id: int
    target_id: int
    account_id: int | None
    created_at: datetime
    undone_at: datetime | None = None
    moved: dict = field(default_factory=dict)


IdeaSort = Literal["trending", "top", "new", "impact"]


#: The moderation state (``approval``) of an idea or comment that everyone may see; the others
#: wait for staff (``AWAITING_APPROVAL``) or were refused.  Stores compare with these names.
APPROVED = "approved"
AWAITING_APPROVAL = "pending"


@dataclass(frozen=True, slots=True)
class IdeaQuery:
    """Filters of an idea listing; ``offset`` pages (sort orders that change over time)."""

    sort: IdeaSort = "trending"
    status: str | None = None
    topic: str | None = None
    tag: str | None = None
    author_id: int | None = None
    text: str | None = None
    include_hidden: bool = False
    #: an idea merged into another lives on in that one: listings leave it out unless asked
    include_merged: bool = False
    include_private_tags: bool = False
    #: ideas still waiting for (or refused) approval are listed only for staff and their author
    include_unapproved: bool = False
    unapproved_of: int | None = None
    statuses: tuple[str, ...] = ()
    limit: int = 20
    offset: int = 0
    #: hours added to an idea's age in the trending formula, and the gravity exponent
    trending_gravity: float = 1.5


@dataclass(frozen=True, slots=True)
class IdeaShown:
    """Which ideas a read returns, as the rule reading them decides: ideas merged into
    another, hidden ones and ones not (yet) approved are each kept (``True``) or left out."""

    merged: bool
    hidden: bool
    unapproved: bool


@dataclass(frozen=True, slots=True)
class ContentReport:
    """A customer's report of an idea or comment (spam, abuse...) waiting for staff."""

    id: int
    kind: Literal["idea", "comment"]
    item_id: int
    account_id: int
    reason: str
    created_at: datetime
    resolved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RateWindow:
    """One request to count against a rate limit: the fixed window it falls in, the window
    before it (older counts are forgotten) and how many requests the window allows."""

    scope: str
    subject: str
    window_start: int
    forget_before: int
    limit: int


@dataclass(frozen=True, slots=True)
class VoteCast:
    """What storing a vote did: the rate-limit count (``None`` when not limited), whether a
    vote was added (never when the count passed the limit) and the idea afterwards."""

    hits: int | None
    added: bool
    idea: Idea
    #: thresholds (``ScoreThreshold.name``) this vote recorded as reached for the first time
    reached: tuple[str, ...] = ()
    #: the vote's check found voting closed on the idea (nothing but the rate hit written)
    closed: bool = False


@dataclass(frozen=True, slots=True)
class ScoreThreshold:
    """A vote count or impact score whose first crossing by an idea is announced once."""

    name: str
    measure: Literal["votes", "impact"]
    at: float

    def crossed(self, idea: Idea) -> bool:
        """Whether ``idea`` has reached this threshold."""
        return (idea.vote_count if self.measure == "votes" else idea.impact) >= self.at
