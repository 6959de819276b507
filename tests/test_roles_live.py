"""Process roles and the live hub's cross-process path (its poll of the recorded events)."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain import Mention
from crmsphere.live import MentionHub
from storage import open_store
from tests.conftest import post


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
