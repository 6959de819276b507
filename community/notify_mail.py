"""What customers read: signed unsubscribe tokens and the text of follower and account mail.

Pure functions: no storage, no network.  A mail payload is ``{"subject", "body", "headers"}``;
the outbox's mail channel adds From, To and a Message-ID derived from the delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import quote

from domain.forum import Idea, StatusChange
from domain.errors import BadInput

_TOKEN = re.compile(r"^(\d{1,18})\.(\d{1,18})\.([A-Za-z0-9_-]{22})$")


class UnsubscribeTokens:
    """Signs and reads one-click unsubscribe tokens: one per account and idea, never expiring
    (a mail in an archive must still work), forged only with the key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the unsubscribe key must have at least 16 bytes")
        self._key = key

    def _mac(self, account_id: int, idea_id: int) -> str:
        mac = hmac.new(self._key, f"unsubscribe:{account_id}:{idea_id}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip("=")

    def make(self, account_id: int, idea_id: int) -> str:
        """The token for ``account_id`` leaving ``idea_id``."""
        return f"{account_id}.{idea_id}.{self._mac(account_id, idea_id)}"

    def read(self, token: object) -> tuple[int, int]:
        """(account id, idea id) of a genuine token; ``BadInput`` otherwise."""
        match = _TOKEN.match(token) if isinstance(token, str) else None
        if match is None:
            raise BadInput("this unsubscribe link is malformed", {"parameter": "token"})
        account_id, idea_id = int(match[1]), int(match[2])
        if not hmac.compare_digest(match[3], self._mac(account_id, idea_id)):
            raise BadInput("this unsubscribe link is not genuine", {"parameter": "token"})
        return account_id, idea_id


def _one_line(text: str, limit: int = 200) -> str:
    # Subjects go into a header: one line, no control characters.
    return " ".join(text.split())[:limit]


def unsubscribe_url(base_url: str, token: str) -> str:
    """The one-click unsubscribe link of a token."""
    return f"{base_url.rstrip('/')}/forum/unsubscribe?token={quote(token)}"


def status_mail(idea: Idea, change: StatusChange, status_label: str, base_url: str,
                unsubscribe: str, why: str) -> dict[str, Any]:
    """The mail telling a follower (or a linked customer) about a status change or response."""
    link = f"{base_url.rstrip('/')}/forum/ideas/{idea.id}"
    if change.from_status == change.to_status:
        subject = f"New response on \u201c{idea.title}\u201d"
        headline = f"The team responded to \u201c{idea.title}\u201d (still {status_label})."
    else:
        subject = f"\u201c{idea.title}\u201d is now {status_label}"
        headline = f"\u201c{idea.title}\u201d moved to {status_label}."
    body = "\n".join([
        headline, "",
        "Response from the team:", "",
        change.response or "", "",
        f"See the idea: {link}", "",
        "--",
        f"You get this mail because {why}.",
        f"Stop mail about this idea (one click): {unsubscribe}",
    ])
    return {
        "subject": _one_line(subject), "body": body,
        "headers": {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    }


ACCOUNT_MAILS = {
    "verify": ("Confirm your e-mail address", "/forum/verify?token=",
               "Confirm your e-mail address so that your votes count for your company:",
               "The link works for 7 days."),
    "sign_in_link": ("Your sign-in link", "/forum/signin-link/use?token=",
                     "Sign in with this link:", "The link works once, for 30 minutes."),
    "password_reset": ("Reset your password", "/forum/password-reset/confirm?token=",
                       "Choose a new password here:", "The link works once, for 1 hour."),
    # Someone signed up with an address that has an account: its owner learns of it here, the
    # person signing up is told nothing different (no secret; the link is the sign-in page).
    "signup_taken": ("Someone tried to sign up with your address", "/forum/signin",
                     "Someone (perhaps you) tried to create an account with this e-mail address, "
                     "which already has one. To get in, sign in here, or ask for a sign-in link "
                     "or a new password on that page:",
                     "Your account and its password are unchanged."),
}


def account_mail(kind: str, name: str, secret: str, base_url: str) -> dict[str, Any]:
    """The verification, sign-in link or password-reset mail for an account."""
    subject, path, lead, expiry = ACCOUNT_MAILS[kind]
    link = f"{base_url.rstrip('/')}{path}{quote(secret)}"
    body = "\n".join([
        f"Hello {name},", "", lead, "", link, "", expiry,
        "If you did not ask for this, ignore this mail; nothing changes.",
    ])
    return {"subject": _one_line(subject), "body": body,
            "headers": {"Auto-Submitted": "auto-generated"}}
