"""The declared jobs of a serving process: their intervals come from their configuration keys,
their roles decide where they run, and a key set to 0 (or a part turned off) drops the job."""

from __future__ import annotations

from pathlib import Path

from config.settings import load_settings
from crmsphere.coordinator import Coordinator
from crmsphere.jobs import CLI_ROLE, process_jobs, running_jobs
from crmsphere.runtime import Runtime, open_runtime
from storage import open_store
from tests.conftest import customer, post


def jobs_of(runtime: Runtime, role: str) -> dict[str, tuple[float, bool]]:
    coordinator = Coordinator(process_jobs(runtime), runtime, role, store=runtime.store,
                              holder=runtime.sources.holder)
    return {name: (interval, job.leader_only) for name, (job, interval) in coordinator.jobs.items()}


async def test_each_job_takes_its_interval_from_its_key_and_runs_in_its_roles(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides={
        "store": {"url": f"sqlite:///{tmp_path / 'jobs.db'}"},
        "notify": {"digest_check_seconds": 120}, "routing": {"jobs_interval": 45},
        "dashboard": {"spike_interval": 1800}, "nlp": {"customer_check_seconds": 7},
        "events": {"consume_seconds": 3},
        "sources": [{"kind": "rss", "name": "blogs", "interval": 900,
                     "feeds": ["http://127.0.0.1:9/feed"]}]})
    async with open_runtime(settings) as runtime:
        assert jobs_of(runtime, "scheduler") == {
            "blogs": (900, True), "daily-digest": (120, True), "routing": (45, True),
            "spike-alerts": (1800, True), "routing-events": (45, True), "replies": (60, True),
            "notification-events": (3, True), "crm-events": (3, True), "events-prune": (3600, True),
            "customer-watch": (7, False)}
        assert jobs_of(runtime, "all") == jobs_of(runtime, "scheduler")
        assert jobs_of(runtime, "api") == {"customer-watch": (7, False)}
        assert jobs_of(runtime, "worker") == {}


async def test_keys_set_to_zero_or_off_drop_their_jobs(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides={
        "store": {"url": f"sqlite:///{tmp_path / 'jobs.db'}"},
        "notify": {"digest_check_seconds": 0}, "routing": {"jobs_interval": 0},
        "dashboard": {"spike_alerts": False}, "nlp": {"customer_check_seconds": 0},
        "replies": {"job_interval": 0}, "events": {"consume_seconds": 0}})
    async with open_runtime(settings) as runtime:
        # Pruning the recorded events has no off switch: only a retention.
        assert jobs_of(runtime, "all") == {"events-prune": (3600, True)}
    # Spike alerts need the scheduler on; without an NLP pipeline there is no gazetteer to watch.
    settings = load_settings(environ={}, overrides={
        "store": {"url": f"sqlite:///{tmp_path / 'jobs.db'}"}, "scheduler": {"enabled": False}})
    async with open_runtime(settings, with_nlp=False) as runtime:
        assert set(jobs_of(runtime, "all")) == {"daily-digest", "routing", "routing-events", "replies",
                                                "notification-events", "crm-events", "events-prune"}


async def test_the_customer_watch_job_reloads_the_gazetteer_of_this_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'watch.db'}"
    settings = load_settings(environ={}, overrides={"store": {"url": url}})
    async with open_runtime(settings) as runtime:
        coordinator = Coordinator(process_jobs(runtime), runtime, "api", store=runtime.store,
                                  holder="api-1")
        await coordinator.start(paused=True)
        try:
            other = await open_store(url)  # e.g. "crmsphere crm sync" run beside the server
            try:
                await other.upsert_customers([customer("cus_z", "Zephyrine Widgets")])
            finally:
                await other.close()
            due = coordinator.next_run("customer-watch")
            assert due is not None
            assert await coordinator.run_due(due) == ["customer-watch"]
            linked = await runtime.analyzer.analyse([post("1", "Zephyrine Widgets rocks")])
            assert [link.customer_id for link in linked[0].links] == ["cus_z"]
        finally:
            await coordinator.stop()


async def test_a_command_analysing_posts_runs_only_the_customer_watch(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides={"store": {"url": f"sqlite:///{tmp_path / 'c.db'}"}})
    async with open_runtime(settings) as runtime, running_jobs(runtime, CLI_ROLE) as coordinator:
        assert coordinator is not None and set(coordinator.jobs) == {"customer-watch"}
        # "crmsphere import posts" beside a server never takes the server's lease.
        assert not coordinator.is_leader
        assert await runtime.store.acquire_lease("scheduler", "server", 30.0, 0.0)
    async with open_runtime(settings, with_nlp=False) as runtime, running_jobs(runtime, CLI_ROLE) as none:
        assert none is None  # no pipeline, no gazetteer to keep fresh: no coordinator at all
