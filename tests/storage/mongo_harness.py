"""A MongoDB for the Store contract suite: a real one or mongoeco's wire-protocol server.

``MONGODB_URI`` names a real MongoDB (e.g. one started with Docker, see
docs/mongodb.md).  Without it, mongoeco (PyPI) serves the MongoDB wire protocol
on 127.0.0.1 so that the real ``pymongo.AsyncMongoClient`` talks to a server over
a socket.  mongoeco needs Python >= 3.13 while crmsphere runs on 3.11, so it
lives in its own small environment, ``.venv-mongoeco/`` in the repository (or
``$MONGOECO_VENV``), made on first use or by ``make test`` (which runs this
module: ``python -m tests.storage.mongo_harness``).

When neither is possible the MongoDB tests cannot run, and that is a failure,
not a pass: their skip reason starts with ``BACKEND_SKIPPED`` and tests/conftest.py
turns such skips into failures, unless ``SKIP_MONGODB_TESTS=1`` says that a run
without the MongoDB half is what is wanted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

MONGOECO_REQUIREMENT = "mongoeco[wire]>=4.11,<5"
_START_TIMEOUT = 60.0
#: The start of the skip reason of every MongoDB test that could not run for want of a server.
BACKEND_SKIPPED = "MongoDB backend skipped"
#: Set to 1 to let the MongoDB half be skipped (a deliberate, visible choice; never the default).
OPT_OUT = "SKIP_MONGODB_TESTS"


class MongoUnavailable(Exception):
    """No MongoDB for the tests, and why."""


def skips_allowed() -> bool:
    """Whether this run was told that skipping the MongoDB half is fine."""
    return os.environ.get(OPT_OUT, "") not in ("", "0")


def backend_missing(reason: str) -> None:
    """Skip the current test for want of a MongoDB (a failure unless ``skips_allowed``)."""
    pytest.skip(f"{BACKEND_SKIPPED}: {reason}")


def _is_python_313(path: str) -> bool:
    """Whether ``path`` runs and is Python >= 3.13."""
    try:
        done = subprocess.run(
            [path, "-c", "import sys; print(sys.version_info >= (3, 13))"],
            check=False, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == "True"


def find_python_313() -> str | None:
    """A Python >= 3.13 interpreter: $MONGOECO_PYTHON, one on PATH, or one pyenv installed."""
    candidates = [os.environ.get("MONGOECO_PYTHON", "")]
    candidates += [shutil.which(f"python3.{minor}") or "" for minor in range(13, 20)]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], check=False, capture_output=True, text=True).stdout.strip()
        if root:
            # Real binaries, not shims: a shim only runs with PYENV_VERSION set.
            versions = sorted(Path(root, "versions").glob("3.1[3-9]*"), reverse=True)
            candidates += [str(v / "bin" / "python3") for v in versions]
    for candidate in candidates:
        if candidate and _is_python_313(candidate):
            return candidate
    return None


def prepare_mongoeco(repo: Path) -> str:
    """The interpreter of the mongoeco environment, built if needed; ``MongoUnavailable``
    saying what to do when it cannot be."""
    venv = Path(os.environ.get("MONGOECO_VENV") or repo / ".venv-mongoeco")
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import mongoeco.wire.proxy, bson"]
    if python.exists() and subprocess.run(probe, check=False, capture_output=True).returncode == 0:
        return str(python)
    base = find_python_313()
    if base is None:
        raise MongoUnavailable(
            "MongoDB tests need Python >= 3.13 for mongoeco (none found: set MONGOECO_PYTHON, "
            "put python3.13 on PATH or install one with pyenv, or set MONGODB_URI to a real "
            f"MongoDB; {OPT_OUT}=1 runs the tests without the MongoDB half)")
    steps = [[base, "-m", "venv", str(venv)],
             [str(python), "-m", "pip", "install", "--quiet", MONGOECO_REQUIREMENT]]
    for step in steps:
        done = subprocess.run(step, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            raise MongoUnavailable(f"could not set up mongoeco ({' '.join(step[:4])}...): "
                                   f"{done.stderr.strip()[-300:]}")
    return str(python)


def mongoeco_python(repo: Path) -> str:
    """The interpreter of the mongoeco environment; skips (as ``backend_missing``) when impossible."""
    try:
        return prepare_mongoeco(repo)
    except MongoUnavailable as exc:
        backend_missing(str(exc))
        raise AssertionError("unreachable") from exc


@contextmanager
def mongoeco_server(python: str) -> Iterator[str]:
    """Run tests/storage/mongo_server.py under ``python``; yields its URI."""
    launcher = Path(__file__).with_name("mongo_server.py")
    proc = subprocess.Popen([python, str(launcher)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        uri = proc.stdout.readline().strip()
        if not uri.startswith("mongodb://"):
            proc.kill()
            err = proc.stderr.read() if proc.stderr else ""
            backend_missing(f"mongoeco server did not start: {err.strip()[-300:]}")
        yield uri
    finally:
        if proc.stdin:
            proc.stdin.close()  # the launcher stops when its stdin ends
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def mongodb_for_tests(repo: Path) -> Iterator[str]:
    """A MongoDB URI (without a database) for the whole test session."""
    if os.environ.get("MONGODB_URI"):
        yield os.environ["MONGODB_URI"]
        return
    try:
        import pymongo  # noqa: F401  (the client under test)
    except ImportError:
        backend_missing("pymongo is not installed (pip install -e '.[test]')")
    with mongoeco_server(mongoeco_python(repo)) as uri:
        yield uri


def database_url(server_uri: str) -> str:
    """``server_uri`` naming a fresh database of its own.

    With ``MONGODB_TRANSACTIONS=on`` the store uses transactions whatever the server
    says (to run the contract suite's transaction path on mongoeco).
    """
    parts = urlsplit(server_uri)
    query = parts.query
    if os.environ.get("MONGODB_TRANSACTIONS") == "on":
        query = "&".join(q for q in (query, "crmsphere_transactions=on") if q)
    return urlunsplit(parts._replace(path=f"/crm_test_{uuid.uuid4().hex[:12]}", query=query))


def main() -> int:
    """``make test``'s first step: make sure the MongoDB half can run, or fail saying why."""
    if os.environ.get("MONGODB_URI"):
        print("MongoDB contract tests: the server at $MONGODB_URI")
        return 0
    if skips_allowed():
        print(f"warning: {OPT_OUT} is set: the MongoDB half of the contract suite is skipped",
              file=sys.stderr)
        return 0
    try:
        python = prepare_mongoeco(Path(__file__).resolve().parents[2])
    except MongoUnavailable as exc:
        print(f"make test: {exc}", file=sys.stderr)
        return 2
    print(f"MongoDB contract tests: mongoeco under {python}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

