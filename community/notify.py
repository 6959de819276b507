"""Closing the loop with customers: follower mail and in-app notifications on status changes
and staff responses, account mail (verification, sign-in link, password reset), one-click
unsubscribe and per-account mail settings.

Nothing is sent here: every mail is written to the routing outbox (retried with back-off,
dead-lettered, visible in ``GET /api/deliveries``) together with its in-app notification,
in one transaction, and the outbox worker sends it.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone

from community.following import follow
from community.access import Viewer, require_signed_in
from community.notify_mail import (
    UnsubscribeTokens,
    account_mail,
    status_mail,
    unsubscribe_url,
)
from community.routing_items import speaking_customer
from domain.routing import Delivery
from config.forum import ForumSettings
from config.notify import NotifySettings
from domain import utcnow
from domain.forum import Account, Idea, StatusChange
from domain.notify import Notification
from domain.errors import BadInput, ConfigError, NotFound
from storage import Store

log = logging.getLogger(__name__)

#: The outbox's ``team_key`` of mail to customers (not a valid team key, so never a team's).
CUSTOMER_MAIL = "@customers"
_KEY_META = "notify.unsubscribe_key"


async def unsubscribe_key(store: Store, settings: NotifySettings, environ: Mapping[str, str]) -> bytes:
    """The key signing unsubscribe links: from the named variable, else one kept in the store
    (made on first start, so links keep working across restarts and processes)."""
    if settings.unsubscribe_key_env:
        value = environ.get(settings.unsubscribe_key_env, "")
        if len(value) < 16:
            raise ConfigError("notify.unsubscribe_key_env", settings.unsubscribe_key_env,
                              "a variable holding at least 16 characters")
        return value.encode()
    stored = await store.get_meta(_KEY_META)
    if stored is None:
        # Two processes starting at once may both write; the last one wins before any mail.
        stored = secrets.token_urlsafe(32)
        await store.set_meta(_KEY_META, stored)
    return stored.encode()


def _mail(to: str, payload: dict, at: datetime) -> Delivery:
    return Delivery(routed_id=None, team_key=CUSTOMER_MAIL, channel="mail", target={"to": [to]},
                    payload=payload, idempotency_key=f"mail_{uuid.uuid4().hex}", next_attempt_at=at)


class Notifier:
    """Turns status changes and account events into notifications and outbox mail."""

    def __init__(self, store: Store, settings: NotifySettings, forum: ForumSettings,
                 base_url: str, key: bytes) -> None:
        self.store, self.settings, self.forum = store, settings, forum
        self.base_url = (settings.base_url or base_url).rstrip("/")
        self.tokens = UnsubscribeTokens(key)
        #: The same stored key signs the forum's pending-vote marker (under its own label).
        self.key = key
        #: Drafts the replies on the platforms where linked customers spoke when an idea
        #: ships; returns the customers they cover (set by the composition root).
        self.shipped_replies: Callable[[Idea, StatusChange], Awaitable[set[str]]] | None = None

    def _mailable(self, account: Account, wants_mail: bool) -> bool:
        return (self.settings.mail_enabled and wants_mail and not account.blocked
                and (account.email_verified or not self.settings.verified_only))

    def may_mail(self, account: Account, wants_mail: bool) -> bool:
        """Whether notification mail may go to ``account`` (mail on, not blocked, verified
        when only verified addresses are mailed) given its own mail setting."""
        return self._mailable(account, wants_mail)

    async def hand_to_teams(self, idea: Idea, change: StatusChange, customer_ids: list[str]) -> None:
        """Leave the teams that own ``idea`` a note to tell these linked social customers
        (who have no account) about ``change``."""
        await self._tell_teams(idea, change, customer_ids, self._label(change.to_status))

    async def linked_customer_accounts(self, idea_id: int) -> tuple[dict[int, str], list[str]]:
        """Accounts of customers whose linked social mentions back an idea (account id ->
        customer id), and the linked customers who have no account."""
        customer_ids: list[str] = []
        for mention_id in await self.store.idea_mentions(idea_id):
            try:
                link = speaking_customer(await self.store.get_mention(mention_id))
            except NotFound:
                continue
            if link is not None and link.customer_id not in customer_ids:
                customer_ids.append(link.customer_id)
        accounts = await self.store.accounts_for_customers(customer_ids, blocked=False)  # blocked: no mail
        by_account = {a: c for c, ids in accounts.items() for a in ids}
        return by_account, [c for c in customer_ids if c not in accounts]

    async def status_notifications(
        self, idea: Idea, change: StatusChange, follower_ids: tuple[int, ...]
    ) -> list[tuple[Notification, Delivery | None]]:
        """The in-app notifications (with their outbox mail) a status change or response
        causes: for followers and linked customers, once per account and change however
        often it is replayed.  Nothing is written: ``Store.set_status`` stores them together
        with the change, in one transaction."""
        linked, _ = await self.linked_customer_accounts(idea.id)
        opted_out = await self.store.opted_out(idea.id)
        why = {a: "you follow this idea" for a in follower_ids}
        for account_id in linked:
            if account_id not in why and account_id not in opted_out and account_id != change.account_id:
                why[account_id] = "what you said about this on social media is linked to it"
        accounts = await self.store.get_accounts(sorted(why))
        wants = await self.store.mail_enabled(sorted(why))
        label = self._label(change.to_status)
        stamp = change.created_at.isoformat()
        items: list[tuple[Notification, Delivery | None]] = []
        for account_id, reason in why.items():
            account = accounts.get(account_id)
            if account is None or account.blocked:
                # A blocked account cannot sign in to read a notice, and mail is not sent to
                # it: it is told nothing (as the changelog's notices do).
                continue
            token = self.tokens.make(account_id, idea.id)
            payload = status_mail(idea, change, label, self.base_url,
                                  unsubscribe_url(self.base_url, token), reason)
            note = Notification(
                account_id=account_id, idea_id=idea.id,
                kind="status_changed" if change.from_status != change.to_status else "response",
                title=payload["subject"], body=change.response,
                url=f"/forum/ideas/{idea.id}", created_at=change.created_at,
                dedupe_key=f"status:{idea.id}:{stamp}:{account_id}")
            delivery = _mail(account.email, payload, change.created_at) \
                if self._mailable(account, wants.get(account_id, True)) else None
            items.append((note, delivery))
        return items

    def _label(self, status_key: str) -> str:
        status = self.forum.status(status_key)
        return status.label if status else status_key

    async def status_stored(self, idea: Idea, change: StatusChange) -> None:
        """After the change (and its notifications) are stored — called by the
        ``notifications`` consumer of the recorded event, at least once, so both parts are
        idempotent: customers linked only through social mentions, who have no account to
        notify, get a drafted reply where they spoke when the idea shipped and their platform
        has a writer; the others become a note for the owning team."""
        _, unreachable = await self.linked_customer_accounts(idea.id)
        if self.shipped_replies is not None:
            # A drafted reply on their platform tells them; the note is for the others.
            covered = await self.shipped_replies(idea, change)
            unreachable = [c for c in unreachable if c not in covered]
        if unreachable:
            await self._tell_teams(idea, change, unreachable, self._label(change.to_status))

    async def _tell_teams(self, idea: Idea, change: StatusChange, customer_ids: list[str],
                          label: str) -> None:
        # Customers known only from social media cannot be mailed: leave the team that owns
        # the idea a note with a suggested public reply.
        customers = await self.store.get_customers(customer_ids)
        names = ", ".join(customers[c].name if c in customers else c for c in customer_ids)
        note = (f"Tell the linked social customers ({names}) that \u201c{idea.title}\u201d is now "
                f"{label}. Suggested public reply: \u201cThanks for the feedback \u2014 this is now "
                f"{label.lower()}: {self.base_url}/forum/ideas/{idea.id}\u201d")
        routings = await self.store.routed_for_item("idea", str(idea.id))
        for routed in routings:
            assert routed.id is not None
            # A replayed status event (at least once), or two processes handling it at the
            # same moment, must not leave the note twice: the store writes it only if the
            # item has no note with this change's key (a check here and a write after it
            # would let both racers through).
            await self.store.update_routed(routed.id, "notify", change.created_at, comment=note,
                                           note_key=team_note_key(change))
        if not routings:
            log.info("idea %s: %d linked customer(s) without an account and no team queue to "
                     "note it in", idea.id, len(customer_ids))

    async def account_mail(self, kind: str, account: Account, secret: str) -> None:
        """Queue a verification, sign-in link or password-reset mail."""
        now = utcnow()
        await self.store.enqueue_deliveries(
            [_mail(account.email, account_mail(kind, account.name, secret, self.base_url), now)], now)

    async def unsubscribe(self, token: object) -> int:
        """Stop the follow (and linked-mention mail) a one-click token names; the idea id."""
        account_id, idea_id = self.tokens.read(token)
        now = utcnow()
        try:
            await self.store.get_account(account_id)
            await self.store.get_idea(idea_id)
        except NotFound:
            return idea_id  # nothing left to stop mailing about
        await follow(self.store, idea_id, account_id, False)
        await self.store.set_opted_out(idea_id, account_id, True, now)
        return idea_id

    async def settings_of(self, viewer: Viewer) -> dict[str, bool]:
        """The viewer's notification settings: mail on each event, and the daily digest."""
        account = require_signed_in(viewer)
        return {"mail": (await self.store.mail_enabled([account.id]))[account.id],
                "digest": (await self.store.digest_enabled([account.id]))[account.id]}

    async def set_mail(self, viewer: Viewer, on: bool) -> dict[str, bool]:
        """Turn the viewer's notification mail on or off."""
        account = require_signed_in(viewer)
        await self.store.set_mail_enabled(account.id, on, utcnow())
        return await self.settings_of(viewer)

    async def change_settings(self, viewer: Viewer, mail: object = None,
                              digest: object = None) -> dict[str, bool]:
        """Change the viewer's mail and/or daily-digest setting (``None`` keeps one)."""
        account = require_signed_in(viewer)
        for name, value in (("mail", mail), ("digest", digest)):
            if value is not None and not isinstance(value, bool):
                raise BadInput(f"{name} must be true or false", {"field": name})
        if mail is not None:
            await self.store.set_mail_enabled(account.id, bool(mail), utcnow())
        if digest is not None:
            await self.store.set_digest_enabled(account.id, bool(digest), utcnow())
        return await self.settings_of(viewer)


def team_note_key(change: StatusChange) -> str:
    """The key of a status change's team note on each routed item of its idea: the change's
    time (UTC, microseconds), so that notes stored before keys existed get the same key from
    their stored time (migration 0076)."""
    at = change.created_at if change.created_at.tzinfo else change.created_at.replace(tzinfo=timezone.utc)
    return "status:" + at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
