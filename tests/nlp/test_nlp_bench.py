"""``bench/nlp.py`` runs with any sizes it accepts (it is how the README's figures are made)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "nlp.py"


def test_no_posts_for_the_in_process_figures_is_a_clean_run(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--posts", "0", "--cli-posts", "0",
                           "--customers", "50", "--phrases", "25"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ZeroDivisionError" not in done.stderr
