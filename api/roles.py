"""Process roles of ``crmsphere serve --role``: which background jobs and routes a process runs.

- ``all`` (default): everything in one process, as before.
- ``api``: HTTP (JSON API, pages, forum, dashboard streams); of the periodic jobs only the
  customer watch, which keeps its own gazetteer fresh.
  Any number of these run behind a load balancer; they are stateless.
- ``scheduler``: the leader-only periodic jobs — sources, CRM sync, spike alerts, digests,
  routing — on the coordinator, which holds the ``scheduler`` lease (a second scheduler
  process is a standby).  HTTP serves ``/healthz`` only.
- ``worker``: the outbox delivery worker, without the NLP pipeline.  ``/healthz`` only.

NLP runs where posts are stored (the scheduler's collectors, the API's push
ingest): it is a stage of ingest, not a queue of its own.  Which periodic job runs in
which role is declared with the job (crmsphere/jobs.py); the delivery worker is the
``worker`` role's own.
"""

from __future__ import annotations

from aiohttp import web

from api.keys import RUNTIME, SCHEDULER

ROLES: tuple[str, ...] = ("all", "api", "scheduler", "worker")
ROLE = web.AppKey("role", str)


def check_role(role: str) -> str:
    """``role`` if it is one of ``ROLES``, else ``ValueError`` naming them."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def runs_jobs_of(role: str, job_role: str) -> bool:
    """Whether a process of ``role`` runs the jobs belonging to ``job_role``."""
    return role in ("all", job_role)


def setup_role_routes(app: web.Application) -> None:
    """The routes of a scheduler or worker process: ``/healthz``, nothing else."""
    app.router.add_get("/healthz", role_health)


async def role_health(request: web.Request) -> web.Response:
    """GET /healthz of a scheduler or worker — its role, lease and the store's row counts."""
    counts = await request.app[RUNTIME].store.counts()
    scheduler = request.app.get(SCHEDULER)
    return web.json_response({"status": "ok", "role": request.app[ROLE], "counts": counts,
                              "scheduler": {"leader": bool(scheduler and scheduler.is_leader)}})
