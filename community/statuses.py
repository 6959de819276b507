"""An idea's creation, status, moderation state and deletion, written once over the unit of
work: both backends run these rules.

A new idea is followed by its author and, public from the start, records ``idea.created``
(one waiting for approval records it when approved).  A status change moves the idea from the status it was read in (``Conflict`` when someone
moved it meanwhile), records the change in its history, stores the followers' notifications
with their mail and records ``idea.status_changed`` — one unit of work, so a failure leaves
none of it.  Moderating an idea sets its flags and, when that makes it approved for the first
time, records ``idea.created`` (routing hears of an idea only once it is public).  Deleting an
idea first lets the ideas merged into it stand on their own again.

Order of writes (for a MongoDB server without transactions, where each write stands alone):
every check before the first write; the status before its history, notifications and event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from community.comments import APPROVALS
from domain.errors import Conflict
from domain.events import IDEA_CREATED, IDEA_STATUS_CHANGED, NewEvent
from domain.forum import Idea, NewIdea, StatusChange
from domain.notify import Notification
from domain.routing import Delivery
from storage import Store
from storage.contract.uow import UnitOfWork
from storage.contract.uow_forum import Flags

Notifications = Sequence[tuple[Notification, Delivery | None]]


def created_events(before: str | None, idea_id: int, approval: str) -> list[NewEvent]:
    """The ``idea.created`` event of an idea becoming public: stored approved (``before``
    ``None``) or approved by a moderator from ``before``; routing hears of an idea waiting
    for moderation only once it is public."""
    if approval != "approved" or before == "approved":
        return []
    return [NewEvent(IDEA_CREATED, str(idea_id))]


async def create_idea_in(uow: UnitOfWork, idea: NewIdea, now: datetime) -> Idea:
    """Store a new idea; its author follows it, and an idea public from the start records
    ``idea.created`` with it (one waiting for approval records it once approved)."""
    followers = [] if idea.author_id is None else [idea.author_id]
    return await uow.idea_records.add(idea, now, followers,
                                      lambda idea_id: created_events(None, idea_id, idea.approval))


async def create_idea(store: Store, idea: NewIdea, now: datetime) -> Idea:
    """``create_idea_in`` in a unit of work of its own."""
    return await store.unit_of_work().run(lambda uow: create_idea_in(uow, idea, now))


def status_event(change: StatusChange) -> NewEvent:
    """The ``idea.status_changed`` event of a status change."""
    return NewEvent(IDEA_STATUS_CHANGED, str(change.idea_id),
                    {"from": change.from_status, "to": change.to_status})


def checked_idea_flags(approval: str | None = None, hidden: bool | None = None,
                       spam: bool | None = None, locked: bool | None = None) -> Flags:
    """The moderation flags given (``None`` keeps one); ``ValueError`` for an unknown approval."""
    if approval is not None and approval not in APPROVALS:
        raise ValueError(f"approval must be one of {APPROVALS}")
    return {k: v for k, v in (("approval", approval), ("hidden", hidden), ("spam", spam),
                              ("locked", locked)) if v is not None}


async def set_status_in(uow: UnitOfWork, change: StatusChange, notifications: Notifications = ()) -> Idea:
    """Move the idea to ``change.to_status`` with its history, notifications and event (see
    the module's docstring); ``NotFound``; ``Conflict`` when the idea's status is no longer
    ``change.from_status``."""
    await uow.ideas.get(change.idea_id)
    await uow.notifications.refuse_unknown_accounts(notifications)
    if not await uow.idea_records.move_status(change):
        raise Conflict("the idea's status changed meanwhile; reload and try again",
                       {"expected": change.from_status})
    await uow.status_changes.add(change)
    await uow.notifications.add(notifications)
    await uow.events.record([status_event(change)], change.created_at)
    return await uow.ideas.get(change.idea_id)


async def moderate_idea_in(uow: UnitOfWork, idea_id: int, flags: Flags,
                           now: datetime) -> tuple[Idea, Idea]:
    """Set an idea's moderation flags (``checked_idea_flags``; ``NotFound``); approved now for
    the first time, it is public from now on: ``idea.created`` is recorded with the approval.
    The idea before and after."""
    before = await uow.ideas.get(idea_id)
    await uow.idea_records.set_flags(idea_id, flags, now)
    after = await uow.ideas.get(idea_id)
    await uow.events.record(created_events(before.approval, idea_id, after.approval), now)
    return before, after


async def delete_idea_in(uow: UnitOfWork, idea_id: int) -> None:
    """Delete an idea with everything of it (``NotFound``); the ideas merged into it first
    stand on their own again, so that nothing points at a deleted idea."""
    await uow.ideas.get(idea_id)
    await uow.idea_records.release_merged(idea_id)
    await uow.idea_records.delete(idea_id)


async def set_status(store: Store, change: StatusChange, notifications: Notifications = ()) -> Idea:
    """``set_status_in`` in a unit of work of its own."""
    return await store.unit_of_work().run(lambda uow: set_status_in(uow, change, notifications))


async def moderate_idea(store: Store, idea_id: int, now: datetime, *, approval: str | None = None,
                        hidden: bool | None = None, spam: bool | None = None,
                        locked: bool | None = None) -> Idea:
    """``moderate_idea_in`` in a unit of work of its own."""
    flags = checked_idea_flags(approval, hidden, spam, locked)
    _before, after = await store.unit_of_work().run(lambda uow: moderate_idea_in(uow, idea_id, flags, now))
    return after


async def delete_idea(store: Store, idea_id: int) -> None:
    """``delete_idea_in`` in a unit of work of its own."""
    await store.unit_of_work().run(lambda uow: delete_idea_in(uow, idea_id))
