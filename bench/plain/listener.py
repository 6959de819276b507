"""The plain listening script: the yardstick ``bench/nlp.py`` measures ``crmsphere analyze`` against.

    python bench/plain/listener.py CUSTOMERS.csv < posts.jsonl > analyses.jsonl

What anyone would write in an afternoon with the same two libraries the stage uses for
the job: a pyahocorasick automaton of every customer's lower-cased names, aliases and
domains (whole words only), handles looked up in a dict, and VADER's ``polarity_scores``.
No language, topics, intent, hygiene, ambiguity or evidence. Same input and output
shape as ``crmsphere analyze`` (one JSON line in, one out).
"""

from __future__ import annotations

import csv
import json
import re
import sys

import ahocorasick
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

HANDLE = re.compile(r"@([A-Za-z0-9_][\w.]*)")
PLATFORMS = ("reddit", "x", "mastodon", "bluesky", "hackernews")


def load(path: str) -> tuple[ahocorasick.Automaton, dict[str, list[str]]]:
    """The name automaton and the handle table of a customers CSV."""
    names: dict[str, list[str]] = {}
    handles: dict[str, list[str]] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            phrases = [row["name"], *row.get("aliases", "").split(";"), *row.get("domains", "").split(";")]
            for phrase in phrases:
                key = " ".join(phrase.lower().split())
                if key:
                    names.setdefault(key, []).append(row["id"])
            for platform in PLATFORMS:
                for handle in (row.get(platform) or "").split(";"):
                    if handle.strip():
                        handles.setdefault(handle.strip().lstrip("@").lower(), []).append(row["id"])
    automaton = ahocorasick.Automaton()
    for key, ids in names.items():
        automaton.add_word(key, (len(key), ids))
    automaton.make_automaton()
    return automaton, handles


def analyse(text: str, automaton: ahocorasick.Automaton, handles: dict[str, list[str]],
            vader: SentimentIntensityAnalyzer) -> dict:
    """Customers named or mentioned, and VADER's compound score."""
    low = text.lower()
    found: dict[str, int] = {}
    for last, (length, ids) in automaton.iter(low):
        start, end = last - length + 1, last + 1
        if (start and (low[start - 1].isalnum() or low[start - 1] == "_")) or (
                end < len(low) and (low[end].isalnum() or low[end] == "_")):
            continue
        for cid in ids:
            found[cid] = start
    for m in HANDLE.finditer(text):
        for cid in handles.get(m.group(1).lower(), ()):
            found[cid] = m.start()
    score = vader.polarity_scores(text)["compound"]
    return {"customers": [{"id": cid, "span": start} for cid, start in found.items()],
            "sentiment": score}


def main() -> None:
    """Load the registry, then analyse stdin line by line onto stdout."""
    automaton, handles = load(sys.argv[1])
    vader = SentimentIntensityAnalyzer()
    out = sys.stdout
    for line in sys.stdin:
        try:
            post = json.loads(line)
            result = {"id": post["id"], **analyse(post["text"], automaton, handles, vader)}
        except (ValueError, KeyError, TypeError) as exc:
            result = {"id": None, "error": str(exc)}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
