"""The shipped confidence table is what ``bench/calibrate.py`` fits on the committed data, and
it means what it says: on those sets, links at a confidence were right about that often."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nlp.calibration import CONFIDENCE
from nlp.pipeline import StageOptions

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_table_is_the_fitting_scripts_output() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "calibrate.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "matches the fit" in done.stdout


def test_review_threshold_splits_the_rules_the_data_found_unreliable() -> None:
    review_below = StageOptions().review_below
    # Exact identities and whole distinctive names are right far more often than the threshold...
    for rule in ("author_handle", "email", "mentioned_handle", "company_name", "person_name", "hashtag"):
        assert CONFIDENCE[rule] >= review_below, rule
    # ...and a name many customers share, or a common person's name with nothing else, is not.
    for case in ("shared_name", "common_person_name", "handle_other_platform", "lowercase_word"):
        assert CONFIDENCE[case] < review_below, case
