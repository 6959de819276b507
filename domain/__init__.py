"""Domain types shared by every layer.

This module imports no layer of crmsphere (collectors, nlp, community, api,
storage); they all import it.  Values are frozen so that a stage can hand them
on without fear of a later stage changing them underneath it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Generic, Literal, Mapping, TypeVar

T = TypeVar("T")

#: Platforms a customer can hold a handle on; also the names of social sources.
PLATFORMS: tuple[str, ...] = ("reddit", "x", "mastodon", "bluesky", "hackernews")

CustomerKind = Literal["person", "company"]


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


def normalise_handle(handle: str) -> str:
    """A handle as it is compared: no leading @, lower case, no surrounding space."""
    return handle.strip().lstrip("@").strip().lower()


@dataclass(frozen=True, slots=True)
class Identity:
    """One handle of a customer on one platform."""

    platform: str
    handle: str


@dataclass(frozen=True, slots=True)
class Customer:
    """A known customer: a company or a person, with the CRM facts that weigh their voice."""

    id: str
    name: str
    kind: CustomerKind = "person"
    company: str | None = None
    segment: str | None = None
    annual_revenue: int | None = None
    emails: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    identities: tuple[Identity, ...] = ()

    def handles_on(self, platform: str) -> tuple[str, ...]:
        """This customer's handles on ``platform``."""
        return tuple(i.handle for i in self.identities if i.platform == platform)

    def only_adds_handles_or_aliases_to(self, old: Customer) -> bool:
        """True when this is ``old`` with only handles or aliases added (what a linker can
        learn in place, without being built again)."""
        return (old.id, old.name, old.kind, old.company, old.emails, old.domains) == (
            self.id, self.name, self.kind, self.company, self.emails, self.domains) and (
            set(old.identities) <= set(self.identities) and set(old.aliases) <= set(self.aliases))


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote a post, as the source names them."""

    handle: str
    name: str | None = None
    platform_id: str | None = None


@dataclass(frozen=True, slots=True)
class RawPost:
    """A post as a collector hands it on: normalised fields, not yet analysed.

    ``parent_id`` is the post replied to, ``thread_id`` the thread's first post;
    ``engagement`` holds counts such as likes, replies, reposts, score.
    """

    source: str
    external_id: str
    author: Author
    text: str
    created_at: datetime
    url: str | None = None
    parent_id: str | None = None
    thread_id: str | None = None
    language: str | None = None
    engagement: Mapping[str, int] = field(default_factory=dict)


#: A customer link's ``status``: sure enough, awaiting a manager, decided by a manager.
LINK_ACCEPTED = "accepted"
LINK_PENDING = "pending"
LINK_CONFIRMED = "confirmed"


@dataclass(frozen=True, slots=True)
class CustomerLink:
    """Why a post is tied to a customer: the rule that fired, on what, and how sure it is."""

    customer_id: str
    confidence: float
    rule: str
    evidence: str
    start: int | None = None
    end: int | None = None
    #: ``accepted`` (sure enough), ``pending`` (awaits a manager), ``confirmed`` (by a manager).
    status: str = LINK_ACCEPTED
    #: Assigned by the store; the handle of the review queue (not part of equality).
    id: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class LinkStanding:
    """How a manager's decision on customer links is kept, as the linking rules decide: a
    decided link takes status ``decided`` and ``confidence``; the links of status ``waiting``
    from the same author to the same customer are decided with it; links whose status is in
    ``standing`` survive what replaces a mention's links (an analysis run again, an author
    attached to a customer), and no second link to their customer is added beside them."""

    decided: str
    confidence: float
    waiting: str
    standing: frozenset[str]


@dataclass(frozen=True, slots=True)
class TopicEvidence:
    """Why a post has a topic: ``rule`` is ``phrase`` (``phrase`` found at ``start:end`` of the
    normalised text), ``model`` (the trained topic model) or ``manager`` (set by a manager)."""

    topic: str
    rule: str
    phrase: str | None = None
    start: int | None = None
    end: int | None = None


def relabelled_evidence(evidence: Iterable[TopicEvidence], topics: Sequence[str]) -> list[TopicEvidence]:
    """The evidence of a mention a manager labelled ``topics``: a topic it had keeps its
    evidence, a new one is the manager's."""
    old = {e.topic: e for e in evidence}
    return [old.get(t) or TopicEvidence(t, "manager") for t in topics]


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the NLP stage found in one post.

    ``sentiment`` is in [-1, 1]; ``language`` is the detected language tag (``und``
    when unknown); ``flags`` name hygiene findings (``truncated``, ``spam_repeated``,
    ``link_only``, ``language_not_analysed``).
    """

    links: tuple[CustomerLink, ...] = ()
    topics: tuple[str, ...] = ()
    sentiment: float = 0.0
    sentiment_label: str = "neutral"
    intent: str = "other"
    language: str | None = None
    flags: tuple[str, ...] = ()
    #: How each topic was found, one entry per topic in ``topics``.
    topic_evidence: tuple[TopicEvidence, ...] = ()
    #: ``(name, value)`` of each registered signal without a field here (``nlp.signals``).
    signals: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class TopicLabel:
    """A manager's topic set for a mention (taxonomy keys; empty: about none of them)."""

    mention_id: int
    topics: tuple[str, ...]
    labelled_by: str
    labelled_at: datetime


