"""The demo's own settings: after ``crmsphere demo load`` its share of voice counts Nimbus and
the two rival tools its posts name, so the chart has data on first open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.app import create_app
from config.settings import load_settings
from tests.demo_template import DEMO_SETTINGS, DemoTemplate
from tests.helpers import json_of


async def test_share_of_voice_of_the_loaded_demo_is_not_empty(aiohttp_client: Any, tmp_path: Path,
                                                              demo_template: DemoTemplate) -> None:
    # The session's demo, loaded by `crmsphere --config DEMO_SETTINGS demo load` (as `make run`).
    demo_template.copy_to(tmp_path / "demo.db")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    settings = load_settings(DEMO_SETTINGS, environ={},
                             overrides={"store.url": url, "scheduler.enabled": False,
                                        "api.trust_loopback": True})
    client = await aiohttp_client(create_app(settings))
    # The whole demo period (its posts end before today).
    voice = await json_of(await client.get("/api/dashboard/analytics/share-of-voice?days=365"))
    assert voice["configured"] is True
    counts = {v["name"]: v["mentions"] for v in voice["items"]}
    assert list(counts) == ["Nimbus", "Trello", "Asana"]
    assert all(n > 0 for n in counts.values()), counts
    assert counts["Nimbus"] > counts["Trello"] and [v["ours"] for v in voice["items"]] == [True, False, False]
    assert abs(sum(v["share"] for v in voice["items"]) - 1) < 0.001
