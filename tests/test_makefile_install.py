"""The Makefile's two installs, run by the real ``make`` on a copy of the Makefile and
pyproject.toml: ``make run`` installs only what serving needs, ``make test`` the test extras,
neither re-installs when nothing changed, and either order works.  The venv's ``python`` is a
stand-in that records the pip command it was given (installing for real takes a minute)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVE = "-m pip install --quiet -e ."
TEST = "-m pip install --quiet -e .[test]"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the Makefile and pyproject.toml whose .venv's python logs its arguments."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\necho "$*" >> "$(dirname "$0")/../pip.log"\n')
    python.chmod(0o755)
    return tmp_path


def install(project: Path, target: str) -> list[str]:
    """Runs ``make <target>`` in ``project``; the pip commands it ran (new lines of the log)."""
    log = project / ".venv" / "pip.log"
    before = log.read_text().splitlines() if log.exists() else []
    subprocess.run(["make", "-s", target], cwd=project, check=True, capture_output=True, timeout=60)
    after = log.read_text().splitlines() if log.exists() else []
    return after[len(before):]


def test_run_installs_only_serving_then_test_adds_the_extras(project: Path) -> None:
    assert install(project, "install-serve") == [SERVE]
    assert install(project, "install-serve") == []
    assert install(project, "install") == [TEST]
    assert install(project, "install") == []
    assert install(project, "install-serve") == []


def test_run_after_test_installs_nothing(project: Path) -> None:
    assert install(project, "install") == [TEST]
    assert install(project, "install-serve") == []


def test_changed_metadata_reinstalls_each_once(project: Path) -> None:
    install(project, "install")
    later = time.time() + 5  # newer than both stamps whatever the file system's resolution
    os.utime(project / "pyproject.toml", (later, later))
    assert install(project, "install-serve") == [SERVE]
    assert install(project, "install") == [TEST]


def test_run_target_uses_the_serving_install() -> None:
    """``make run`` itself goes through the serving install, not the test one."""
    shown = subprocess.run(["make", "-n", "-p", "run"], cwd=ROOT, capture_output=True, text=True,
                           timeout=60).stdout
    assert "\nrun: install-serve\n" in shown
