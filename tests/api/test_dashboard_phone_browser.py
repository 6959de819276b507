"""The live stream on a phone (390×844) in real headless Chromium: the filters fold behind a
"Filters" button so the first mentions show on the first screen, nothing scrolls sideways,
and what a thumb taps is at least 44 px tall.  Screenshots go to ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.dashboard_server import server  # noqa: F401 (the fixture)
from tests.api.dashboard_server import TOKEN, posted_now, push
from tests.browser_helpers import SIZES, browser_tab, needs_chromium

pytestmark = needs_chromium

PHONE = SIZES["phone"]
# How far the page scrolls sideways (0 when it fits the screen).
SIDEWAYS = "() => document.documentElement.scrollWidth - window.innerWidth"
# Height of every visible control inside the stream's tools.
CONTROL_HEIGHTS = """(scope) => [...document.querySelectorAll(scope)]
  .filter(el => el.getClientRects().length)
  .map(el => [el.getAttribute('name') || el.id || el.textContent.trim(), el.getBoundingClientRect().height])"""


@pytest.fixture
def phone(browser, server):  # noqa: F811 (the server fixture imported above)
    with browser_tab(browser, server, size=PHONE, failed_responses=False, is_mobile=True, has_touch=True,
                     extra_http_headers={"Authorization": f"Bearer {TOKEN}"}) as tab:
        yield tab


def test_phone_stream_shows_mentions_first_and_folds_the_filters(phone, server, tmp_path: Path) -> None:  # noqa: F811
    push(server, *[posted_now(9100 + i, f"Acme Anvils invoice export failed again, attempt {i}", f"ops_{i}")
                   for i in range(6)])
    phone.goto("/dashboard")
    first_card = phone.locator("#stream > li").first
    first_card.wait_for(state="visible")
    toggle = phone.get_by_role("button", name="Filters")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not phone.locator("#filters").is_visible()
    box = first_card.bounding_box()
    assert box is not None and box["y"] + 48 <= PHONE["height"], box  # the card starts on screen
    assert phone.evaluate(SIDEWAYS) <= 0
    assert toggle.bounding_box()["height"] >= 44
    # The dashboard's links are one row (it scrolls sideways by itself), not three.
    nav_tops = {round(b["y"]) for b in (a.bounding_box() for a in phone.locator(".dash-nav a").all()) if b}
    assert len(nav_tops) == 1, nav_tops
    # The first card's links and reply fold are thumb-sized too.
    card_targets = phone.evaluate(CONTROL_HEIGHTS, "#stream > li:first-child :is(.card-links a, .card-reply > summary, .select-tap)")
    assert card_targets and [(n, h) for n, h in card_targets if h < 44] == []
    phone.screenshot(path=str(tmp_path / "stream_phone_folded.png"))

    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    phone.locator("#filters [name=q]").wait_for(state="visible")
    short = [(name, h) for name, h in phone.evaluate(
        CONTROL_HEIGHTS, "#stream-tools :is(input, select, button, a.button)") if h < 44]
    assert short == []
    assert phone.evaluate(SIDEWAYS) <= 0
    phone.locator("#filters [name=sentiment]").select_option("negative")
    assert "1 in use" in toggle.inner_text()
    phone.screenshot(path=str(tmp_path / "stream_phone_filters_open.png"), full_page=True)
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "false" and not phone.locator("#filters").is_visible()


def test_wide_screen_shows_the_filters_without_the_fold(browser, server) -> None:  # noqa: F811
    with browser_tab(browser, server, size=(1280, 900),
                     failed_responses=False, extra_http_headers={"Authorization": f"Bearer {TOKEN}"}) as tab:
        tab.goto("/dashboard")
        tab.locator("#filters [name=q]").wait_for(state="visible")
        assert not tab.get_by_role("button", name="Filters").is_visible()
