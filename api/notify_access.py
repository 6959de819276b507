"""The runtime's notifier and idea events as views reach them (no view imports another's module)."""

from __future__ import annotations

from aiohttp import web

from api.keys import RUNTIME
from community.accounts import VERIFY, SignedUp
from community.idea_events import IdeaEvents
from community.notify import Notifier


def idea_events(request: web.Request) -> IdeaEvents | None:
    """The runtime's idea events (routing and follower mail) for ``Ideas``/``Engagement``."""
    return request.app[RUNTIME].idea_events


def notifier(request: web.Request) -> Notifier:
    """The runtime's notifier."""
    found = request.app[RUNTIME].notifier
    if found is None:
        raise web.HTTPServiceUnavailable(reason="notifications are not set up")
    return found


async def queue_verification(request: web.Request, made: SignedUp) -> None:
    """Queue the verification mail of a fresh sign-up (sent by the outbox worker)."""
    await notifier(request).account_mail(VERIFY, made.account, made.verify_secret)
