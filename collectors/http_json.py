"""One GET of a JSON document from a web source, with its HTTP failures mapped for the runner.

401/403 become ``AuthFailed`` (the source stays off until an operator resumes it), 429 and
every other non-200 answer, network failures and bodies that are not JSON become
``SourceUnavailable`` (retried with back-off, after ``Retry-After`` when the source says).
Each call is counted against the run's ``RunGuard`` (the daily request budget).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohttp

from domain.errors import AuthFailed, SourceUnavailable

from collectors.paging import RunGuard
from collectors.web import USER_AGENT, parse_retry_after, read_capped

#: Wait after a 429 that does not say how long.
DEFAULT_RETRY_AFTER = 60.0
#: The largest answer read: a page of any source is far smaller (a Mastodon page of 40
#: statuses is some 200 kB); a larger one is a misconfigured base_url or a hostile server,
#: and reading it whole would take the memory of the process.
MAX_JSON_BYTES = 20 * 1024 * 1024

Params = Mapping[str, str] | Sequence[tuple[str, str]]


async def get_json(
    http: aiohttp.ClientSession, url: str, *, source: str, what: str,
    params: Params = (), headers: Mapping[str, str] | None = None,
    timeout: aiohttp.ClientTimeout | None = None, guard: RunGuard | None = None,
    allow_redirects: bool = True,
    on_headers: Callable[[Mapping[str, str]], None] | None = None,
    wait_after_429: Callable[[aiohttp.ClientResponse], Awaitable[float | None]] | None = None,
    refusal_detail: Callable[[aiohttp.ClientResponse], Awaitable[str]] | None = None,
) -> Any:
    """The JSON body of ``GET url``; ``source`` and ``what`` name the failure in messages.

    ``on_headers`` sees every answer's headers (rate limits); ``wait_after_429`` reads how
    long a 429 asks to wait when ``Retry-After`` is not enough; ``refusal_detail`` reads the
    reason of a 401/403 from its body.
    """
    if guard is not None:
        guard.count_request()
    sent = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    try:
        async with http.get(url, params=params, headers=sent, timeout=timeout,
                            allow_redirects=allow_redirects) as resp:
            if on_headers is not None:
                on_headers(resp.headers)
            wait = parse_retry_after(resp.headers.get("Retry-After"), time.time())
            if resp.status == 429:
                if wait is None and wait_after_429 is not None:
                    wait = await wait_after_429(resp)
                raise SourceUnavailable(f"{source}: rate limited (HTTP 429) on {what}",
                                        retry_after=DEFAULT_RETRY_AFTER if wait is None else wait)
            if resp.status in (401, 403):
                detail = await refusal_detail(resp) if refusal_detail is not None else ""
                raise AuthFailed(f"{source} refused {what}: HTTP {resp.status} {detail}".strip())
            if resp.status != 200:
                # A redirect not followed is usually to a sign-in page: the source wants credentials.
                raise SourceUnavailable(f"{source} answered HTTP {resp.status} on {what}", retry_after=wait)
            return json.loads(await _read_capped(resp, source=source, what=what))
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise SourceUnavailable(
            f"{source}: connection failed: {exc.__class__.__name__} {exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise SourceUnavailable(f"{source} answered invalid JSON on {what}: {exc}") from exc


async def _read_capped(resp: aiohttp.ClientResponse, *, source: str, what: str) -> bytes:
    """The body, or ``SourceUnavailable`` once it is larger than ``MAX_JSON_BYTES``."""
    too_large = SourceUnavailable(f"{source} answered more than {MAX_JSON_BYTES} bytes on {what}; "
                                  f"is base_url the API's address?")
    body = await read_capped(resp, MAX_JSON_BYTES)
    if body is None:
        raise too_large
    return body
