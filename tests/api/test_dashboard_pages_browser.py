"""The dashboard's other pages in real headless Chromium against ``crmsphere serve`` (see
``tests/api/dashboard_server.py``): the customer page, every page's charts, and no dashboard
route for a caller who is not staff.
"""

from __future__ import annotations

import pytest

from tests.api.dashboard_server import page, server  # noqa: F401 (fixtures)
from tests.api.dashboard_server import posted_now, push, request
from tests.browser_helpers import needs_chromium

DASHBOARD_ROUTES = ["/dashboard", "/dashboard/analytics", "/dashboard/customers/cus_acme",
                    "/api/dashboard/mentions", "/api/dashboard/mentions.csv",
                    "/api/dashboard/mentions/1/notes", "/api/dashboard/analytics/volume",
                    "/api/dashboard/analytics/top-authors", "/api/dashboard/customers/cus_acme",
                    "/api/stream/mentions", "/api/dashboard/alerts", "/api/dashboard/facets",
                    "/api/dashboard/views", "/api/dashboard/staff", "/api/dashboard/analytics/topics",
                    "/api/dashboard/analytics/sentiment", "/api/dashboard/analytics/share-of-voice",
                    "/api/dashboard/analytics/first-response"]

pytestmark = needs_chromium


def test_customer_360_lists_the_new_mention(page, server) -> None:  # noqa: F811
    push(server, posted_now(2, "Acme Anvils support answered quickly, thanks", "someone_else"))
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
def test_every_page_renders_its_charts_without_console_errors(page, server, path, charts,  # noqa: F811
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


def test_non_staff_get_no_dashboard_route(server) -> None:  # noqa: F811
    for path in DASHBOARD_ROUTES:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            status, body = request(server + path, headers=headers)
            assert status in (401, 403), (path, status)
            assert b"invoices" not in body
    status, _ = request(server + "/api/dashboard/triage", b'{"mention_ids": [1], "status": "closed"}',
                         {"Content-Type": "application/json"})
    assert status in (401, 403)
