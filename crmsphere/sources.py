"""Configured sources: their collectors, their health, and one guarded run at a time.

Each source's health goes through the one state machine of domain/health.py (shared with
the CRM connectors), so a failing source is logged once when it breaks and once when it
recovers, backs off, and never stops the others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from collectors import COLLECTORS, Collector, create_collector
from collectors.replies import ReplyNotConfigured, load_writers, reply_settings, writer_for
from collectors.base import BadOption, parse_options
from collectors.paging import BudgetSpent
from config.settings import SourceSettings
from domain import ImportReport, Rejection, SourceHealth, utcnow
from domain.health import auth_refused, completed, failed, is_due, with_paused
from domain.errors import AuthFailed, ConfigError, NotConfigured, NotFound, SourceUnavailable
from crmsphere.ingest import MentionsStored, run_collector
from community.leases import RUN_LEASE_TTL, held_lease
from crmsphere.request_budget import budget_spent, count_requests, requests_left
from nlp.runner import Analyzer
from storage.base import Store

log = logging.getLogger(__name__)

#: Seconds a run may take past its own time cap (a request under way) before it is stopped.
RUN_GRACE = 120.0


def holder_id() -> str:
    """A name for this process in leases: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def check_kinds(sources: Sequence[SourceSettings]) -> None:
    """``ConfigError`` for a source whose kind no collector is registered for, or whose
    options its collector's model refuses (the key is named: ``sources[2].max_itmes``)."""
    for index, source in enumerate(sources):
        if source.kind not in COLLECTORS:
            raise ConfigError(f"sources[{index}].kind", source.kind,
                              f"one of {', '.join(sorted(COLLECTORS))}")
        check_reply_table(index, source)
        model = COLLECTORS[source.kind].options_model
        if model is None:
            continue
        try:
            parse_options(source.kind, model, source.model_dump(exclude={"reply"}))
        except BadOption as exc:
            raise ConfigError(f"sources[{index}].{exc.key}", exc.value, exc.expected) from None


def check_reply_table(index: int, source: SourceSettings) -> None:
    """``ConfigError`` for a ``[sources.reply]`` table its platform's reply writer refuses
    (an unknown or missing key), or on a platform without a writer."""
    if source.reply is None:
        return
    load_writers()
    writer = writer_for(source.kind)
    if writer is None:
        raise ConfigError(f"sources[{index}].reply", "a table", f"none: {source.kind} has no reply writer")
    try:
        reply_settings(writer, source.reply)
    except ReplyNotConfigured as exc:
        raise ConfigError(f"sources[{index}].reply", source.reply, exc.reason) from None


