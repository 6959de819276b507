"""Publishing a changelog entry: its ideas move to the shipped status and everyone who asked
is told, once.

Steps, each safe to run again (a double click, or a retry after a crash between them):

1. the entry becomes ``publishing`` (public; ``published_at`` set the first time only);
2. each shipped idea not in the shipped status yet moves there through
   ``Ideas.change_status`` (status history, routing event, follower and linked-customer
   notices and the team note about linked customers without an account, as for any change),
   its notices keyed ``changelog:<entry>:<account>``;  an idea that was in the shipped
   status already gets the team note here, once per entry (``record_threshold``);
3. everyone who voted, followed, commented or was linked by a social mention gets one
   notice (and mail) keyed the same way: the store keeps one per key, so nobody told in
   step 2, for another idea of the entry or by an earlier try is told again;
4. the entry becomes ``published``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from community.access import Viewer, require_at_least
from community.changelog import WRITER_ROLE
from community.ideas import IdeaEventSink, Ideas
from community.notify import CUSTOMER_MAIL, Notifier
from community.notify_mail import unsubscribe_url
from domain.routing import Delivery
from config.forum import ForumSettings
from domain import utcnow
from domain.changelog import ChangelogEntry
from domain.forum import Idea, StatusChange
from domain.notify import Notification
from domain.errors import BadInput, Conflict
from storage import Store

#: Why a person hears of the entry, strongest first (one reason each is shown).
REASONS = {
    "voted": "you voted for it",
    "commented": "you commented on it",
    "followed": "you follow it",
    "linked": "what you said about it on social media is linked to it",
}
#: Notices written per transaction (each batch is safe to write again).
_BATCH = 500


@dataclass(frozen=True, slots=True)
class Published:
    """What publishing did: the entry, the ideas it moved, and how many new notices went out
    in its own step (the moved ideas' status notices not counted)."""

    entry: ChangelogEntry
    moved_idea_ids: tuple[int, ...]
    notified: int


def changelog_mail(entry: ChangelogEntry, idea: Idea, why: str, base_url: str,
                   unsubscribe: str) -> dict[str, Any]:
    """The mail telling someone who asked for ``idea`` that ``entry`` shipped it."""
    base = base_url.rstrip("/")
    body = "\n".join([
        f"\u201c{idea.title}\u201d shipped: {entry.title}", "",
        f"Read what changed: {base}/forum/changelog/{entry.id}",
        f"See the idea: {base}/forum/ideas/{idea.id}", "",
        "--",
        f"You get this mail because {REASONS[why]}.",
        f"Stop mail about this idea (one click): {unsubscribe}",
    ])
    subject = " ".join(f"Shipped: {entry.title}".split())[:200]
    return {"subject": subject, "body": body,
            "headers": {"List-Unsubscribe": f"<{unsubscribe}>",
                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                        "Auto-Submitted": "auto-generated"}}


async def askers(store: Store, notifier: Notifier | None, idea: Idea) -> dict[int, str]:
    """Accounts that asked for ``idea`` and the strongest reason of each: voted (a proxy
    vote counts for the customer's accounts), commented (internal notes and deleted comments
    do not count), followed, or linked through a social mention."""
    found: dict[int, str] = {}
    votes = await store.list_votes(idea.id)
    # a blocked account is told nothing
    proxied = await store.accounts_for_customers(sorted({v.customer_id for v in votes if v.proxy}),
                                                 blocked=False)
    for vote in votes:
        ids = proxied.get(vote.customer_id, []) if vote.proxy else [vote.account_id]
        for account_id in ids:
            if account_id is not None:
                found.setdefault(account_id, "voted")
    for comment in await store.list_comments(idea.id, include_internal=False):
        if comment.author_id is not None and not comment.deleted and not comment.internal:
            found.setdefault(comment.author_id, "commented")
    for account_id in await store.followers(idea.id):
        found.setdefault(account_id, "followed")
    if notifier is not None:
        linked, _ = await notifier.linked_customer_accounts(idea.id)
        for account_id in linked:
            found.setdefault(account_id, "linked")
    return found


class ChangelogPublisher:
    """Publishes entries (see the module's steps); cheap to build per request."""

    def __init__(self, store: Store, settings: ForumSettings, events: IdeaEventSink | None,
                 notifier: Notifier | None, clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.settings, self.events = store, settings, events
        self.notifier, self.clock = notifier, clock

    async def publish(self, viewer: Viewer, entry_id: int) -> Published:
        """Publish an entry (managers and admins); publishing it again changes nothing."""
        account = require_at_least(viewer, WRITER_ROLE, "publish the changelog")
        entry = await self.store.get_changelog_entry(entry_id)
        if entry.state == "published":
            return Published(entry, (), 0)
        shipped = self.settings.shipped_status()
        if shipped is None:
            raise BadInput("no closed status is configured to ship ideas to", {"field": "status"})
        now = self.clock()
        if entry.state == "draft":
            entry = await self.store.set_changelog_state(entry.id, "publishing", now)
        ideas = await self._current_ideas(entry)
        scope = f"changelog:{entry.id}"
        moved = []
        for idea in ideas:
            if await self._ship(viewer, entry, idea, shipped.key, scope, now):
                moved.append(idea.id)
        notified = await self._tell_askers(entry, ideas, account.id, now)
        entry = await self.store.set_changelog_state(entry.id, "published", now)
        return Published(entry, tuple(moved), notified)

    async def _current_ideas(self, entry: ChangelogEntry) -> list[Idea]:
        # Ideas merged since the entry was written ship their merge target; ideas deleted
        # since are left out (refusing would make the entry impossible to publish).
        found = await self.store.get_ideas(list(entry.idea_ids))
        ideas: dict[int, Idea] = {}
        for idea_id in entry.idea_ids:
            idea = found.get(idea_id)
            hops = 0
            while idea is not None and idea.merged_into is not None and hops < 20:
                idea = (await self.store.get_ideas([idea.merged_into])).get(idea.merged_into)
                hops += 1
            if idea is not None and idea.merged_into is None:
                ideas.setdefault(idea.id, idea)
        return list(ideas.values())

    async def _ship(self, viewer: Viewer, entry: ChangelogEntry, idea: Idea, status: str,
                    scope: str, now: datetime) -> bool:
        """Move one idea to ``status``; True when this call moved it."""
        # Recorded before the move: on a retry an idea found shipped with the mark already
        # there was moved by this entry (its status change told the teams).
        first_look = await self.store.record_threshold(idea.id, scope, now)
        if idea.status != status:
            try:
                await Ideas(self.store, self.settings, self.events).change_status(
                    viewer, idea.id, status, self._response(entry), notice_scope=scope)
                return True
            except Conflict:  # a parallel publish (double click) moved it first
                idea = await self.store.get_idea(idea.id)
                if idea.status != status:
                    raise
                return False
        if first_look and self.notifier is not None:
            _, unreachable = await self.notifier.linked_customer_accounts(idea.id)
            if unreachable:
                note = StatusChange(idea.id, idea.status, status, self._response(entry),
                                    viewer.account_id, now)
                await self.notifier.hand_to_teams(idea, note, unreachable)
        return False

    def _response(self, entry: ChangelogEntry) -> str:
        base = self.notifier.base_url if self.notifier is not None else ""
        # An autolink: a link on the idea's page (Markdown), the bare address in mail.
        return (f"Shipped \u2014 read \u201c{entry.title}\u201d in the changelog: "
                f"<{base}/forum/changelog/{entry.id}>")

    async def _tell_askers(self, entry: ChangelogEntry, ideas: list[Idea], publisher_id: int,
                           now: datetime) -> int:
        if self.notifier is None:
            return 0
        first_idea: dict[int, tuple[Idea, str]] = {}
        for idea in ideas:
            for account_id, why in (await askers(self.store, self.notifier, idea)).items():
                if account_id != publisher_id:
                    first_idea.setdefault(account_id, (idea, why))
        accounts = await self.store.get_accounts(sorted(first_idea))
        wants = await self.store.mail_enabled(sorted(first_idea))
        opted_out = {idea.id: await self.store.opted_out(idea.id) for idea in ideas}
        items: list[tuple[Notification, Delivery | None]] = []
        for account_id, (idea, why) in first_idea.items():
            account = accounts.get(account_id)
            if account is None or account.blocked:
                continue
            items.append(self._notice(entry, idea, why, account_id, now, mail_to=account.email if (
                account_id not in opted_out[idea.id]
                and self.notifier.may_mail(account, wants.get(account_id, True))) else None))
        stored = 0
        for start in range(0, len(items), _BATCH):
            stored += len(await self.store.enqueue_notifications(items[start:start + _BATCH]))
        return stored

    def _notice(self, entry: ChangelogEntry, idea: Idea, why: str, account_id: int,
                now: datetime, mail_to: str | None) -> tuple[Notification, Delivery | None]:
        assert self.notifier is not None
        note = Notification(
            account_id=account_id, idea_id=idea.id, kind="changelog",
            title=" ".join(f"Shipped: {entry.title}".split())[:200],
            body=f"\u201c{idea.title}\u201d shipped \u2014 {REASONS[why]}.",
            url=f"/forum/changelog/{entry.id}", created_at=now,
            dedupe_key=f"changelog:{entry.id}:{account_id}")
        if mail_to is None:
            return note, None
        token = self.notifier.tokens.make(account_id, idea.id)
        payload = changelog_mail(entry, idea, why, self.notifier.base_url,
                                 unsubscribe_url(self.notifier.base_url, token))
        # Keyed by entry and account: the outbox sends a key once however often it is queued.
        return note, Delivery(routed_id=None, team_key=CUSTOMER_MAIL, channel="mail",
                              target={"to": [mail_to]}, payload=payload,
                              idempotency_key=f"changelog_{entry.id}_{account_id}", next_attempt_at=now)
