"""Reading a ``Retry-After`` header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).

One parser for every layer that hears a 429 or a 503: the collectors, the replies sent to
platforms and the routing deliveries.  Servers send ``120``, ``Wed, 21 Oct 2015 07:28:00
GMT``, but also ``1.5``, ``-1``, ``soon`` or a number of seconds past the end of time; the
parser says ``None`` for what it cannot read (the caller backs off as usual) and the caller
bounds what it can (see ``bounded_retry_after``).
"""

from __future__ import annotations

import math
import re
from datetime import timezone
from email.utils import parsedate_to_datetime

#: delay-seconds: ASCII digits only (``str.isdigit`` also takes "²" and other scripts'
#: digits), with the fraction some servers add.
_SECONDS = re.compile(r"[0-9]{1,30}(?:\.[0-9]{1,30})?")


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP-date, read
    against ``now`` as a Unix time), or ``None`` when absent or unreadable.  A date in the
    past means "now" (0); nothing negative is returned."""
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # not a date, or out of range
        return None
    if when.tzinfo is None:  # "-0000" (RFC 5322's unknown zone): HTTP dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def bounded_retry_after(seconds: float | None, cap: float) -> float | None:
    """``seconds`` no longer than ``cap`` (a server asking for a week, or for ever, waits
    ``cap``); ``None``, a negative number or NaN stays unreadable (``None``)."""
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return None
    return min(seconds, cap)
