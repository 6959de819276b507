"""A MongoDB for the Store contract suite: a real one or mongoeco's wire-protocol server.

``MONGODB_URI`` names a real MongoDB (e.g. one started with Docker, see
docs/mongodb.md).  Without it, mongoeco (PyPI) serves the MongoDB wire protocol
on 127.0.0.1 so that the real ``pymongo.AsyncMongoClient`` talks to a server over
a socket.  mongoeco needs Python >= 3.13 while crmsphere runs on 3.11, so it
lives in its own small environment, ``.venv-mongoeco/`` in the repository,
made on first use.  When neither is possible the MongoDB tests are skipped
with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

MONGOECO_REQUIREMENT = "mongoeco[wire]>=4.11,<5"
_CONTRACT_MODULE = re.compile(r"^test_contract_(\w+)\.py$")
_START_TIMEOUT = 60.0


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


def mongoeco_python(repo: Path) -> str:
    """The interpreter of ``.venv-mongoeco`` with mongoeco installed; skips when impossible."""
    venv = repo / ".venv-mongoeco"
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import mongoeco.wire.proxy, bson"]
    if python.exists() and subprocess.run(probe, check=False, capture_output=True).returncode == 0:
        return str(python)
    base = find_python_313()
    if base is None:
        pytest.skip("MongoDB tests need Python >= 3.13 for mongoeco (none found: set "
                    "MONGOECO_PYTHON, put python3.13 on PATH, or set MONGODB_URI)")
    steps = [[base, "-m", "venv", str(venv)],
             [str(python), "-m", "pip", "install", "--quiet", MONGOECO_REQUIREMENT]]
    for step in steps:
        done = subprocess.run(step, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"could not set up mongoeco ({' '.join(step[:4])}...): "
                        f"{done.stderr.strip()[-300:]}")
    return str(python)


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
            pytest.skip(f"mongoeco server did not start: {err.strip()[-300:]}")
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
        pytest.skip("pymongo is not installed (pip install -e '.[test]')")
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


def skip_unimplemented_area(request: pytest.FixtureRequest) -> None:
    """Skip a ``test_contract_<area>.py`` test whose area MongoDB does not have yet."""
    match = _CONTRACT_MODULE.match(Path(str(request.node.path)).name)
    if match is None:
        return
    from storage.mongo import PENDING_AREAS

    if match.group(1) in PENDING_AREAS:
        pytest.skip(f"{match.group(1)} not yet implemented on the MongoDB backend")

