"""The analytics page walked by a community manager in real headless Chromium against
``crmsphere serve``, at desktop (1440×900) and phone (390×844) size: bar charts start at zero,
their labels never overlap, every bar has an accessible name and a tooltip, the spike lines
say which rule they follow, and share of voice counts the configured brands.  Screenshots go
to the module's temporary directory."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.browser_helpers import browser_tab, forum_server, needs_chromium, password_hash, wait_until

MANAGER = "morgan@crmsphere.example"
CONFIG = """[dashboard]
brand = { name = "Nimbus", aliases = ["nimbushq"] }
[[dashboard.competitors]]
name = "Trello"
[[dashboard.competitors]]
name = "Asana"
"""

pytestmark = needs_chromium


def _posts(path: Path) -> Path:
    """Two weeks of posts as the collectors store them: long federated handles, a busy author,
    brands named in passing."""
    now = datetime.now(timezone.utc)
    rows, n = [], 0
    texts = ["Nimbus invoices are broken again", "moved our boards from Trello to Nimbus",
             "Asana import into nimbushq failed", "Nimbus mobile app is lovely",
             "dark mode please Nimbus"]
    handles = ["ximena_cloud@techhub.social", "bramblelabs@hachyderm.io", "danielg", "getvantoranalyt",
               "austin2002", "abernathyh", "gesposito", "getvantoranalyt.bsky.social",
               "jenniferlachance", "jonas5947"]
    for day in range(14):
        for k in range(3 + day % 4):
            n += 1
            rows.append({"source": "mastodon" if "@" in handles[n % 10] else "reddit",
                         "external_id": f"p{n}", "author": {"handle": handles[(n * n) % 10]},
                         "text": texts[n % len(texts)],
                         "created_at": (now - timedelta(days=day, minutes=k + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's temporary directory: store, config, server log and screenshots."""
    return tmp_path_factory.mktemp("analytics-browser")


@pytest.fixture(scope="module")
def server(tmp: Path) -> Iterator[tuple[str, str]]:
    """``crmsphere serve`` on a store holding two weeks of posts."""
    (tmp / "import.toml").write_text(CONFIG)
    subprocess.run([sys.executable, "-m", "crmsphere", "--config", str(tmp / "import.toml"),
                    "--store", f"sqlite:///{tmp / 'db.sqlite'}", "import", "posts",
                    str(_posts(tmp / "posts.jsonl"))], cwd=tmp, check=True, capture_output=True)
    with forum_server(tmp, MANAGER, "Morgan", password_hash("correct horse battery staple"),
                      CONFIG) as running:
        yield running


def _overlaps(boxes: list[dict]) -> list[tuple[int, int]]:
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes) if i < j
            and a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]]


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_analytics_charts_are_right_and_readable(browser, server, tmp: Path, size) -> None:
    base, _ = server
    with browser_tab(browser, base, size=size, sign_in_as=MANAGER) as page:
        page.goto("/dashboard/analytics")
        for chart in ("#topic-share-chart", "#voice-chart", "#authors-chart"):
            page.wait_for_selector(f"{chart}[data-rendered='1']", timeout=10000)
            bars = page.locator(f"{chart} svg .bar")
            values = [int(v) for v in bars.evaluate_all("bs => bs.map(b => b.dataset.value)")]
            widths = bars.evaluate_all(
                "bs => bs.map(b => b.querySelector('rect').getBoundingClientRect().width)")
            # Zero-based: each bar's length is its value's share of the largest (within a pixel).
            longest = max(widths)
            for value, width in zip(values, widths):
                assert abs(width - longest * value / max(values)) <= 1.5, (chart, values, widths)
            labels = page.locator(f"{chart} .bar-label").evaluate_all(
                "ls => ls.map(l => { const r = l.getBoundingClientRect();"
                " return {x: r.x, y: r.y, width: r.width, height: r.height}; })")
            assert _overlaps(labels) == [], chart
            names = bars.evaluate_all("bs => bs.map(b => b.getAttribute('aria-label'))")
            assert all(n and n.rsplit(": ", 1)[1].split()[0].isdigit() for n in names), names
            assert bars.evaluate_all("bs => bs.map(b => b.querySelector('title').textContent)") == names
        # The busiest author's full handle is named though its label is cut to fit.
        assert page.locator("#authors-chart .bar[aria-label^='@ximena_cloud@techhub.social: ']").count() == 1
        voice = page.locator("#voice-chart .bar").evaluate_all(
            "bs => bs.map(b => b.getAttribute('aria-label'))")
        assert [v.split(":")[0] for v in voice] == ["Nimbus", "Trello", "Asana"]
        # Keyboard: a bar takes the focus and is announced by its name.
        page.locator("#authors-chart .bar").first.focus()
        assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("@")
        # Both spike lines say what they count, by one rule.
        assert "standard deviations" in page.inner_text("#spikes")
        assert "by topic or customer" in page.inner_text("#alerts-heading")
        # Nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        page.screenshot(path=str(tmp / f"analytics-{size[0]}x{size[1]}.png"), full_page=True)
        assert page.errors == []


