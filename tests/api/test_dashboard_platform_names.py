"""The stream names a platform as its collector's ``label`` says: a collector added in one
module (here a Lemmy-like one, declared in this test) is named "Lemmy" in the stream's notes,
with no script or page edited; the built-in ones keep their names ("Hacker News")."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from collectors import COLLECTORS, Batch, Collector, register
from tests.helpers import app_settings


class LemmyLike(Collector):
    """A federated link aggregator's posts (nothing fetched: only its registration matters)."""

    label = "Lemmy"

    async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        return
        yield  # an async generator that yields nothing


@pytest.fixture
def lemmy() -> Iterator[None]:
    register("lemmy")(LemmyLike)
    yield
    COLLECTORS.pop("lemmy", None)


async def test_the_stream_page_names_every_platform_its_collector_labels(
        lemmy: None, aiohttp_client: Any, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(app_settings(tmp_path)))
    page = await (await client.get("/dashboard")).text()
    (raw,) = re.findall(r'<ol id="stream"[^>]* data-platforms="([^"]*)"', page)
    names = json.loads(unescape(raw))
    assert names["lemmy"] == "Lemmy"
    assert names["hackernews"] == "Hacker News" and names["x"] == "X"
    assert "push" not in names  # a kind without a label is named by its kind
