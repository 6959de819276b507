"""One JSON request of a reply writer, with the platform's failures named for the workflow.

429 becomes ``ReplyRateLimited`` (waiting ``Retry-After``, else the platform's reset header),
401/403 ``ReplyAuthFailed``, other refusals ``ReplyFailed`` with the platform's own words, and
a request that went out without an answer ``ReplyOutcomeUnknown`` when it may have posted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import aiohttp

from collectors.replies import (
    ReplyAuthFailed,
    ReplyFailed,
    ReplyOutcomeUnknown,
    ReplyRateLimited,
)
from collectors.post_format import ascii_number
from collectors.web import USER_AGENT, parse_retry_after

#: Wait after a 429 that says nothing about how long.
DEFAULT_RETRY_AFTER = 300.0
#: Longest platform message quoted in a reason shown to a manager.
_MAX_DETAIL = 300


def reset_wait(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until the platform's rate-limit window resets: ``ratelimit-reset`` (Bluesky,
    epoch seconds) or ``X-RateLimit-Reset`` (Mastodon, ISO 8601)."""
    for name in ("ratelimit-reset", "X-RateLimit-Reset"):
        raw = (headers.get(name) or "").strip()
        if not raw:
            continue
        if ascii_number(raw):
            return max(0.0, float(raw) - now)
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            continue
        if when.tzinfo is not None:
            return max(0.0, when.timestamp() - now)
    return None


def platform_detail(body: Any) -> str:
    """The platform's explanation in an error body (Mastodon ``error``, Bluesky ``message``,
    Discourse ``errors``), shortened; empty when it gave none."""
    if not isinstance(body, dict):
        return ""
    parts: list[str] = []
    errors = body.get("errors")
    if isinstance(errors, list):
        parts.extend(str(e) for e in errors if isinstance(e, str))
    for key in ("message", "error_description", "error"):
        value = body.get(key)
        if isinstance(value, str) and value and not parts:
            parts.append(value)
    return "; ".join(parts)[:_MAX_DETAIL]


async def request_json(
    http: aiohttp.ClientSession, method: str, url: str, *, platform: str, what: str,
    headers: Mapping[str, str] | None = None, json: Any = None,
    params: Sequence[tuple[str, str]] = (), timeout: float = 30.0,
    writes: bool = False, clock: Callable[[], float] = time.time,
    wait_from_body: Callable[[Any], float | None] | None = None,
) -> Any:
    """The JSON body of a 2xx answer to ``method url``.

    ``writes``: the request posts something, so a lost answer is ``ReplyOutcomeUnknown`` (it
    may have landed) rather than a plain failure.  ``wait_from_body`` reads a 429's wait from
    its body when the headers do not say."""
    if http is None:
        raise ReplyFailed(f"{platform}: no HTTP session to reach the platform")
    sent = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    try:
        async with http.request(method, url, headers=sent, json=json, params=list(params),
                                timeout=aiohttp.ClientTimeout(total=timeout),
                                allow_redirects=False) as resp:
            try:
                body = await resp.json(content_type=None)
            except (ValueError, RecursionError):
                body = None
            if resp.status == 429:
                now = clock()
                wait = parse_retry_after(resp.headers.get("Retry-After"), now)
                if wait is None:
                    wait = reset_wait(resp.headers, now)
                if wait is None and wait_from_body is not None:
                    wait = wait_from_body(body)
                wait = DEFAULT_RETRY_AFTER if wait is None else wait
                raise ReplyRateLimited(
                    f"{platform} rate limit reached on {what}: try again in {int(wait + 0.999)} s",
                    retry_after=wait)
            if resp.status in (401, 403):
                detail = platform_detail(body)
                raise _coded(ReplyAuthFailed(f"{platform} refused the posting credentials on {what} "
                                             f"(HTTP {resp.status}{': ' + detail if detail else ''})"), body)
            if not 200 <= resp.status < 300:
                detail = platform_detail(body)
                raise _coded(ReplyFailed(f"{platform} answered HTTP {resp.status} on {what}"
                                         f"{': ' + detail if detail else ''}"), body)
            if body is None:
                if writes:
                    raise ReplyOutcomeUnknown(f"{platform} accepted {what} but its answer was not JSON")
                raise ReplyFailed(f"{platform} answered {what} with something that is not JSON")
            return body
    except (aiohttp.ClientError, TimeoutError) as exc:
        reason = f"{platform}: no answer to {what} ({exc.__class__.__name__}: {exc})"[:_MAX_DETAIL]
        if writes and _may_have_landed(exc):
            raise ReplyOutcomeUnknown(reason) from exc
        raise ReplyFailed(reason) from exc


def _may_have_landed(exc: BaseException) -> bool:
    """Whether a request that failed this way may still have reached the platform: the
    connection was made and then lost or timed out.  Never connecting, or being refused by the
    outbound guard before sending, means it did not."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return False
    return isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError,
                            aiohttp.ClientOSError, TimeoutError))


def _coded(exc: ReplyFailed, body: Any) -> ReplyFailed:
    """``exc`` with ``code``: the platform's machine-readable error name (XRPC ``error``,
    Discourse ``error_type``), for a writer that reacts to one (an expired session)."""
    code = None
    if isinstance(body, dict):
        code = body.get("error") if isinstance(body.get("error"), str) else body.get("error_type")
    exc.code = code if isinstance(code, str) else None  # type: ignore[attr-defined]
    return exc


def same_text(posted: str, ours: str) -> bool:
    """Whether a post's text is our reply's: the platform may re-wrap lines and spaces."""
    return "".join(posted.split()) == "".join(ours.split())
