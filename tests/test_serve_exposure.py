"""``crmsphere serve`` refuses to listen beyond this machine without an admin token, and its
start-up log says who is the operator; ``make run`` trusts loopback, nothing else does."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from api.server import check_exposure, is_loopback_bind
from config.settings import load_settings
from domain.errors import ConfigError
from tests.helpers import wait_healthy_blocking
from tests.serve_helpers import free_port, start_serve, stop_serve

ROOT = Path(__file__).resolve().parent.parent


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "crmsphere.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "db.sqlite"}"\n'
                      '[scheduler]\nenabled = false\n')
    return config


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "crm.example.com"])
def test_serve_refuses_a_public_bind_without_an_admin_token(tmp_path: Path, host: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "crmsphere", "--config", str(_config(tmp_path)), "serve",
         "--host", host, "--port", str(free_port())],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={**os.environ, "CRMSPHERE_ADMIN_TOKEN": "", "CRMSPHERE_API__TRUST_LOOPBACK": "true"})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "server.host" in done.stderr and "CRMSPHERE_ADMIN_TOKEN" in done.stderr
    assert "serving on" not in done.stdout


def test_start_up_log_says_loopback_is_not_trusted_by_default(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "serve.log"
    proc = start_serve(_config(tmp_path), tmp_path, log, "--port", str(port),
                       env={"CRMSPHERE_ADMIN_TOKEN": ""})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy_blocking(base, proc, log)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/api/customers", timeout=10)
        assert refused.value.code == 401
    finally:
        code = stop_serve(proc)
    text = log.read_text()
    assert code == 0, text[-2000:]
    assert "admin token: not set (CRMSPHERE_ADMIN_TOKEN); api.trust_loopback is off" in text
    assert "answering host names: 127.0.0.1, [::1], localhost" in text


def test_start_up_log_with_a_token_on_every_interface(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides={"server.host": "0.0.0.0",
                                                    "server.allowed_hosts": ["crm.example.com"]})
    lines = check_exposure(settings, "api", {"CRMSPHERE_ADMIN_TOKEN": "Zq3v-admin-token"})
    assert lines[0].startswith("admin token: set (CRMSPHERE_ADMIN_TOKEN)")
    assert lines[1] == "answering host names: crm.example.com"
    trusted = load_settings(environ={"CRMSPHERE_API__TRUST_LOOPBACK": "true"})
    assert "api.trust_loopback is on" in check_exposure(trusted, "all", {})[0]
    # A worker or scheduler answers /healthz only: nothing of the operator's to guard.
    assert check_exposure(settings, "worker", {})
    with pytest.raises(ConfigError):
        check_exposure(settings, "all", {})


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True),
                                            ("[::1]", True), ("localhost", True), ("0.0.0.0", False),
                                            ("::", False), ("", False), ("10.0.0.5", False),
                                            ("localhost.attacker.example", False)])
def test_loopback_binds(host: str, loopback: bool) -> None:
    assert is_loopback_bind(host) is loopback


def test_make_run_trusts_loopback_and_nothing_else_does() -> None:
    assert load_settings(environ={}).api.trust_loopback is False
    dry = subprocess.run(["make", "-n", "run"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    # A recipe line continued with a backslash is one command.
    commands = dry.stdout.replace("\\\n", " ").splitlines()
    serve = [line for line in commands if " serve " in line]
    assert serve and "CRMSPHERE_API__TRUST_LOOPBACK=true" in serve[0], dry.stdout