class SourceRunner:
    """Runs configured sources into the store, keeping each one's health."""

    def __init__(
        self, store: Store, analyzer: Analyzer, sources: Sequence[SourceSettings],
        http: Any = None, environ: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utcnow, holder: str | None = None,
        on_stored: MentionsStored | None = None, run_lease_ttl: float = RUN_LEASE_TTL,
    ) -> None:
        check_kinds(sources)
        self.run_lease_ttl = run_lease_ttl  # a dead process's run blocks others this long at most
        self.run_grace = RUN_GRACE
        self.on_stored = on_stored
        self.store, self.analyzer, self.http, self.clock = store, analyzer, http, clock
        self.settings = {s.name: s for s in sources}
        self.environ = os.environ if environ is None else environ
        self.holder = holder or holder_id()
        self.collectors: dict[str, Collector] = {}
        self.problems: dict[str, str] = {}
        self._push_locks: dict[str, asyncio.Lock] = {}

    async def start(self) -> None:
        """Build every enabled source's collector; a misconfigured one is reported once and left out."""
        for name, source in self.settings.items():
            if not source.enabled:
                log.info("source %s (%s): disabled in config", name, source.kind)
                continue
            try:
                self.collectors[name] = create_collector(
                    source.kind, name, source.options(self.environ), self.http)
            except NotConfigured as exc:
                self.problems[name] = str(exc)
                log.warning("source %s (%s) not configured: %s", name, source.kind, exc)
                await self._save(dataclasses.replace(
                    await self.health(name), state="not_configured", error=str(exc)))
                continue
            log.info("source %s (%s): every %.0f s", name, source.kind, source.interval)

    def scheduled(self) -> list[tuple[str, float]]:
        """(name, interval) of every source the scheduler should poll."""
        return [(name, self.settings[name].interval) for name, c in self.collectors.items()
                if type(c).scheduled]

    async def health(self, name: str) -> SourceHealth:
        """The stored health of ``name`` (a fresh record if it never ran)."""
        if name not in self.settings:
            raise NotFound(f"no source named {name!r}")
        return await self.store.get_source_health(name) or SourceHealth(name, self.settings[name].kind)

    async def all_health(self) -> list[SourceHealth]:
        """Health of every configured source, in config order."""
        return [await self.health(name) for name in self.settings]

    async def set_paused(self, name: str, paused: bool) -> SourceHealth:
        """Pause or resume a source; a paused source is skipped by the scheduler and by run-now."""
        health = await self._save(with_paused(await self.health(name), paused))
        log.info("source %s %s", name, "paused" if paused else "resumed")
        return health

    async def run_once(self, name: str, *, force: bool = False) -> SourceHealth:
        """Run source ``name`` once if it is due, not paused and not running elsewhere."""
        health = await self.health(name)
        collector = self.collectors.get(name)
        now = self.clock()
        if collector is None or not is_due(health, now, force=force):
            return health
        async with held_lease(self.store, f"source:{name}", self.holder, self.run_lease_ttl,
                              clock=lambda: self.clock().timestamp()) as held:
            if not held:
                log.debug("source %s is running in another process", name)
                return health
            # Read again under the lease: another process may have just run it (its request
            # count and totals must not be overwritten with the copy read before).
            return await self._run(collector, await self.health(name), now)

    async def _run(self, collector: Collector, health: SourceHealth, now: datetime) -> SourceHealth:
        name = collector.key
        budget = collector.limits.daily_request_budget
        collector.requests_left = requests_left(health, budget, now)
        if collector.requests_left == 0:
            return await self._save(budget_spent(health, budget, now))
        collector.begin_run()  # nothing counted from an earlier run
        cap = asyncio.timeout(collector.limits.max_run_seconds + self.run_grace)
        try:
            async with cap:
                report = await run_collector(collector, self.store, self.analyzer, self.on_stored)
        except BudgetSpent as exc:
            log.warning("source %s: %s", name, exc)
            return await self._save(budget_spent(self._limits(collector, health), exc.budget, now))
        except SourceUnavailable as exc:
            return await self._failed(collector, health, now, str(exc), exc.retry_after)
        except AuthFailed as exc:
            return await self._save(auth_refused(self._limits(collector, health), now, str(exc),
                                                 label=f"source {name}", log=log))
        except TimeoutError:
            if not cap.expired():
                raise
            return await self._failed(collector, health, now, (
                f"run stopped after {collector.limits.max_run_seconds + self.run_grace:g} s (its time "
                f"cap max_run_seconds plus {self.run_grace:g} s); the next run goes on from the cursor"), None)
        except Exception as exc:  # the boundary of one source: the others go on
            if health.state != "failing":
                log.exception("source %s failed", name)
            return await self._failed(collector, health, now, f"{type(exc).__name__}: {exc}", None)
        return await self._completed(self._limits(collector, health), now, report, collector.guard.stops)

    async def record_push(self, name: str, report: ImportReport) -> SourceHealth:
        """Health of push source ``name`` after a push of posts: a push is its run."""
        lock = self._push_locks.setdefault(name, asyncio.Lock())
        async with lock:  # two pushes at once must not lose each other's counts
            return await self._completed(await self.health(name), self.clock(), report)

    async def _completed(self, health: SourceHealth, now: datetime, report: ImportReport,
                         stops: Sequence[str] = ()) -> SourceHealth:
        """Health after a run that raised nothing: ``ok``, or ``degraded`` with the reason.

        ``stops`` say why paging ended early (a repeated cursor, a page or time cap); they are
        shown with the health but do not make the run degraded.
        """
        reason = degraded_reason(report)
        notes = list(stops) + ([_rejected_note(report.rejected)] if report.rejected and not reason else [])
        return await self._save(completed(
            health, now, items=report.accepted, finished_at=self.clock(), degraded=reason, notes=notes,
            label=f"source {health.key}", log=log))

    async def _failed(self, collector: Collector, health: SourceHealth, now: datetime, error: str,
                      retry_after: float | None) -> SourceHealth:
        return await self._save(failed(
            self._limits(collector, health), now, error, interval=self.settings[collector.key].interval,
            retry_after=retry_after, label=f"source {collector.key}", log=log))

    def _limits(self, collector: Collector, health: SourceHealth) -> SourceHealth:
        """``health`` with the source's rate-limit headroom and this run's requests counted."""
        reset = collector.rate_limit_reset
        health = count_requests(health, collector.guard.requests, self.clock())
        return dataclasses.replace(
            health, rate_limit_remaining=collector.rate_limit_remaining,
            rate_limit_reset=_reset_instant(reset))

    async def _save(self, health: SourceHealth) -> SourceHealth:
        await self.store.save_source_health(health)
        return health


def _reset_instant(reset: float | None) -> datetime | None:
    """When the source's rate-limit window resets (epoch seconds), ``None`` when unknown.

    A header in milliseconds (as some gateways write it), ``nan`` or ``1e400`` is no instant
    a date can hold; the run is still recorded, with the reset unknown.
    """
    if not reset or not math.isfinite(reset):
        return None
    try:
        return datetime.fromtimestamp(reset, timezone.utc)
    except (OverflowError, OSError, ValueError):
        log.debug("rate-limit reset %r is beyond any date; left unknown", reset)
        return None


def degraded_reason(report: ImportReport) -> str | None:
    """Why a run that raised nothing did not work as it should, or ``None`` when it did.

    A run is degraded when part of the source (a feed, a search, an account) could not be
    read, or when it fetched items and every one of them was rejected, so nothing usable was
    stored.  A run that found nothing new is not degraded.
    """
    if report.failed:
        shown = "; ".join(f"{r.where}: {r.reason}" for r in report.failed[:3])
        more = f" (and {len(report.failed) - 3} more)" if len(report.failed) > 3 else ""
        return f"{len(report.failed)} part(s) of the source failed: {shown}{more}"
    if report.rejected and not report.accepted:
        return f"nothing stored: all {_rejected_note(report.rejected)}"
    return None


def _rejected_note(rejected: Sequence[Rejection]) -> str:
    first = rejected[0]
    return f"{len(rejected)} item(s) rejected, e.g. {first.where}: {first.reason}"
