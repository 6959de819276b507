"""The stream's live card marks each linked customer's name in the post text, in real headless
Chromium, as the server's card (thread page, customer 360) does: the same names, links and
titles.  The text stays text; a screenshot goes to test-artifacts/ for a person to look at."""

from __future__ import annotations

from tests.api.dashboard_server import page, server  # noqa: F401 (fixtures)
from tests.api.dashboard_server import posted_now, push
from tests.browser_helpers import needs_chromium, screenshot

pytestmark = needs_chromium

# What people really post: emoji outside the BMP (two UTF-16 units each, one Python index)
# before the name, and markup that would run if the card parsed the text as HTML.
HOSTILE = ("🔥😡 <img src=x onerror=alert(document.cookie)> Acme Anvils lost my invoices "
           "& Target says it's fine")
MARKS = """(card) => [...card.querySelectorAll('p.text mark.customer')].map(m => [
  m.textContent, m.querySelector('a').getAttribute('href'), m.title, m.className,
  getComputedStyle(m).borderBottomStyle])"""


def test_live_card_marks_linked_names_after_an_emoji_and_keeps_markup_as_text(page, server) -> None:  # noqa: F811
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto("/dashboard")
    page.wait_for_selector("#live-state.on", timeout=5000)
    push(server, posted_now(9300, HOSTILE, "pat_vents"))
    card = page.wait_for_selector("#stream li.mention:has-text('lost my invoices')")
    text = card.query_selector("p.text")
    assert text.query_selector("img") is None and text.inner_text() == HOSTILE
    marks = card.evaluate(MARKS)
    assert [(name, href) for name, href, *_ in marks] == [
        ("Acme Anvils", "/dashboard/customers/cus_acme"), ("Target", "/dashboard/customers/cus_target")]
    acme, target = marks
    assert acme[2].startswith("Acme Anvils: ") and "awaiting review" not in acme[2]
    assert acme[3] == "customer link-accepted" and acme[4] == "none"
    # The bare "Target" is ambiguous: the link awaits review, and its mark is dotted and says so.
    assert target[3] == "customer link-pending" and target[4] == "dotted"
    assert "awaiting review" in target[2]
    card.evaluate("(card) => card.getAnimations().forEach(a => a.finish())")  # the "new" flash
    screenshot(card, "dashboard_marked_names.png")

    # The server's card of the same mention marks the same names with the same titles.
    page.goto(f"/dashboard/mentions/{card.get_attribute('data-id')}")
    served = page.wait_for_selector("#thread li.mention.focused")
    assert served.evaluate(MARKS) == marks
    assert served.query_selector("p.text").inner_text() == HOSTILE
    screenshot(served, "thread_marked_names.png")
    assert not dialogs and not page.errors, (dialogs, page.errors)
