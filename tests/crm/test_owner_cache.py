"""Record owners are read once per record per sync run, however many voters ask at once, and
again after a sync or one sync interval (a worker process that never syncs)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from crm.base import OwnerCache
from domain.errors import BadItem


def test_many_threads_read_one_record_once_and_again_when_stale() -> None:
    now = [0.0]
    cache = OwnerCache(max_age=900.0, clock=lambda: now[0])
    reads: list[str] = []
    started = threading.Event()

    def read() -> str:
        reads.append("acme")
        started.wait(5)  # the others ask while this read is under way
        return "005Hs00000Ownr1AAA"

    with ThreadPoolExecutor(8) as pool:
        answers = [pool.submit(cache.get, "acme", read) for _ in range(8)]
        started.set()
        assert {a.result() for a in answers} == {"005Hs00000Ownr1AAA"}
    assert reads == ["acme"]
    now[0] = 899.0
    assert cache.get("acme", read) == "005Hs00000Ownr1AAA" and reads == ["acme"]
    now[0] = 900.0  # one sync interval later: read again
    cache.get("acme", read)
    cache.clear()  # a sync run: read again
    cache.get("acme", read)
    assert reads == ["acme"] * 3


def test_no_owner_is_remembered_and_a_failed_read_is_not() -> None:
    cache = OwnerCache()
    assert cache.get("cogs", lambda: None) is None
    assert cache.get("cogs", lambda: "005Hs00000Ownr2AAA") is None  # remembered: no owner

    def gone() -> str:
        raise BadItem("Account gone is not in Salesforce", "salesforce:Account/gone")

    with pytest.raises(BadItem):
        cache.get("gone", gone)
    assert cache.get("gone", lambda: "005Hs00000Ownr2AAA") == "005Hs00000Ownr2AAA"
