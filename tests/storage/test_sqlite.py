"""What is particular to the SQLite backend: pragmas, migrations, URL handling."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from domain import Analysis, Mention
from domain.errors import ConfigError
from storage import open_store
from storage.sqlite.schema import MIGRATIONS
from tests.conftest import acme_customers, post


async def test_file_uses_wal_and_records_schema_version(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'a' / 'b.db'}")
    await store.upsert_customers(acme_customers())
    await store.close()
    conn = sqlite3.connect(tmp_path / "a" / "b.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == max(MIGRATIONS)
    assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 3


async def test_reopening_keeps_data_and_applies_no_migration_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    for _ in range(2):
        store = await open_store(url)
        await store.upsert_customers(acme_customers())
        await store.close()
    conn = sqlite3.connect(tmp_path / "c.db")
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == sorted(MIGRATIONS)


_OPEN_AT_ONCE = """
import sys, time
from storage.sqlite.db import connect, migrate
start = float(sys.argv[2])
while time.time() < start:
    pass
conn = connect(sys.argv[1])
migrate(conn)
print(conn.execute("PRAGMA journal_mode").fetchone()[0])
"""


def test_processes_opening_a_new_file_at_once_all_start(tmp_path: Path) -> None:
    """Replicas started together on a new file: none fails with "database is locked"."""
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    for round_ in range(3):
        path = tmp_path / f"race{round_}.db"
        start = time.time() + 1.5
        procs = [subprocess.Popen([sys.executable, "-c", _OPEN_AT_ONCE, str(path), str(start)],
                                  cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(4)]
        results = [p.communicate(timeout=60) for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, [err[-300:] for _out, err in results]
        assert [out.strip() for out, _err in results] == ["wal"] * 4
        conn = sqlite3.connect(path)
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        assert versions == sorted(MIGRATIONS)


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    await (await open_store(url)).close()
    conn = sqlite3.connect(tmp_path / "d.db")
    conn.execute("INSERT INTO schema_version VALUES (999)")
    conn.commit()
    with pytest.raises(RuntimeError, match="newer"):
        await open_store(url)


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite:///:memory:", "postgres://x", "nothing"])
async def test_unusable_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        await open_store(url)
    assert info.value.key == "store.url"


def test_two_processes_migrating_one_new_file_apply_each_migration_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import asyncio, sys\nfrom storage import open_store\n"
            "async def main():\n    s = await open_store(sys.argv[1])\n    await s.close()\n"
            "asyncio.run(main())\n")
    url = f"sqlite:///{tmp_path / 'race.db'}"
    procs = [subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE) for _ in range(3)]
    errors = [p.communicate(timeout=60)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    conn = sqlite3.connect(tmp_path / "race.db")
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == sorted(MIGRATIONS)


async def test_lookups_answer_for_more_ids_than_one_statement_may_bind(tmp_path: Path) -> None:
    # A backfill stores 1,200 posts and asks about them in one call, among ids never stored:
    # SQLite reads such lists in chunks (a statement binds a bounded number of values).
    store = await open_store(f"sqlite:///{tmp_path / 'big.db'}")
    try:
        posts = [Mention(post(str(i)), Analysis()) for i in range(1200)]
        stored = (await store.save_mentions("k", posts, None)).stored
        asked = [str(i) for i in range(0, 2400, 2)]
        assert await store.known_identities("x", asked) == {str(i) for i in range(0, 1200, 2)}
        assert await store.known_identities("reddit", asked) == set()
        ids = [m.id for m in stored if m.id is not None]
        assert len(ids) == 1200
        triage = await store.get_triage([*ids, max(ids) + 1])
        assert sorted(triage) == sorted(ids)
        assert {t.tags for t in triage.values()} == {()}
    finally:
        await store.close()
