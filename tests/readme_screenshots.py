"""Refreshes the README's screenshots (``make screenshots``): runs the accessibility browser
tests, which open the main pages as their users in headless Chromium (the staff pages in dark
mode too) and save each at 1440×900 into ``test-artifacts/``, then copies the README's pictures into ``docs/screenshots/``.

Re-run it whenever a page's look changes, so the README shows the pages as they are."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
TARGET = ROOT / "docs" / "screenshots"
TESTS = ["tests/api/test_accessibility_browser.py::test_every_main_page_names_its_controls_and_meets_contrast",
         "tests/api/test_accessibility_browser.py::test_staff_pages_follow_dark_mode_and_meet_contrast"]
# The test's screenshot → the README's picture.
PICTURES = {
    "a11y_forum_desktop.png": "forum.png",
    "a11y_idea_desktop.png": "idea.png",
    "a11y_roadmap_desktop.png": "roadmap.png",
    "a11y_stream_desktop.png": "dashboard-stream.png",
    "a11y_analytics_desktop.png": "analytics.png",
    "a11y_customer_360_desktop.png": "customer-360.png",
    "a11y_changelog_desktop.png": "changelog.png",
    "a11y_changelog_editor_desktop.png": "changelog-editor.png",
    "a11y_moderation_desktop.png": "moderation.png",
    "a11y_stream_desktop_dark.png": "dashboard-stream-dark.png",
}


def main() -> int:
    """Runs the test, then copies the pictures it took in this run; 1 if the test failed or
    a picture was not retaken (an old one is never passed off as current)."""
    started = time.time()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS], cwd=ROOT)
    if run.returncode != 0:
        print("screenshots: the browser test failed; docs/screenshots/ left as it was", file=sys.stderr)
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    for shot, picture in PICTURES.items():
        source = ARTIFACTS / shot
        if not source.exists() or source.stat().st_mtime < started:
            print(f"screenshots: {shot} was not taken by this run", file=sys.stderr)
            return 1
        shutil.copyfile(source, TARGET / picture)
        print(f"docs/screenshots/{picture}  {source.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
