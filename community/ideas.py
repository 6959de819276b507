"""Ideas: submit, read, edit, delete, browse, statuses and the roadmap."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from community.access import Viewer, require_at_least, require_signed_in
from community.ratelimit import RateLimiter
from community.statuses import create_idea, delete_idea, set_status
from domain.routing import Delivery
from config.forum import ForumSettings, StatusSettings
from domain import utcnow
from domain.forum import (
    Account,
    Idea,
    IdeaPatch,
    IdeaQuery,
    IdeaShown,
    NewIdea,
    StatusChange,
    Tag,
)
from domain.notify import Notification
from domain.errors import BadInput, Forbidden, NotFound
from storage import Store

SORTS = ("trending", "top", "new", "impact")
#: a customer's ideas and votes as staff see them on the customer 360: hidden and unapproved
#: ideas too (staff moderate them), never one merged into another (its votes moved there)
ON_CUSTOMER_360 = IdeaShown(merged=False, hidden=True, unapproved=True)
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_TOPIC = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,59}$")


def clean_text(value: object, field: str, max_len: int, min_len: int = 1) -> str:
    """Trimmed text of ``min_len``..``max_len`` characters; ``BadInput`` naming the field otherwise."""
    if not isinstance(value, str):
        raise BadInput(f"{field} must be text", {"field": field})
    text = value.replace("\r\n", "\n").strip()
    if not min_len <= len(text) <= max_len:
        raise BadInput(f"{field} must be {min_len} to {max_len} characters", {"field": field})
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text) or "\x00" in text:
        raise BadInput(f"{field} must not contain control characters", {"field": field})
    return text


def clean_tags(value: object, staff: bool) -> tuple[Tag, ...]:
    """Tags from a list of names (``private:`` prefix marks a staff-only tag) or comma text."""
    if value is None or value == "":
        return ()
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list) or len(names) > 20:
        raise BadInput("tags must be a list of at most 20 names", {"field": "tags"})
    tags: dict[str, Tag] = {}
    for raw in names:
        if not isinstance(raw, str):
            raise BadInput("tags must be names", {"field": "tags"})
        name = raw.strip().lower()
        public = not name.startswith("private:")
        name = name.removeprefix("private:").strip()
        if not name:
            continue
        if not _TAG.match(name):
            raise BadInput(f"tag {raw!r} must be 1-40 letters, digits, - or _", {"field": "tags"})
        if not public and not staff:
            raise Forbidden("only staff may set private tags")
        tags[name] = Tag(name, public)
    return tuple(tags.values())


def clean_topic(value: object) -> str | None:
    """A topic key from the NLP taxonomy (lower-case words), or ``None``."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _TOPIC.match(value.strip().lower()):
        raise BadInput("topic must be a topic key (letters, digits, '.', '-', '_')", {"field": "topic"})
    return value.strip().lower()


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """A status change and who should be told about it (the mailer's hook)."""

    idea: Idea
    change: StatusChange
    notify_account_ids: tuple[int, ...]


class IdeaEventSink(Protocol):
    """Who hears about stored idea changes (routing and follower mail; see community.idea_events)."""

    async def idea_created(self, idea: Idea) -> None: ...
    async def idea_scored(self, idea_id: int) -> None: ...
    async def status_notifications(
        self, idea: Idea, change: StatusChange, follower_ids: tuple[int, ...]
    ) -> list[tuple[Notification, Delivery | None]]: ...
    async def status_changed(self, idea: Idea, change: StatusChange,
                             follower_ids: tuple[int, ...]) -> None: ...


