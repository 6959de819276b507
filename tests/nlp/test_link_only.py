"""``is_link_only`` answers as a left-to-right scan for links and words does."""

from __future__ import annotations

import random
import re

from nlp.hygiene import is_link_only

_LINK_OR_WORD = re.compile(r"(https?://\S+|www\.\S+)|[^\W\d_]{2,}", re.IGNORECASE)


def reference(text: str) -> bool:
    """The rule as first written: at most two words outside links, and some link-like text."""
    if "http" not in text and "www." not in text:
        return False
    words = 0
    for m in _LINK_OR_WORD.finditer(text):
        if m.group(1) is None:
            words += 1
            if words > 2:
                return False
    return True


def test_same_answers_as_the_scan() -> None:
    parts = ["http://a.b/c", "https://x.y", "HTTPS://Q", "www.q.com", "www.", "http", "hi", "a", "ab",
             "é", "ñu", "12", "x1y", "_", " ", " ", " ", "\n", ".", "!", "🎉", "wwwx", "httpsx://", "ok"]
    rng = random.Random(4)
    link_only = 0
    for _ in range(50_000):
        text = "".join(rng.choice(parts) for _ in range(rng.randrange(1, 10)))
        assert is_link_only(text) == reference(text), text
        link_only += reference(text)
    assert link_only > 1_000


def test_examples() -> None:
    assert is_link_only("https://t.example/a")
    assert is_link_only("look: https://t.example/a www.x.io wow")
    assert not is_link_only("look at this https://t.example/a")
    assert not is_link_only("no link here at all")
    assert is_link_only("https://a.io/xhttps://b.io so")
