"""The teams page and a team's queue walked by a manager in real headless Chromium against
``crmsphere serve``, with more items waiting than a page holds: the counts are the queue's,
at desktop (1440×900) and phone (390×844) size, with no console error.  Screenshots go to the
module's temporary directory."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from domain.routing import RoutableItem, RoutedItem
from storage import open_store
from tests.browser_helpers import browser_tab, forum_server, needs_chromium, password_hash

MANAGER = "morgan@crmsphere.example"
WAITING = 540  # more than the 500 the page once read

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's temporary directory: store, config, server log and screenshots."""
    return tmp_path_factory.mktemp("teams-browser")


@pytest.fixture(scope="module")
def server(tmp: Path) -> Iterator[str]:
    """``crmsphere serve`` with a support team whose queue holds ``WAITING`` new items."""
    with forum_server(tmp, MANAGER, "Morgan", password_hash(),
                      '[[routing.teams]]\nkey = "support"\nname = "Customer support"\n'
                      'ack_sla_minutes = 240\n') as (base, _):
        async def route() -> None:
            store = await open_store(f"sqlite:///{tmp / 'db.sqlite'}")
            now = datetime.now(timezone.utc)
            try:
                for i in range(WAITING):
                    item = RoutableItem(kind="mention", id=str(i), source="x",
                                        text=f"Invoice {i} was charged twice")
                    # The 40 oldest waited a day: past the 4-hour acknowledgement SLA.
                    age = timedelta(days=1, minutes=i) if i < 40 else timedelta(minutes=i % 60)
                    await store.route_item(RoutedItem(item=item, rule_id="billing", team_key="support",
                                                      event="mention.analysed", routed_at=now - age), [])
            finally:
                await store.close()

        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, route()).result()
        yield base


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_teams_counts_are_the_whole_queue(browser, server, tmp: Path, size) -> None:
    with browser_tab(browser, server, size=size, sign_in_as=MANAGER) as page:
        page.goto("/teams")
        row = page.locator("table.routing-teams tr", has_text="Customer support")
        assert row.locator("td").nth(1).inner_text() == "540"
        assert row.locator(".sla-overdue").inner_text() == "40 overdue"
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]  # no sideways scroll
        page.screenshot(path=str(tmp / f"teams-{size[0]}x{size[1]}.png"), full_page=True)
        row.locator("a").click()
        page.wait_for_url("**/teams/support")
        status = page.inner_text(".stream-status")
        assert "540 waiting" in status and "40 overdue" in status and "50 shown" in status
        page.screenshot(path=str(tmp / f"team-queue-{size[0]}x{size[1]}.png"))
        assert page.errors == []
