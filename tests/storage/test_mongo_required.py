"""The MongoDB half of the contract suite cannot pass by skipping: without a MongoDB (no
$MONGODB_URI, no Python >= 3.13 for mongoeco) ``make test`` stops saying why, and a MongoDB
test that skipped fails the pytest run, unless SKIP_MONGODB_TESTS=1 asks for a run without it.
Each case runs the real thing in a subprocess with a PATH that holds no Python 3.13."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _env_without_mongodb(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MONGODB_URI", "MONGOECO_PYTHON", "MONGOECO_VENV", "SKIP_MONGODB_TESTS",
                        "PYENV_VERSION")}
    empty = tmp_path / "bin"
    empty.mkdir(exist_ok=True)
    env.update(PATH=str(empty), PYTHONPATH=str(REPO), MONGOECO_VENV=str(tmp_path / "no-venv"), **extra)
    return env


def _pytest_a_mongodb_test(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run one test needing the MongoDB server fixture, under this repository's conftest."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "conftest.py").write_text('pytest_plugins = ["tests.conftest"]\n')
    (project / "test_needs_mongodb.py").write_text(
        "def test_the_contract_on_mongodb(mongodb_server_uri):\n"
        "    assert mongodb_server_uri.startswith('mongodb://')\n")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs", str(project)],
        cwd=project, env=_env_without_mongodb(tmp_path, **extra), capture_output=True, text=True,
        timeout=300)


def test_a_mongodb_test_that_cannot_run_fails_the_run(tmp_path: Path) -> None:
    done = _pytest_a_mongodb_test(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MongoDB backend skipped" in done.stdout
    assert "Python >= 3.13" in done.stdout and "SKIP_MONGODB_TESTS=1" in done.stdout
    assert " passed" not in done.stdout.splitlines()[-1]


def test_skip_mongodb_tests_lets_it_skip_visibly(tmp_path: Path) -> None:
    done = _pytest_a_mongodb_test(tmp_path, SKIP_MONGODB_TESTS="1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout.splitlines()[-1]


def test_make_test_first_prepares_mongodb_and_stops_without_it(tmp_path: Path) -> None:
    plan = subprocess.run(["make", "-n", "test"], cwd=REPO, capture_output=True, text=True,
                          timeout=60)  # -n: prints the steps, runs none
    steps = plan.stdout.splitlines()
    harness = next(i for i, s in enumerate(steps) if "-m tests.storage.mongo_harness" in s)
    assert harness < next(i for i, s in enumerate(steps) if "-m pytest" in s)
    # The step itself, as make runs it: no Python 3.13 anywhere, no $MONGODB_URI.
    done = subprocess.run([sys.executable, "-m", "tests.storage.mongo_harness"], cwd=REPO,
                          env=_env_without_mongodb(tmp_path), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert "Python >= 3.13" in done.stderr and "MONGODB_URI" in done.stderr
    assert "SKIP_MONGODB_TESTS=1" in done.stderr
    allowed = subprocess.run([sys.executable, "-m", "tests.storage.mongo_harness"], cwd=REPO,
                             env=_env_without_mongodb(tmp_path, SKIP_MONGODB_TESTS="1"),
                             capture_output=True, text=True, timeout=120)
    assert allowed.returncode == 0 and "skipped" in allowed.stderr
