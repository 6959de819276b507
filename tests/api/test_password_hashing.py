"""``[forum.password_hashing]``: the argon2id costs account passwords are hashed with.

The other tests hash with the smallest costs (``tests.helpers.CHEAP_PASSWORD_HASHING``); these
check that the configured costs are the ones used, that the defaults stay argon2-cffi's, and
that a sign-in re-hashes a password made with other costs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from api.keys import RUNTIME
from community.accounts import password_hasher
from config.settings import load_settings
from domain.errors import ConfigError
from tests.helpers import json_of, start_app

EMAIL, PASSWORD = "jo@acmeanvils.example", "correct horse battery staple"


def costs(time_cost: int, memory_kib: int, parallelism: int) -> dict[str, int]:
    """Dotted overrides of ``[forum.password_hashing]``."""
    return {"forum.password_hashing.time_cost": time_cost,
            "forum.password_hashing.memory_kib": memory_kib,
            "forum.password_hashing.parallelism": parallelism}


async def stored_hash(client: Any) -> str:
    found = await client.app[RUNTIME].store.get_login(EMAIL)
    assert found is not None and found[1], "the sign-up stored a password"
    return found[1]


async def test_sign_up_hashes_with_the_configured_costs(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await start_app(aiohttp_client, tmp_path, overrides=costs(2, 1024, 1))
    resp = await client.post("/api/auth/signup", json={"email": EMAIL, "password": PASSWORD, "name": "Jo"})
    assert resp.status == 202, await resp.text()
    assert (await stored_hash(client)).startswith("$argon2id$v=19$m=1024,t=2,p=1$")


async def test_a_sign_in_with_other_costs_configured_rehashes_the_password(
        aiohttp_client: Any, tmp_path: Path) -> None:
    cheap = await start_app(aiohttp_client, tmp_path, overrides=costs(1, 8, 1))
    resp = await cheap.post("/api/auth/signup", json={"email": EMAIL, "password": PASSWORD, "name": "Jo"})
    assert resp.status == 202, await resp.text()
    assert (await stored_hash(cheap)).startswith("$argon2id$v=19$m=8,t=1,p=1$")
    await cheap.close()
    # The same store, now served with higher costs: the next sign-in upgrades the hash.
    raised = await start_app(aiohttp_client, tmp_path, overrides=costs(2, 2048, 2))
    body = await json_of(await raised.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD}))
    assert body["account"]["email"] == EMAIL
    assert (await stored_hash(raised)).startswith("$argon2id$v=19$m=2048,t=2,p=2$")
    resp = await raised.post("/api/auth/login", json={"email": EMAIL, "password": "not the password"})
    assert resp.status == 401, await resp.text()


def test_the_default_costs_are_argon2_cffis() -> None:
    configured = load_settings(environ={}).forum.password_hashing
    hasher, default = password_hasher(configured), PasswordHasher()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 65_536, 4)
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (
        default.time_cost, default.memory_cost, default.parallelism)


def test_too_little_memory_per_lane_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match="password_hashing"):
        load_settings(environ={}, overrides=costs(1, 16, 4))
    with pytest.raises(ConfigError, match="time_cost"):
        load_settings(environ={}, overrides=costs(0, 65_536, 4))
