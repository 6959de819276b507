"""Serving the app until interrupted."""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import logging
import os
import signal
import sys
from collections.abc import Mapping

from aiohttp import web

from api.app import create_app
from api.protocol_errors import JsonErrorRunner
from api.host_guard import served_names
from api.roles import runs_jobs_of
from config.settings import Settings
from domain.errors import ConfigError

log = logging.getLogger(__name__)

#: Seconds a thread holds the GIL before handing it to another that waits for it (Python's
#: default is 5 ms).  The SQLite writer thread lets go of the GIL for every statement it runs
#: and must take it back to go on: while the event loop is busy with requests, each of those
#: take-backs waited up to the whole interval, so a vote's dozen statements queued behind the
#: loop's work (measured with bench/forum.py's vote phase; figures in the README).
GIL_SWITCH_SECONDS = 0.0005


def is_loopback_bind(host: str) -> bool:
    """Whether binding ``host`` listens on this machine only (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a name that may resolve anywhere, or "" / 0.0.0.0: every interface


def check_exposure(settings: Settings, role: str, environ: Mapping[str, str]) -> list[str]:
    """Lines for the start-up log saying who may act as the operator and which host names are
    answered; ``ConfigError`` when an API process would listen beyond this machine with no
    admin token (its operator routes would then have no credential at all)."""
    api, server = settings.api, settings.server
    token_set = bool(environ.get(api.admin_token_env))
    if runs_jobs_of(role, "api") and not token_set and not is_loopback_bind(server.host):
        raise ConfigError("server.host", server.host,
                          f"a loopback address (127.0.0.1, ::1, localhost) unless an admin token "
                          f"is set in {api.admin_token_env}")
    if token_set:
        operator = (f"admin token: set ({api.admin_token_env}); loopback callers are not "
                    f"the operator")
    elif api.trust_loopback:
        operator = (f"admin token: not set ({api.admin_token_env}); api.trust_loopback is on: "
                    f"any anonymous caller on this machine is the operator")
    else:
        operator = (f"admin token: not set ({api.admin_token_env}); api.trust_loopback is off: "
                    f"staff and operator routes answer to signed-in accounts only")
    return [operator, "answering host names: " + ", ".join(sorted(served_names(server)))]


async def serve(settings: Settings, role: str = "all") -> None:
    """Run the web app in process ``role`` on ``settings.server`` until cancelled (Ctrl-C, SIGTERM)."""
    exposure = check_exposure(settings, role, os.environ)
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    runner = JsonErrorRunner(create_app(settings, role), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.server.host, settings.server.port)
    await site.start()
    # What is loaded by now (~150k objects: modules, NLP pipeline, customer registry) lives
    # as long as the process: frozen, a full garbage collection no longer walks it (such a
    # walk paused the event loop for 100-200 ms at start-up, see bench/forum.py). A gazetteer
    # reload unfreezes, collects the replaced pipeline and freezes again (nlp.runner).
    gc.collect()
    gc.freeze()
    log.info("serving on http://%s:%d", settings.server.host, settings.server.port)
    print(f"crmsphere serving on http://{settings.server.host}:{settings.server.port}", flush=True)
    log.info("process role: %s", role)
    for line in exposure:
        log.info("%s", line)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