def test_period_picker_lives_in_the_url_and_tooltips_name_day_and_value(browser, server,
                                                                         tmp: Path) -> None:
    base, _ = server
    with browser_tab(browser, base, size="desktop", sign_in_as=MANAGER) as page:
        page.goto("/dashboard/analytics")
        page.wait_for_selector("#volume-chart[data-rendered='1']")
        today = datetime.now(timezone.utc).date()
        # A preset: the URL says it, and a reload opens the same period.
        page.select_option("#analytics-filters [name=days]", "7")
        wait_until(page, "location.search === '?days=7'")
        wait_until(page,
            f"document.querySelector('#analytics-filters [name=since]').value === "
            f"'{(today - timedelta(days=6)).isoformat()}'")
        page.reload()
        assert page.input_value("#analytics-filters [name=days]") == "7"
        # A custom range, applied: in the URL, and the chart spans exactly its days.
        since, until = today - timedelta(days=12), today - timedelta(days=3)
        page.fill("#analytics-filters [name=since]", since.isoformat())
        page.fill("#analytics-filters [name=until]", until.isoformat())
        page.click("#analytics-filters button[type=submit]")
        wait_until(page, f"location.search === '?since={since}&until={until}'")
        # The chart drawn for that period (not the preset's, which a slow first load may draw late).
        page.wait_for_selector(f"#volume-chart[data-period='since={since}&until={until}']")
        # Keyboard: the chart takes the focus and its tooltip names the day and the values.
        page.focus("#volume-chart")
        page.keyboard.press("Home")
        tip = page.locator("#volume-chart .chart-tooltip")
        wait_until(page,
            f"document.querySelector('#volume-chart .chart-tooltip strong')?.textContent === '{since}'")
        assert tip.get_attribute("role") == "status" and "total: " in tip.inner_text()
        page.keyboard.press("End")
        wait_until(page,
            f"document.querySelector('#volume-chart .chart-tooltip strong')?.textContent === '{until}'")
        page.keyboard.press("ArrowLeft")
        assert tip.locator("strong").inner_text() == (until - timedelta(days=1)).isoformat()
        assert "Volume per source" in page.get_attribute("#volume-chart", "aria-label")
        # The pointer: hovering the sentiment chart shows a day and its mean sentiment.
        over = page.locator("#sentiment-chart .u-over")
        over.hover(position={"x": 200, "y": 40})
        over.hover(position={"x": 260, "y": 50})  # a second move: the chart follows the pointer
        hover = page.locator("#sentiment-chart .chart-tooltip")
        hover.wait_for(state="visible")
        assert "sentiment: " in hover.inner_text() and hover.locator("strong").inner_text()[:2] == "20"
        page.locator("#volume-chart").focus()
        page.keyboard.press("End")
        page.screenshot(path=str(tmp / "analytics-period-tooltip-1440x900.png"), full_page=False)
        assert page.errors == []
        # A reversed range is refused by the API; the page says why beside the picker.
        page.goto(f"/dashboard/analytics?since={until}&until={since}")
        error = page.locator("#period-error")
        error.wait_for(state="visible")
        assert "must not be after" in error.inner_text()
        assert [e for e in page.errors if "status of 400" not in e] == [], page.errors


def test_headline_numbers_are_those_of_the_charts(browser, server) -> None:
    """The tiles above the charts give the period's mentions, spike days, alerts, our share of
    voice and busiest topic: the same numbers as the API answers the charts are drawn from."""
    base, _ = server
    with browser_tab(browser, base, size="desktop", sign_in_as=MANAGER) as page:
        page.goto("/dashboard/analytics?days=30")
        page.wait_for_selector("#volume-chart[data-rendered='1']")
        api = page.context.request
        volume = api.get("/api/dashboard/analytics/volume?days=30").json()
        topics = api.get("/api/dashboard/analytics/topics?days=30").json()
        voice = api.get("/api/dashboard/analytics/share-of-voice?days=30").json()
        mentions = sum(volume["total"])
        assert mentions == 61  # every post of the fortnight (3 to 6 a day)
        ours = next(v for v in voice["items"] if v["ours"])
        tiles = dict(zip(page.locator("#kpis dt").all_inner_texts(), page.locator("#kpis dd").all_inner_texts(),
                         strict=True))
        assert tiles["Mentions"] == f"{mentions:,}"
        assert tiles["Spike days"] == str(len(volume["spikes"]))
        assert tiles["Our share of voice"] == f"{ours['share'] * 100:.1f} %" and ours["name"] == "Nimbus"
        assert tiles["Busiest topic"] == (topics["share"][0]["topic"] if topics["share"] else "—")
        assert tiles["Alerts raised"].isdigit()
        assert page.errors == []
