"""wordfreq is imported when a word list is first read, not with the pipeline module.

Its import finds its data folder with ``locate.this_dir()``, which runs ``inspect.stack()``
(source context of every frame and a scan of every loaded module): commands that never read
a word list should not pay for it. Checked in a fresh interpreter, not timed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
import nlp.pipeline
imported_with_pipeline = "wordfreq" in sys.modules
from nlp.wordsense import _frequencies
english = _frequencies("en")
import wordfreq
print(json.dumps({
    "imported_with_pipeline": imported_with_pipeline,
    "data_path": str(wordfreq.DATA_PATH),
    "words": len(english),
    "common": [w for w in ("bolt", "kramer", "acme", "larkspur") if w in english],
}))
"""


def _probe() -> dict:
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_wordfreq_loads_when_a_word_list_is_first_read() -> None:
    seen = _probe()
    assert seen["imported_with_pipeline"] is False  # importing the pipeline does not load it
    # Still wordfreq's own data folder, and its word lists read.
    data = Path(seen["data_path"])
    assert data.name == "data" and data.parent.name == "wordfreq" and any(data.glob("small_en.*"))
    assert seen["words"] > 10_000 and seen["common"] == ["bolt", "kramer"]
