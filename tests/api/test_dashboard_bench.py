"""A smoke run of ``bench/dashboard.py`` at 5,000 mentions: it generates, times and prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "dashboard.py"


def test_bench_runs_small(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH), "--mentions", "5000", "--days", "60", "--repeat", "1",
         # The fan-out part starts a server and a process of clients: left to real runs.
         "--clients", "-1", "--db", str(tmp_path / "bench.db")],
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "generated 5,000 mentions" in out.stdout
    for figure in ("volume by day x topic", "sentiment trend", "top authors", "share of voice",
                   "stream first page, topic + sentiment"):
        assert figure in out.stdout
    assert "median ms" in out.stdout  # figures, never a verdict on this machine's speed
