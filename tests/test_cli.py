"""The ``crmsphere`` command in real subprocesses: imports, crash-resume, demo, serve."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collectors.customers_csv import COLUMNS
from tests.conftest import post_row, write_jsonl
from tests.demo_template import DemoTemplate
from tests.helpers import wait_healthy_blocking
from tests.serve_helpers import free_port, start_serve, stop_serve


def crmsphere(tmp_path: Path, *args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crmsphere", "--store", f"sqlite:///{tmp_path / 'db.sqlite'}", *args],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, **(env or {})}, timeout=300, **kw)


def count(tmp_path: Path, sql: str = "SELECT count(*) FROM mentions") -> int:
    conn = sqlite3.connect(tmp_path / "db.sqlite", timeout=30)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def test_import_posts_reports_bad_lines_and_exits_non_zero(tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "in.jsonl", [post_row(1), "{oops", post_row(2), post_row(3, created_at=None)])
    done = crmsphere(tmp_path, "import", "posts", str(f))
    assert done.returncode == 1
    assert f"{f}:2: invalid JSON" in done.stderr and f"{f}:4:" in done.stderr
    assert "2 new, 0 already stored, 2 rejected" in done.stdout
    again = crmsphere(tmp_path, "import", "posts", str(f))
    assert "0 new" in again.stdout and count(tmp_path) == 2


def test_import_posts_stores_a_truncated_emoji_and_finishes_the_file(tmp_path: Path) -> None:
    """Real exports carry emoji cut in half (a lone ``\\ud83d`` escape): the line is stored
    with U+FFFD, a broken line is named by file:line, and the import reaches the end."""
    cut = json.dumps(post_row(2, text="Nimbus anvils \ud83d", author={"handle": "jo\ud83d"}))
    assert "\\ud83d" in cut
    f = write_jsonl(tmp_path / "in.jsonl", [post_row(1), cut, "{oops", post_row(4, text="nul\x00"),
                                             post_row(5)])
    done = crmsphere(tmp_path, "import", "posts", str(f))
    assert "Traceback" not in done.stderr, done.stderr
    assert f"{f}:3: invalid JSON" in done.stderr
    assert "4 new, 0 already stored, 1 rejected" in done.stdout, done.stdout
    rows = dict(sqlite3.connect(tmp_path / "db.sqlite").execute(
        "SELECT external_id, text FROM mentions").fetchall())
    assert rows["t3_000002"] == "Nimbus anvils \ufffd" and rows["t3_000004"] == "nul"
    again = crmsphere(tmp_path, "import", "posts", str(f))
    assert "0 new" in again.stdout and count(tmp_path) == 4


def test_customers_csv_missing_column_writes_nothing(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text("id,kind\ncus_1,company\n")
    done = crmsphere(tmp_path, "import", "customers", str(f))
    assert done.returncode == 2 and "'name'" in done.stderr
    assert count(tmp_path, "SELECT count(*) FROM customers") == 0
    f.write_text(",".join(COLUMNS) + "\ncus_1,Acme,company,,,,,,,,,,,\ncus_2,Bad,alien,,,,,,,,,,,\n")
    done = crmsphere(tmp_path, "import", "customers", str(f))
    assert done.returncode == 1 and f"{f}:3: kind 'alien'" in done.stderr
    assert count(tmp_path, "SELECT count(*) FROM customers") == 1


def kill_import_half_way(tmp_path: Path, f: Path, stored: int = 1_000) -> None:
    """``crmsphere import posts f`` in batches of 200, killed with SIGKILL once ``stored``
    mentions are in the store (or after two minutes)."""
    crmsphere(tmp_path, "config", "check")  # warm imports' bytecode caches
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmsphere", "--store", f"sqlite:///{tmp_path / 'db.sqlite'}",
         "import", "posts", str(f)],
        cwd=tmp_path, env={**os.environ, "CRMSPHERE_IMPORTS__BATCH_SIZE": "200"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if count(tmp_path) >= stored:
                break
        except sqlite3.OperationalError:  # the schema is not there yet
            pass
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_sigkill_half_way_then_rerun_stores_every_post_once(tmp_path: Path) -> None:
    total = 20_000
    f = write_jsonl(tmp_path / "big.jsonl", [post_row(i) for i in range(total)])
    kill_import_half_way(tmp_path, f)
    assert 0 < count(tmp_path) < total, "the import should have been killed half-way"
    done = crmsphere(tmp_path, "import", "posts", str(f))
    assert done.returncode == 0, done.stderr
    assert count(tmp_path) == total
    assert count(tmp_path, "SELECT count(DISTINCT source || ':' || external_id) FROM mentions") == total


def _status_row(i: int, status_id: int, origin: str, origin_id: int) -> dict:
    """A Mastodon status as exported for import: ``status_id`` is the number the instance that
    read it gave it, the url the status's address on its ``origin`` (with the origin's number)."""
    return post_row(i, source="mastodon", external_id=str(status_id),
                    author={"handle": f"user{i % 500}@{origin}", "name": None},
                    url=f"https://{origin}/@user{i % 500}/{origin_id}")


def test_sigkill_half_way_then_rerun_keeps_two_instances_posts_and_a_federated_one_once(
        tmp_path: Path) -> None:
    """Two instances number their statuses alike (every id twice, other posts); every tenth
    status of one comes again through the other under another local id (the same address)."""
    rows, distinct = [], 0
    for n in range(6_000):
        status_id = 115_600_000_000_000_000 + n  # the same number on both instances
        rows.append(_status_row(2 * n, status_id, "mastodon.example", status_id))
        rows.append(_status_row(2 * n + 1, status_id, "social.example", status_id))
        distinct += 2
        if n % 10 == 0:  # mastodon.example's status as social.example holds it: its own number
            rows.append(_status_row(2 * n, 113_877_000_000_000_000 + n, "mastodon.example", status_id))
    f = write_jsonl(tmp_path / "statuses.jsonl", rows)
    kill_import_half_way(tmp_path, f)
    assert 0 < count(tmp_path) < distinct, "the import should have been killed half-way"
    done = crmsphere(tmp_path, "import", "posts", str(f))
    assert done.returncode == 0, done.stderr
    assert count(tmp_path) == distinct
    assert count(tmp_path, "SELECT count(DISTINCT url) FROM mentions") == distinct
    again = crmsphere(tmp_path, "import", "posts", str(f))
    assert again.returncode == 0, again.stderr
    assert count(tmp_path) == distinct


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)


@pytest.fixture
def served_demo(tmp_path: Path, demo_template: DemoTemplate):
    # The session's demo (loaded once by the real command; see tests/demo_template.py).
    first = demo_template.copy_to(tmp_path / "db.sqlite")
    assert "demo posts: 3045 new" in first
    second = crmsphere(tmp_path, "demo", "load")
    assert "already loaded" in second.stdout
    port = free_port()
    config = tmp_path / "crmsphere.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "db.sqlite"}"\n')
    log = tmp_path / "serve.log"
    # As `make run` serves the demo: this machine's user is the operator.
    proc = start_serve(config, tmp_path, log, "--port", str(port),
                       env={"CRMSPHERE_ADMIN_TOKEN": "", "CRMSPHERE_API__TRUST_LOOPBACK": "true"})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy_blocking(base, proc, log)
        yield base
    finally:
        code = stop_serve(proc)
    assert code == 0, log.read_text()[-2000:]


def test_demo_served_mentions_per_customer_with_evidence(served_demo: str, tmp_path: Path) -> None:
    health = get_json(served_demo + "/healthz")
    assert health["counts"]["mentions"] == 3045 and health["counts"]["customers"] == 300
    customers = get_json(served_demo + "/api/customers?q=Jordan%20Shell")["items"]
    assert customers, "the demo has a customer named Jordan Shell"
    cid = customers[0]["id"]
    body = get_json(f"{served_demo}/api/mentions?customer={cid}&limit=100")
    assert body["items"]
    for m in body["items"]:
        mine = [k for k in m["links"] if k["customer_id"] == cid]
        assert mine and all(k["evidence"] and 0 < k["confidence"] <= 1 for k in mine)
    # The operator lands on the dashboard; the threads link the customer to their 360, and
    # those whose link has a place in the text mark it there
    with urllib.request.urlopen(served_demo + "/", timeout=10) as resp:
        assert resp.status == 200 and resp.url.endswith("/dashboard")
    marked = 0
    for m in body["items"][:5]:
        with urllib.request.urlopen(f"{served_demo}/dashboard/mentions/{m['id']}", timeout=10) as resp:
            page = resp.read().decode()
        assert resp.status == 200 and f'href="/dashboard/customers/{cid}"' in page
        marked += f'<a href="/dashboard/customers/{cid}">' in page  # the mark's link (the list's has a class first)
    assert marked, "no thread marks the customer's name in its text"


def test_demo_ends_now_names_customer_sign_ins_and_cli_logs_the_teams_in_force(tmp_path: Path) -> None:
    # The one test that runs `crmsphere demo load` end to end on an empty store (the others
    # copy the session's demo, loaded once by the same command: tests/demo_template.py).
    empty = crmsphere(tmp_path, "sources", "list")
    assert empty.returncode == 0, empty.stderr
    assert "no sources configured yet" in empty.stdout and 'kind = "hackernews"' in empty.stdout
    loaded = crmsphere(tmp_path, "demo", "load")
    assert loaded.returncode == 0, loaded.stderr
    assert "demo customers with forum accounts (40;" in loaded.stdout
    first_login = re.search(r"^  (\S+@\S+) ", loaded.stdout, re.M)
    assert first_login, loaded.stdout
    conn = sqlite3.connect(tmp_path / "db.sqlite", timeout=30)
    try:
        newest, oldest = conn.execute("SELECT max(created_at), min(created_at) FROM mentions").fetchone()
        alerts, last_alert = conn.execute("SELECT count(*), max(window_start) FROM spike_alerts").fetchone()
        assert conn.execute("SELECT customer_id FROM accounts WHERE email = ?",
                            (first_login[1],)).fetchone()[0]  # a real, linked customer account
    finally:
        conn.close()
    now = datetime.now(UTC)
    newest_at = datetime.fromisoformat(newest.replace("Z", "+00:00"))
    assert now - timedelta(days=1) <= newest_at <= now + timedelta(minutes=5)  # the demo ends now
    assert newest_at - datetime.fromisoformat(oldest.replace("Z", "+00:00")) > timedelta(days=100)
    assert alerts > 0 and f"demo spike alerts: {alerts} over the last 30 days" in loaded.stdout
    assert datetime.fromisoformat(last_alert.replace("Z", "+00:00")) >= now - timedelta(days=31)
    listed = crmsphere(tmp_path, "sources", "list")
    assert "routing: 4 team(s)" in listed.stderr and "routing: 0 team(s)" not in listed.stderr

    # Five days pass (the demo's dates go five days back, as if loaded then): --refresh
    # brings it to now again, ideas, votes and the team queues with it.
    conn = sqlite3.connect(tmp_path / "db.sqlite", timeout=30)
    moved_back = (("mentions", "created_at"), ("ideas", "created_at"), ("votes", "created_at"),
                  ("routed_items", "routed_at"), ("routed_items", "acknowledged_at"), ("routed_items", "updated_at"))
    # The worked queues (crmsphere/demo_queues.py): when each item came and was taken up.
    worked_sql = "SELECT id, status, routed_at, acknowledged_at, updated_at FROM routed_items ORDER BY id"
    idea_sql = "SELECT id, created_at FROM ideas ORDER BY id LIMIT 1"
    queue_sql = "SELECT id, routed_at FROM routed_items WHERE team_key = 'support' ORDER BY id DESC LIMIT 1"
    try:
        idea_before, queue_before = conn.execute(idea_sql).fetchone(), conn.execute(queue_sql).fetchone()
        worked_before = conn.execute(worked_sql).fetchall()
        assert {row[1] for row in worked_before} >= {"new", "in_progress", "done"}
        assert idea_before and queue_before, "the demo has ideas and a support queue"
        with conn:
            for table, column in moved_back:
                conn.execute(f"UPDATE {table} SET {column} = date(substr({column}, 1, 10), '-5 days') "
                             f"|| substr({column}, 11)")
    finally:
        conn.close()
    refreshed = crmsphere(tmp_path, "demo", "load", "--refresh")
    assert refreshed.returncode == 0, refreshed.stderr
    assert "demo moved 5 day(s) forward: it ends now" in refreshed.stdout
    assert "already loaded" not in refreshed.stdout
    conn = sqlite3.connect(tmp_path / "db.sqlite", timeout=30)
    try:
        assert conn.execute("SELECT max(created_at) FROM mentions").fetchone()[0] == newest
        # An idea is as old as it was, and a support item arrived (so falls due) when it did.
        assert conn.execute(idea_sql).fetchone() == idea_before
        assert conn.execute(queue_sql).fetchone() == queue_before
        assert conn.execute(worked_sql).fetchall() == worked_before  # the queues keep their shape
        day = newest[:10]
        assert conn.execute("SELECT sum(mentions) FROM mention_day_source WHERE day = ?", (day,)).fetchone()[0] \
            == conn.execute("SELECT count(*) FROM mentions WHERE substr(created_at, 1, 10) = ?", (day,)).fetchone()[0]
    finally:
        conn.close()
    again = crmsphere(tmp_path, "demo", "load", "--refresh")
    assert "demo moved 0 day(s) forward" in again.stdout


def test_demo_spike_alerts_do_not_depend_on_the_hour_it_is_loaded(
        tmp_path: Path, demo_template: DemoTemplate) -> None:
    """The demo moves by whole days, so where its newest post falls in the last day depends on
    the hour of the load; its spike alerts must not (a load at 07:00 once raised none)."""
    from config.dashboard import DashboardSettings
    from crmsphere.demo_posts import backfill_spike_alerts
    from storage import open_store

    demo_template.copy_to(tmp_path / "db.sqlite")
    conn = sqlite3.connect(tmp_path / "db.sqlite", timeout=30)
    try:
        with conn:
            newest = conn.execute("SELECT max(created_at) FROM mentions").fetchone()[0]
            conn.execute("DELETE FROM spike_alerts")  # raised at this hour's load; each hour anew
    finally:
        conn.close()
    newest_at = datetime.fromisoformat(newest.replace("Z", "+00:00"))

    async def alerts_at(hours: int) -> list[str]:
        copy = tmp_path / f"at-{hours}.sqlite"
        shutil.copy(tmp_path / "db.sqlite", copy)
        store = await open_store(f"sqlite:///{copy}")
        try:
            await backfill_spike_alerts(store, DashboardSettings(), newest_at + timedelta(hours=hours, minutes=1))
            return [a.subject for a in await store.list_spike_alerts(limit=100)]
        finally:
            await store.close()

    for hours in range(0, 24, 4):  # the newest post 0, 4, ... 20 hours before the load
        subjects = asyncio.run(alerts_at(hours))
        assert "api" in subjects, (hours, subjects)  # the outage a day before the end


def test_customer_import_names_the_aliases_that_will_be_ambiguous(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text(",".join(COLUMNS) + "\ncus_b,Bolt Technologies,company,,,,,,Bolt;BT Rail,,,,,\n"
                 "cus_z,Zentrix Labs,company,,,,,,Zentrix,,,,,\ncus_j,Jerry West,person,,,,,,,,,,,\n")
    done = crmsphere(tmp_path, "import", "customers", str(f))
    assert done.returncode == 0, done.stderr
    assert "flagged alias cus_b 'Bolt': a common word: kept" in done.stderr
    assert "ambiguous cus_j 'Jerry West': every word of this person's name is common" in done.stderr
    assert "Zentrix" not in done.stderr
    assert count(tmp_path, "SELECT count(*) FROM customers") == 3


def test_customer_import_refuses_aliases_shorter_than_three_letters_and_flags_common_words(
        tmp_path: Path) -> None:
    """ "IS" would match the word "is" in nearly every post and flood the review queue."""
    f = tmp_path / "c.csv"
    f.write_text(",".join(COLUMNS) + "\n"
                 "cus_is,Infinite Systems,company,,,,,,IS;I.S.;Infinisys,,,,,\n"
                 "cus_go,Gopher Freight,company,,,,,,Go;Gophrix,,,,,\n"
                 "cus_bolt,Bolt Technologies,company,,,,,,Bolt,,,,,\n"
                 "cus_sq,Square Inc,company,,,,,,Square,,,,,\n")
    done = crmsphere(tmp_path, "import", "customers", str(f))
    assert done.returncode == 0, done.stderr
    for customer, alias in (("cus_is", "IS"), ("cus_is", "I.S."), ("cus_go", "Go")):
        assert f"refused alias {customer} '{alias}': shorter than 3 letters" in done.stderr
    for customer, alias in (("cus_bolt", "Bolt"), ("cus_sq", "Square")):
        assert f"flagged alias {customer} '{alias}': a common word: kept" in done.stderr
    assert "'Gophrix'" not in done.stderr and "'Infinisys'" not in done.stderr
    stored = dict(sqlite3.connect(tmp_path / "db.sqlite").execute("SELECT id, aliases FROM customers"))
    assert {k: json.loads(v) for k, v in stored.items()} == {
        "cus_is": ["Infinisys"], "cus_go": ["Gophrix"], "cus_bolt": ["Bolt"], "cus_sq": ["Square"]}


def test_two_stores_loading_the_demo_posts_at_once_do_not_share_the_dated_file(tmp_path: Path) -> None:
    """Two demos on one machine (or two test runs) load at once: each reads its own dated copy
    of the posts (the first to finish deleted the one shared copy under the other's feet)."""
    from crmsphere import cli
    from crmsphere.runtime import open_runtime
    from tests.helpers import app_settings

    async def load_posts(folder: Path) -> int:
        folder.mkdir()
        async with open_runtime(app_settings(folder), with_nlp=False) as rt:
            await rt.reload_customers()
            return (await cli._import_demo_posts(rt)).accepted

    async def both() -> list[int]:
        return await asyncio.gather(load_posts(tmp_path / "a"), load_posts(tmp_path / "b"))

    assert asyncio.run(both()) == [3045, 3045]
