"""Which platforms have reply writers is asked for every live event (a mention stored while
a dashboard is open): after the first time it must not list the package's directory again."""

from __future__ import annotations

import sys

from collectors.replies import load_writers
from community.reply_writers import ReplyWriters

_listed: list[str] = []
_watching = [False]


def _audit(event: str, args: tuple) -> None:
    # Audit hooks cannot be removed: this one only records while a test watches.
    if _watching[0] and event in ("os.listdir", "os.scandir"):
        _listed.append(str(args[0]) if args else "")


sys.addaudithook(_audit)


def test_asking_for_the_platforms_again_lists_no_directory() -> None:
    writers = ReplyWriters()
    first = writers.platforms()
    assert {"mastodon", "bluesky", "discourse", "hackernews"} <= set(first)
    _listed.clear()
    _watching[0] = True
    try:
        for _ in range(200):  # a burst of live events
            assert writers.platforms() == first
        assert load_writers().keys() == set(first)
    finally:
        _watching[0] = False
    assert _listed == []
