"""The demo's own settings: after ``crmsphere demo load`` its share of voice counts Nimbus and
the two rival tools its posts name, so the chart has data on first open."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from api.app import create_app
from config.settings import DEMO_DIR, load_settings
from tests.helpers import json_of

DEMO_SETTINGS = DEMO_DIR / "crmsphere.toml"


async def test_share_of_voice_of_the_loaded_demo_is_not_empty(aiohttp_client: Any,
                                                              tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    load = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crmsphere", "--config", str(DEMO_SETTINGS), "--store", url,
        "demo", "load", cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env={**os.environ, "CRMSPHERE_ADMIN_TOKEN": ""})
    out, _ = await load.communicate()
    assert load.returncode == 0, out.decode()[-2000:]
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
