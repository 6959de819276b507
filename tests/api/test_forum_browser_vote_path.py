"""The forum's main path in headless Chromium against ``crmsphere serve`` (demo mode on):
a visitor presses vote, signs up, opens the verification link, and lands back on the page
with the vote cast; later, signed out, presses vote on another idea and signs in with the
password.  Screenshots at desktop and phone size go to ``test-artifacts/``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser_helpers import (
    PASSWORD, browser_tab, forum_server, needs_chromium, password_hash, screenshot,
)


pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[int]]]:
    """``crmsphere serve`` in demo mode with three ideas posted by a manager."""
    tmp = tmp_path_factory.mktemp("forum-vote-path")
    with forum_server(tmp, "pat@crmsphere.example", "Pat", password_hash(),
                      "[forum]\ndemo_mode = true\n") as (base, token):
        import json
        import urllib.request

        ids = []
        for title in ("Export invoices as CSV", "Dark mode", "Slack alerts for spikes", "Bulk tagging"):
            req = urllib.request.Request(f"{base}/api/ideas", data=json.dumps({"title": title}).encode(),
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
            with urllib.request.urlopen(req) as resp:  # loopback only
                ids.append(json.load(resp)["id"])
        yield base, ids


def _vote_button(page, idea_id: int):
    """The idea's vote button: in the list's one vote form, or in the idea page's own form."""
    return page.locator(f"form.votes button.vote[value='{idea_id}'], "
                        f"form.vote[action='/forum/ideas/{idea_id}/vote'] button.vote")


def _shot(page, name: str) -> None:
    screenshot(page, f"forum_{name}.png", full_page=True)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_vote_sign_up_verify_and_back_with_the_vote_cast(browser, server, size: str) -> None:
    base, ids = server
    idea = ids[0] if size == "desktop" else ids[1]
    with browser_tab(browser, base, size=size) as page:
        page.goto("/forum?sort=new")
        assert _vote_button(page, idea).get_attribute("aria-pressed") == "false"
        _vote_button(page, idea).click()
        page.wait_for_url("**/forum/signin?**")
        assert "your vote is cast as soon as you are in" in page.inner_text("main")
        assert page.get_by_role("link", name="E-mail me a sign-in link").is_visible()
        assert page.get_by_role("link", name="Forgot your password?").is_visible()
        _shot(page, f"signin_waiting_vote_{size}")
        page.get_by_role("link", name="Sign up").last.click()
        page.wait_for_url("**/forum/signup?**")
        page.fill("input[name=name]", f"Sam {size}")
        page.fill("input[name=email]", f"sam-{size}@acmeanvils.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/forum/signup'] button[type=submit]")
        page.wait_for_load_state("load")
        assert page.inner_text("h1") == "Check your e-mail"
        assert "Demo mode" in page.inner_text("main")
        _shot(page, f"check_email_{size}")
        page.get_by_role("link", name="Verify my e-mail").click()
        page.wait_for_url(f"**/forum?sort=new#idea-{idea}")  # back on the same card
        assert _vote_button(page, idea).get_attribute("aria-pressed") == "true"
        assert page.locator(f"[data-vote-count='{idea}']").first.inner_text() == "1"
        _shot(page, f"back_with_vote_{size}")
        assert page.errors == [], page.errors


