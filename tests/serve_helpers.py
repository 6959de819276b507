"""Helpers for tests that run ``crmsphere serve`` as a subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for(check, timeout: float = 60.0):
    """Await ``check()`` every 0.2 s until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.2)


def start_serve(config: Path, cwd: Path, log: Path, *extra: str,
                env: dict[str, str] | None = None) -> subprocess.Popen:
    """``crmsphere --config config serve *extra`` in the background, its output in ``log``."""
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "crmsphere", "--config", str(config), "serve", *extra],
            cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})


def stop_serve(proc: subprocess.Popen, timeout: float = 20) -> int:
    """Stop a serve process with SIGTERM (kill if it hangs); its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


async def wait_healthy(http: aiohttp.ClientSession, base: str, proc: subprocess.Popen,
                       log: Path, timeout: float = 60.0) -> dict:
    """Wait until ``base``/healthz answers 200; its JSON.  Fails with the log if the process died."""
    async def healthy():
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            async with http.get(base + "/healthz") as resp:
                return await resp.json() if resp.status == 200 else None
        except aiohttp.ClientError:
            return None

    try:
        return await wait_for(healthy, timeout)
    except AssertionError as exc:
        if "condition not met" in str(exc):
            raise AssertionError(f"{base} never became healthy: {log.read_text()[-2000:]}") from None
        raise
