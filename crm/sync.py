"""Inbound CRM sync: changed CRM records -> mapping -> one store transaction per page.

``CrmSync`` is the coordinator of every enabled connector, like ``SourceRunner``
for sources: it owns each connector's health (shown with the sources as
``crm:<kind>``), backs off on failures, logs once when a connector breaks and
once when it recovers, and runs under the same per-source lease so that two
processes never sync one CRM at once.  After customers changed, the NLP
gazetteer is reloaded through ``on_customers_changed``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from community.impact_refresh import refresh_impact
from community.leases import RUN_LEASE_TTL, held_lease
from config.crm import CrmConnectorSettings, CrmSettings, ObjectMapping
from config.forum import ImpactSettings
from crm.alias_hygiene import AliasCheck, AliasNote
from crm.base import CrmConnector, CrmPage
from crm.bridge import BridgeInbound
from crm.mapping import learned_value, map_customer
from crm.records import apply_crm_batch, learned_identities
from crm.registry import check_kinds, connector_class
from domain import Rejection, SourceHealth, utcnow
from domain.health import auth_refused, completed, failed, is_due, with_paused
from domain.crm import CrmBatch, CrmCustomer, CrmMerge
from domain.errors import (
    AuthFailed,
    BadItem,
    NotConfigured,
    NotFound,
    SourceUnavailable,
)
from storage.base import Store

log = logging.getLogger(__name__)

PREFIX = "crm:"


@dataclass(slots=True)
class SyncReport:
    """What one sync of one connector did."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    merged: int = 0
    learned_written: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    #: aliases refused (too short) or flagged (common words) as the records came in
    aliases: list[AliasNote] = field(default_factory=list)

    @property
    def changed(self) -> int:
        """Customers written, removed or merged."""
        return self.inserted + self.updated + self.deleted + self.merged


def page_batch(kind: str, object_type: str, page: CrmPage,
               mapping: ObjectMapping) -> tuple[CrmBatch, list[Rejection]]:
    """The store batch for one page of changes, and the records the mapping refused."""
    upserts: list[CrmCustomer] = []
    deleted: list[str] = []
    merges: list[CrmMerge] = []
    rejected = list(page.rejected)
    for record in page.records:
        if record.deleted:
            deleted.append(record.crm_id)
        elif record.merged_into:
            merges.append(CrmMerge(object_type, record.crm_id, record.merged_into))
        else:
            try:
                upserts.append(map_customer(kind, object_type, record.crm_id, record.properties,
                                            mapping, record.company_id))
            except BadItem as exc:
                rejected.append(Rejection(f"{kind} {object_type} {record.crm_id}",
                                          f"field {exc.reason}"))
    return CrmBatch(kind, object_type, tuple(upserts), tuple(deleted), tuple(merges),
                    page.cursor), rejected


