"""Sending a reply exactly once, and the ``replies`` job that sends what is due.

A send is claimed first (``approved -> sending``, only if still approved, so two processes
never both post it).  A reply found in ``sending`` had an attempt whose outcome is unknown:
the process died between the platform's answer and our record, or the answer was lost.
Before posting again we ask the platform (``find_sent``): found, it is recorded sent; not
there, it is posted; the platform cannot be asked (Hacker News, refused credentials), it is
``failed`` with a reason for a person to check the thread — never posted blind.

Sending is never inside a person's request: approving commits ``approved`` and ``wake``
starts a sending round in this process at once, off the request (so the manager sees
``sent`` a second or two later, and the answer does not wait for the platform); the
``replies`` job of the lease holder sends whatever a wake did not (a process that died right
after the commit, a rate-limited reply after its wait, an interrupted send).  Rounds in one
process run one at a time; rounds of two processes are kept apart by the claim.

A rate limit puts the reply back to ``approved`` with ``retry_after`` (shown on the queue);
the job sends it after the wait.  The wait is also kept in the store for the platform and the
source that was limited (``PlatformLimit``): every process, and one restarted meanwhile, holds
the other replies through that source until then instead of earning 429s of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from collectors.replies import (
    ReplyFailed,
    ReplyOutcomeUnknown,
    ReplyRateLimited,
    ReplyTarget,
    ReplyWriter,
    SentReply,
)
from community.reply_writers import ReplyWriters
from config.replies import RepliesSettings
from domain import Mention, utcnow
from domain.replies import PlatformLimit, RepliesDue, Reply, ReplyAudit, ReplyState
from domain.errors import NotFound
from storage import Store

log = logging.getLogger(__name__)

#: The actor of moves made by the job.
JOB = "job:replies"

#: What the job sends: every approved reply, and a send stuck in ``sending`` past
#: ``stale_sending_seconds`` (its outcome is asked of the platform before any new post).
#: Drafts wait for a person; sent and failed ones are done.
DUE_TO_SEND = RepliesDue(ready=("approved",), stalled=("sending",))


@dataclass(frozen=True, slots=True)
class DueRun:
    """What one run of the job did."""

    sent: int = 0
    waiting: int = 0
    failed: int = 0


def target_of(mention: Mention) -> ReplyTarget:
    """The platform post a reply to ``mention`` answers."""
    post = mention.post
    return ReplyTarget(source=post.source, external_id=post.external_id, url=post.url,
                       thread_id=post.thread_id, parent_id=post.parent_id,
                       author_handle=post.author.handle)


class ReplySender:
    """Posts approved replies through the platform writers, once each."""

    def __init__(self, store: Store, settings: RepliesSettings, writers: ReplyWriters, *,
                 clock: Callable[[], datetime] = utcnow,
                 on_sent: Callable[[Reply, Mention], Awaitable[Any]] | None = None) -> None:
        self.store, self.settings, self.writers, self.clock = store, settings, writers, clock
        #: Called once a reply is recorded sent (the CRM timeline note); failures are logged.
        self.on_sent = on_sent
        self._round = asyncio.Lock()
        self._woken: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Right after a commit made replies due (approved, retried): a sending round in this
        process, started now and not awaited, so the request that approved answers at once."""
        task = asyncio.get_running_loop().create_task(self._woken_round())
        self._woken.add(task)
        task.add_done_callback(self._woken.discard)

    async def _woken_round(self) -> None:
        try:
            await self.run_due()
        except Exception:  # the boundary of a background round: the replies job tries again
            log.exception("sending approved replies failed; the replies job tries again")

    async def settled(self) -> None:
        """Wait until the rounds woken so far have finished."""
        while self._woken:
            await asyncio.gather(*list(self._woken), return_exceptions=True)

    async def close(self) -> None:
        """Stop the woken rounds (shutting down): a send cut short stays ``sending`` and is
        checked with the platform before any retry."""
        for task in list(self._woken):
            task.cancel()
        await asyncio.gather(*list(self._woken), return_exceptions=True)

    async def limit_on(self, platform: str, source_key: str) -> PlatformLimit | None:
        """The wait ``platform`` asked for through ``source_key`` that is still in force."""
        for limit in await self.store.platform_limits(self.clock()):
            if (limit.platform, limit.source_key) == (platform, source_key):
                return limit
        return None

    async def _move(self, reply: Reply, expected: tuple[ReplyState, ...], changes: dict[str, Any],
                    action: str, actor: str, detail: str = "", attempts: int | None = None) -> Reply | None:
        assert reply.id is not None
        return await self.store.move_reply(reply.id, expected, changes,
                                           ReplyAudit(reply.id, action, actor, self.clock(), detail[:1000]),
                                           attempts=attempts)

    async def _current(self, reply: Reply) -> Reply:
        return await self.store.get_reply(reply.id or 0)

    async def deliver(self, reply: Reply, actor: str) -> Reply:
        """Send an ``approved`` reply, or finish a ``sending`` one whose outcome is unknown;
        the reply as it ends up (``sent``, ``failed``, or waiting in ``approved``/``sending``)."""
        try:
            mention = await self.store.get_mention(reply.mention_id)
        except NotFound:
            return await self._off(reply, "the mention replied to was deleted", actor)
        # Through the source that read the mention: its instance, its account, its ids.
        writer = self.writers.for_mention(mention)
        if not isinstance(writer, ReplyWriter):
            return await self._off(reply, writer.reason, actor)
        ask_first = reply.state == "sending"  # an earlier attempt may have posted it
        now = self.clock()
        limit = await self.limit_on(reply.source, writer.source_key)
        if limit is not None and reply.state in ("approved", "sending"):
            # Asked by any process, before a restart too: checking or posting now only earns
            # another refusal (a ``sending`` reply is checked after the wait, as it is).
            moved = await self._move(reply, (reply.state,), {"retry_after": limit.until, "failure":
                                     f"{reply.source} asked us to wait (source {writer.source_key}): "
                                     f"goes after {limit.until.isoformat(timespec='seconds')}"},
                                     "rate_limited", actor, "waiting for the platform's limit")
            return moved or await self._current(reply)
        # The job posts on behalf of the person who approved it (the audit names the job).
        sent_by = reply.approved_by if actor == JOB and reply.approved_by else actor
        claimed = await self._move(reply, (reply.state,) if reply.state in ("approved", "sending") else ("approved",),
                                   {"state": "sending", "sending_at": now, "sent_by": sent_by,
                                    "attempts": reply.attempts + 1, "retry_after": None},
                                   "sending", actor, "checking the earlier attempt first" if ask_first else "",
                                   attempts=reply.attempts)
        if claimed is None:
            return await self._current(reply)  # another process took it, or it moved on
        target = target_of(mention)
        if ask_first:
            try:
                found = await writer.find_sent(target, claimed.text)
            except ReplyRateLimited as exc:
                return await self._wait(claimed, writer, exc, actor, ("sending",))
            except ReplyFailed as exc:
                return await self._fail(claimed, "could not check whether the earlier attempt was posted "
                                        f"({exc.reason}): look at the thread, then mark it sent or retry", actor)
            if found is not None:
                return await self._sent(claimed, mention, found, actor, "found on the platform")
        try:
            sent = await writer.send(target, claimed.text)
        except ReplyRateLimited as exc:
            return await self._wait(claimed, writer, exc, actor, ("sending",), back_to="approved")
        except ReplyOutcomeUnknown as exc:
            # Stays ``sending``: the job asks the platform after ``stale_sending_seconds``.
            await self._move(claimed, ("sending",), {"failure": exc.reason}, "unknown", actor, exc.reason)
            return await self._current(claimed)
        except ReplyFailed as exc:
            return await self._fail(claimed, exc.reason, actor)
        return await self._sent(claimed, mention, sent, actor)

    async def _wait(self, reply: Reply, writer: ReplyWriter, exc: ReplyRateLimited, actor: str,
                    expected: tuple[ReplyState, ...], back_to: ReplyState = "sending") -> Reply:
        wait = exc.retry_after if exc.retry_after is not None else 300.0
        until = self.clock() + timedelta(seconds=max(1.0, wait))
        await self.store.set_platform_limit(PlatformLimit(reply.source, writer.source_key, until, exc.reason))
        changes: dict[str, Any] = {"state": back_to, "retry_after": until, "failure": exc.reason}
        moved = await self._move(reply, expected, changes, "rate_limited", actor, exc.reason)
        return moved or await self._current(reply)

    async def _off(self, reply: Reply, reason: str, actor: str) -> Reply:
        """Failed before any attempt of this round: nothing can be posted (a ``sending`` reply's
        earlier attempt is left for a person to check, as the reason says)."""
        if reply.state == "sending":
            reason += ": an earlier attempt may have been posted, look at the thread"
        failed = await self._move(reply, ("approved", "sending"), {"state": "failed", "failure": reason},
                                  "failed", actor, reason)
        return failed or await self._current(reply)

    async def _fail(self, reply: Reply, reason: str, actor: str) -> Reply:
        moved = await self._move(reply, ("sending",), {"state": "failed", "failure": reason}, "failed", actor, reason)
        return moved or await self._current(reply)

    async def _sent(self, reply: Reply, mention: Mention, sent: SentReply, actor: str, how: str = "") -> Reply:
        moved = await self._move(reply, ("sending",), {
            "state": "sent", "sent_at": self.clock(), "platform_id": sent.platform_id,
            "platform_url": sent.url, "failure": None, "retry_after": None},
            "found_sent" if how else "sent", actor, how or sent.platform_id)
        if moved is None:
            return await self._current(reply)
        await self._announce(moved, mention)
        return moved

    async def announce(self, reply: Reply) -> None:
        """Tell ``on_sent`` about a reply recorded sent by a person."""
        try:
            mention = await self.store.get_mention(reply.mention_id)
        except NotFound:
            return
        await self._announce(reply, mention)

    async def _announce(self, reply: Reply, mention: Mention) -> None:
        if self.on_sent is None:
            return
        try:
            await self.on_sent(reply, mention)
        except Exception:  # boundary: the reply is sent and recorded; the note is extra
            log.exception("reply %s sent, but telling the CRM failed", reply.id)

    async def run_due(self, limit: int = 50) -> DueRun:
        """Send every reply that is due (the ``replies`` job); once a platform limits a source,
        its other replies wait for the stored limit without asking the platform again."""
        async with self._round:  # one round at a time here; the claim keeps processes apart
            return await self._send_due(limit)

    async def _send_due(self, limit: int) -> DueRun:
        now = self.clock()
        stale = now - timedelta(seconds=self.settings.stale_sending_seconds)
        sent = waiting = failed = 0
        for reply in await self.store.due_replies(now, stale, limit, due=DUE_TO_SEND):
            try:
                done = await self.deliver(reply, JOB)
            except Exception:  # boundary: one reply's bug must not stop the others; it stays due
                log.exception("sending reply %s failed unexpectedly", reply.id)
                failed += 1
                continue
            if done.state == "sent":
                sent += 1
            elif done.state == "failed":
                failed += 1
            else:
                waiting += 1
        return DueRun(sent, waiting, failed)