def test_vote_then_password_sign_in_returns_with_the_vote_cast(browser, server) -> None:
    base, ids = server
    with browser_tab(browser, base, size="desktop") as page:
        # An account that exists and is verified (made through the same path first).
        page.goto("/forum/signup")
        page.fill("input[name=name]", "Robin")
        page.fill("input[name=email]", "robin@acmeanvils.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/forum/signup'] button[type=submit]")
        page.get_by_role("link", name="Verify my e-mail").click()
        assert "your e-mail is verified" in page.inner_text("main")
        assert page.locator(".forum-nav .who").count() == 0  # sign-up signs nobody in
        page.goto(f"/forum/ideas/{ids[2]}")
        _vote_button(page, ids[2]).click()
        page.wait_for_url("**/forum/signin?**")
        page.fill("input[name=email]", "robin@acmeanvils.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/forum/signin'] button[type=submit]")
        page.wait_for_url(f"**/forum/ideas/{ids[2]}")
        assert page.locator(".forum-nav .who").inner_text().startswith("Robin")
        assert _vote_button(page, ids[2]).get_attribute("aria-pressed") == "true"
        assert page.errors == [], page.errors


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_error_pages_are_pages_of_the_site(browser, server, size: str) -> None:
    base, ids = server
    with browser_tab(browser, base, size=size, failed_responses=False) as page:
        answer = page.goto(f"/forum/ideas/{ids[0]}/vote")  # a form's address, opened directly
        assert answer.status == 405
        assert page.get_by_role("link", name="Back to the idea").get_attribute("href") == f"/forum/ideas/{ids[0]}"
        _shot(page, f"error_405_{size}")
        assert page.goto("/forum/no-such-page").status == 404
        assert page.inner_text("h1") == "Page not found"
        assert page.locator(".forum-nav a[href='/forum']").count() == 1
        _shot(page, f"error_404_{size}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        # Chromium reports each page's own error status on the console; nothing else may fail.
        assert page.errors == [f"Failed to load resource: the server responded with a status of {s}"
                               for s in ("405 (Method Not Allowed)", "404 (Not Found)")], page.errors


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_voting_without_a_reload_shows_the_vote_and_nothing_moves(browser, server, size: str) -> None:
    base, ids = server
    idea = ids[3]
    with browser_tab(browser, base, size=size) as page:
        page.goto("/forum/signup")
        page.fill("input[name=name]", f"Kim {size}")
        page.fill("input[name=email]", f"kim-{size}@acmeanvils.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/forum/signup'] button[type=submit]")
        page.get_by_role("link", name="Verify my e-mail").click()
        page.goto("/forum/signin")  # sign-up signs nobody in: the password next
        page.fill("input[name=email]", f"kim-{size}@acmeanvils.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/forum/signin'] button[type=submit]")
        page.wait_for_url("**/forum")
        page.goto("/forum?sort=new")
        button = _vote_button(page, idea)
        before_box, before_count = button.bounding_box(), int(page.locator(f"[data-vote-count='{idea}']").inner_text())
        unvoted_colour = button.evaluate("b => getComputedStyle(b).backgroundColor")
        page.evaluate("window.__samePage = true")  # gone if the page reloads
        button.click()
        page.wait_for_selector(f"form.votes button.vote[value='{idea}'][aria-pressed=true]")
        assert page.evaluate("window.__samePage") is True
        assert int(page.locator(f"[data-vote-count='{idea}']").inner_text()) == before_count + 1
        assert button.inner_text().split()[-1] == "Voted"
        assert button.get_attribute("aria-label").startswith("Remove your vote for")
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") != unvoted_colour
        assert button.bounding_box() == before_box  # nothing moved under the pointer
        _shot(page, f"voted_{size}")
        button.click()  # and back
        page.wait_for_selector(f"form.votes button.vote[value='{idea}'][aria-pressed=false]")
        assert int(page.locator(f"[data-vote-count='{idea}']").inner_text()) == before_count
        page.reload()  # what the server stored agrees
        assert _vote_button(page, idea).get_attribute("aria-pressed") == "false"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.errors == [], page.errors


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_manager_signs_in_to_the_dashboard_and_the_two_link_each_other(browser, server, size: str) -> None:
    base, _ = server
    with browser_tab(browser, base, size=size) as page:
        page.goto("/forum")
        page.get_by_role("link", name="Sign in").first.click()
        page.fill("input[name=email]", "pat@crmsphere.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/forum/signin'] button[type=submit]")
        page.wait_for_url("**/dashboard")
        _shot(page, f"manager_dashboard_{size}")
        page.get_by_role("link", name="Public forum").click()
        page.wait_for_url("**/forum")
        assert page.locator(".forum-nav .who").inner_text().startswith("Pat")
        page.get_by_role("link", name="Dashboard").click()
        page.wait_for_url("**/dashboard")
        assert page.errors == [], page.errors
