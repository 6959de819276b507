"""One health state machine for everything that runs on a schedule against a remote service:
sources (crmsphere/sources.py) and CRM connectors (crm/sync.py).

States: ``ok`` → ``degraded`` (ran, but part failed or nothing usable came) → ``failing``
(raised; retried with exponential back-off, or after the service's own ``Retry-After``) →
``auth_failed`` (credentials refused: not retried until a person resumes it).  A change of
state is logged once, when it happens — a source that fails for a day writes one warning and
one "recovered", not a line a minute.  The functions are pure: they take the stored health and
the clock's time and return the next health; the callers store it.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from domain import SourceHealth, SourceState

#: The longest back-off between two attempts of a failing service, in seconds.
MAX_BACKOFF = 3600.0


def is_due(health: SourceHealth, now: datetime, *, force: bool = False) -> bool:
    """May it run now?  Never when paused; not after an auth failure or during back-off unless
    forced (a person's "run now")."""
    if health.paused or health.state == "auth_failed" and not force:
        return False
    return force or not health.next_attempt_at or now >= health.next_attempt_at


def with_paused(health: SourceHealth, paused: bool) -> SourceHealth:
    """Paused or resumed; resuming is how a person says "credentials fixed, try again now"."""
    health = dataclasses.replace(health, paused=paused)
    if not paused and health.state == "auth_failed":
        health = dataclasses.replace(health, state="failing", next_attempt_at=None)
    return health


def failed(health: SourceHealth, now: datetime, error: str, *, interval: float,
           retry_after: float | None, label: str, log: logging.Logger) -> SourceHealth:
    """After a run that raised: ``failing``, next attempt after ``retry_after`` seconds when the
    service said so, else after ``interval`` doubled per failure in a row (at most an hour)."""
    failures = health.failures + 1
    delay = retry_after if retry_after is not None else interval * 2 ** (failures - 1)
    if health.state != "failing":
        log.warning("%s failing (will retry with back-off): %s", label, error)
    return dataclasses.replace(
        health, state="failing", last_run_at=now, last_items=0, error=error,
        error_since=health.error_since or now, failures=failures,
        next_attempt_at=now + timedelta(seconds=min(max(delay, 0.0), MAX_BACKOFF)))


def auth_refused(health: SourceHealth, now: datetime, error: str, *, label: str,
                 log: logging.Logger) -> SourceHealth:
    """After the service refused the credentials: ``auth_failed`` until resumed."""
    if health.state != "auth_failed":
        log.error("%s: credentials refused, disabled until resumed: %s", label, error)
    return dataclasses.replace(
        health, state="auth_failed", last_run_at=now, error=f"authentication failed: {error}",
        error_since=health.error_since or now)


def completed(health: SourceHealth, now: datetime, *, items: int, finished_at: datetime,
              degraded: str | None = None, notes: list[str] | tuple[str, ...] = (),
              label: str, log: logging.Logger) -> SourceHealth:
    """After a run that raised nothing: ``ok``, or ``degraded`` for the reason given.

    ``notes`` (pages capped, items rejected) are shown with the health without making the run
    degraded.  The last success moves when something was stored or the run was not degraded.
    """
    state: SourceState = "degraded" if degraded else "ok"
    if state != health.state:
        if degraded:
            log.warning("%s degraded: %s", label, degraded)
        elif health.state == "degraded":
            log.info("%s recovered: no longer degraded", label)
        elif health.state in ("failing", "auth_failed"):
            log.info("%s recovered after %d failure(s)", label, health.failures)
    return dataclasses.replace(
        health, state=state, last_run_at=now,
        last_success_at=finished_at if items or not degraded else health.last_success_at,
        last_items=items, total_items=health.total_items + items,
        error="; ".join(([degraded] if degraded else []) + list(notes)) or None,
        error_since=(health.error_since or now) if degraded else None,
        failures=0, next_attempt_at=None)
