"""wordfreq is imported when a word list is first read, without ``inspect.stack()``.

Its import finds its data folder with ``locate.this_dir()``, which ran ``inspect.stack()``
(source context of every frame and a scan of every loaded module) deep in the start-up's
import chain. Counted in a fresh interpreter, not timed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import inspect, json, sys
real_stack = inspect.stack
stacks = []
def counting_stack(*args, **kwargs):
    stacks.append(1)
    return real_stack(*args, **kwargs)
inspect.stack = counting_stack
import nlp.pipeline
imported_with_pipeline = "wordfreq" in sys.modules
from nlp.wordsense import _frequencies
english = _frequencies("en")
import locate, wordfreq
from locate._locate import this_dir
print(json.dumps({
    "imported_with_pipeline": imported_with_pipeline,
    "stacks": len(stacks),
    "data_path": str(wordfreq.DATA_PATH),
    "this_dir_restored": locate.this_dir is this_dir,
    "words": len(english),
    "common": [w for w in ("bolt", "kramer", "acme", "larkspur") if w in english],
}))
"""


def _probe() -> dict:
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_wordfreq_loads_when_first_needed_without_inspecting_the_stack() -> None:
    seen = _probe()
    assert seen["imported_with_pipeline"] is False  # importing the pipeline does not load it
    assert seen["stacks"] == 0
    # Still wordfreq's own data folder, its word lists read, and locate left as it was.
    data = Path(seen["data_path"])
    assert data.name == "data" and data.parent.name == "wordfreq" and any(data.glob("small_en.*"))
    assert seen["this_dir_restored"] is True
    assert seen["words"] > 10_000 and seen["common"] == ["bolt", "kramer"]
