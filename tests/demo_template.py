"""The demo loaded once per test session, copied for each test that needs a loaded demo.

``crmsphere demo load`` takes 15-20 s (customers, 3,045 posts, routing, the forum, worked
queues); six tests each ran it.  The real command runs once, as ``make run`` runs it (with the
demo's settings), into a template SQLite file; every test gets a copy of its own, so what one
test changes no other sees.  What the load writes is that one file (checked: the dated copy of
the posts lives in a temporary folder the load deletes), and what it stores does not depend on
the settings file (checked: the same rows with and without the demo's settings, but for times
and random keys).  ``tests/test_cli.py`` still runs the command end to end on an empty store.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from config.settings import DEMO_DIR

DEMO_SETTINGS = DEMO_DIR / "crmsphere.toml"
#: SQLite's companions of a database file (none once the loading process closed cleanly).
_SQLITE_SUFFIXES = ("", "-wal", "-shm")


class DemoTemplate:
    """The demo loaded into one SQLite file of the session, on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._printed: str | None = None

    @property
    def database(self) -> Path:
        """The template's SQLite file (never handed to a test: tests get copies)."""
        return self.folder / "demo.db"

    def _load(self) -> str:
        if self._printed is None:
            done = subprocess.run(
                [sys.executable, "-m", "crmsphere", "--config", str(DEMO_SETTINGS),
                 "--store", f"sqlite:///{self.database}", "demo", "load"],
                capture_output=True, text=True, cwd=self.folder, timeout=600,
                env={**os.environ, "CRMSPHERE_ADMIN_TOKEN": ""})
            assert done.returncode == 0, done.stderr[-3000:]
            self._printed = done.stdout
        return self._printed

    def copy_to(self, database: Path) -> str:
        """A fresh copy of the loaded demo at ``database``; what ``demo load`` printed."""
        printed = self._load()
        database.parent.mkdir(parents=True, exist_ok=True)
        for suffix in _SQLITE_SUFFIXES:
            source = self.database.with_name(self.database.name + suffix)
            if source.exists():
                shutil.copyfile(source, database.with_name(database.name + suffix))
        return printed
