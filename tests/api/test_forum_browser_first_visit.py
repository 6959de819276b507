"""A first-time visitor's minute on the forum, in real headless Chromium at a desktop and a phone
size: signed out, they search for what they came to ask for.  When nothing matches, the list
says so (not "No ideas yet" on a board full of ideas), offers to clear the search and to suggest
what they typed as a new idea, with the title already filled in on the form after sign-in.
On an idea's page nobody has commented on yet, the comments say so, and a signed-out visitor
gets buttons to sign in (back to this idea) or sign up, not a bare line of text.
The index opens with the operator's sentence saying what the board is for (``board_intro``).
Screenshots go to ``test-artifacts/first_visit_<page>_<size>.png``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser_helpers import PASSWORD, api_sign_up, browser_tab, forum_server, needs_chromium, screenshot

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
# What visitors type into a search box: quotes, an ampersand, markup, trailing spaces.
SEARCH = 'export "SEPA" & <b>XML</b> '
# What an operator writes to say what the board is for: quotes, an ampersand, a tag.
INTRO = 'Ideas for the Anvil "invoicing" app & <em>its</em> API: tell us what would save you time.'

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``crmsphere serve`` with one idea on the board; yields the base URL and a manager's token."""
    tmp = tmp_path_factory.mktemp("forum-first-visit")
    with forum_server(tmp, "pat@crmsphere.example", "Pat", None,
                      f"[forum]\ntrust_signup_email = true\nbrand_name = 'Anvil Ideas'\nboard_intro = '{INTRO}'\n") as running:
        yield running


@pytest.fixture(scope="module")
def board(browser, server) -> int:
    """A customer account and one idea of theirs (no comment yet); returns the idea's id."""
    with browser_tab(browser, server[0]) as tab:
        api = tab.context.request
        csrf = api_sign_up(api, "jo@acmeanvils.example", "Jo Rivera")
        made = api.post("/api/ideas", data={"title": "Export invoices as CSV", "body": "For the accountants."},
                        headers=csrf)
        assert made.status == 201, made.text()
        return made.json()["id"]


def _shot(page, name: str, size: str) -> None:
    """Screenshot, no console error, and on the phone no sideways scroll."""
    page.wait_for_load_state("load")
    screenshot(page, f"first_visit_{name}_{size}.png", full_page=True)
    assert page.errors == [], (name, size, page.errors)
    if size == "phone":
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, name


@pytest.mark.parametrize("size", SIZES)
def test_a_search_that_finds_nothing_offers_to_suggest_it(browser, server, board, size: str) -> None:
    width, height = SIZES[size]
    with browser_tab(browser, server[0], size=(width, height)) as page:
        page.goto("/forum")
        _shot(page, "list", size)
        # What this board is for, as the operator wrote it (text, not markup).
        assert page.inner_text(".page-head .board-intro") == INTRO
        assert page.locator(".page-head em").count() == 0
        page.fill("input[name=q]", SEARCH)
        page.click("form[role=search] button[type=submit]")
        page.wait_for_url("**/forum?*")
        _shot(page, "no_match", size)
        empty = page.locator(".empty-state")
        assert "No ideas yet" not in empty.inner_text()
        assert empty.locator("h2").inner_text() == f"No ideas match “{SEARCH.strip()}”"
        assert page.locator("b").count() == 0, "the search is text, not markup"
        assert page.locator(".result-count").count() == 0, "no '0 ideas' over the empty list"
        # Both ways out are big enough to tap on a phone.
        for link in (empty.locator("a.clear"), empty.locator("a.suggest-this")):
            box = link.bounding_box()
            assert box["height"] >= 44, (link, box)
        empty.locator("a.clear").click()
        page.wait_for_url("**/forum")
        assert page.locator(".idea").count() == 1

        page.go_back()
        page.locator(".empty-state a.suggest-this").click()
        # Signed out: the sign-in page first, then the form, with the title kept.
        page.wait_for_url("**/forum/signin?**")
        page.fill("input[name=email]", "jo@acmeanvils.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/forum/signin'] button[type=submit]")
        page.wait_for_url("**/forum/submit?**")
        _shot(page, "suggest", size)
        assert page.input_value("input[name=title]") == SEARCH.strip()


def test_a_filter_that_finds_nothing_says_which_filter(browser, server, board) -> None:
    """A status with no idea in it: the empty list names the filter and offers to clear it, and
    offers no idea title (there is no text to suggest)."""
    with browser_tab(browser, server[0]) as page:
        page.goto("/forum?status=done")
        empty = page.locator(".empty-state")
        assert empty.locator("h2").inner_text() == "No ideas match these filters"
        assert empty.locator("a.clear").get_attribute("href") == "/forum"
        assert empty.locator("a.suggest-this").get_attribute("href") == "/forum/submit"


@pytest.mark.parametrize("size", SIZES)
def test_a_signed_out_visitor_is_invited_into_the_conversation(browser, server, board, size: str) -> None:
    width, height = SIZES[size]
    with browser_tab(browser, server[0], size=(width, height)) as page:
        page.goto(f"/forum/ideas/{board}")
        _shot(page, "idea", size)
        comments = page.locator("#comments")
        assert comments.locator(".comments-empty").inner_text() == "No comments yet."
        join = comments.locator(".join-conversation")
        sign_in_button = join.locator("a.button", has_text="Sign in to comment")
        assert sign_in_button.get_attribute("href") == f"/forum/signin?next=/forum/ideas/{board}"
        assert join.locator("a.button", has_text="Sign up").get_attribute("href") == \
            f"/forum/signup?next=/forum/ideas/{board}"
        for button in join.locator("a.button").all():
            assert button.bounding_box()["height"] >= 44
        sign_in_button.click()
        page.fill("input[name=email]", "jo@acmeanvils.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/forum/signin'] button[type=submit]")
        page.wait_for_url(f"**/forum/ideas/{board}")
        # Signed in: the comment form, the empty line says where to start.
        assert page.locator("#comments .comments-empty").inner_text() == "No comments yet: start the conversation below."
        assert page.locator("#comments .join-conversation").count() == 0
        assert page.locator("form.comment-form textarea[name=body]").count() == 1
