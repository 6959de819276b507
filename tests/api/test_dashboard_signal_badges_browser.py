"""A signal declared in one module shows on the mention cards, in real headless Chromium: the
stream's live card (stream.js) and the server's card (thread page) badge the toy ``urgency``
signal of ``tests/nlp/test_signal_registry.py`` with no page or script naming it.  A served
process registers it first (``tests/nlp/urgency_served.py``), as a module in ``nlp/signals/``
would be."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.dashboard_server import SECRET, TOKEN, posted_now, push, request
from tests.browser_helpers import needs_chromium, watch
from tests.test_serve_sources import free_port

pytestmark = needs_chromium

CHECKOUT = Path(__file__).resolve().parents[2]
BADGES = "(card) => [...card.querySelectorAll('.meta .badge.signal')].map(b => [b.textContent, b.className])"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("signals")
    port = free_port()
    config = tmp / "crmsphere.toml"
    config.write_text(f"""
[server]
port = {port}
[store]
url = "sqlite:///{tmp / 'db.sqlite'}"
[[sources]]
kind = "push"
name = "partner"
secret_env = "TEST_PUSH_SECRET"
""")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.nlp.urgency_served", "--config", str(config), "serve"],
        cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "CRMSPHERE_ADMIN_TOKEN": TOKEN, "TEST_PUSH_SECRET": SECRET,
             "PYTHONPATH": os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")]))})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if request(base + "/healthz")[0] == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the server did not start: " + (proc.communicate()[0] or ""))
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


def test_a_new_signal_is_a_badge_on_the_live_and_the_served_card(browser, server) -> None:
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900},
                                  extra_http_headers={"Authorization": f"Bearer {TOKEN}"})
    page = watch(context.new_page())
    try:
        push(server, posted_now(7101, "Checkout crashes on every order, we need a fix ASAP!!", "ops_lead"),
             posted_now(7102, "Loving the new dark mode, nice work", "fan_42"))
        page.goto("/dashboard")
        urgent = page.wait_for_selector("#stream li.mention:has-text('fix ASAP')")
        calm = page.wait_for_selector("#stream li.mention:has-text('dark mode')")
        live = urgent.evaluate(BADGES)
        assert ["urgent", "badge signal urgency has-evidence"] in live
        assert ["complaint", "badge signal intent has-evidence"] in live
        assert urgent.query_selector(".badge.urgency").get_attribute("title") == "Urgency: urgent"
        # The value a post gets when the signal found nothing is no badge (it would be on every card).
        assert "normal" not in [text for text, _ in calm.evaluate(BADGES)]

        page.goto(f"/dashboard/mentions/{urgent.get_attribute('data-id')}")
        served = page.wait_for_selector("#thread li.mention.focused")
        assert [text for text, _ in served.evaluate(BADGES)] == [text for text, _ in live]
        assert served.query_selector(".badge.urgency").get_attribute("title") == "Urgency: urgent"
        assert not page.errors, page.errors
    finally:
        context.close()
