"""The demo data is generated deterministically and matches the committed files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from collectors.customers_csv import read_customers_csv
from collectors.post_format import parse_post
from config.settings import DEMO_DIR


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(DEMO_DIR / "generate.py"), "--out", str(tmp_path)], check=True)
    for name in ("customers.csv", "posts.jsonl"):
        assert (tmp_path / name).read_bytes() == (DEMO_DIR / name).read_bytes(), name


def test_demo_files_parse_cleanly() -> None:
    customers, rejected = read_customers_csv(DEMO_DIR / "customers.csv")
    assert rejected == [] and 250 <= len(customers) <= 350
    assert {c.kind for c in customers} == {"person", "company"}
    lines = (DEMO_DIR / "posts.jsonl").read_text(encoding="utf-8").splitlines()
    posts = [parse_post(json.loads(line)) for line in lines]
    assert 2_500 <= len(posts) <= 3_500
    assert len({(p.source, p.external_id) for p in posts}) == len(posts)