class Ideas:
    """Idea rules over a store; cheap to build per request."""

    def __init__(self, store: Store, settings: ForumSettings,
                 events: IdeaEventSink | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.settings, self.events = store, settings, events
        #: the time writes are stamped with (the demo dates its forum over past weeks)
        self.clock = clock
        # Rate limits count requests as they arrive, on the real clock.
        self.limits = RateLimiter(store, settings.rate_limits)

    async def count_write(self, viewer: Viewer, scope: str) -> None:
        """Count a customer's write against its rate limit (staff are not limited)."""
        if not viewer.staff and viewer.account_id is not None:
            await self.limits.hit(scope, f"account:{viewer.account_id}")

    # -- statuses ---------------------------------------------------------------
    def status(self, key: str) -> StatusSettings:
        """The configured status ``key``; ``BadInput`` listing the valid ones otherwise."""
        found = self.settings.status(key) if isinstance(key, str) else None
        if found is None:
            keys = ", ".join(s.key for s in self.settings.statuses)
            raise BadInput(f"status must be one of {keys}", {"field": "status"})
        return found

    def voting_open(self, idea: Idea) -> bool:
        """Voting closes on closing statuses, on locked and on merged ideas."""
        status = self.settings.status(idea.status)
        return (not (status and status.closed) and not idea.locked and idea.merged_into is None
                and idea.approval == "approved")

    # -- reading ----------------------------------------------------------------
    def visible(self, viewer: Viewer, idea: Idea) -> Idea:
        """The idea as ``viewer`` may see it: hidden ones and those not (yet) approved only for
        staff and the author, spam only for staff, private tags only for staff; ``NotFound``
        otherwise."""
        own = bool(viewer.account_id and viewer.account_id == idea.author_id)
        if (idea.hidden or idea.approval != "approved") and not (viewer.staff or own) \
                or idea.spam and not viewer.staff:
            raise NotFound(f"no idea {idea.id}")
        if viewer.staff or all(t.public for t in idea.tags):
            return idea  # no copy: replace() costs more than the rest of listing an idea
        return replace(idea, tags=tuple(t for t in idea.tags if t.public))

    async def get(self, viewer: Viewer, idea_id: int) -> Idea:
        """One idea as ``viewer`` may see it."""
        return self.visible(viewer, await self.store.get_idea(idea_id))

    def _query(self, viewer: Viewer, *, sort: str = "trending", status: str | None = None,
               topic: str | None = None, tag: str | None = None, mine: bool = False,
               text: str | None = None, limit: int = 20, offset: int = 0) -> IdeaQuery:
        if sort not in SORTS:
            raise BadInput(f"sort must be one of {', '.join(SORTS)}", {"parameter": "sort"})
        if status:
            self.status(status)
        author = None
        if mine:
            author = require_signed_in(viewer).id
        return IdeaQuery(
            sort=sort, status=status, topic=clean_topic(topic) if topic else None,  # type: ignore[arg-type]
            tag=tag.strip().lower() if tag else None, author_id=author, text=text,
            include_hidden=viewer.staff, include_merged=False, include_private_tags=viewer.staff,
            include_unapproved=viewer.staff, unapproved_of=viewer.account_id,
            limit=limit, offset=offset, trending_gravity=self.settings.trending_gravity)

    async def browse(self, viewer: Viewer, *, sort: str = "trending", status: str | None = None,
                     topic: str | None = None, tag: str | None = None, mine: bool = False,
                     text: str | None = None, limit: int = 20, offset: int = 0) -> tuple[list[Idea], int]:
        """A page of ideas and the total matching, sorted and filtered."""
        ideas, total = await self.store.list_ideas(self._query(
            viewer, sort=sort, status=status, topic=topic, tag=tag, mine=mine, text=text, limit=limit,
            offset=offset))
        return [self.visible(viewer, i) for i in ideas], total

    async def browse_with_authors(self, viewer: Viewer, **filters: Any) -> tuple[list[Idea], int, dict[int, Account]]:
        """``browse`` (same filters) with the ideas' authors, read together (the hot list)."""
        ideas, total, authors = await self.store.list_ideas_with_authors(self._query(viewer, **filters))
        return [self.visible(viewer, i) for i in ideas], total, authors

    async def roadmap(self, viewer: Viewer, per_status: int = 50) -> list[tuple[StatusSettings, list[Idea]]]:
        """The public roadmap: every roadmap status with its top ideas."""
        lanes = []
        for status in self.settings.statuses:
            if status.roadmap:
                ideas, _ = await self.browse(viewer, sort="top", status=status.key, limit=per_status)
                lanes.append((status, ideas))
        return lanes

    # -- writing ----------------------------------------------------------------
    async def submit(self, viewer: Viewer, title: object, body: object, topic: object = None,
                     tags: object = None) -> Idea:
        """A new idea in the first status; its author follows it.  With the approval queue on,
        a customer's idea waits for staff (``approval == "pending"``) and is announced to
        routing only once approved."""
        account = require_signed_in(viewer)
        new = NewIdea(
            title=clean_text(title, "title", self.settings.title_max, 3),
            body=clean_text(body, "body", self.settings.body_max, 0),
            author_id=account.id, status=self.settings.statuses[0].key,
            topic=clean_topic(topic), tags=clean_tags(tags, viewer.staff),
            approval="pending" if self.settings.moderation.approve_ideas and not viewer.staff
            else "approved")
        await self.count_write(viewer, "ideas")
        idea = await create_idea(self.store, new, self.clock())
        if self.events is not None and idea.approval == "approved":
            await self.events.idea_created(idea)
        return idea

    async def edit(self, viewer: Viewer, idea_id: int, fields: dict) -> Idea:
        """Change title, body, topic, tags (author within the edit window, staff always);
        hidden and locked (staff)."""
        account = require_signed_in(viewer)
        idea = await self.get(viewer, idea_id)
        unknown = set(fields) - {"title", "body", "topic", "tags", "hidden", "locked"}
        if unknown:
            raise BadInput(f"unknown fields: {', '.join(sorted(unknown))}", {"fields": sorted(unknown)})
        if not viewer.staff:
            window = timedelta(minutes=self.settings.edit_window_minutes)
            if idea.author_id != account.id:
                raise Forbidden("only the author or staff may edit this idea")
            if self.clock() - idea.created_at > window:
                raise Forbidden(f"ideas can be edited for {self.settings.edit_window_minutes} minutes")
            if {"hidden", "locked"} & set(fields):
                raise Forbidden("only staff may hide or lock ideas")
        for flag in ("hidden", "locked"):
            if flag in fields and not isinstance(fields[flag], bool):
                raise BadInput(f"{flag} must be true or false", {"field": flag})
        patch = IdeaPatch(
            title=clean_text(fields["title"], "title", self.settings.title_max, 3) if "title" in fields else None,
            body=clean_text(fields["body"], "body", self.settings.body_max, 0) if "body" in fields else None,
            topic=clean_topic(fields["topic"]) if "topic" in fields else None,
            tags=clean_tags(fields["tags"], viewer.staff) if "tags" in fields else None,
            hidden=fields.get("hidden"), locked=fields.get("locked"))
        if patch.tags is not None and not viewer.staff:
            # A customer's edit keeps the private tags staff set.
            patch = replace(patch, tags=patch.tags + tuple(t for t in (await self.store.get_idea(idea_id)).tags
                                                           if not t.public))
        return self.visible(viewer, await self.store.update_idea(idea_id, patch, self.clock()))

    async def delete(self, viewer: Viewer, idea_id: int) -> None:
        """Staff delete an idea with its votes and comments."""
        require_at_least(viewer, "team", "delete ideas")
        await delete_idea(self.store, idea_id)

    async def change_status(self, viewer: Viewer, idea_id: int, to_status: object,
                            response: object, *, notice_scope: str | None = None) -> StatusChanged:
        """Staff move an idea to another status with a response; returns who to tell.

        ``notice_scope`` (e.g. ``changelog:7``) keys each notification by scope and account
        instead of by change, so a person told once under that scope (by this change, another
        idea's change or the scope's own notices) is told only once."""
        account = require_at_least(viewer, "team", "change an idea's status")
        target = self.status(to_status)  # type: ignore[arg-type]
        text = clean_text(response, "response", 10_000, 1)
        idea = await self.store.get_idea(idea_id)
        if idea.merged_into is not None:
            raise BadInput(f"idea {idea_id} is merged into idea {idea.merged_into}; change that one",
                           {"field": "status"})
        change = StatusChange(idea_id, idea.status, target.key, text, account.id, self.clock())
        recipients = tuple(await status_change_recipients(self.store, idea, change))
        notifications = []
        if self.events is not None:
            after = replace(idea, status=target.key, status_response=text,
                            status_changed_at=change.created_at)
            notifications = await self.events.status_notifications(after, change, recipients)
            if notice_scope is not None:
                notifications = [(replace(note, dedupe_key=f"{notice_scope}:{note.account_id}"), mail)
                                 for note, mail in notifications]
        # The change and the mail it causes are one write: a failure leaves neither.
        updated = await set_status(self.store, change, notifications)
        if self.events is not None:
            await self.events.status_changed(updated, change, recipients)
        return StatusChanged(updated, change, recipients)


async def status_change_recipients(store: Store, idea: Idea, change: StatusChange) -> list[int]:
    """Accounts to notify of a status change: the idea's followers (authors, voters and
    commenters follow automatically), except the staff member who made the change.
    ``IdeaEvents`` mails them (respecting each account's mail setting)."""
    return [a for a in await store.followers(idea.id) if a != change.account_id]
