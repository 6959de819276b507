"""The SQLite writer decodes a voting token once, not once a vote: the token and its owner are
immutable values, so the same columns give the very same objects — and a changed column (its
use noted, its owner demoted) gives new ones, never a stale copy."""

from __future__ import annotations

from datetime import timedelta

from domain import utcnow
from storage import open_store
from storage.sqlite.accounts import read_token_with_owner


async def test_a_token_read_again_is_the_same_object_until_a_column_changes(tmp_path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'tokens.db'}")
    try:
        account = await store.create_account("ci@acmeanvils.example", "CI", None, "team")
        await store.create_api_token(account.id, "ci", "th-same", "team")

        def read():
            return store._writer.run(lambda conn: read_token_with_owner(conn, "th-same"))

        first, again = await read(), await read()
        assert first is again  # decoded once: no timestamps parsed, no objects made again
        used = utcnow() - timedelta(minutes=5)
        await store.note_token_use(first[0], used)
        await store.write_token_use()
        noted = await read()
        assert noted is not first and noted[0].last_used_at == used
        await store.update_account(account.id, role="customer")
        demoted = await read()
        assert demoted[1].role == "customer" and demoted[0].last_used_at == used
    finally:
        await store.close()
