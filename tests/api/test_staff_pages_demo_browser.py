"""The staff pages on the loaded demo in real headless Chromium, on a desktop (1280×800) and a
phone (390×844): the customer filter suggests names as one types, spike alerts read as people
say them, a team's queue opens on the work and its filter fits a phone, and every staff page
fits the screen without errors.  Screenshots go to test-artifacts/ (looked at, not only taken).

The demo is served as ``make run`` serves it: this machine's user is the operator."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from crmsphere.demo_cli import DEMO_FORUM_FILE
from crmsphere.demo_forum_data import read_demo_forum
from domain.dashboard import SpikeAlert
from storage import open_store
from tests.browser_helpers import needs_chromium, sign_in, wait_until, watch
from tests.demo_template import DemoTemplate
from tests.helpers import wait_healthy_blocking
from tests.serve_helpers import free_port, start_serve, stop_serve

pytestmark = needs_chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"
DEMO = read_demo_forum(DEMO_FORUM_FILE)
MANAGER = next(s for s in DEMO.staff if s.role == "manager")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_template: DemoTemplate) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("staff-pages")
    demo_template.copy_to(tmp / "db.sqlite")
    url = f"sqlite:///{tmp / 'db.sqlite'}"

    async def seed() -> dict:
        store = await open_store(url)
        try:
            (jordan,) = (await store.list_customers("Jordan Shell", 2)).items
            # A spike as the watch stores it today: a mean and a threshold with decimals.
            now = datetime.now(timezone.utc)
            day = datetime.combine(now.date(), datetime.min.time(), timezone.utc)
            await store.record_spike_alerts([SpikeAlert("customer", jordan.id, day, now, 27, 3.71, 11.01)])
            return {"jordan": jordan.id}
        finally:
            await store.close()

    with ThreadPoolExecutor(1) as pool:  # pytest's event loop may be running in this thread
        facts = pool.submit(asyncio.run, seed()).result()
    port = free_port()
    config = tmp / "crmsphere.toml"
    config.write_text(f'[server]\nport = {port}\n[store]\nurl = "{url}"\n')
    log = tmp / "serve.log"
    proc = start_serve(config, tmp, log, env={"CRMSPHERE_ADMIN_TOKEN": "",
                                             "CRMSPHERE_API__TRUST_LOOPBACK": "true"})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy_blocking(base, proc, log, timeout=120)
        yield {"base": base, **facts}
    finally:
        code = stop_serve(proc)
    assert code == 0, log.read_text()[-2000:]


def _tab(browser, demo: dict, viewport: dict):
    phone = viewport is PHONE
    context = browser.new_context(base_url=demo["base"], viewport=viewport, is_mobile=phone,
                                  has_touch=phone)
    return context, watch(context.new_page(), failed_responses=False)


def _shot(tab, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"staff_{name}.png"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_customer_filter_suggests_names_and_filters_by_id(browser, demo: dict, viewport: dict) -> None:
    context, tab = _tab(browser, demo, viewport)
    try:
        tab.goto("/dashboard")
        tab.locator("#stream > li[data-id]").first.wait_for()
        if viewport is PHONE:
            tab.get_by_role("button", name="Filters").click()
        box = tab.get_by_role("combobox", name="Customer")
        box.press_sequentially("jordan sh", delay=30)
        option = tab.get_by_role("option", name="Jordan Shell")
        option.wait_for()
        assert box.get_attribute("aria-expanded") == "true"
        _shot(tab, f"customer_suggestions_{'phone' if viewport is PHONE else 'desktop'}")
        # The suggestions fit the screen (a phone's too).
        list_box = tab.locator("#customer-options").bounding_box()
        assert list_box and list_box["x"] >= 0 and list_box["x"] + list_box["width"] <= viewport["width"]
        if viewport is PHONE:
            option.tap()
        else:
            box.press("ArrowDown")
            assert tab.locator("#customer-options [aria-selected=true]").inner_text().startswith("Jordan Shell")
            box.press("Enter")
        wait_until(tab, f"location.search.includes('customer={demo['jordan']}')")
        assert tab.locator("#customer-id").input_value() == demo["jordan"]
        assert box.input_value() == "Jordan Shell" and not tab.locator("#customer-options").is_visible()
        # The stream now holds Jordan Shell's mentions only (the id was the filter sent).
        wait_until(tab, "document.querySelector('#stream > li[data-id]') !== null")
        cards = tab.locator("#stream > li[data-id]")
        for i in range(min(cards.count(), 5)):
            assert cards.nth(i).locator(f"a[href='/dashboard/customers/{demo['jordan']}']").count() >= 1
        assert parse_qs(urlsplit(tab.url).query).get("customer_name") is None
        assert tab.errors == []
    finally:
        context.close()


def test_without_javascript_a_typed_name_is_resolved_by_the_page(browser, demo: dict) -> None:
    context = browser.new_context(base_url=demo["base"], viewport=DESKTOP, java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto("/dashboard")
        tab.fill("#customer-name", "Jordan")
        tab.get_by_role("button", name="Filter").click()
        tab.wait_for_load_state()
        query = parse_qs(urlsplit(tab.url).query)
        if query.get("customer"):  # one demo customer is called Jordan…: filtered by its id
            assert tab.locator("#customer-id").input_value() == query["customer"][0]
        else:  # …or several are: the page asks to pick one, a link each
            assert "Several customers match “Jordan”: pick one" in tab.inner_text("#customer-choice")
            tab.get_by_role("link", name="Jordan Shell").click()
            tab.wait_for_load_state()
            assert parse_qs(urlsplit(tab.url).query)["customer"] == [demo["jordan"]]
        _shot(tab, "customer_no_javascript")
    finally:
        context.close()


def test_spike_alerts_read_as_people_say_them(browser, demo: dict) -> None:
    context, tab = _tab(browser, demo, DESKTOP)
    try:
        tab.goto("/dashboard")
        alert = tab.locator("#alerts li.alert-customer", has_text="Jordan Shell")
        alert.wait_for()
        text = alert.inner_text()
        assert "27 mentions in 24 h; usually about 4 a day; alert above 11" in text, text
        assert "3.71" not in tab.inner_text("#alerts") and "11.01" not in tab.inner_text("#alerts")
        _shot(tab, "spike_alerts")
        tab.goto("/dashboard/analytics?days=7")
        tab.locator("#alerts li.alert-customer", has_text="Jordan Shell").wait_for()
        assert "usually about 4 a day; alert above 11" in tab.inner_text("#alerts")
        # Picking another period moves the export to it (its until is the day after the last).
        tab.select_option("#analytics-filters [name=days]", "90")
        wait_until(tab, "document.getElementById('volume-chart').dataset.period === 'days=90'")
        first = tab.input_value("#analytics-filters [name=since]")
        assert tab.input_value("#export [name=since]") == first
        assert tab.inner_text("#export-period") == tab.inner_text("#period-label")
        assert tab.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_team_queue_opens_on_the_work_and_its_filter_fits(browser, demo: dict, viewport: dict) -> None:
    context, tab = _tab(browser, demo, viewport)
    try:
        tab.goto("/teams/support")
        assert "needing work (new, acknowledged, in progress)" in tab.inner_text("#queue-shown")
        statuses = set(tab.locator(".queue .badge.status").all_inner_texts())
        assert statuses and statuses <= {"new", "acknowledged", "in progress"}, statuses
        # The status filter and its button side by side or one under the other, never overlapping.
        select = tab.locator("form.filters select[name=status]").bounding_box()
        button = tab.locator("form.filters button[type=submit]").bounding_box()
        assert select and button
        apart = (select["x"] + select["width"] <= button["x"] + 1 or
                 select["y"] + select["height"] <= button["y"] + 1)
        assert apart, (select, button)
        assert select["x"] + select["width"] <= viewport["width"]
        if viewport is DESKTOP:
            # A card's customer facts sit side by side: not one tall column of seven lines.
            facts = tab.locator(".queue .customer-context").first.bounding_box()
            assert facts and facts["height"] < 120, facts
        assert tab.evaluate(SIDEWAYS) <= 0
        _shot(tab, f"team_queue_{'phone' if viewport is PHONE else 'desktop'}")
        tab.select_option("form.filters select[name=status]", "all")
        tab.locator("form.filters button[type=submit]").click()
        tab.wait_for_url("**/teams/support?status=all")
        assert "of every status (done and dismissed too)" in tab.inner_text("#queue-shown")
        assert "done" in set(tab.locator(".queue .badge.status").all_inner_texts())
        assert tab.errors == []
    finally:
        context.close()


def test_a_customer_quiet_this_month_is_not_one_with_no_mentions_yet(browser, demo: dict) -> None:
    context, tab = _tab(browser, demo, DESKTOP)
    try:
        # Jordan Shell last spoke more than 30 days before the demo's end (checked, not assumed).
        body = tab.request.get(f"/api/dashboard/customers/{demo['jordan']}").json()
        assert body["timeline"] and not any(body["volume"]["total"]), "the demo changed: pick another"
        tab.goto(f"/dashboard/customers/{demo['jordan']}")
        wait_until(tab, "document.getElementById('sentiment-chart').dataset.rendered !== undefined")
        latest = body["timeline"][0]["created_at"][:10]
        said = tab.inner_text("#volume-chart")
        assert said == f"No mentions in the last 30 days: the latest was on {latest} (in the timeline below).", said
        # No empty axes under a chart that has nothing to draw.
        assert tab.inner_text("#sentiment-chart") == "No mentions in the last 30 days, so no sentiment to show."
        assert tab.locator("#sentiment-chart canvas").count() == 0
        _shot(tab, "customer_360_quiet")
        assert tab.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_staff_page_fits_the_screen_without_errors(browser, demo: dict, viewport: dict) -> None:
    context, tab = _tab(browser, demo, viewport)
    size = "phone" if viewport is PHONE else "desktop"
    try:
        first = tab.request.get(f"/api/dashboard/mentions?customer={demo['jordan']}&limit=1").json()
        pages = {"stream": "/dashboard", "thread": f"/dashboard/mentions/{first['items'][0]['id']}",
                 "customer_360": f"/dashboard/customers/{demo['jordan']}",
                 "analytics": "/dashboard/analytics", "teams": "/teams", "team_queue": "/teams/billing",
                 "review_queue": "/dashboard/links"}
        for name, path in pages.items():
            tab.goto(path)
            tab.wait_for_load_state("networkidle")
            assert tab.evaluate(SIDEWAYS) <= 0, (name, tab.evaluate(SIDEWAYS))
            if name == "thread":  # who is speaking, beside the conversation (below it on a phone)
                panel = tab.locator(".thread-customers")
                assert panel.get_by_role("link", name="Jordan Shell").is_visible()
                thread, side = tab.locator("#thread").bounding_box(), panel.bounding_box()
                assert thread and side
                assert (side["x"] >= thread["x"] + thread["width"]) if viewport is DESKTOP else (
                    side["y"] >= thread["y"] + thread["height"])
            _shot(tab, f"walk_{name}_{size}")
        sign_in(tab, MANAGER.email, DEMO.password)
        tab.goto("/dashboard/changelog")
        assert tab.get_by_role("link", name="New entry").is_visible()
        assert tab.evaluate(SIDEWAYS) <= 0
        _shot(tab, f"walk_changelog_{size}")
        assert tab.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_changelog_admin_has_a_real_button_and_one_sentence_of_help(browser, demo: dict, viewport: dict) -> None:
    # "New entry" was a bare link on a green strip, and the link in the hint stood apart from
    # its sentence ("read at   /forum/changelog   . Publishing").
    context, tab = _tab(browser, demo, viewport)
    try:
        sign_in(tab, MANAGER.email, DEMO.password)
        tab.goto("/dashboard/changelog")
        new = tab.get_by_role("link", name="New entry").bounding_box()
        assert new and new["height"] >= 40 and new["width"] >= 90, new
        hint = " ".join(tab.inner_text(".page-hint").split())
        assert "read at /forum/changelog. Publishing one" in hint, hint
        assert "Write one with “New entry”" in tab.inner_text(".c360-list")  # the demo has none yet
        _shot(tab, f"changelog_admin_{'phone' if viewport is PHONE else 'desktop'}")
        assert tab.errors == []
    finally:
        context.close()


def test_teams_list_fits_a_phone_without_a_sideways_table(browser, demo: dict) -> None:
    # Five columns sat in a frame that scrolled sideways: the SLA and channels were off screen.
    context, tab = _tab(browser, demo, PHONE)
    try:
        tab.goto("/teams")
        frame = tab.locator(".table-scroll")
        assert frame.evaluate("el => el.scrollWidth - el.clientWidth") <= 0
        support = tab.locator("table.routing-teams tbody tr", has_text="Customer support")
        assert re.search(r"Acknowledge within \d+ min · queue only", support.inner_text()), support.inner_text()
        facts = support.locator(".team-facts").bounding_box()
        assert facts and facts["x"] + facts["width"] <= PHONE["width"]
        _shot(tab, "teams_phone")
        assert tab.errors == []
    finally:
        context.close()
