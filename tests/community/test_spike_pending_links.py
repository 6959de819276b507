"""Which mentions count toward a customer's spike (``community.spike_alerts``' rule), on both
backends: a link still awaiting a manager's review is not yet a fact about the customer, so
twelve posts the linker only guessed at do not alert; twelve confirmed ones do."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from community.spike_alerts import SpikeWatch
from config.dashboard import DashboardSettings
from domain import Analysis, CustomerLink, Mention
from storage import Store
from tests.conftest import customer, post

NOW = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)


def _burst(first: int, customer_id: str, status: str) -> list[Mention]:
    link = CustomerLink(customer_id, 0.55, "name", "name 'Globex' in text", status=status)
    return [Mention(dataclasses.replace(post(f"{first + i}", f"Globex outage again?! #{i}"),
                                        created_at=NOW - timedelta(hours=3, minutes=i)),
                    Analysis(links=(link,))) for i in range(12)]


async def test_only_reviewed_links_make_a_customer_spike(store: Store) -> None:
    await store.upsert_customers([customer("cus_guessed"), customer("cus_confirmed")])
    await store.save_mentions("x", _burst(100, "cus_guessed", "pending")
                              + _burst(200, "cus_confirmed", "confirmed"), None)
    watch = SpikeWatch(store, DashboardSettings(spike_k=3.0, spike_min_volume=10), clock=lambda: NOW)
    alerts = await watch.evaluate()
    assert [(a.kind, a.subject, a.count) for a in alerts if a.kind == "customer"] == [
        ("customer", "cus_confirmed", 12)]
    # The read counts the guessed links too when asked.
    counted = await store.subject_volumes("customer", NOW, 8, pending_links=True)
    assert sorted((v.subject, v.count) for v in counted) == [("cus_confirmed", 12), ("cus_guessed", 12)]
