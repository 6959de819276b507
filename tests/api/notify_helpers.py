"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the notification tests, and mail helpers."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

from crmsphere.runtime import Runtime
from tests.helpers import outbox_settled
from tests.serve_helpers import free_port

#: The public URL that mailed links start with.
BASE = "http://crm.example"


class Inbox:
    """An aiosmtpd handler keeping every message; ``refuse`` answers each DATA with that reply."""

    def __init__(self, refuse: str | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = refuse
        self.attempts = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.refuse:
            return self.refuse
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        """Messages addressed to ``address``."""
        return [m for m in self.messages if m["To"] == address]

    async def wait_for(self, count: int, timeout: float = 4.0) -> None:
        """Until ``count`` messages arrived (the app's outbox worker sends them)."""
        async def poll() -> None:
            while len(self.messages) < count:
                await asyncio.sleep(0.02)
        await asyncio.wait_for(poll(), timeout)


@contextmanager
def smtp_server(inbox: Inbox) -> Iterator[int]:
    """Run ``inbox`` as an SMTP server on a free local port; yields the port."""
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


async def settled(runtime: Runtime, inbox: Inbox, count: int, timeout: float = 30.0) -> list[str]:
    """The addresses of every mail sent, once ``count`` arrived and nothing more can follow
    (``tests.helpers.outbox_settled``: the events consumed, the outbox empty).  A mail queued
    twice would be counted."""
    await inbox.wait_for(count, timeout)
    await outbox_settled(runtime, timeout)
    return [m["To"] for m in inbox.messages]


def mail_overrides(port: int, **more: Any) -> dict[str, Any]:
    """Settings overrides of an app that mails through the SMTP server on ``port`` and retries
    at once (dotted keys in ``more`` are added)."""
    return {"routing.smtp.port": port, "routing.poll_interval": 0.05, "routing.backoff_base": 0.0,
            "routing.max_attempts": 2, "routing.public_url": BASE, **more}


def link_in(message: EmailMessage, path: str) -> str:
    """The path and query of the first link to ``path`` in a mail's text."""
    body = message.get_content()
    found = re.search(r"https?://\S*" + re.escape(path) + r"\S*", body)
    assert found, f"no {path} link in:\n{body}"
    parts = urlsplit(found.group(0))
    return f"{parts.path}?{parts.query}"
