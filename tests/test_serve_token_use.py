"""A ``crmsphere serve`` stopped with SIGTERM right after an API token's request still stores
that token's last use (the stamp is noted in memory and written after the request)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from community.accounts import TOKEN_PREFIX, secret_hash
from storage import open_store
from tests.serve_helpers import free_port, start_serve, stop_serve, wait_healthy


async def test_a_token_used_just_before_sigterm_keeps_its_last_use(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    config = tmp_path / "crmsphere.toml"
    config.write_text(f'[store]\nurl = "{url}"\n[scheduler]\nenabled = false\n')
    plain = TOKEN_PREFIX + "Hk2v9YpQmW4xT7rB1nC8sD3fG6jL0aZe5uI"
    store = await open_store(url)
    try:
        owner = await store.create_account("ops@crm.example", "Ops", None, "manager")
        token = await store.create_api_token(owner.id, "nightly export", secret_hash(plain), "manager")
    finally:
        await store.close()
    assert token.last_used_at is None

    port, log = free_port(), tmp_path / "serve.log"
    proc = start_serve(config, tmp_path, log, "--port", str(port), env={"CRMSPHERE_ADMIN_TOKEN": ""})
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await wait_healthy(http, base, proc, log)
            async with http.get(base + "/api/customers",
                                headers={"Authorization": f"Bearer {plain}"}) as resp:
                assert resp.status == 200, await resp.text()
    finally:
        # Right after the answer: the use stamp may still be waiting to be written.
        code = await asyncio.to_thread(stop_serve, proc)
    text = log.read_text()
    assert code == 0, text[-3000:]
    assert "noting the use" not in text, text[-3000:]
    store = await open_store(url)
    try:
        [stored] = await store.list_api_tokens(owner.id)
    finally:
        await store.close()
    assert stored.last_used_at is not None, text[-3000:]
