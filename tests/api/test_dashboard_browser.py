"""The dashboard in real headless Chromium against ``crmsphere serve`` on a temporary store.

One server and one browser for the module; the server requires an admin token, which
the browser context sends on every request (a caller without it is not staff).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest

from collectors.push import sign
from domain.dashboard import SpikeAlert
from nlp.calibration import CONFIDENCE
from storage import open_store
from tests.browser_helpers import needs_chromium, wait_until, watch
from tests.conftest import acme_customers, post_row
from tests.test_serve_sources import free_port

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

TOKEN = "staff-token-for-tests"
SECRET = "push-secret-for-tests"
DASHBOARD_ROUTES = ["/dashboard", "/dashboard/analytics", "/dashboard/customers/cus_acme",
                    "/api/dashboard/mentions", "/api/dashboard/mentions.csv",
                    "/api/dashboard/mentions/1/notes", "/api/dashboard/analytics/volume",
                    "/api/dashboard/analytics/top-authors", "/api/dashboard/customers/cus_acme",
                    "/api/stream/mentions", "/api/dashboard/alerts", "/api/dashboard/facets",
                    "/api/dashboard/views", "/api/dashboard/staff", "/api/dashboard/analytics/topics",
                    "/api/dashboard/analytics/sentiment", "/api/dashboard/analytics/share-of-voice",
                    "/api/dashboard/analytics/first-response"]

pytestmark = needs_chromium


def _request(url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite:///{tmp / 'db.sqlite'}"

    async def seed() -> None:
        store = await open_store(url)
        try:
            await store.upsert_customers(acme_customers())
            await store.create_account("ana@crm.example", "ana", None, "team")  # an assignee
            # A spike alert raised today, for the alerts panel and the chart markers.
            now = datetime.now(timezone.utc)
            day = datetime.combine(now.date(), datetime.min.time(), timezone.utc)
            await store.record_spike_alerts([SpikeAlert("topic", "billing", day, now, 42, 3.0, 9.5)])
        finally:
            await store.close()

    # pytest's event loop may be running in this thread: seed from a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, seed()).result()
    port = free_port()
    config = tmp / "crmsphere.toml"
    config.write_text(f"""
