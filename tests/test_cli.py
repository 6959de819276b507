"""The ``crmsphere`` command in real subprocesses: imports, crash-resume, demo, serve."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from collectors.customers_csv import COLUMNS
from tests.conftest import post_row, write_jsonl
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


def test_sigkill_half_way_then_rerun_stores_every_post_once(tmp_path: Path) -> None:
    total = 20_000
    f = write_jsonl(tmp_path / "big.jsonl", [post_row(i) for i in range(total)])
    crmsphere(tmp_path, "config", "check")  # warm imports' bytecode caches
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmsphere", "--store", f"sqlite:///{tmp_path / 'db.sqlite'}",
         "import", "posts", str(f)],
        cwd=tmp_path, env={**os.environ, "CRMSPHERE_IMPORTS__BATCH_SIZE": "200"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stored = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            stored = count(tmp_path)
        except sqlite3.OperationalError:  # the schema is not there yet
            stored = 0
        if stored >= 1_000:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < count(tmp_path) < total, "the import should have been killed half-way"
    done = crmsphere(tmp_path, "import", "posts", str(f))
    assert done.returncode == 0, done.stderr
    assert count(tmp_path) == total
    assert count(tmp_path, "SELECT count(DISTINCT source || ':' || external_id) FROM mentions") == total


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)


@pytest.fixture
def served_demo(tmp_path: Path):
    first = crmsphere(tmp_path, "demo", "load")
    assert first.returncode == 0, first.stderr
    assert "demo posts: 3000 new" in first.stdout
    second = crmsphere(tmp_path, "demo", "load")
    assert "already loaded" in second.stdout
    port = free_port()
    config = tmp_path / "crmsphere.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "db.sqlite"}"\n')
    log = tmp_path / "serve.log"
    proc = start_serve(config, tmp_path, log, "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy_blocking(base, proc, log)
        yield base
    finally:
        code = stop_serve(proc)
    assert code == 0, log.read_text()[-2000:]


def test_demo_served_mentions_per_customer_with_evidence(served_demo: str, tmp_path: Path) -> None:
    health = get_json(served_demo + "/healthz")
    assert health["counts"]["mentions"] == 3000 and health["counts"]["customers"] == 300
    customers = get_json(served_demo + "/api/customers?q=Jordan%20Shell")["items"]
    assert customers, "the demo has a customer named Jordan Shell"
    cid = customers[0]["id"]
    body = get_json(f"{served_demo}/api/mentions?customer={cid}&limit=100")
    assert body["items"]
    for m in body["items"]:
        mine = [k for k in m["links"] if k["customer_id"] == cid]
        assert mine and all(k["evidence"] and 0 < k["confidence"] <= 1 for k in mine)
    with urllib.request.urlopen(served_demo + "/", timeout=10) as resp:
        assert resp.status == 200 and b'class="customer"' in resp.read()


def test_customer_import_names_the_aliases_that_will_be_ambiguous(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text(",".join(COLUMNS) + "\ncus_b,Bolt Technologies,company,,,,,,Bolt;BT Rail,,,,,\n"
                 "cus_z,Zentrix Labs,company,,,,,,Zentrix,,,,,\ncus_j,Jerry West,person,,,,,,,,,,,\n")
    done = crmsphere(tmp_path, "import", "customers", str(f))
    assert done.returncode == 0, done.stderr
    assert "ambiguous cus_b 'Bolt': a common word" in done.stderr
    assert "ambiguous cus_j 'Jerry West': every word of this person's name is common" in done.stderr
    assert "Zentrix" not in done.stderr
    assert count(tmp_path, "SELECT count(*) FROM customers") == 3
