"""The intent phrase sets find a request or complaint exactly where these reference regexes do."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from nlp.intent import _COMPLAINT, _REQUEST

DATA = Path(__file__).with_name("data")

# The rules as regexes (how they were first written), kept as the reference.
REQUEST = re.compile(
    r"\b(?:would be (?:nice|great|awesome|cool|helpful|amazing)|it'?d be (?:nice|great|awesome|cool)"
    r"|(?:please|pls|plz) (?:add|support|bring|make|let|consider|allow|give|implement)"
    r"|feature request|wish (?:it|you|there|the|i)|i wish|could you (?:add|make|support|please add)"
    r"|can you (?:add|make|support|please add)|(?:you )?should (?:add|support|let|allow|offer|have)"
    r"|would (?:love|like) (?:to see|it if|a|an|the option|support|dark|more|some|better|an? \w+)"
    r"|would love|(?:any|no) plans? (?:to|for)"
    r"|suggestion|idea:|how about (?:adding|a|an)|consider adding|add (?:support|an option|a way)"
    r"|need(?:s)? (?:a|an) (?:option|way|setting|feature)|roadmap|can we (?:get|have))\b")
COMPLAINT = re.compile(
    r"\b(?:refund|cancel(?:l?ing|led)?|worst|broken|crash\w*|not working|doesn'?t work|stopped working"
    r"|unacceptable|still waiting|charged twice|overcharged|scam|down again|outage)\b")


def _texts() -> list[str]:
    # The words of the reference regexes themselves, so a phrase missing from the sets shows.
    words = sorted(set(re.findall(r"[a-z][a-z':]*", REQUEST.pattern + COMPLAINT.pattern))
                   | {"crashes", "crashy", "thing", "x", "é", "_", "1", "canceled", "idea", "itd", "plans"})
    glue = [" ", " ", " ", "  ", "", ":", "'", "_", "@", "é", "1", ".", "-", "\n", "!", "?", ": "]
    rng = random.Random(9)
    out = ["".join(rng.choice(words) + rng.choice(glue) for _ in range(rng.randrange(1, 8)))
           for _ in range(30_000)]
    for name in ("linking.jsonl", "sentiment.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            out.append(json.loads(line)["text"].lower())
    return out


def test_phrases_match_where_the_regexes_do() -> None:
    requests = complaints = 0
    for text in _texts():
        want_request, want_complaint = bool(REQUEST.search(text)), bool(COMPLAINT.search(text))
        assert _REQUEST.search(text) == want_request, text
        assert _COMPLAINT.search(text) == want_complaint, text
        requests += want_request
        complaints += want_complaint
    assert requests > 1_000 and complaints > 1_000  # both answers were exercised


def test_boundaries() -> None:
    assert _REQUEST.search("idea:dark mode") and not _REQUEST.search("idea: dark mode")
    assert _REQUEST.search("please add csv") and not _REQUEST.search("pleased add csv")
    assert not _REQUEST.search("xplease add") and not _REQUEST.search("please addx")
    assert _COMPLAINT.search("it crashed") and _COMPLAINT.search("crash") and not _COMPLAINT.search("the canceled plan")
