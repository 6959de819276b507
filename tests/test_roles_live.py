"""Process roles and the live hub's cross-process paths (a change stream, else polling)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crmsphere.domain import Mention
from crmsphere.live import MentionHub
from storage import open_store
from tests.conftest import post


class StreamingStore:
    """A store whose change stream yields what the test puts in ``changes`` (then breaks)."""

    change_streams = True

    def __init__(self) -> None:
        self.changes: asyncio.Queue[list[Mention] | None] = asyncio.Queue()
        self.polled = 0

    async def latest_mention_id(self) -> int:
        return 0

    async def get_customers(self, ids):
        return {}

    async def mentions_after(self, after_id: int, limit: int) -> list[Mention]:
        self.polled += 1
        return []

    async def watch_new_mentions(self, max_batch: int = 200) -> AsyncIterator[list[Mention]]:
        while (batch := await self.changes.get()) is not None:
            yield batch
        raise ConnectionError("the change stream broke")


def _mention(mid: int) -> Mention:
    return Mention(post(str(mid)), id=mid)


async def test_change_stream_batches_reach_subscribers_then_polling_takes_over() -> None:
    store = StreamingStore()
    hub = MentionHub(store, poll_interval=0.05)  # type: ignore[arg-type]
    sub = await hub.subscribe()
    # Out of id order, as two writers may commit: both are published, the watermark is the max.
    await store.changes.put([_mention(7)])
    await store.changes.put([_mention(5)])
    got = [(await sub.next(2)).mentions[0].id, (await sub.next(2)).mentions[0].id]
    assert got == [7, 5] and hub._last_id == 7
    assert store.polled == 0, "no polling while the stream runs"
    await store.changes.put(None)  # the stream breaks: the hub polls instead
    for _ in range(40):
        if store.polled:
            break
        await asyncio.sleep(0.05)
    assert store.polled > 0
    await hub.close()


async def test_polling_sees_mentions_stored_by_another_store_object(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    mine, theirs = await open_store(url), await open_store(url)
    try:
        hub = MentionHub(mine, poll_interval=0.1)
        sub = await hub.subscribe()
        # Stored through another connection (another process in production): no notify() here.
        await theirs.save_mentions("t", [Mention(post("elsewhere"))], None)
        batch = await sub.next(3)
        assert batch is not None and [m.post.external_id for m in batch.mentions] == ["elsewhere"]
        await hub.close()
    finally:
        await theirs.close()
        await mine.close()


def _jobs_and_paths(role: str, tmp_path: Path) -> tuple[set[str], set[str]]:
    from api.app import create_app
    from config.settings import load_settings

    settings = load_settings(environ={}, overrides={

        "api.trust_loopback": True, "store.url": f"sqlite:///{tmp_path / 'r.db'}"})
    from crmsphere.jobs import job_names_of_role

    app = create_app(settings, role)
    # What the process starts: its cleanup contexts, and the periodic jobs its coordinator runs.
    jobs = {getattr(ctx, "__name__", "") for ctx in app.cleanup_ctx}
    if "_coordinator_ctx" in jobs:
        jobs |= job_names_of_role(role)
    paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    return jobs, paths


def test_each_role_runs_only_its_jobs_and_routes(tmp_path: Path) -> None:
    timers = {"sources", "spike-alerts", "daily-digest", "routing", "replies"}
    jobs, paths = _jobs_and_paths("all", tmp_path)
    assert timers | {"delivery_worker_ctx", "_runtime_ctx", "customer-watch"} <= jobs
    assert "/api/mentions" in paths
    jobs, paths = _jobs_and_paths("api", tmp_path)
    assert not jobs & (timers | {"delivery_worker_ctx"}) and "/api/stream/mentions" in paths
    assert "customer-watch" in jobs  # every process with an NLP pipeline keeps it fresh
    jobs, paths = _jobs_and_paths("scheduler", tmp_path)
    assert timers <= jobs and "delivery_worker_ctx" not in jobs and paths == {"/healthz"}
    jobs, paths = _jobs_and_paths("worker", tmp_path)
    assert jobs == {"_runtime_ctx", "delivery_worker_ctx"} and paths == {"/healthz"}
    with pytest.raises(ValueError, match="role must be one of"):
        _jobs_and_paths("everything", tmp_path)


class LateCommitStore:
    """A store whose ids are not in commit order: ``commit`` makes a mention visible."""

    ids_in_commit_order = False

    def __init__(self, existing: int) -> None:
        self.visible: dict[int, Mention] = {i: _mention(i) for i in range(1, existing + 1)}

    def commit(self, mid: int) -> None:
        self.visible[mid] = _mention(mid)

    async def latest_mention_id(self) -> int:
        return max(self.visible, default=0)

    async def get_customers(self, ids):
        return {}

    async def mentions_after(self, after_id: int, limit: int) -> list[Mention]:
        return [self.visible[i] for i in sorted(self.visible) if i > after_id][:limit]


async def test_polling_pushes_a_lower_id_that_commits_late_exactly_once() -> None:
    store = LateCommitStore(existing=2)
    hub = MentionHub(store, poll_interval=0.05, coalesce=0)  # type: ignore[arg-type]
    sub = await hub.subscribe()
    store.commit(4)  # id 3 was taken first but commits later
    assert [m.id for m in (await sub.next(2)).mentions] == [4]
    store.commit(3)
    assert [m.id for m in (await sub.next(2)).mentions] == [3]
    store.commit(5)
    assert [m.id for m in (await sub.next(2)).mentions] == [5]  # 3 and 4 are not repeated
    assert await sub.next(0.3) is None
    await hub.close()
