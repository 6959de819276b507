"""Hacker News: no write API exists, so a reply is copied by a person and posted by hand."""

from __future__ import annotations

from collectors.replies import (
    ReplyNotSupported,
    ReplyTarget,
    ReplyWriter,
    SentReply,
    register_writer,
)

#: Shown on the reply box and as the failure reason.
NO_WRITE_API = "Hacker News has no write API: copy the text and open the thread"


@register_writer("hackernews")
class HackerNewsReplies(ReplyWriter):
    """Refuses every reply, saying what a person can do instead."""

    note = NO_WRITE_API + "; sending records it as failed with this reason until you mark it sent"

    async def find_sent(self, target: ReplyTarget, text: str) -> SentReply | None:
        """Hacker News cannot be asked: ``ReplyNotSupported``."""
        raise ReplyNotSupported(NO_WRITE_API)

    async def send(self, target: ReplyTarget, text: str) -> SentReply:
        """Hacker News cannot be written to: ``ReplyNotSupported``."""
        raise ReplyNotSupported(NO_WRITE_API)
