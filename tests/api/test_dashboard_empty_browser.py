"""The dashboard's stream with nothing to show: it says why, and offers nothing that loads nothing."""

from __future__ import annotations

from tests.api.dashboard_server import page, server  # noqa: F401 (fixtures)
from tests.browser_helpers import needs_chromium, screenshot

pytestmark = needs_chromium


def test_an_empty_stream_says_why_and_hides_older_mentions(page, server) -> None:  # noqa: F811
    """A stream with nothing to show said "0 shown" above an "Older mentions" button that
    loaded nothing: the design's buttons overrode the hidden attribute."""
    page.goto("/dashboard?q=nothing-is-written-like-this")
    empty = page.wait_for_selector("#stream .stream-empty")
    assert "No mentions match these filters" in empty.inner_text()
    assert page.locator("#more").is_hidden()
    assert page.locator("#stream li.mention").count() == 0
    screenshot(page, "dashboard_empty_stream.png")
    assert not page.errors, page.errors