@dataclass(frozen=True, slots=True)
class LinkNegative:
    """A manager said: this author's post is not about this customer (taught by a rejection)."""

    customer_id: str
    source: str
    author_handle: str
    phrase: str | None = None


@dataclass(frozen=True, slots=True)
class Mention:
    """A stored post with its analysis; ``id`` is assigned by the store.

    ``backfill``: stored by a bulk import of history, so never routed to a team or
    written to a CRM (kept with the mention, for every process that reads it).

    ``source_key``: what stored it, as the store was told (``Store.save_mentions``): the
    configured source's ``name`` for a collector's run (so a reply goes out through the same
    instance and account that read it), ``push:<name>`` for a signed push, ``jsonl:<path>``
    for a bulk import (``demo:posts`` for the demo's).  ``None`` for mentions stored before
    it was kept, where it could not be told afterwards.
    """

    post: RawPost
    analysis: Analysis = field(default_factory=Analysis)
    id: int | None = None
    ingested_at: datetime | None = None
    backfill: bool = False
    source_key: str | None = None


@dataclass(frozen=True, slots=True)
class LinkReview:
    """A customer link with the mention it was found in (an item of the review queue)."""

    link: CustomerLink
    mention: Mention


@dataclass(frozen=True, slots=True)
class Person:
    """An author known by handles on one or more platforms, attached to a customer or not yet."""

    id: int
    name: str | None
    handles: tuple[Identity, ...] = ()
    customer_id: str | None = None


@dataclass(frozen=True, slots=True)
class MentionQuery:
    """Filters for listing mentions; ``cursor`` is the opaque value of a previous page."""

    customer_id: str | None = None
    source: str | None = None
    text: str | None = None
    topic: str | None = None
    sentiment: str | None = None
    intent: str | None = None
    language: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    cursor: str | None = None
    #: ``(name, value)`` filters on registered signals without a field here (``nlp.signals``).
    signals: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and the cursor of the next, ``None`` on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What a batch write did: how many rows were new and how many were already there."""

    inserted: int
    duplicates: int
    #: ``save_mentions``: the new mentions as stored (ids, link ids, ``ingested_at``), in
    #: input order, so that hooks need not read them back; empty where a backend cannot tell.
    stored: tuple[Mention, ...] = ()


@dataclass(frozen=True, slots=True)
class Rejection:
    """An input item that was dropped, where it was, and why."""

    where: str
    reason: str


@dataclass(slots=True)
class ImportReport:
    """Running totals of an import; rejections name each dropped item."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    #: Parts of the source (a feed, a search) that could not be read; the others were.
    failed: list[Rejection] = field(default_factory=list)

    def add(self, other: "ImportReport") -> None:
        """Fold another report into this one."""
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)
        self.failed.extend(other.failed)


#: ``degraded``: the last run worked but stored nothing usable, or part of the source failed
#: (``SourceHealth.error`` says which); ``failing``: the last run raised.
SourceState = Literal["never_run", "ok", "degraded", "failing", "auth_failed", "not_configured",
                      "paused"]


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How a configured source is doing, as the dashboard's health panel shows it."""

    key: str
    kind: str
    state: SourceState = "never_run"
    paused: bool = False
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    last_items: int = 0
    total_items: int = 0
    error: str | None = None
    error_since: datetime | None = None
    failures: int = 0
    next_attempt_at: datetime | None = None
    rate_limit_remaining: int | None = None
    rate_limit_reset: datetime | None = None
    #: Requests made on ``requests_day`` (a UTC date, ISO) against the daily request budget.
    requests_day: str | None = None
    requests_today: int = 0
