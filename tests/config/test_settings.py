"""Layered, validated, frozen configuration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pydantic
import pytest

from config.settings import load_settings
from crmsphere.errors import ConfigError


def test_defaults_load() -> None:
    s = load_settings(environ={})
    assert s.server.port == 8080 and s.store.url.startswith("sqlite:///")


def test_layers_file_then_env_then_command_line(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[server]\nport = 9000\nhost = "0.0.0.0"\n[nlp]\nworkers = 1\n')
    s = load_settings(f, environ={})
    assert (s.server.port, s.server.host, s.nlp.workers) == (9000, "0.0.0.0", 1)
    s = load_settings(f, environ={"CRMSPHERE_SERVER__PORT": "9100", "UNRELATED": "x"})
    assert (s.server.port, s.server.host) == (9100, "0.0.0.0")
    s = load_settings(f, environ={"CRMSPHERE_SERVER__PORT": "9100"}, overrides={"server.port": 9200})
    assert s.server.port == 9200


def test_settings_are_frozen() -> None:
    s = load_settings(environ={})
    with pytest.raises(pydantic.ValidationError):
        s.server.port = 1  # type: ignore[misc]


@pytest.mark.parametrize("env, key, fragment", [
    ({"CRMSPHERE_SERVER__PORT": "eighty"}, "server.port", "integer"),
    ({"CRMSPHERE_SERVER__PORT": "70000"}, "server.port", "65535"),
    ({"CRMSPHERE_STORE__URL": "postgres://db"}, "store.url", "sqlite:///"),
    ({"CRMSPHERE_LOGGING__LEVEL": "LOUD"}, "logging.level", "DEBUG"),
    ({"CRMSPHERE_NLP__WORKRS": "2"}, "nlp.workrs", "no such setting"),
])
def test_bad_values_name_key_value_and_expectation(env: dict, key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ=env)
    assert info.value.key == key
    assert fragment in info.value.expected
    assert key in str(info.value)


def test_bad_config_file(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("[server\nport = 1")
    with pytest.raises(ConfigError, match="valid TOML"):
        load_settings(f, environ={})
    with pytest.raises(ConfigError, match="existing TOML file"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_config_check_exits_2_naming_the_key(tmp_path: Path) -> None:
    env = {"CRMSPHERE_SERVER__PORT": "abc", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "crmsphere", "config", "check"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "server.port" in done.stderr and "'abc'" in done.stderr and "integer" in done.stderr
    ok = subprocess.run([sys.executable, "-m", "crmsphere", "config", "check"],
                        capture_output=True, text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert ok.returncode == 0 and '"port": 8080' in ok.stdout
