"""A vote asked for before signing in, kept until the visitor is signed in and then cast.

An anonymous visitor who presses a vote button has no account to vote with.  The vote form's
POST (CSRF-checked like every form) answers with a redirect to the sign-in page and a signed,
HttpOnly marker cookie naming the idea and the page to return to.  Whichever way the visitor
then signs in — password, mailed sign-in link, or sign-up followed by the verification link —
the vote is cast there and the visitor lands back on that page.

Why a cookie and not a URL parameter: a link carrying "vote for idea 7 after sign-in" could be
sent to anyone, who would vote without meaning to.  The cookie can only be set by this site
answering a CSRF-checked POST made in the same browser, is signed with the store's key (a
cookie planted over plain HTTP or from a sibling host is refused), expires within the hour,
and is used once.  No GET casts a vote on its own: the sign-ins that use it are CSRF-checked
POSTs, or the verification link, whose one-time secret only the mailbox owner has.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
import time
from dataclasses import dataclass

from aiohttp import web

from api.identity import forum_settings, secure_cookie, store_of
from api.notify_access import idea_events, notifier
from community.access import Viewer
from community.engagement import Engagement
from domain.errors import Conflict, Forbidden, NotFound, RateLimited

log = logging.getLogger(__name__)

COOKIE = "crmsphere_pending_vote"
#: How long a vote asked for waits for its sign-in (sign-up and verification included).
LIFETIME_SECONDS = 3600
_VALUE = re.compile(r"^(\d{1,18})\.(\d{1,12})\.([A-Za-z0-9_-]{1,700})\.([A-Za-z0-9_-]{43})$")
_NEXT_MAX = 500


@dataclass(frozen=True, slots=True)
class PendingVote:
    """The idea the visitor wanted to vote for and the page they were on."""

    idea_id: int
    next_path: str


def local_path(value: object, fallback: str = "/forum") -> str:
    """``value`` if it is a path on this site, else ``fallback``: never an open redirect."""
    text = value if isinstance(value, str) else ""
    # "//host" and "/\\host" are read by browsers as another site; control characters could
    # split the Location header or hide a scheme.
    if (not text.startswith("/") or text.startswith("//") or "\\" in text or len(text) > _NEXT_MAX
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)):
        return fallback
    return text


def _mac(key: bytes, payload: str) -> str:
    digest = hmac.new(key, f"pending-vote:{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _key(request: web.Request) -> bytes:
    return notifier(request).key


def encode(key: bytes, vote: PendingVote, now: float) -> str:
    """The signed cookie value of ``vote``, valid for ``LIFETIME_SECONDS`` from ``now``."""
    path = base64.urlsafe_b64encode(vote.next_path.encode()).decode().rstrip("=")
    payload = f"{vote.idea_id}.{int(now) + LIFETIME_SECONDS}.{path}"
    return f"{payload}.{_mac(key, payload)}"


def decode(key: bytes, value: str | None, now: float) -> PendingVote | None:
    """The vote of a genuine, unexpired cookie value; ``None`` for anything else."""
    match = _VALUE.match(value or "")
    if match is None:
        return None
    payload = f"{match[1]}.{match[2]}.{match[3]}"
    if not hmac.compare_digest(match[4], _mac(key, payload)) or int(match[2]) < now:
        return None
    try:
        path = base64.urlsafe_b64decode(match[3] + "=" * (-len(match[3]) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return PendingVote(int(match[1]), local_path(path))


def remember(request: web.Request, response: web.StreamResponse, vote: PendingVote) -> None:
    """Hand the browser the marker of a vote asked for while signed out."""
    response.set_cookie(COOKIE, encode(_key(request), vote, time.time()), httponly=True,
                        samesite="Lax", secure=secure_cookie(request), path="/forum",
                        max_age=LIFETIME_SECONDS)


def pending(request: web.Request) -> PendingVote | None:
    """The vote this browser asked for before signing in, if any is still waiting."""
    return decode(_key(request), request.cookies.get(COOKIE), time.time())


def forget(response: web.StreamResponse) -> None:
    """Drop the marker (the vote was cast, or can never be)."""
    response.del_cookie(COOKIE, path="/forum")


async def cast(request: web.Request, response: web.StreamResponse, who: Viewer) -> PendingVote | None:
    """Cast the waiting vote as ``who`` (just signed in) and drop the marker; the vote, or
    ``None`` when none waits.  An account whose e-mail is not verified yet cannot vote: the
    marker then stays for the verification link.  A vote the idea no longer takes (closed,
    merged, gone) is dropped — the visitor lands on the page and sees why."""
    vote = pending(request)
    if vote is None or not who.signed_in:
        return None
    engagement = Engagement(store_of(request), forum_settings(request), idea_events(request))
    try:
        await engagement.vote(who, vote.idea_id)
    except Forbidden as exc:
        if who.account is not None and who.account.customer_id is None:
            return vote  # waits for the verification link
        log.info("pending vote for idea %d not cast: %s", vote.idea_id, exc)
    except (Conflict, NotFound, RateLimited) as exc:
        log.info("pending vote for idea %d not cast: %s", vote.idea_id, exc)
    forget(response)
    return vote
