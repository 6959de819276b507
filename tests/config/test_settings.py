"""Layered, validated, frozen configuration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pydantic
import pytest

from config.settings import load_settings
from domain.errors import ConfigError


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


def test_env_values_are_toml_values_else_text(tmp_path: Path) -> None:
    s = load_settings(environ={
        "CRMSPHERE_SERVER__PORT": "8081",
        "CRMSPHERE_SERVER__TRUSTED_PROXIES": "['10.0.0.0/8', \"192.168.0.0/16\"]",
        "CRMSPHERE_CRM__HUBSPOT__ENABLED": "true",
        "CRMSPHERE_CRM__HUBSPOT__MAPPING__COMPANY": '{ name = ["name"], segment = "tier" }',
        "CRMSPHERE_STORE__URL": f"sqlite:///{tmp_path}/x.db",  # not TOML: kept as text
        "CRMSPHERE_ADMIN_TOKEN": "not a setting (no section)",
    })
    assert s.server.port == 8081 and s.server.trusted_proxies == ("10.0.0.0/8", "192.168.0.0/16")
    assert s.crm.hubspot.enabled is True and s.crm.hubspot.mapping.company.segment == "tier"
    assert s.store.url == f"sqlite:///{tmp_path}/x.db"
    # A table set over a file's table keeps the file's other keys.
    assert s.crm.hubspot.objects == ("company", "contact")


def test_the_given_environment_is_the_only_one_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import Settings

    monkeypatch.setenv("CRMSPHERE_SERVER__PORT", "7777")
    assert load_settings(environ={}).server.port == 8080
    assert load_settings().server.port == 7777  # no mapping given: the program's environment
    assert Settings().server.port == 8080  # built directly: no layer but its defaults


def test_concurrent_loads_each_see_their_own_layers() -> None:
    from concurrent.futures import ThreadPoolExecutor

    def port(n: int) -> int:
        return load_settings(environ={"CRMSPHERE_SERVER__PORT": str(9000 + n)}).server.port

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(port, range(32))) == [9000 + n for n in range(32)]


def test_a_key_set_as_value_and_as_table_is_named_not_a_crash() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"CRMSPHERE_SERVER__PORT": "8081", "CRMSPHERE_SERVER__PORT__EXTRA": "1"})
    assert info.value.key == "server.port" and "integer" in info.value.expected


def test_bad_keys_and_values_in_the_config_file_are_named(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[server]\nprot = 9000\n')
    with pytest.raises(ConfigError, match="server.prot: .*no such setting"):
        load_settings(f, environ={})
    f.write_text('[Server]\nport = 9000\n')
    with pytest.raises(ConfigError, match="config Server: .*no such setting"):
        load_settings(f, environ={})
    f.write_text('[crm.salesforce]\nidea_closed_task_days = "soon"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(f, environ={})
    assert info.value.key == "crm.salesforce.idea_closed_task_days" and info.value.value == "soon"


def test_a_config_path_that_is_no_readable_toml_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="existing TOML file") as info:
        load_settings(tmp_path, environ={})  # a directory
    assert info.value.key == "--config" and info.value.value == str(tmp_path)
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('# Zürich office\n[server]\nport = 9000\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8") as info:
        load_settings(latin1, environ={})
    assert info.value.value == str(latin1)


def test_a_threshold_list_longer_than_a_vote_can_record_is_refused(tmp_path: Path) -> None:
    """Every threshold an idea has reached is recorded with each vote in one statement: a list of
    12,000 (a generated file) made every vote on such an idea fail. Refused at start, named."""
    f = tmp_path / "many.toml"
    f.write_text("[notify]\nvote_thresholds = [" + ", ".join(str(n) for n in range(1, 12_001)) + "]\n")
    with pytest.raises(ConfigError) as info:
        load_settings(f, environ={})
    assert info.value.key == "notify.vote_thresholds" and "100" in str(info.value)
    f.write_text("[notify]\nvote_thresholds = [" + ", ".join(str(n) for n in range(1, 101)) + "]\n")
    assert len(load_settings(f, environ={}).notify.vote_thresholds) == 100


def test_a_config_file_nested_hundreds_deep_is_named_not_a_traceback(tmp_path: Path) -> None:
    f = tmp_path / "deep.toml"
    f.write_text("[server]\nallowed_hosts = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match="nested less deeply") as info:
        load_settings(f, environ={})
    assert info.value.key == "--config" and info.value.value == str(f)
    # The same value from the environment is text, refused by the key's own model.
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"CRMSPHERE_SERVER__ALLOWED_HOSTS": "[" * 5000 + "]" * 5000})
    assert info.value.key == "server.allowed_hosts"


def test_a_config_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    f = tmp_path / "notepad.toml"
    f.write_bytes("[server]\nport = 9000\n".encode("utf-8-sig"))
    assert load_settings(f, environ={}).server.port == 9000


@pytest.mark.parametrize("section, key", [("notify", "digest_check_seconds"), ("forum.impact", "revenue_weight"),
                                          ("forum.impact", "revenue_unit")])
@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_inf_and_nan_which_toml_spells_are_refused_naming_the_key(
        tmp_path: Path, section: str, key: str, value: str) -> None:
    # digest_check_seconds = inf stopped the scheduler at start (timedelta of infinity); an
    # infinite weight made impact scores no JSON can carry.
    f = tmp_path / "inf.toml"
    f.write_text(f"[{section}]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(f, environ={})
    assert info.value.key == f"{section}.{key}"
