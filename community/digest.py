"""The optional daily digest: one mail a day per account that asked for it, summarising the
status changes and staff responses on the ideas it follows the day before (UTC).

The notifications of that day are the digest's content; the mail goes through the routing
outbox, and the store records each (account, day) once, in the same transaction as the mail,
so running the job twice, or in two processes, queues one digest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from community.notify import CUSTOMER_MAIL
from domain.routing import Delivery
from config.notify import NotifySettings
from domain import utcnow
from domain.forum import Account
from domain.notify import Notification
from storage import Store

log = logging.getLogger(__name__)


def digest_day(now: datetime, digest_hour: int) -> str | None:
    """The UTC day whose digest is due at ``now`` (the day before), or ``None`` before the
    configured hour."""
    now = now.astimezone(UTC)
    if now.hour < digest_hour:
        return None
    return (now.date() - timedelta(days=1)).isoformat()


def digest_mail(account: Account, day: str, notes: list[Notification], base_url: str) -> dict[str, Any]:
    """The digest mail: one line and a link per notification, and where to turn it off."""
    base = base_url.rstrip("/")
    lines = [f"Hello {account.name},", "", f"What happened on {day} to the ideas you follow:", ""]
    for note in notes:
        lines.append(f"- {note.title}")
        if note.body:
            lines.append("  " + " ".join(note.body.split())[:300])
        if note.url:
            lines.append(f"  {base}{note.url}")
    settings = f"{base}/forum/settings"
    lines += ["", "--", f"You get this daily digest because you asked for it. Turn it off: {settings}"]
    count = len(notes)
    return {"subject": f"Your daily digest: {count} update{'' if count == 1 else 's'} on ideas you follow",
            "body": "\n".join(lines),
            "headers": {"List-Unsubscribe": f"<{settings}>", "Auto-Submitted": "auto-generated"}}


class DailyDigest:
    """Queues the due daily digests; safe to run as often as wanted."""

    def __init__(self, store: Store, settings: NotifySettings, base_url: str,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.settings, self.base_url, self.clock = store, settings, base_url, clock

    async def run(self) -> int:
        """Queue the digest of the day before for each account that wants one and had news
        that day; how many were queued now."""
        now = self.clock()
        day = digest_day(now, self.settings.digest_hour)
        if day is None or not self.settings.mail_enabled:
            return 0
        start = datetime.combine(datetime.fromisoformat(day).date(), time(0), tzinfo=UTC)
        account_ids = await self.store.digest_accounts(blocked=False)  # a blocked account gets no mail
        accounts = await self.store.get_accounts(account_ids)
        queued = 0
        for account_id in account_ids:
            account = accounts.get(account_id)
            if account is None or account.blocked or (self.settings.verified_only
                                                       and not account.email_verified):
                continue
            notes = await self.store.notifications_between(account_id, start, start + timedelta(days=1))
            if not notes:
                continue
            delivery = Delivery(
                routed_id=None, team_key=CUSTOMER_MAIL, channel="mail", target={"to": [account.email]},
                payload=digest_mail(account, day, notes, self.base_url),
                idempotency_key=f"digest_{account_id}_{day}", next_attempt_at=utcnow())
            # The clock picks the day; the mail is due at once, whatever the clock says.
            if await self.store.queue_digest(account_id, day, len(notes), delivery, utcnow()):
                queued += 1
        if queued:
            log.info("daily digest of %s: %d mail(s) queued", day, queued)
        return queued
