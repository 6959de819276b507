"""The runtime's notifier and idea events as views reach them (no view imports another's module)."""

from __future__ import annotations

from aiohttp import web

from api.keys import RUNTIME
from community.accounts import SIGNUP_TAKEN, VERIFY, SignedUp
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


#: The answer to every sign-up, whether or not the address already had an account.
SIGNED_UP = ("Check your e-mail: we sent a mail to confirm the address. If it is new here, your "
             "account is ready: sign in with your password now.")


async def queue_verification(request: web.Request, made: SignedUp) -> None:
    """Queue the mail of a sign-up (sent by the outbox worker): the verification link of a new
    account, or a note to the owner of an address that already had one."""
    if made.verify_secret is None:
        await notifier(request).account_mail(SIGNUP_TAKEN, made.account, "")
    else:
        await notifier(request).account_mail(VERIFY, made.account, made.verify_secret)
