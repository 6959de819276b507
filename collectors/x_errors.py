"""Every failure of a call through Tweepy's async client, as an error a manager can act on.

Tweepy raises one class per status (``BadRequest``, ``Unauthorized``, ``Forbidden``,
``NotFound``, ``TooManyRequests``, ``TwitterServerError``, ``HTTPException`` for the rest),
lets aiohttp's errors through (``ContentTypeError`` for an error page that is not JSON,
connection failures, time-outs), and fails with ``TypeError``/``AttributeError``/``KeyError``
inside its own error handling when X's error body is not shaped as it expects.  Each becomes
``AuthFailed`` (credentials: retrying will not help) or ``SourceUnavailable`` (retried with
back-off) with a message that says what happened and what to check.
"""

from __future__ import annotations

import aiohttp
import tweepy

from domain.errors import AuthFailed, SourceUnavailable

#: What a manager can do about each refusal.
_ADVICE = {
    401: "the bearer token is wrong or revoked: set a valid one in the variable named by bearer_token_env",
    403: "the X app lacks access to this endpoint: check its project and access level in the "
         "X developer portal",
}


def api_detail(exc: tweepy.HTTPException) -> str:
    """X's own words about a failure (``detail``/``message`` of its errors), if it gave any."""
    messages = [str(m) for m in exc.api_messages if m]
    for error in exc.api_errors:
        if isinstance(error, dict) and isinstance(error.get("detail"), str):
            messages.append(error["detail"])
    return "; ".join(dict.fromkeys(messages))


def seconds(value: str | None) -> float | None:
    """A header's number of seconds, ``None`` when absent or unreadable."""
    try:
        return float(value) if value else None
    except ValueError:
        return None


def translate(exc: BaseException, doing: str, reset_in: float | None = None) -> Exception:
    """The crmsphere error for ``exc``, raised while ``doing`` (e.g. "searching 'nimbus'")."""
    if isinstance(exc, tweepy.TooManyRequests):
        return SourceUnavailable(f"x: too many requests while {doing}; waiting for the rate-limit "
                                 f"window to reset", retry_after=reset_in)
    if isinstance(exc, (tweepy.Unauthorized, tweepy.Forbidden)):
        status = exc.response.status
        detail = api_detail(exc)
        return AuthFailed(f"x refused access ({status}) while {doing}: {_ADVICE[status]}"
                          + (f" (X said: {detail})" if detail else ""))
    if isinstance(exc, tweepy.NotFound):
        detail = api_detail(exc) or "not found"
        return SourceUnavailable(f"x: {doing} found nothing (404: {detail}); check the source's "
                                 f"queries and mentions_of", retry_after=None)
    if isinstance(exc, tweepy.TwitterServerError):
        return SourceUnavailable(f"x server error ({exc.response.status}) while {doing}; "
                                 f"retrying later",
                                 retry_after=seconds(exc.response.headers.get("retry-after")))
    if isinstance(exc, tweepy.HTTPException):
        status = getattr(exc.response, "status", "?")
        detail = api_detail(exc)
        return SourceUnavailable(f"x answered HTTP {status} while {doing}"
                                 + (f": {detail}" if detail else ""))
    if isinstance(exc, aiohttp.ContentTypeError):
        # An error page that is not JSON: a proxy or load balancer answered, not X's API.
        if exc.status in (401, 403):
            return AuthFailed(f"x refused access ({exc.status}) while {doing}: {_ADVICE[exc.status]}")
        return SourceUnavailable(f"x answered {exc.status} without JSON while {doing}", retry_after=reset_in)
    if isinstance(exc, (aiohttp.ClientError, TimeoutError)):
        return SourceUnavailable(f"x unreachable while {doing}: {exc!r}")
    if isinstance(exc, tweepy.TweepyException):
        return SourceUnavailable(f"x client failed while {doing}: {exc}")
    # Tweepy's error handling itself broke on an error body it did not expect.
    return SourceUnavailable(f"x answered an error Tweepy could not read while {doing} "
                             f"({type(exc).__name__}: {exc}); retrying later")
