"""``crmsphere analyze --customers``: the gazetteer saved for a registry file is reused only
while the file is unchanged, and only when it carries the cache folder's signature."""

from __future__ import annotations

import io
import json
import logging
import os
import pickle
from pathlib import Path

import pytest

from crmsphere.analyze_cli import run_analyze
from nlp.gazetteer_cache import FORMAT, cache_key
from tests.helpers import app_settings

DATA = Path(__file__).parent / "data"
POSTS = [
    {"id": 1, "text": "Acme Anvils shipped a dented anvil again 😡", "author": {"handle": "wile"}},
    {"id": 2, "text": "@zentrixlabs your export drops custom fields", "source": "x"},
    {"id": 3, "text": "Mosswick Bakery answered within the hour, thanks!"},
    {"id": "4", "text": "nobody in particular, a lovely day"},
]


async def analyse(tmp_path: Path, registry: Path, cache: Path,
                  overrides: dict | None = None) -> list[dict]:
    settings = app_settings(tmp_path, overrides=overrides or {"nlp.gazetteer_cache_dir": str(cache)})
    out = io.StringIO()
    stdin = io.StringIO("".join(json.dumps(p) + "\n" for p in POSTS))
    assert await run_analyze(settings, registry, None, stdin, out) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def linked(lines: list[dict]) -> list[list[str]]:
    return [[c["id"] for c in line["customers"]] for line in lines]


