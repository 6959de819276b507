"""Every failure of a request through PRAW/prawcore, as an error a manager can act on.

prawcore raises ``OAuthException`` when the app's credentials are refused, one
``ResponseException`` subclass per status (``BadRequest``, ``Forbidden``, ``NotFound``,
``Conflict``, ``TooLarge``, ``URITooLong``, ``UnavailableForLegalReasons``,
``TooManyRequests``, ``ServerError``, ``SpecialError``...), ``Redirect`` (Reddit sends an
unknown subreddit to its search page), ``BadJSON``, ``RequestException`` wrapping network
failures, and ``InvalidInvocation`` for a client misused; PRAW adds
``RedditAPIException``.  Each becomes ``AuthFailed`` (retrying will not help),
``SourceUnavailable`` (retried with back-off) or ``StreamGone`` (that stream is reported
and the others read) with a message saying what to check.
"""

from __future__ import annotations

import json
import time
from typing import Any

import prawcore

from domain.errors import AuthFailed, SourceUnavailable

#: What Reddit's 403 ``reason`` means for the subreddit, and what a manager can do.
_FORBIDDEN_REASONS = {
    "private": "the subreddit is private",
    "quarantined": "the subreddit is quarantined",
    "gated": "the subreddit is gated (age or content warning)",
    "banned": "the subreddit is banned",
}


class StreamGone(Exception):
    """One listing cannot be read (unknown subreddit); the source's other streams go on."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _body_reason(response: Any) -> str:
    """Reddit's ``reason``/``message`` from an error body, when it is JSON."""
    try:
        body = json.loads(response.text)
    except (ValueError, TypeError, AttributeError):
        return ""
    if not isinstance(body, dict):
        return ""
    return str(body.get("reason") or body.get("message") or "")


def translate(exc: Exception, path: str, seconds_to_reset: float | None) -> Exception:
    """The crmsphere error for a PRAW/prawcore failure while reading ``path``."""
    if isinstance(exc, prawcore.Redirect):
        return StreamGone(f"not found on reddit ({path} redirects to {exc.path}): "
                          f"check the subreddit's name in 'subreddits'")
    if isinstance(exc, prawcore.NotFound):
        return StreamGone(f"not found on reddit ({path}, 404): the subreddit does not exist or "
                          f"was removed; correct 'subreddits'")
    if isinstance(exc, prawcore.TooManyRequests):
        headers = exc.response.headers
        retry = _seconds(headers.get("retry-after")) or _seconds(headers.get("x-ratelimit-reset"))
        return SourceUnavailable("reddit: too many requests; waiting for the rate-limit window "
                                 "to reset", retry_after=retry or seconds_to_reset)
    if isinstance(exc, prawcore.OAuthException):
        return AuthFailed(f"reddit refused the app credentials ({exc.error}): check client_id and "
                          f"client_secret of the script app")
    if isinstance(exc, prawcore.InvalidToken):
        return AuthFailed("reddit refused the access token (401): check client_id and client_secret "
                          "of the script app")
    if isinstance(exc, prawcore.Forbidden):
        reason = _body_reason(exc.response)
        meaning = _FORBIDDEN_REASONS.get(reason, f"reddit gave the reason {reason!r}" if reason
                                         else "the app may not read it")
        # A private, quarantined or banned subreddit: that stream is out, the others are read.
        return StreamGone(f"reddit refused access to {path} (403): {meaning}; remove it from the "
                          f"source or give the app's account access")
    if isinstance(exc, prawcore.ServerError):
        return SourceUnavailable(f"reddit server error ({exc.response.status_code}) on {path}; "
                                 f"retrying later")
    if isinstance(exc, prawcore.ResponseException):
        status = exc.response.status_code
        if status == 401:
            return AuthFailed(f"reddit refused access to {path} (401): check client_id and client_secret")
        reason = _body_reason(exc.response)
        return SourceUnavailable(f"reddit answered HTTP {status} on {path}"
                                 + (f" ({reason})" if reason else ""),
                                 retry_after=_seconds(exc.response.headers.get("retry-after")))
    if isinstance(exc, prawcore.BadJSON):
        return SourceUnavailable(f"reddit answered {path} with something other than JSON")
    if isinstance(exc, prawcore.RequestException):
        return SourceUnavailable(f"reddit unreachable: {exc.original_exception!r}")
    return SourceUnavailable(f"reddit request for {path} failed: {type(exc).__name__}: {exc}")


def seconds_until(reset: float | None) -> float | None:
    """Seconds from now to an epoch time, ``None`` when unknown."""
    return None if reset is None else max(0.0, reset - time.time())
