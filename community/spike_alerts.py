"""Spike alerts: per topic and per customer, the last 24 hours against the 7 days before.

A subject spikes when its count over the last 24 hours exceeds the mean of the seven
24-hour buckets before it plus ``k`` population standard deviations, and reaches a
minimum volume.  ``SpikeWatch.evaluate(now)`` is a pure function of the store and the
clock (tests move a fake clock); the hourly ``spike-alerts`` job of the coordinator
(crmsphere/jobs.py) calls it only in the process that holds the scheduler lease.  An alert is stored once per subject per UTC day; only new alerts
are handed on (to routing).
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, time, timezone

from domain.routing import RoutableItem
from config.dashboard import DashboardSettings
from domain import Customer, utcnow
from domain.dashboard import SPIKE_SUBJECTS, SpikeAlert, SubjectVolume, spike_usual
from storage.base import Store

log = logging.getLogger(__name__)

BASELINE_BUCKETS = 7


def detect_spikes(kind: str, volumes: Iterable[SubjectVolume], now: datetime, k: float,
                  min_volume: int) -> list[SpikeAlert]:
    """The subjects of ``volumes`` (buckets 0–7 before ``now``) whose bucket 0 spikes."""
    counts: dict[str, list[int]] = {}
    for v in volumes:
        if 0 <= v.bucket <= BASELINE_BUCKETS:
            counts.setdefault(v.subject, [0] * (BASELINE_BUCKETS + 1))[v.bucket] += v.count
    window = datetime.combine(now.astimezone(timezone.utc).date(), time(), timezone.utc)
    alerts = []
    for subject, series in sorted(counts.items()):
        current, history = series[0], series[1:]
        mean = statistics.fmean(history)
        threshold = mean + k * statistics.pstdev(history)
        if current > threshold and current >= min_volume:
            alerts.append(SpikeAlert(kind, subject, window, now, current, round(mean, 2),
                                     round(threshold, 2)))
    return alerts


SpikeHook = Callable[[SpikeAlert], Awaitable[object]]

#: The routing event a new spike alert is published as, about an item of kind ``spike``.
SPIKE_EVENT = "spike.detected"


def spike_item(alert: SpikeAlert, customer: Customer | None = None) -> RoutableItem:
    """A spike alert as routing rules see it: a topic spike carries its topic, a customer
    spike the customer's CRM facts (segment, revenue), so existing conditions apply."""
    day = alert.window_start.date().isoformat()
    what = f"customer {customer.name if customer else alert.subject}" if alert.kind == "customer" \
        else f"topic {alert.subject}"
    # Said as a person would: rounded, with units (the stored figures keep their decimals).
    text = (f"Spike: {what} has {alert.count:,} mentions in the last 24 hours "
            f"({spike_usual(alert.baseline, alert.threshold)}).")
    return RoutableItem(
        kind="spike",
        id=f"{alert.kind}:{alert.subject}:{day}", text=text, title=f"Spike in {what}",
        topics=(alert.subject,) if alert.kind == "topic" else (),
        customer_id=alert.subject if alert.kind == "customer" else None,
        customer_name=customer.name if customer else None,
        company=customer.company if customer else None,
        segment=customer.segment if customer else None,
        revenue=customer.annual_revenue if customer else None)


class SpikeWatch:
    """Evaluates spikes and hands each new alert to ``on_alert`` (routing)."""

    def __init__(self, store: Store, settings: DashboardSettings, on_alert: SpikeHook | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.settings, self.on_alert, self.clock = store, settings, on_alert, clock

    async def evaluate(self, now: datetime | None = None) -> list[SpikeAlert]:
        """Detect, store and publish spikes as of ``now``; returns the alerts that are new."""
        now = now or self.clock()
        found: list[SpikeAlert] = []
        for kind in SPIKE_SUBJECTS:
            # A link awaiting a manager's review is not yet a fact about the customer.
            volumes = await self.store.subject_volumes(kind, now, BASELINE_BUCKETS + 1, pending_links=False)
            found += detect_spikes(kind, volumes, now, self.settings.spike_k,
                                   self.settings.spike_min_volume)
        new = await self.store.record_spike_alerts(found) if found else []
        for alert in new:
            log.info("spike: %s %s has %d mentions in 24 h (baseline %.1f, threshold %.1f)",
                     alert.kind, alert.subject, alert.count, alert.baseline, alert.threshold)
            if self.on_alert is not None:
                try:
                    await self.on_alert(alert)
                except Exception:  # the alert is stored; routing failing must not stop the watch
                    log.exception("routing spike alert %s failed", alert.id)
        return new
