"""Fixtures shared by every test folder."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import nlp.signals  # noqa: F401  (registers the NLP signals, as the composition root does)
from domain import Author, Customer, Identity, RawPost
from storage import Store, open_store

if TYPE_CHECKING:
    from tests.demo_template import DemoTemplate

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)

#: Backends the Store contract runs against; each entry builds a URL for a test.
BACKENDS: dict[str, Callable[[Path], str]] = {
    "sqlite": lambda tmp: f"sqlite:///{tmp / 'store.db'}",
    # The URL comes from the mongodb_server_uri fixture (a fresh database per test).
    "mongodb": lambda tmp: "",
}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A MongoDB test that could not run fails the run (unless SKIP_MONGODB_TESTS=1): a
    contract suite whose MongoDB half silently skipped proves nothing about MongoDB."""
    from tests.storage.mongo_harness import BACKEND_SKIPPED, OPT_OUT, skips_allowed

    report = yield
    if report.skipped and not skips_allowed() and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        if BACKEND_SKIPPED in reason:
            report.outcome = "failed"
            report.longrepr = f"{reason}\n(a MongoDB test skipped is a failure; {OPT_OUT}=1 allows it)"
    return report


@pytest.fixture(scope="session")
def mongodb_server_uri() -> Iterator[str]:
    """A MongoDB for the session: $MONGODB_URI, else mongoeco's wire server (skips if neither)."""
    from tests.storage.mongo_harness import mongodb_for_tests

    with mongodb_for_tests(Path(__file__).resolve().parent.parent) as uri:
        yield uri


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> "DemoTemplate":
    """The demo loaded once for the session; ``demo_template.copy_to(path)`` gives a test
    its own copy (see ``tests/demo_template.py``)."""
    from tests.demo_template import DemoTemplate

    return DemoTemplate(tmp_path_factory.mktemp("demo-template"))


@pytest.fixture(params=sorted(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh, empty store of each backend."""
    url = BACKENDS[request.param](tmp_path)
    if request.param == "mongodb":
        from tests.storage.mongo_harness import database_url

        url = database_url(request.getfixturevalue("mongodb_server_uri"))
    opened = await open_store(url)
    try:
        yield opened
    finally:
        if request.param == "mongodb":
            await opened.database.client.drop_database(opened.database.name)  # type: ignore[attr-defined]
        await opened.close()


def customer(cid: str = "cus_1", name: str = "Acme Anvils", **kw: Any) -> Customer:
    """A customer with sensible defaults."""
    kw.setdefault("kind", "company")
    return Customer(id=cid, name=name, **kw)


def post(external_id: str = "1", text: str = "hello", source: str = "x",
         handle: str = "someone", minutes: int = 0, **kw: Any) -> RawPost:
    """A post with sensible defaults; ``minutes`` after a fixed instant."""
    return RawPost(source=source, external_id=external_id, author=Author(handle, kw.pop("name", None)),
                   text=text, created_at=T0 + timedelta(minutes=minutes), **kw)


def acme_customers() -> list[Customer]:
    """A small registry used across the NLP, ingest and API tests."""
    return [
        customer("cus_acme", "Acme Anvils", aliases=("Acme",), domains=("acmeanvils.example",),
                 segment="enterprise", annual_revenue=5_000_000,
                 identities=(Identity("x", "acmeanvils"),)),
        customer("cus_jo", "Jo Rivera", kind="person", company="Acme Anvils", segment="enterprise",
                 emails=("jo@acmeanvils.example",),
                 identities=(Identity("reddit", "jo_r"), Identity("x", "jorivera"))),
        customer("cus_target", "Target Logistics", aliases=("Target",), segment="mid-market",
                 identities=(Identity("mastodon", "target@mastodon.example"),)),
    ]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    """Write rows (objects or raw strings) as JSON Lines."""
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path


def post_row(i: int, **kw: Any) -> dict[str, Any]:
    """One post in the stable JSONL import format."""
    row = {"source": "reddit", "external_id": f"t3_{i:06d}",
           "author": {"handle": f"user{i}", "name": f"User {i}"},
           "text": f"post number {i} about Nimbus", "created_at": f"2026-10-01T00:{i % 60:02d}:00Z",
           "url": f"https://reddit.example/{i}"}
    row.update(kw)
    return row
