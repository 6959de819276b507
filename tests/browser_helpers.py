"""What the headless-Chromium tests share: the browser launch, a seeded forum server and its
configuration, tabs in fresh contexts at the usual sizes, sign-in (in the page and through the
API), screenshots into ``test-artifacts/`` and the check that no hostile payload ran (the
``browser`` fixture is in ``tests/api/conftest.py``)."""

from __future__ import annotations

import asyncio
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from community.access import Viewer
from community.accounts import Accounts, password_hasher
from config.forum import ForumSettings, PasswordHashingSettings
from storage import open_store
from tests.conftest import acme_customers
from tests.helpers import CHEAP_PASSWORD_HASHING, CHEAP_PASSWORD_HASHING_TOML, wait_healthy_blocking
from tests.serve_helpers import free_port, start_serve, stop_serve

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery staple"
#: Where screenshots for a person to look at go (``make screenshots`` copies the README's from there).
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
#: The viewports pages are checked at: a laptop and a phone.
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
#: Sign-ins a minute, per account and per address, a browser test's server lets through:
#: modules sign the same people in from 127.0.0.1 per test and per size, far past the defaults
#: (tests/api/test_sign_in_limits.py checks the real limits).
SIGN_INS_PER_MINUTE = 100

# Marks a browser test module: skipped where Debian's chromium is missing.
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason=f"Debian's chromium is not installed at {CHROMIUM} "
                                           f"(make test installs it)")

# JavaScript run in the page: every attribute that could run code.
FIND_SCRIPTED_ATTRIBUTES = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (attr.name.startsWith('on') || value.startsWith('javascript:') || value.startsWith('data:text/html')) {
        bad.push(el.tagName + ' ' + attr.name + '=' + attr.value);
      }
    }
  }
  return bad;
}"""


def password_hash(password: str = PASSWORD) -> str:
    """``password`` hashed with the tests' small argon2 costs, which ``forum_server`` serves
    with (so signing in neither pays the default costs nor re-hashes)."""
    costs = {key.rsplit(".", 1)[1]: value for key, value in CHEAP_PASSWORD_HASHING.items()}
    return password_hasher(PasswordHashingSettings(**costs)).hash(password)


@contextmanager
def launched_chromium() -> Iterator[object]:
    """Debian's Chromium, headless, through Playwright; closed on leaving."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def watch(tab, *, failed_responses: bool = True):
    """Records on ``tab.errors`` console errors, uncaught exceptions and (unless switched off)
    HTTP answers of 400 and up; dialogs are dismissed and kept on ``tab.dialogs``."""
    tab.errors, tab.dialogs = [], []  # checked by the tests
    tab.on("console", lambda msg: msg.type == "error" and tab.errors.append(msg.text))
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    if failed_responses:
        tab.on("response", lambda resp: resp.status >= 400 and tab.errors.append(f"{resp.status} {resp.url}"))
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    return tab


def wait_until(page, expression: str, timeout: float = 30_000) -> None:
    """Poll until the JavaScript ``expression`` is true in ``page`` (``timeout`` in ms).

    Instead of ``page.wait_for_function``, which builds its predicate with ``eval`` inside the
    page, where the pages' Content-Security-Policy (no 'unsafe-eval') refuses it after the first
    try; ``page.evaluate`` goes through the browser's debugging protocol, which it does not
    govern."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout / 1000:.0f} s: {expression}")
        page.wait_for_timeout(50)


def viewport(size: str | dict[str, int] | tuple[int, int]) -> dict[str, int]:
    """A viewport from a name of ``SIZES``, a ``(width, height)`` pair or a viewport itself."""
    if isinstance(size, str):
        return SIZES[size]
    if isinstance(size, tuple):
        return {"width": size[0], "height": size[1]}
    return size


def screenshot(target, name: str, **options: Any) -> Path:
    """A screenshot of ``target`` (a page, locator or element) at ``test-artifacts/<name>``;
    its path.  ``options`` are Playwright's (``full_page=True`` for a whole page)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    target.screenshot(path=str(path), **options)
    return path


@contextmanager
def browser_tab(browser, base_url: str, *, size: str | dict[str, int] | tuple[int, int] | None = None,
                sign_in_as: str | None = None, password: str = PASSWORD, failed_responses: bool = True,
                **options: Any) -> Iterator[Any]:
    """A watched tab (see ``watch``) in a fresh context of ``browser`` on ``base_url``, at
    ``size`` (see ``viewport``; Playwright's default without), signed in through the forum's
    form as ``sign_in_as`` if given; ``options`` go to ``new_context``.  The context (its API
    client is ``tab.context.request``) closes on leaving."""
    if size is not None:
        options["viewport"] = viewport(size)
    context = browser.new_context(base_url=base_url, **options)
    try:
        tab = watch(context.new_page(), failed_responses=failed_responses)
        if sign_in_as is not None:
            sign_in(tab, sign_in_as, password)
        yield tab
    finally:
        context.close()


