"""Spike alerts said as a person would, wherever they appear: rounded, with units ("usually
about 4 a day; alert above 11"), never the stored decimals ("baseline 3.71, threshold 11.01").

The figures are those the watch really stores: a mean of seven daily counts and a threshold of
mean + k standard deviations, both rounded to two decimals."""

from __future__ import annotations

import math

import pytest

from api.keys import RUNTIME
from community.spike_alerts import detect_spikes, spike_item
from domain import utcnow
from domain.dashboard import SpikeAlert, SubjectVolume, spike_summary, spike_usual


@pytest.mark.parametrize("count, baseline, threshold, said", [
    (27, 3.71, 11.01, "27 mentions in 24 h; usually about 4 a day; alert above 11"),
    # A count must exceed the threshold: 11.5 alerts from 12 on, so "above 11" is exact.
    (12, 3.2, 11.5, "12 mentions in 24 h; usually about 3 a day; alert above 11"),
    (1, 0.0, 0.0, "1 mention in 24 h; usually none; alert above 0"),
    (5, 0.29, 2.57, "5 mentions in 24 h; usually fewer than 1 a day; alert above 2"),
    (12_480, 5_400.43, 9_000.99, "12,480 mentions in 24 h; usually about 5,400 a day; alert above 9,000"),
])
def test_spike_summary_is_rounded_with_units(count: int, baseline: float, threshold: float,
                                             said: str) -> None:
    assert spike_summary(count, baseline, threshold) == said


def test_spike_usual_survives_figures_no_watch_should_store() -> None:
    # A row written by hand or by an older version: nothing raises, nothing says "nan".
    assert spike_usual(math.nan, math.inf) == "no usual volume yet; alert above 0"
    assert spike_usual(-2.0, -1.5) == "no usual volume yet; alert above 0"


def test_the_routed_spike_text_has_no_raw_decimals() -> None:
    now = utcnow()
    # Seven days of 2, 3, 5, 4, 3, 6, 3 then 27: the mean is 3.71.
    volumes = [SubjectVolume("billing", 0, 27)] + [
        SubjectVolume("billing", b, n) for b, n in enumerate([2, 3, 5, 4, 3, 6, 3], start=1)]
    (alert,) = detect_spikes("topic", volumes, now, 3.0, 5)
    assert alert.baseline == 3.71
    text = spike_item(alert).text
    assert "3.71" not in text and str(alert.threshold) not in text
    assert text == (f"Spike: topic billing has 27 mentions in the last 24 hours (usually about 4 a "
                    f"day; alert above {math.floor(alert.threshold)}).")


async def test_alerts_api_carries_the_summary_the_pages_show(app_client) -> None:
    client = await app_client(customers=True)
    now = utcnow()
    await client.app[RUNTIME].store.record_spike_alerts([
        SpikeAlert("customer", "cus_acme", now, now, 14, 2.29, 5.86),
        SpikeAlert("topic", "billing", now, now, 27, 3.71, 11.01)])
    resp = await client.get("/api/dashboard/alerts")
    assert resp.status == 200
    items = {a["subject"]: a for a in (await resp.json())["items"]}
    # The figures stay for programs; the summary is what people read.
    assert (items["billing"]["baseline"], items["billing"]["threshold"]) == (3.71, 11.01)
    assert items["billing"]["summary"] == "27 mentions in 24 h; usually about 4 a day; alert above 11"
    assert items["cus_acme"]["summary"] == "14 mentions in 24 h; usually about 2 a day; alert above 5"
