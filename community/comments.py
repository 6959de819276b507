"""Comments, written once over the unit of work: both backends run these rules.

A comment counts on its idea (``Idea.comment_count``) while it is public, approved, not
hidden and not deleted (``counts``).  Adding one stores it, counts it when it counts and lets
its author follow the idea (not for an internal note); deleting one empties its text (its
replies stay) and uncounts it if it counted; moderating one sets its flags and recounts its
idea's comments (the flags combine in too many ways to add or subtract).

Order of writes: the comment first, the count after it, so that on a MongoDB server without
transactions a crash in between leaves the count one short (recounted by the next
moderation of a comment on the idea or a merge), never a count without its comment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from domain.errors import Conflict, NotFound
from domain.forum import Comment
from storage import Store
from storage.contract.uow import StaleRead, UnitOfWork
from storage.contract.uow_forum import Flags

R = TypeVar("R")
#: approval states of ideas and comments
APPROVALS = ("pending", "approved", "rejected")
#: How many times a change is tried again after the comment changed under it (a MongoDB
#: server without transactions; a SQLite transaction holds the comment still).
STALE_RETRIES = 8


def counts(comment: Comment) -> bool:
    """Whether the comment counts on its idea: public, approved, not hidden, not deleted."""
    return (not comment.internal and not comment.deleted and not comment.hidden
            and comment.approval == "approved")


def checked_flags(approval: str | None = None, hidden: bool | None = None,
                  spam: bool | None = None) -> Flags:
    """The moderation flags given (``None`` keeps one); ``ValueError`` for an unknown approval."""
    if approval is not None and approval not in APPROVALS:
        raise ValueError(f"approval must be one of {APPROVALS}")
    return {k: v for k, v in (("approval", approval), ("hidden", hidden), ("spam", spam)) if v is not None}


async def add_in(uow: UnitOfWork, idea_id: int, author_id: int | None, body: str, parent_id: int | None,
                 internal: bool, now: datetime, approval: str = "approved") -> Comment:
    """Store a comment on an idea (``NotFound``), count it if it counts, and let its author
    follow the idea unless it is an internal note."""
    await uow.ideas.get(idea_id)
    comment = await uow.comment_records.add(idea_id, author_id, body, parent_id, internal, approval, now)
    if counts(comment):
        await uow.idea_records.count_comments(idea_id, 1)
    if not internal and author_id is not None:
        await uow.followers.add(idea_id, [author_id])
    return comment


async def edit_in(uow: UnitOfWork, comment_id: int, body: str, now: datetime) -> Comment:
    """Change a comment's text; a deleted comment is gone (``NotFound``)."""
    comment = await uow.comment_records.get(comment_id)
    if comment.deleted:
        raise NotFound(f"no comment {comment_id}")
    changed = await uow.comment_records.set_body(comment, body, now)
    if changed is None:
        raise StaleRead(f"comment {comment_id} changed while it was edited")
    return changed


async def delete_in(uow: UnitOfWork, comment_id: int, now: datetime) -> None:
    """Mark a comment deleted (its replies stay) and uncount it if it counted; a comment
    deleted already is gone (``NotFound``)."""
    comment = await uow.comment_records.get(comment_id)
    if comment.deleted:
        raise NotFound(f"no comment {comment_id}")
    if await uow.comment_records.mark_deleted(comment, now) is None:
        raise StaleRead(f"comment {comment_id} changed while it was deleted")
    if counts(comment):
        await uow.idea_records.count_comments(comment.idea_id, -1)


async def moderate_in(uow: UnitOfWork, comment_id: int, flags: Flags) -> Comment:
    """Set a comment's moderation flags (``checked_flags``; ``NotFound``) and recount the
    comments that count on its idea."""
    comment = await uow.comment_records.set_flags(comment_id, flags)
    # Last: without a transaction a crash before it leaves a count the next change corrects.
    await recount_in(uow, comment.idea_id)
    return comment


async def recount_in(uow: UnitOfWork, idea_id: int) -> None:
    """Set the idea's comment count to the comments that count (``counts``)."""
    counted = await uow.comment_records.count(idea_id, internal=False, deleted=False,
                                              hidden=False, approval="approved")  # as ``counts``
    await uow.idea_records.set_comment_count(idea_id, counted)


async def _retried(store: Store, what: str, work: Callable[[UnitOfWork], Awaitable[R]]) -> R:
    for _ in range(STALE_RETRIES):
        try:
            return await store.unit_of_work().run(work)
        except StaleRead:
            continue
    raise Conflict(f"the comment kept changing while it was {what}; try again")


async def add_comment(store: Store, idea_id: int, author_id: int | None, body: str,
                      parent_id: int | None, internal: bool, now: datetime,
                      approval: str = "approved") -> Comment:
    """``add_in`` in a unit of work of its own."""
    return await store.unit_of_work().run(
        lambda uow: add_in(uow, idea_id, author_id, body, parent_id, internal, now, approval))


async def edit_comment(store: Store, comment_id: int, body: str, now: datetime) -> Comment:
    """``edit_in`` in a unit of work of its own (again while the comment changes under it)."""
    return await _retried(store, "edited", lambda uow: edit_in(uow, comment_id, body, now))


async def delete_comment(store: Store, comment_id: int, now: datetime) -> None:
    """``delete_in`` in a unit of work of its own (again while the comment changes under it)."""
    await _retried(store, "deleted", lambda uow: delete_in(uow, comment_id, now))


async def moderate_comment(store: Store, comment_id: int, *, approval: str | None = None,
                           hidden: bool | None = None, spam: bool | None = None) -> Comment:
    """``moderate_in`` in a unit of work of its own."""
    flags = checked_flags(approval, hidden, spam)
    return await store.unit_of_work().run(lambda uow: moderate_in(uow, comment_id, flags))
