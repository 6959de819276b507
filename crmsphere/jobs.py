"""Every periodic job of a serving process, declared once for the coordinator.

| job | what it does | interval (config key) | leader only | roles |
|---|---|---|---|---|
| each source, each CRM connector | poll / sync | ``sources[].interval``, ``crm`` intervals | yes | scheduler |
| ``daily-digest`` | queue the daily digests due | ``notify.digest_check_seconds`` | yes | scheduler |
| ``routing`` | take up edited rules, escalate overdue items | ``routing.jobs_interval`` | yes | scheduler |
| ``routing-events`` | route the recorded mention and idea events after the ``routing`` cursor | ``routing.jobs_interval`` | yes | scheduler |
| ``notification-events`` | team notes and shipped replies of recorded status changes (``notifications`` cursor) | ``events.consume_seconds`` | yes | scheduler |
| ``crm-events`` | recorded mentions, ideas, status changes and routings to CRM timelines and the bridge (``crm`` cursor) | ``events.consume_seconds`` | yes | scheduler |
| ``events-prune`` | delete events every consumer passed, older than ``events.retain_days`` | hourly | yes | scheduler |
| ``spike-alerts`` | evaluate spikes | ``dashboard.spike_interval`` | yes | scheduler |
| ``replies`` | send approved replies a wake-up did not, retry after rate limits, check interrupted sends | ``replies.job_interval`` | yes | scheduler |
| ``customer-watch`` | reload the gazetteer when customers changed elsewhere | ``nlp.customer_check_seconds`` | no | api, scheduler, cli |

A role of ``all`` runs them all; ``cli`` is a command that analyses posts (``import posts``,
``sources run``), which keeps its gazetteer fresh as a server does.  A new job is one declaration here (added to ``DECLARED``)
plus its tests.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from community.digest import DailyDigest
from community.event_pruning import prune_events
from community.routing_escalation import Escalator
from community.routing_jobs import RoutingJobs
from community.spike_alerts import SpikeWatch
from crm.sync import with_crm_jobs
from crmsphere.coordinator import Coordinator, Job
from domain import utcnow
from crmsphere.runtime import Runtime

log = logging.getLogger(__name__)

#: The roles that run the sources and CRM connectors (one job each, built at start-up).
SOURCE_ROLES = ("scheduler",)
#: The role of a command line run that analyses posts.
CLI_ROLE = "cli"


async def _daily_digest(runtime: Runtime) -> None:
    assert runtime.notifier is not None  # ``wanted`` checked it
    await DailyDigest(runtime.store, runtime.settings.notify, runtime.notifier.base_url).run()


async def _routing_round(runtime: Runtime) -> None:
    router, settings = runtime.router, runtime.settings.routing
    assert router is not None  # ``wanted`` checked it
    await RoutingJobs(router, Escalator(runtime.store, settings)).run_once()


async def _routing_events(runtime: Runtime) -> None:
    assert runtime.routing_events is not None  # ``wanted`` checked it
    await runtime.routing_events.run_once()


async def _notification_events(runtime: Runtime) -> None:
    assert runtime.notification_events is not None  # ``wanted`` checked it
    await runtime.notification_events.run_once()


async def _crm_events(runtime: Runtime) -> None:
    assert runtime.crm_events is not None  # ``wanted`` checked it
    await runtime.crm_events.run_once()


async def _prune_events(runtime: Runtime) -> None:
    await prune_events(runtime.store, timedelta(days=runtime.settings.events.retain_days), utcnow())


async def _spike_round(runtime: Runtime) -> None:
    router = runtime.router
    await SpikeWatch(runtime.store, runtime.settings.dashboard,
                     on_alert=getattr(router, "on_spike", None) if router else None).evaluate()


async def _customer_check(runtime: Runtime) -> None:
    assert runtime.customer_watch is not None  # ``wanted`` checked it
    await runtime.customer_watch.check_once()


DAILY_DIGEST: Job[Runtime] = Job(
    "daily-digest", _daily_digest, interval=lambda rt: rt.settings.notify.digest_check_seconds,
    roles=("scheduler",), wanted=lambda rt: rt.notifier is not None)
ROUTING: Job[Runtime] = Job(
    "routing", _routing_round, interval=lambda rt: rt.settings.routing.jobs_interval,
    roles=("scheduler",), wanted=lambda rt: rt.router is not None)
# Routing consumes the recorded events; ingest also wakes it in its own process at once.
ROUTING_EVENTS: Job[Runtime] = Job(
    "routing-events", _routing_events, interval=lambda rt: rt.settings.routing.jobs_interval,
    roles=("scheduler",), wanted=lambda rt: rt.routing_events is not None)
# The other consumers of recorded events; the process that committed an event wakes its own.
NOTIFICATION_EVENTS: Job[Runtime] = Job(
    "notification-events", _notification_events,
    interval=lambda rt: rt.settings.events.consume_seconds,
    roles=("scheduler",), wanted=lambda rt: rt.notification_events is not None)
CRM_EVENTS: Job[Runtime] = Job(
    "crm-events", _crm_events, interval=lambda rt: rt.settings.events.consume_seconds,
    roles=("scheduler",), wanted=lambda rt: rt.crm_events is not None)
#: Seconds between prunings of the events (retention is in days: hourly is plenty).
PRUNE_SECONDS = 3600.0
EVENTS_PRUNE: Job[Runtime] = Job(
    "events-prune", _prune_events, interval=lambda _rt: PRUNE_SECONDS, roles=("scheduler",),
    at_start=False)
# Spike alerts run only where sources may be scheduled: a deployment that turned the
# scheduler off has no fresh volumes to compare.
SPIKE_ALERTS: Job[Runtime] = Job(
    "spike-alerts", _spike_round, interval=lambda rt: rt.settings.dashboard.spike_interval,
    roles=("scheduler",),
    wanted=lambda rt: rt.settings.dashboard.spike_alerts and rt.settings.scheduler.enabled)
# Every process with an NLP pipeline keeps its own gazetteer fresh: no lease; the first
# check one interval after start-up (the gazetteer was just loaded).
CUSTOMER_WATCH: Job[Runtime] = Job(
    "customer-watch", _customer_check, interval=lambda rt: rt.settings.nlp.customer_check_seconds,
    roles=("api", "scheduler", CLI_ROLE), leader_only=False, at_start=False,
    wanted=lambda rt: rt.customer_watch is not None)

async def _send_replies(runtime: Runtime) -> None:
    assert runtime.replies is not None  # ``wanted`` checked it
    run = await runtime.replies.sender.run_due()
    if run.sent or run.failed:
        log.info("replies: %d sent, %d failed, %d waiting", run.sent, run.failed, run.waiting)


# Approving a reply wakes a sending round in the approving process at once (off the request,
# like routing's wake-up after ingest); this job, leader only, sends what no wake did: a process
# that died after the commit, rate-limited replies after their wait, interrupted sends.  Rounds
# of two processes never post one reply twice: each reply is claimed in the store first.
REPLIES: Job[Runtime] = Job(
    "replies", _send_replies, interval=lambda rt: rt.settings.replies.job_interval,
    roles=("scheduler",), wanted=lambda rt: rt.replies is not None)

DECLARED: tuple[Job[Runtime], ...] = (DAILY_DIGEST, ROUTING, ROUTING_EVENTS, NOTIFICATION_EVENTS,
                                      CRM_EVENTS, EVENTS_PRUNE, SPIKE_ALERTS, REPLIES, CUSTOMER_WATCH)


def source_jobs(runtime: Runtime) -> list[Job[Runtime]]:
    """One job per scheduled source and CRM connector, polled at once and then every
    interval (with jitter, at most 30 s), by the leader (``scheduler.enabled`` false: none)."""
    if not runtime.settings.scheduler.enabled:
        return []
    scheduled, run = with_crm_jobs(runtime.sources.scheduled(), runtime.sources.run_once, runtime.crm)

    def job(name: str, interval: float) -> Job[Runtime]:
        async def poll(_runtime: Runtime) -> None:
            await run(name)

        return Job(name, poll, interval=lambda _rt: interval, roles=SOURCE_ROLES,
                   jitter=min(30.0, interval / 10))

    return [job(name, interval) for name, interval in scheduled]


def process_jobs(runtime: Runtime) -> list[Job[Runtime]]:
    """Every job a serving process may run (the coordinator keeps those of its role)."""
    return [*source_jobs(runtime), *DECLARED]


def job_names_of_role(role: str) -> set[str]:
    """The jobs a process of ``role`` runs, by name (``sources`` stands for every source and
    CRM connector); empty: the role runs no coordinator."""
    names = {job.name for job in DECLARED if job.runs_in(role)}
    if role == "all" or role in SOURCE_ROLES:
        names.add("sources")
    return names


@asynccontextmanager
async def running_jobs(runtime: Runtime, role: str) -> AsyncIterator[Coordinator[Runtime] | None]:
    """The jobs of ``role`` running on a coordinator while the block runs (``None``: the role
    has no job on here, and no coordinator starts)."""
    coordinator = Coordinator(process_jobs(runtime), runtime, role, store=runtime.store,
                              holder=runtime.sources.holder,
                              lease_ttl=runtime.settings.scheduler.lease_ttl)
    if not coordinator.jobs:
        yield None
        return
    await coordinator.start()
    try:
        yield coordinator
    finally:
        await coordinator.stop()