def api_sign_up(api, email: str, name: str, password: str = PASSWORD) -> dict[str, str]:
    """Signs a customer up and in through the JSON API of ``api`` (a context's ``request``,
    which keeps the session); the CSRF header its writes need."""
    signed = api.post("/api/auth/signup", data={"email": email, "password": password, "name": name})
    assert signed.status == 202, signed.text()  # "check your e-mail"; the account is ready
    signed = api.post("/api/auth/login", data={"email": email, "password": password})
    assert signed.status == 200, signed.text()
    return {"X-CSRF-Token": signed.json()["csrf_token"]}


def browser_test_config(config: str = "") -> str:
    """The configuration a browser test's server runs with: the tests' small password-hashing
    costs, sign-ins up to ``SIGN_INS_PER_MINUTE`` a minute per account and per address (unless
    ``config``, TOML, sets ``[forum.rate_limits]`` itself: a module's own limits win), then
    ``config``."""
    limits = ""
    if "rate_limits" not in tomllib.loads(config).get("forum", {}):
        limit = f"{{ limit = {SIGN_INS_PER_MINUTE}, window_seconds = 60 }}"
        limits = f"[forum.rate_limits]\nsign_in_per_account = {limit}\nsign_in_per_ip = {limit}\n"
    return f"{CHEAP_PASSWORD_HASHING_TOML}{limits}{config}"


def watched_page(context):
    """A new tab of ``context`` that records errors and dialogs (see ``watch``)."""
    return watch(context.new_page())


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    """Signs in through the forum's plain form and checks the nav shows someone signed in."""
    page.goto("/forum/signin?next=/forum")  # staff with no page to return to land on the dashboard
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form[action='/forum/signin'] button[type=submit]")
    assert page.locator(".forum-nav .who").count() == 1


def assert_nothing_ran(page, shot: Path) -> None:
    """No payload ran and none can: no dialog, no global, no scripted attribute, no inline
    script, frame, svg or image in the main content, no console error; a full-page
    screenshot at ``shot``."""
    page.wait_for_load_state("load")
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert page.dialogs == []
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate(FIND_SCRIPTED_ATTRIBUTES) == []
    assert page.locator("main script:not([src^='/static/']), main iframe, main svg, main img").count() == 0
    assert page.errors == []


@contextmanager
def forum_server(tmp: Path, manager_email: str, manager_name: str, password_hash: str | None,
                 config: str) -> Iterator[tuple[str, str]]:
    """``crmsphere serve`` (no admin token, loopback trusted as under ``make run``) on a store in
    ``tmp`` seeded with Acme's customers and a manager; yields the base URL and the manager's
    API token.  ``config`` is TOML added after the server and store sections (see
    ``browser_test_config``); the server must stop cleanly."""
    url = f"sqlite:///{tmp / 'db.sqlite'}"

    async def seed() -> str:
        store = await open_store(url)
        try:
            await store.upsert_customers(acme_customers())
            manager = await store.create_account(manager_email, manager_name, password_hash, "manager")
            plain, _ = await Accounts(store, ForumSettings()).create_token(
                Viewer(account=manager, role="manager", via="session"), "browser test")
            return plain
        finally:
            await store.close()

    # pytest's event loop may be running in this thread: seed from a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        token = pool.submit(asyncio.run, seed()).result()
    port = free_port()
    # Passwords hashed with the tests' small argon2 costs (see ``password_hash``).
    (tmp / "crmsphere.toml").write_text(f'[server]\nport = {port}\n[store]\nurl = "{url}"\n'
                                        f'{browser_test_config(config)}')
    log = tmp / "serve.log"
    proc = start_serve(tmp / "crmsphere.toml", tmp, log,
                       env={"CRMSPHERE_ADMIN_TOKEN": "", "CRMSPHERE_API__TRUST_LOOPBACK": "true"})
    base = f"http://127.0.0.1:{port}"
    try:
        # A loaded machine took over 30 s to start serving (the test then failed, not the server).
        wait_healthy_blocking(base, proc, log, timeout=120)
        yield base, token
    finally:
        code = stop_serve(proc)
    assert code == 0, log.read_text()[-2000:]
