"""Every error crmsphere raises on purpose, each named for what the caller does next.

- ``ConfigError``: stop at start-up and tell the operator which key is wrong (exit code 2).
- ``NotConfigured``: leave this component out and say why, once.
- ``SourceUnavailable``: back off and retry this source later; the others go on.
- ``AuthFailed``: disable this source and show it; retrying will not help.
- ``BadItem``: drop this one item with its reason and keep the rest of the batch.
- ``BadInput``: reject a whole request or file before anything is written.
- ``NotFound``: the thing asked for does not exist.
- ``Conflict``: the request clashes with the current state; nothing was written.
- ``Forbidden``: the caller is known but may not do this.
- ``RateLimited``: the caller did this too often; retry after ``retry_after`` seconds.
"""

from __future__ import annotations


#: The most characters of a name or value sent to us that an error message repeats.
QUOTED_MAX = 80


def clipped(sent: str) -> str:
    """``sent`` (a field name or value from a request) cut to ``QUOTED_MAX`` characters and "…"
    for an error message: a 5,000-character name repeated in full is no longer readable."""
    return sent if len(sent) <= QUOTED_MAX else sent[:QUOTED_MAX] + "…"


class CrmsphereError(Exception):
    """Base of all deliberate crmsphere errors."""


class ConfigError(CrmsphereError):
    """A configuration value is missing or malformed."""

    def __init__(self, key: str, value: object, expected: str) -> None:
        self.key, self.value, self.expected = key, value, expected
        super().__init__(f"config {key}: got {value!r}, expected {expected}")


class NotConfigured(CrmsphereError):
    """The component lacks what it needs to run; it is disabled with this reason."""


class SourceUnavailable(CrmsphereError):
    """The source failed in a way worth retrying later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class AuthFailed(CrmsphereError):
    """The source refused our credentials."""


class BadItem(CrmsphereError):
    """One input item is malformed; drop it and keep the batch."""

    def __init__(self, reason: str, where: str = "") -> None:
        self.reason, self.where = reason, where
        super().__init__(f"{where}: {reason}" if where else reason)


class BadInput(CrmsphereError):
    """A whole input is unusable; nothing from it was written."""

    def __init__(self, message: str, details: dict | None = None) -> None:
        self.details = details or {}
        super().__init__(message)


class NotFound(CrmsphereError):
    """The requested object does not exist."""


class Conflict(CrmsphereError):
    """The request clashes with the current state (a taken e-mail, a closed idea...)."""

    def __init__(self, message: str, details: dict | None = None) -> None:
        self.details = details or {}
        super().__init__(message)


class Forbidden(CrmsphereError):
    """The caller is known but may not do this."""


class RateLimited(CrmsphereError):
    """Too many requests of one kind from one caller; nothing was written."""

    def __init__(self, message: str, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message)