class CrmSync:
    """Runs the enabled CRM connectors into the store, keeping each one's health."""

    def __init__(
        self, store: Store, settings: CrmSettings, environ: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utcnow, holder: str | None = None,
        on_customers_changed: Callable[[], Awaitable[None]] | None = None,
        impact: ImpactSettings | None = None, run_lease_ttl: float = RUN_LEASE_TTL,
        languages: Sequence[str] = ("en",),
    ) -> None:
        check_kinds(settings)
        self.store, self.settings, self.clock = store, settings, clock
        self.run_lease_ttl = run_lease_ttl  # a dead process's run blocks others this long at most
        self.environ = os.environ if environ is None else environ
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.on_customers_changed = on_customers_changed
        #: the forum's impact formula: votes of changed customers are weighed again with it
        self.impact = impact or ImpactSettings()
        self.languages = tuple(languages)
        self._alias_check: AliasCheck | None = None
        self.connectors: dict[str, CrmConnector] = {}
        self.problems: dict[str, str] = {}
        #: the bridge's inbound side (it remembers signatures it saw, to refuse replays)
        self.bridge = BridgeInbound(settings.bridge, self.environ)

    def configured(self) -> dict[str, CrmConnectorSettings]:
        """Enabled connector tables by kind."""
        return {k: s for k, s in self.settings.connectors().items() if s.enabled}

    async def start(self) -> None:
        """Build each enabled connector; a misconfigured one is reported once and left out."""
        for kind, table in self.configured().items():
            try:
                self.connectors[kind] = connector_class(kind)(
                    table.options(), table.credentials(self.environ))
            except NotConfigured as exc:
                self.problems[kind] = str(exc)
                log.warning("crm %s not configured: %s", kind, exc)
                await self.store.save_source_health(dataclasses.replace(
                    await self.health(PREFIX + kind), state="not_configured", error=str(exc)))
                continue
            log.info("crm %s: every %.0f s", kind, table.interval)

    async def close(self) -> None:
        """Close every connector."""
        for connector in self.connectors.values():
            await connector.close()

    def scheduled(self) -> list[tuple[str, float]]:
        """(``crm:<kind>``, interval) of every connector the scheduler should poll."""
        return [(PREFIX + kind, self.settings.connectors()[kind].interval)
                for kind in self.connectors]

    def kind_of(self, key: str) -> str:
        """``hubspot`` of ``crm:hubspot``; ``NotFound`` for an unknown or disabled connector."""
        kind = key.removeprefix(PREFIX)
        if kind not in self.configured():
            raise NotFound(f"no enabled CRM connector {kind!r}")
        return kind

    async def health(self, key: str) -> SourceHealth:
        """The stored health of ``crm:<kind>`` (a fresh record if it never ran)."""
        return await self.store.get_source_health(key) or SourceHealth(key, "crm")

    async def all_health(self) -> list[SourceHealth]:
        """Health of every enabled connector."""
        return [await self.health(PREFIX + kind) for kind in self.configured()]

    # -- one sync ------------------------------------------------------------------------------
    async def sync(self, kind: str, *, full: bool = False) -> SyncReport:
        """Fetch every change since the stored cursors (all records when ``full``) into the store."""
        connector = self.connectors.get(kind)
        if connector is None:
            raise NotConfigured(self.problems.get(kind) or f"crm {kind} is not enabled")
        table = self.settings.connectors()[kind]
        report = SyncReport()
        # Owners read for tasks are good for one run: this one may show records changed hands.
        connector.forget_owners()
        for object_type in table.objects:
            mapping = getattr(table.mapping, object_type)
            cursor = None if full else await self.store.get_crm_cursor(kind, object_type)
            async for page in connector.changes(object_type, cursor):  # type: ignore[arg-type]
                batch, rejected = page_batch(kind, object_type, page, mapping)
                batch, notes = self.alias_check().batch(batch)
                for note in notes:
                    log.warning("crm %s alias %r of %s: %s", kind, note.alias, note.customer_id,
                                note.reason)
                report.aliases += notes
                done = await apply_crm_batch(self.store, batch, self.clock())
                report.inserted += done.inserted
                report.updated += done.updated
                report.deleted += done.deleted
                report.merged += done.merged
                if done.inserted or done.updated or done.merged:
                    # Committed with its cursor: rescore now, a later page failing must not
                    # leave this page's ideas with their old weights.
                    await self.refresh_impact([batch])
                for rejection in rejected:
                    log.warning("crm %s rejected %s: %s", kind, rejection.where, rejection.reason)
                report.rejected += rejected
        if report.changed and self.on_customers_changed is not None:
            await self.on_customers_changed()
        if table.mapping.learned_field:
            report.learned_written = await self._write_learned(kind, connector,
                                                               table.mapping.learned_field)
        return report

    def alias_check(self) -> AliasCheck:
        """The alias rule every record runs through (built once, when first needed: the word
        lists load slowly)."""
        if self._alias_check is None:
            self._alias_check = AliasCheck(self.languages)
        return self._alias_check

    async def refresh_impact(self, batches: Iterable[CrmBatch]) -> int:
        """Rescore the ideas voted by the customers ``batches`` upserted or merged into (their
        segment or revenue may have changed, or votes moved to them); returns how many."""
        customer_ids: set[str] = set()
        for batch in batches:
            customer_ids.update(u.customer.id for u in batch.upserts)
            for merge in batch.merges:
                survivor = await self.store.get_crm_link(batch.connector, merge.object_type,
                                                         merge.survivor_crm_id)
                if survivor is not None:
                    customer_ids.add(survivor.customer_id)
        return await refresh_impact(self.store, customer_ids, self.impact)

    async def _write_learned(self, kind: str, connector: CrmConnector, field_name: str) -> int:
        written = 0
        for learned in await learned_identities(self.store, kind):
            value = learned_value(learned.identities, learned.aliases)
            if value == learned.written:
                continue
            link = learned.link
            try:
                await connector.write_learned(link.object_type, link.crm_id,  # type: ignore[arg-type]
                                              {field_name: value})
            except BadItem as exc:  # one record refused (deleted meanwhile...): the rest go on
                log.warning("crm %s: learned identities of %s %s not written: %s", kind,
                            link.object_type, link.crm_id, exc)
                continue
            await self.store.mark_learned_written(kind, link.object_type, link.crm_id, value)
            written += 1
        return written

    # -- scheduled runs, health ------------------------------------------------------------------
    async def run_once(self, key: str, *, force: bool = False, full: bool = False) -> SourceHealth:
        """Sync ``crm:<kind>`` once if due, not paused and not running elsewhere."""
        kind = self.kind_of(key)
        health = await self.health(key)
        now = self.clock()
        if kind not in self.connectors or not is_due(health, now, force=force):
            return health
        async with held_lease(self.store, f"source:{key}", self.holder, self.run_lease_ttl,
                              clock=lambda: self.clock().timestamp()) as held:
            if not held:
                log.debug("crm %s is syncing in another process", kind)
                return health
            return await self._run(kind, key, health, now, full)

    async def _run(self, kind: str, key: str, health: SourceHealth, now: datetime,
                   full: bool) -> SourceHealth:
        connector = self.connectors[kind]
        try:
            report = await self.sync(kind, full=full)
        except (SourceUnavailable, BadItem) as exc:
            retry = exc.retry_after if isinstance(exc, SourceUnavailable) else None
            return await self._failed(kind, key, health, now, str(exc), retry)
        except AuthFailed as exc:
            return await self._save(auth_refused(health, now, str(exc), label=f"crm {kind}", log=log))
        except Exception as exc:  # the boundary of one connector: the others go on
            if health.state != "failing":
                log.exception("crm %s sync failed", kind)
            return await self._failed(kind, key, health, now, f"{type(exc).__name__}: {exc}", None)
        first = report.rejected[0] if report.rejected else None
        notes = [f"{len(report.rejected)} record(s) rejected, e.g. {first.where}: {first.reason}"] if first else []
        done = completed(health, now, items=report.changed, finished_at=self.clock(), notes=notes,
                         label=f"crm {kind}", log=log)
        return await self._save(dataclasses.replace(
            done, rate_limit_remaining=getattr(connector, "rate_limit_remaining", None)))

    async def _failed(self, kind: str, key: str, health: SourceHealth, now: datetime, error: str,
                      retry_after: float | None) -> SourceHealth:
        return await self._save(failed(
            health, now, error, interval=self.settings.connectors()[kind].interval,
            retry_after=retry_after, label=f"crm {kind}", log=log))

    async def set_paused(self, key: str, paused: bool) -> SourceHealth:
        """Pause or resume a connector (resuming clears an auth failure)."""
        self.kind_of(key)
        return await self._save(with_paused(await self.health(key), paused))

    async def _save(self, health: SourceHealth) -> SourceHealth:
        await self.store.save_source_health(health)
        return health



def with_crm_jobs(source_jobs: list[tuple[str, float]], run_source: Callable[[str], Awaitable[object]],
                  crm: CrmSync | None
                  ) -> tuple[list[tuple[str, float]], Callable[[str], Awaitable[object]]]:
    """The scheduler's jobs with the CRM connectors added, and one run function for both:
    ``crm:<kind>`` runs through ``crm``, every other name through ``run_source``."""
    jobs = list(source_jobs) + (crm.scheduled() if crm is not None else [])

    async def run(name: str) -> object:
        if crm is not None and name.startswith(PREFIX):
            return await crm.run_once(name)
        return await run_source(name)

    return jobs, run