def registry_copy(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_bytes((DATA / "customers.csv").read_bytes())
    return path


async def test_a_saved_gazetteer_links_like_a_fresh_build_and_a_changed_file_is_rebuilt(
        tmp_path: Path) -> None:
    registry, cache = registry_copy(tmp_path), tmp_path / "cache"
    fresh = await analyse(tmp_path, registry, tmp_path / "no-cache-here")
    first = await analyse(tmp_path, registry, cache)
    (saved,) = cache.glob("*.gazetteer")
    assert os.stat(saved).st_mode & 0o077 == 0 and os.stat(cache / "cache.key").st_mode & 0o077 == 0
    second = await analyse(tmp_path, registry, cache)
    assert first == second == fresh
    assert linked(fresh)[:3] == [["c_acme"], ["c_zentrix"], ["c_moss"]]

    # Renamed in the file, same length and same modification second: never the old build.
    text = registry.read_text(encoding="utf-8")
    registry.write_text(text.replace("c_moss,Mosswick Bakery", "c_moss,Mosswick Pastry"), encoding="utf-8")
    renamed = await analyse(tmp_path, registry, cache)
    assert linked(renamed)[2] == []
    # The old file's build is kept beside the new one (it may come back: see below).
    assert {p.name for p in cache.glob("*.gazetteer")} > {saved.name}
    assert len(list(cache.glob("*.gazetteer"))) == 2


def registry_variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    path = tmp_path / name
    path.write_text((DATA / "customers.csv").read_text(encoding="utf-8").replace(old, new),
                    encoding="utf-8")
    return path


def count_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys saved (a start that did not find its build saves one), in order."""
    from nlp.gazetteer_cache import GazetteerCache

    saved: list[str] = []
    real_save = GazetteerCache.save

    def counting_save(self: GazetteerCache, key: str, state: dict) -> None:
        saved.append(key)
        real_save(self, key, state)

    monkeypatch.setattr(GazetteerCache, "save", counting_save)
    return saved


async def test_two_registries_analysed_in_turn_each_find_their_own_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `analyze --customers a.csv` then `b.csv` (or two releases during a rolling deploy)
    # sharing one folder: neither start deletes the other's build.
    cache = tmp_path / "cache"
    first = registry_copy(tmp_path)
    second = registry_variant(tmp_path, "renamed.csv", "c_moss,Mosswick Bakery", "c_moss,Mosswick Pastry")
    builds = count_builds(monkeypatch)
    for _ in range(3):
        assert linked(await analyse(tmp_path, first, cache))[2] == ["c_moss"]
        assert linked(await analyse(tmp_path, second, cache))[2] == []
    assert len(builds) == 2 and len(set(builds)) == 2, builds
    assert len(list(cache.glob("*.gazetteer"))) == 2


async def test_builds_beyond_the_configured_count_are_pruned_least_recently_used_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    settings = {"nlp.gazetteer_cache_dir": str(cache), "nlp.gazetteer_cache_builds": 2}
    files = {
        "a": registry_copy(tmp_path),
        "b": registry_variant(tmp_path, "b.csv", "c_moss,Mosswick Bakery", "c_moss,Mosswick Pastry"),
        "c": registry_variant(tmp_path, "c.csv", "c_moss,Mosswick Bakery", "c_moss,Mosswick Crumb"),
    }
    builds = count_builds(monkeypatch)
    for name in ("a", "b", "a", "c", "a", "b"):  # a is used again before c is built: b goes
        await analyse(tmp_path, files[name], cache, settings)
    keys = {name: cache_key(path.read_bytes(), ("en",)) for name, path in files.items()}
    assert builds == [keys["a"], keys["b"], keys["c"], keys["b"]]
    assert sorted(p.name for p in cache.glob("*.gazetteer")) == sorted(
        f"{keys[n][:40]}.gazetteer" for n in ("a", "b"))


class _Marker:
    """What a planted pickle would run: it creates a file on load."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


@pytest.mark.parametrize("damage", ["foreign", "truncated", "flipped"])
async def test_a_cache_file_not_signed_by_the_folder_key_is_ignored_with_a_warning(
        tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture) -> None:
    registry, cache = registry_copy(tmp_path), tmp_path / "cache"
    good = await analyse(tmp_path, registry, cache)
    (saved,) = cache.glob("*.gazetteer")
    blob = saved.read_bytes()
    marker = tmp_path / "planted-code-ran"
    if damage == "foreign":
        # Someone who can write the folder but not read the key plants code to run.
        planted = pickle.dumps({"linker": _Marker(str(marker)), "rejected": []})
        saved.write_bytes(FORMAT + b"\0" * 32 + planted)
    elif damage == "truncated":
        saved.write_bytes(blob[:len(blob) // 2])  # a disk that filled up mid-write
    else:
        saved.write_bytes(blob[:-10] + bytes([blob[-10] ^ 1]) + blob[-9:])
    with caplog.at_level(logging.WARNING, logger="nlp.gazetteer_cache"):
        again = await analyse(tmp_path, registry, cache)
    assert again == good
    assert not marker.exists()
    assert any("not signed by this cache's key" in r.getMessage() for r in caplog.records)
    # Built from the registry and saved again, signed: the next start uses it quietly.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="nlp.gazetteer_cache"):
        assert await analyse(tmp_path, registry, cache) == good
    assert not caplog.records


async def test_a_key_others_can_read_signs_nothing(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    registry, cache = registry_copy(tmp_path), tmp_path / "cache"
    good = await analyse(tmp_path, registry, cache)
    os.chmod(cache / "cache.key", 0o644)
    with caplog.at_level(logging.WARNING, logger="nlp.gazetteer_cache"):
        assert await analyse(tmp_path, registry, cache) == good
    assert any("not a private file" in r.getMessage() for r in caplog.records)


async def test_rows_the_file_refused_are_reported_on_every_start(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry, cache = registry_copy(tmp_path), tmp_path / "cache"
    with registry.open("a", encoding="utf-8") as f:
        f.write("c_bad,,company,,,,,,,,,,,\n")
    for _ in range(2):  # built, then loaded from the cache
        await analyse(tmp_path, registry, cache)
        assert "name is empty" in capsys.readouterr().err


async def test_saved_customers_load_through_their_constructor(tmp_path: Path) -> None:
    # Frozen dataclasses with slots otherwise unpickle through dataclasses' per-object
    # setstate (a BUILD opcode each, asking ``fields()`` again): most of a 100k cache's load.
    import pickletools

    from nlp.gazetteer_cache import GazetteerCache

    registry, cache = registry_copy(tmp_path), tmp_path / "cache"
    await analyse(tmp_path, registry, cache)
    (saved,) = cache.glob("*.gazetteer")
    body = saved.read_bytes()[len(FORMAT) + 32:]
    state = pickle.loads(body)
    customers = state["linker"]["customers"]
    assert len(customers) >= 10
    builds = sum(1 for op, _, _ in pickletools.genops(body) if op.name == "BUILD")
    assert builds < len(customers), builds
    # ...and they load equal to a fresh read of the registry.
    from collectors.customers_csv import read_customers_csv

    fresh, _ = read_customers_csv(registry)
    assert {c.id: c for c in fresh} == customers
    key = cache_key(registry.read_bytes(), ("en",))
    assert GazetteerCache(cache).load(key) is not None


def test_a_part_file_left_by_a_killed_save_is_removed_by_the_next_save(tmp_path: Path) -> None:
    """A process killed while writing its build leaves ``<key>.<pid>.part`` (~70 MB at 100,000
    customers); the next save removes it once that process is gone, and never a live one's."""
    import subprocess
    import sys

    from nlp.gazetteer_cache import GazetteerCache

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(gone.stdout)
    cache = GazetteerCache(tmp_path / "cache")
    cache.folder.mkdir(parents=True, exist_ok=True)
    dead = cache.folder / f"{'a' * 40}.{dead_pid}.part"
    alive = cache.folder / f"{'b' * 40}.{os.getpid()}.part"  # a save still being written
    stranger = cache.folder / "notes.part"  # not named like ours: left alone
    for part in (dead, alive, stranger):
        part.write_bytes(b"half a build")
    cache.save("c" * 64, {"linker": {}})
    assert not dead.exists()
    assert alive.exists() and stranger.exists()
    assert len(list(cache.folder.glob("*.gazetteer"))) == 1
