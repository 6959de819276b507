"""Moderation: the approval queue, hide, lock, spam flags, customers' reports, blocking.

Staff (team and above) moderate ideas and comments; blocking an account is for managers and
above (``Accounts.set_blocked``).  Every action resolves the open reports on its item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from community import comments as comment_rules, statuses
from community.access import Viewer, require_at_least, require_signed_in
from community.accounts import Accounts
from community.engagement import Engagement
from community.ideas import IdeaEventSink, Ideas, clean_text
from config.forum import ForumSettings
from domain import utcnow
from domain.forum import Account, Comment, ContentReport, Idea
from domain.errors import BadInput
from storage import Store
from storage.contract.uow import UnitOfWork

#: Moderation actions on an idea, each with the flags it sets.
IDEA_ACTIONS: dict[str, dict[str, object]] = {
    "approve": {"approval": "approved"}, "reject": {"approval": "rejected"},
    "hide": {"hidden": True}, "unhide": {"hidden": False},
    "spam": {"spam": True, "hidden": True}, "not-spam": {"spam": False, "hidden": False},
    "lock": {"locked": True}, "unlock": {"locked": False}, "dismiss": {},
}
#: ... and on a comment (comments cannot be locked).
COMMENT_ACTIONS: dict[str, dict[str, object]] = {
    k: v for k, v in IDEA_ACTIONS.items() if k not in ("lock", "unlock")}
REPORT_KINDS = ("idea", "comment")


@dataclass(frozen=True, slots=True)
class ModerationQueue:
    """What waits for staff: unapproved ideas and comments, open reports, ideas marked spam."""

    ideas: list[Idea]
    comments: list[Comment]
    reports: list[ContentReport]
    spam: list[Idea]


async def report_in(uow: UnitOfWork, kind: str, item_id: int, account_id: int, reason: str,
                    now: datetime) -> bool:
    """File an account's report on an item; False while it has one open there.  A resolved
    report may be filed again: the old one makes way."""
    await uow.reports.drop_resolved(kind, item_id, account_id)
    return await uow.reports.add(kind, item_id, account_id, reason, now)


async def file_report(store: Store, kind: str, item_id: int, account_id: int, reason: str,
                      now: datetime) -> bool:
    """``report_in`` in a unit of work of its own."""
    return await store.unit_of_work().run(lambda uow: report_in(uow, kind, item_id, account_id, reason, now))


async def resolve_reports(store: Store, kind: str, item_id: int, now: datetime) -> int:
    """Close every open report on an item; how many were closed."""
    return await store.unit_of_work().run(lambda uow: uow.reports.resolve(kind, item_id, now))


def _action(value: object, allowed: dict[str, dict[str, object]]) -> dict[str, object]:
    if not isinstance(value, str) or value not in allowed:
        raise BadInput(f"action must be one of {', '.join(allowed)}", {"field": "action"})
    return allowed[value]


class Moderation:
    """Moderation rules over a store; cheap to build per request."""

    def __init__(self, store: Store, settings: ForumSettings,
                 events: IdeaEventSink | None = None) -> None:
        self.store, self.settings, self.events = store, settings, events

    async def queue(self, viewer: Viewer, limit: int = 100) -> ModerationQueue:
        """Everything waiting for a moderator."""
        require_at_least(viewer, "team", "moderate the forum")
        return ModerationQueue(await self.store.unapproved_ideas(limit),
                               # a comment deleted while waiting no longer waits for anyone
                               await self.store.unapproved_comments(limit, deleted=False),
                               await self.store.open_reports(limit),
                               await self.store.flagged_ideas(limit))

    async def moderate_idea(self, viewer: Viewer, idea_id: int, action: object) -> Idea:
        """Approve, reject, hide, unhide, lock, unlock, mark spam (hides it), clear spam, or
        dismiss reports on an idea."""
        require_at_least(viewer, "team", "moderate ideas")
        flags = statuses.checked_idea_flags(**_action(action, IDEA_ACTIONS))  # type: ignore[arg-type]
        now = utcnow()

        async def work(uow: UnitOfWork) -> tuple[Idea, Idea]:
            moderated = await statuses.moderate_idea_in(uow, idea_id, flags, now)
            await uow.reports.resolve("idea", idea_id, now)
            return moderated

        # The flags, the idea.created event of an approval and the reports closed: one write.
        before, idea = await self.store.unit_of_work().run(work)
        if before.approval != "approved" and idea.approval == "approved" and self.events is not None:
            await self.events.idea_created(idea)  # routing hears of it only once it is public
        return idea

    async def moderate_comment(self, viewer: Viewer, comment_id: int, action: object) -> Comment:
        """Approve, reject, hide, unhide, mark spam (hides it), clear spam, or dismiss reports
        on a comment."""
        require_at_least(viewer, "team", "moderate comments")
        flags = comment_rules.checked_flags(**_action(action, COMMENT_ACTIONS))  # type: ignore[arg-type]
        now = utcnow()

        async def work(uow: UnitOfWork) -> Comment:
            comment = await comment_rules.moderate_in(uow, comment_id, flags)
            await uow.reports.resolve("comment", comment_id, now)
            return comment

        return await self.store.unit_of_work().run(work)

    async def report(self, viewer: Viewer, kind: object, item_id: int, reason: object) -> bool:
        """A signed-in person reports an idea or comment they can see; False if they had
        reported it already."""
        account = require_signed_in(viewer)
        if kind not in REPORT_KINDS:
            raise BadInput("kind must be idea or comment", {"field": "kind"})
        text = clean_text(reason if reason is not None else "", "reason", 1000, 0) or "no reason given"
        engagement = Engagement(self.store, self.settings)
        if kind == "idea":
            await Ideas(self.store, self.settings).get(viewer, item_id)
        else:
            comment = await self.store.get_comment(item_id)
            # Only comments this person can see, on an idea they can see.
            visible = {c.id for c in await engagement.comments(viewer, comment.idea_id)}
            if item_id not in visible:
                raise BadInput(f"no comment {item_id} to report", {"field": "item_id"})
        return await file_report(self.store, str(kind), item_id, account.id, text, utcnow())

    async def block(self, viewer: Viewer, accounts: Accounts, account_id: int, blocked: bool) -> Account:
        """Block (or unblock) an account: it can no longer sign in, post, vote or comment."""
        return await accounts.set_blocked(viewer, account_id, blocked)
