"""Process roles of ``crmsphere serve --role``: which background jobs and routes a process runs.

- ``all`` (default): everything in one process, as before.
- ``api``: HTTP only (JSON API, pages, forum, dashboard streams); no background jobs.
  Any number of these run behind a load balancer; they are stateless.
- ``scheduler``: the collector scheduler (it holds the ``scheduler`` lease; a second
  scheduler process is a standby), the spike-alert, digest and routing timers.
  HTTP serves ``/healthz`` only.
- ``worker``: the outbox delivery worker, without the NLP pipeline.  ``/healthz`` only.

NLP runs where posts are stored (the scheduler's collectors, the API's push
ingest): it is a stage of ingest, not a queue of its own.
"""

from __future__ import annotations

from aiohttp import web

from api.keys import RUNTIME, SCHEDULER

ROLES: tuple[str, ...] = ("all", "api", "scheduler", "worker")
ROLE = web.AppKey("role", str)

#: Background jobs (cleanup contexts, by function name) and the role that runs them.  A new
#: background job belongs here: one not listed runs in every process that registers it
#: (``create_app``'s contexts in every role; those of ``setup_routes`` in api and all).
JOBS: dict[str, str] = {
    "_scheduler_ctx": "scheduler",
    "_spike_watch_ctx": "scheduler",
    "digest_job_ctx": "scheduler",
    "routing_jobs_ctx": "scheduler",
    "delivery_worker_ctx": "worker",
}


def check_role(role: str) -> str:
    """``role`` if it is one of ``ROLES``, else ``ValueError`` naming them."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def runs_jobs_of(role: str, job_role: str) -> bool:
    """Whether a process of ``role`` runs the jobs belonging to ``job_role``."""
    return role in ("all", job_role)


def keep_jobs_of_role(app: web.Application, role: str) -> None:
    """Remove the background jobs another role runs from ``app`` (before it starts)."""
    for ctx in list(app.cleanup_ctx):
        owner = JOBS.get(getattr(ctx, "__name__", ""))
        if owner is not None and not runs_jobs_of(role, owner):
            app.cleanup_ctx.remove(ctx)


def setup_role_routes(app: web.Application) -> None:
    """The routes of a scheduler or worker process: ``/healthz`` and its jobs, nothing else."""
    # The spike-alert timer is registered with the dashboard's routes; a scheduler needs it
    # without them.
    from api.dashboard_routes import _spike_watch_ctx

    app.router.add_get("/healthz", role_health)
    app.cleanup_ctx.append(_spike_watch_ctx)


async def role_health(request: web.Request) -> web.Response:
    """GET /healthz of a scheduler or worker — its role, lease and the store's row counts."""
    counts = await request.app[RUNTIME].store.counts()
    scheduler = request.app.get(SCHEDULER)
    return web.json_response({"status": "ok", "role": request.app[ROLE], "counts": counts,
                              "scheduler": {"leader": bool(scheduler and scheduler.is_leader)}})
