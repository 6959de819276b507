"""The collector modules and their client libraries load when the registry is first read,
not when the package is imported: ``crmsphere analyze`` and other commands that build no
collector start without PRAW, Tweepy and feedparser."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import crmsphere.cli, crmsphere.analyze_cli, crmsphere.ingest
before = sorted(m for m in ("praw", "tweepy", "feedparser") if m in sys.modules)
from collectors import COLLECTORS
kinds = sorted(COLLECTORS)
after = sorted(m for m in ("praw", "tweepy", "feedparser") if m in sys.modules)
print(before, after, "reddit" in kinds and "rss" in kinds and "x" in kinds)
"""


def test_client_libraries_load_with_the_registry_not_the_package() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "[] ['feedparser', 'praw', 'tweepy'] True"


def test_a_collector_imported_directly_is_registered_once() -> None:
    from collectors import COLLECTORS, create_collector
    from collectors.rss import RssFeeds  # imported before the registry is read elsewhere

    assert COLLECTORS["rss"] is RssFeeds and "reddit" in COLLECTORS  # the rest loaded beside it
    assert create_collector("jsonl", "jsonl:t", {"path": "posts.jsonl"}).kind == "jsonl"