[server]
port = {port}
[store]
url = "{url}"
[dashboard]
brand = {{ name = "Acme Anvils", aliases = ["acmeanvils"] }}
competitors = [{{ name = "Target Logistics", aliases = ["Target"] }}]
[[routing.teams]]
key = "product"
name = "Product design"
[[sources]]
kind = "push"
name = "partner"
secret_env = "TEST_PUSH_SECRET"
[[sources]]
kind = "push"
name = "webform"
secret_env = "TEST_PUSH_SECRET"
""")
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmsphere", "--config", str(config), "serve"], cwd=tmp,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "CRMSPHERE_ADMIN_TOKEN": TOKEN, "TEST_PUSH_SECRET": SECRET})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if _request(base + "/healthz")[0] == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("crmsphere serve did not start: " + (proc.communicate()[0] or ""))
        time.sleep(0.1)
    try:
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        assert proc.returncode == 0, out


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900},
                                  extra_http_headers={"Authorization": f"Bearer {TOKEN}"})
    # Console errors and uncaught exceptions only: one test expects a refused request's 404.
    tab = watch(context.new_page(), failed_responses=False)
    try:
        yield tab
    finally:
        context.close()


def push(base: str, *rows: dict, source: str = "partner") -> dict:
    body = json.dumps({"posts": list(rows)}).encode()
    stamp = str(int(time.time()))
    status, answer = _request(base + f"/api/ingest/{source}", body, {
        "Content-Type": "application/json", "X-Crmsphere-Timestamp": stamp,
        "X-Crmsphere-Signature": sign(SECRET, stamp, body)})
    assert status == 202, answer
    return json.loads(answer)


def _today(i: int, text: str, handle: str) -> dict:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return post_row(i, text=text, created_at=now, author={"handle": handle, "name": None})


def test_pushed_mention_appears_live_and_triage_persists(page, server) -> None:
    page.goto("/dashboard")
    page.wait_for_selector("#live-state.on", timeout=5000)
    push(server, _today(1, "Acme Anvils invoices are broken again", "jorivera"))
    pushed_at = time.monotonic()
    row = page.wait_for_selector("#stream li.mention:has-text('invoices are broken again')", timeout=2000)
    assert time.monotonic() - pushed_at < 2.0
    assert "jorivera" in row.inner_text()

    # Keyboard: j selects the newest, p marks it pending; then assign, tag and a note.
    page.keyboard.press("j")
    page.wait_for_selector("#detail:not([hidden])")
    page.keyboard.press("p")
    page.wait_for_selector("#stream li.mention.status-pending")
    page.wait_for_selector("#detail-assignee option:text-is('ana')", state="attached")
    page.select_option("#detail-assignee", label="ana")
    page.fill("#detail-tags", "billing, vip")
    page.click("#detail-save")
    page.wait_for_selector("#stream li.mention .assignee:has-text('ana')")
    page.fill("#note-body", "Called Jo, fix due Friday")
    page.click("#note-add")
    page.wait_for_selector("#notes li:has-text('Called Jo')")

    page.reload()
    row = page.wait_for_selector("#stream li.mention:has-text('invoices are broken again')")
    assert "status-pending" in row.get_attribute("class")
    assert "→ ana" in row.inner_text() and "#billing" in row.inner_text() and "#vip" in row.inner_text()
    row.click()
    page.wait_for_selector("#notes li:has-text('Called Jo, fix due Friday')")
    # The status filter sees the change too.
    page.select_option("#filters [name=status]", "closed")
    wait_until(page, "document.querySelectorAll('#stream li.mention').length === 0")
    assert not page.errors, page.errors


def test_customer_360_lists_the_new_mention(page, server) -> None:
    push(server, _today(2, "Acme Anvils support answered quickly, thanks", "someone_else"))
    page.goto("/dashboard/customers/cus_acme")
    page.wait_for_selector("#timeline li:has-text('support answered quickly')")
    assert "enterprise" in page.inner_text(".facts")
    assert "@acmeanvils" in page.inner_text("#identities")
    assert not page.errors, page.errors


@pytest.mark.parametrize("path, charts", [
    ("/dashboard", ["#volume-chart"]),
    ("/dashboard/analytics", ["#volume-chart", "#authors-chart", "#topic-chart", "#topic-share-chart",
                              "#voice-chart", "#sentiment-chart", "#response-chart"]),
    ("/dashboard/customers/cus_acme", ["#volume-chart", "#sentiment-chart"]),
])
def test_every_page_renders_its_charts_without_console_errors(page, server, path, charts,
                                                              tmp_path) -> None:
    page.goto(path)
    for chart in charts:
        page.wait_for_selector(f"{chart}[data-rendered]", timeout=5000)
        if page.get_attribute(chart, "data-rendered") == "1":  # uPlot lines or SVG bars
            assert page.locator(f"{chart} canvas, {chart} svg.bar-chart").count() == 1
    if path == "/dashboard":
        page.wait_for_selector("#source-health tbody tr:has-text('partner')")
    if path == "/dashboard/analytics":
        # The alert raised today is listed and marked on the volume chart.
        page.wait_for_selector("#alerts li.alert:has-text('billing')")
        assert "alert raised" in page.inner_text("#volume-chart")
        page.wait_for_selector("#voice tbody tr:has-text('Acme Anvils (us)')")
    shot = tmp_path / (path.strip("/").replace("/", "_") + ".png")  # the test's artefact
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000
    assert not page.errors, page.errors


def test_non_staff_get_no_dashboard_route(server) -> None:
    for path in DASHBOARD_ROUTES:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            status, body = _request(server + path, headers=headers)
            assert status in (401, 403), (path, status)
            assert b"invoices" not in body
    status, _ = _request(server + "/api/dashboard/triage", b'{"mention_ids": [1], "status": "closed"}',
                         {"Content-Type": "application/json"})
    assert status in (401, 403)


def test_saved_views_facets_alerts_and_help(page, server) -> None:
    push(server, _today(3, "Acme Anvils invoices double charged", "billing_bob"),
         _today(4, "Acme Anvils mobile app is lovely", "happy_hana"))
    page.goto("/dashboard")
    page.wait_for_selector("#stream li.mention:has-text('double charged')")
    # Counts per filter, for the current filter set.
    page.wait_for_selector("#facets [data-facet=source] .chip")
    page.wait_for_selector("#alerts li.alert:has-text('billing')")
    page.fill("#filters [name=q]", "double charged")
    wait_until(page, "document.querySelectorAll('#stream li.mention').length === 1")
    wait_until(
        page,
        "[...document.querySelectorAll('#facets [data-facet=status] .chip')].map(c => c.textContent)"
        ".join() === 'open 1'")
    page.fill("#view-name", "Double charges")
    page.click("#view-save")
    page.wait_for_selector("#view-select option:has-text('Double charges')", state="attached")

    # A fresh page: choosing the saved view brings its filters back.
    page.goto("/dashboard")
    wait_until(page, "document.querySelectorAll('#stream li.mention').length > 1")
    page.select_option("#view-select", label="Double charges")
    wait_until(page, "document.querySelectorAll('#stream li.mention').length === 1")
    assert page.input_value("#filters [name=q]") == "double charged"
    page.click("#view-delete")
    wait_until(page, "!document.querySelector('#view-select').textContent.includes('Double')")

    # The keyboard help opens with ? and closes with Escape.
    page.evaluate("document.activeElement.blur()")  # keys go to the page, not a control
    page.keyboard.press("?")
    page.wait_for_selector("#help:not([hidden])")
    assert "attach to an existing idea" in page.inner_text("#help")
    page.keyboard.press("Escape")
    page.wait_for_selector("#help", state="hidden")
    assert not page.errors, page.errors


def test_evidence_on_hover_link_review_and_routing(page, server) -> None:
    push(server, _today(5, "I shop at Target every week", "shopper_sam"),
         _today(6, "Acme Anvils invoices are broken once more", "jorivera"))
    page.goto("/dashboard")
    row = page.wait_for_selector("#stream li.mention:has-text('broken once more')")
    evidence = row.query_selector(".link-evidence")
    assert "rule: company_name" in evidence.get_attribute("title")
    assert f"confidence: {CONFIDENCE['company_name']:.2f}" in evidence.get_attribute("title")
    assert "span" in evidence.get_attribute("title")
    assert "rule:" in row.query_selector(".badge.topic").get_attribute("title")
    assert "score:" in row.query_selector(".has-evidence[class*=sentiment-]").get_attribute("title")

    # Reject the ambiguous "Target" link from the stream: it leaves the mention.
    page.click("#stream li.mention:has-text('shop at Target') p.text")
    page.wait_for_selector("#detail-links li.link-pending .link-reject")
    page.click("#detail-links li.link-pending .link-reject")
    page.wait_for_selector("#detail-links li.empty")
    row = page.wait_for_selector("#stream li.mention:has-text('shop at Target')")
    assert row.query_selector(".link-evidence") is None

    # Route the current mention to a team.
    page.select_option("#route-team", "product")
    page.click("#route-send")
    page.wait_for_selector("#route-result:has-text('routed to product')")
    mention_id = row.get_attribute("data-id")
    status, body = _request(server + "/api/teams/product/queue",
                            headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and mention_id in body.decode()
    assert not page.errors, page.errors


def _idea_total(base: str) -> int:
    status, body = _request(base + "/api/ideas?limit=1")  # the public list
    assert status == 200, body
    return json.loads(body)["total"]


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_convert_to_idea_is_an_edit_step_first(page, server, size, tmp_path) -> None:
    handle = f"dark_dana_{size[0]}"
    push(server, _today(20 + size[0], f"Please add dark mode to the mobile app ({size[0]})", handle))
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto("/dashboard")
    page.click(f"#stream li.mention:has-text('mobile app ({size[0]})') p.text")
    page.wait_for_selector("#detail:not([hidden])")
    before = _idea_total(server)
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("i")  # convert: opens the edit step, creates nothing yet
    page.wait_for_selector("#idea-dialog[open]")
    assert page.input_value("#idea-title").startswith("Please add dark mode")
    assert f"@{handle}" in page.input_value("#idea-body")
    assert page.inner_text("#idea-handle") == f"@{handle}"
    assert _idea_total(server) == before
    page.screenshot(path=str(tmp_path / f"convert-step-{size[0]}x{size[1]}.png"))
    # Cancel leaves nothing behind.
    page.click("#idea-cancel")
    page.wait_for_selector("#idea-dialog", state="hidden")
    assert _idea_total(server) == before
    # Again, edited, with the handle hidden: the prefilled body follows the checkbox.
    page.click("#idea-convert")
    page.wait_for_selector("#idea-dialog[open]")
    page.fill("#idea-title", "Dark mode in the mobile app")
    page.check("#idea-hide-handle")
    assert handle not in page.input_value("#idea-body")
    page.click("#idea-create")
    result = page.wait_for_selector("#idea-result:has-text('idea #')")
    idea_id = result.inner_text().rsplit("#", 1)[1]
    assert idea_id.isdigit() and _idea_total(server) == before + 1
    page.wait_for_selector("#idea-dialog", state="hidden")
    status, public = _request(server + f"/forum/ideas/{idea_id}")
    assert status == 200 and b"Dark mode in the mobile app" in public
    assert handle.encode() not in public
    assert not page.errors, page.errors


def test_convert_to_idea_and_attach_from_the_stream(page, server) -> None:
    push(server, _today(7, "Please add dark mode to the mobile app", "dark_dana"),
         _today(8, "Dark mode please, my eyes hurt at night", "night_nico"))
    page.goto("/dashboard")
    page.click("#stream li.mention:has-text('add dark mode') p.text")
    page.wait_for_selector("#detail:not([hidden])")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("i")  # convert to an idea: the edit step, then Create
    page.wait_for_selector("#idea-dialog[open]")
    page.click("#idea-create")
    result = page.wait_for_selector("#idea-result:has-text('idea #')")
    idea_id = result.inner_text().rsplit("#", 1)[1]
    assert idea_id.isdigit()

    page.click("#stream li.mention:has-text('my eyes hurt') p.text")
    page.fill("#idea-attach-id", idea_id)
    page.click("#idea-attach")
    page.wait_for_selector(f"#idea-result:has-text('attached to idea #{idea_id}')")
    # Attaching again is harmless; an unknown idea is refused with the API's message.
    page.fill("#idea-attach-id", "999999")
    page.click("#idea-attach")
    wait_until(page, "!document.querySelector('#idea-result').textContent.startsWith('attached')")
    assert page.inner_text("#idea-result") == "no idea 999999"
    # The browser logs the refused request itself; nothing else went wrong.
    assert [e for e in page.errors if "status of 404" not in e] == [], page.errors


def test_the_source_panel_shows_a_degraded_source_and_why(page, server, tmp_path) -> None:
    # A web form whose sender lost the author field: every post is rejected, nothing stored.
    rows = [{**_today(900 + i, f"form message {i}", "form"), "author": None} for i in range(3)]
    assert push(server, *rows, source="webform")["accepted"] == 0
    push(server, _today(910, "Nimbus invoices look right again", "sam"))  # partner stays ok
    page.goto("/dashboard")
    row = page.locator("#source-health tbody tr.state-degraded", has_text="webform")
    row.wait_for(timeout=5000)
    assert row.locator(".badge.source-state").inner_text() == "degraded"
    reason = page.locator("#source-health tr.health-reason.state-degraded")
    assert reason.inner_text() == ("nothing stored: all 3 item(s) rejected, e.g. posts[0]: "
                                   "field 'author' must be an object with a 'handle'")
    ok = page.locator("#source-health tbody tr", has_text="partner").locator(".badge.source-state")
    assert ok.inner_text() == "ok"
    # The badge has its own colour, amber, not the green of ok nor the red of failing.
    colours = page.evaluate("""() => [...document.querySelectorAll('#source-health .source-state')]
        .map(b => [b.textContent, getComputedStyle(b).backgroundColor])""")
    # The tints are design tokens mixed with transparency (``color(srgb r g b / a)``): compare hues.
    tint = {state: [float(c) for c in css[css.index("(") + 1:].split("/")[0].split()[1:4]]
            for state, css in colours}
    amber, green = tint["degraded"], tint["ok"]
    # red over green over blue, and blue well under green (a red has them about equal): amber
    assert amber[0] > amber[1] > 2 * amber[2], colours
    assert green[1] > green[0] and green[1] > green[2], colours  # green
    shot = tmp_path / "source_panel_degraded.png"  # the test's artefact
    page.locator("#source-health").screenshot(path=str(shot))
    page.screenshot(path=str(tmp_path / "dashboard_degraded.png"), full_page=True)
    assert shot.stat().st_size > 1000
    assert not page.errors, page.errors

