"""How one delivery goes out on each channel: signed webhook, Slack-style webhook, mail.

Each sender either returns (sent) or raises ``DeliveryFailed``, saying whether a
later attempt could succeed.  Nothing here touches storage.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import aiosmtplib

from community.net_guard import TargetRefused
from domain.routing import Delivery
from config.routing import SmtpSettings
from domain.retry_after import parse_retry_after
from domain.signing import sign

SIGNATURE_HEADER = "X-Crmsphere-Signature"
TIMESTAMP_HEADER = "X-Crmsphere-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Statuses worth retrying; any other 4xx means the receiver will never take this message.
_RETRYABLE = {408, 425, 429}
#: Statuses whose ``Retry-After`` says when to try again (RFC 9110 §10.2.3).
WAIT_STATUSES = frozenset({429, 503})


class DeliveryFailed(Exception):
    """One attempt failed; ``permanent`` when retrying cannot help (dead-letter at once)."""

    def __init__(self, reason: str, permanent: bool = False,
                 retry_after: float | None = None) -> None:
        self.reason, self.permanent = reason, permanent
        #: seconds the receiver asked us to wait (a rate limit), at least
        self.retry_after = retry_after
        super().__init__(reason)


def webhook_body(delivery: Delivery) -> bytes:
    """The exact bytes sent (and signed): the payload with the delivery's identifiers."""
    body = {**delivery.payload, "delivery_id": delivery.id, "routed_id": delivery.routed_id,
            "idempotency_key": delivery.idempotency_key}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _secret(target: Mapping[str, Any], key: str, environ: Mapping[str, str]) -> str:
    name = target.get(key)
    value = environ.get(name) if name else None
    if not value:
        raise DeliveryFailed(f"environment variable {name!r} (named by {key}) is not set")
    return value


async def _post(http: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str],
                timeout: float, now: float, shown: str | None = None) -> None:
    # ``shown`` names the receiver in failure reasons when the URL itself is a secret: the
    # reasons are stored and shown to every staff member on the dead-letter pages.
    where = shown or url
    try:
        async with http.post(url, data=body, headers=headers,
                             timeout=aiohttp.ClientTimeout(total=timeout),
                             allow_redirects=False) as resp:
            if 200 <= resp.status < 300:
                return
            text = (await resp.text(errors="replace"))[:200]
            permanent = 400 <= resp.status < 500 and resp.status not in _RETRYABLE
            raise DeliveryFailed(f"HTTP {resp.status} from {where}: {text}".strip(), permanent,
                                 retry_after=asked_wait(resp, now))
    except TimeoutError:
        raise DeliveryFailed(f"no answer from {where} within {timeout:g} s") from None
    except TargetRefused as exc:  # sending again would be refused again
        raise DeliveryFailed(str(exc).replace(url, where) if url else str(exc), permanent=True) from None
    except (aiohttp.ClientError, ValueError) as exc:  # ValueError: not a URL at all
        detail = str(exc).replace(url, where) if url else str(exc)
        raise DeliveryFailed(f"{type(exc).__name__} sending to {where}: {detail}") from None


def asked_wait(resp: aiohttp.ClientResponse, now: float) -> float | None:
    """Seconds a 429 (rate limited) or 503 (unavailable) answer's ``Retry-After`` asks us to
    wait, read against ``now`` (Unix time) when it is a date; ``None`` otherwise."""
    if resp.status not in WAIT_STATUSES:
        return None
    return parse_retry_after(resp.headers.get("Retry-After"), now)


def host_only(url: str, what: str = "the Slack webhook") -> str:
    """A webhook URL whose path is its secret (Slack's, Discord's) as it may be shown to staff:
    ``what`` and its host, never the path."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    return f"{what} on {host}" if host else f"{what} (not a valid URL)"


async def send_webhook(http: aiohttp.ClientSession, delivery: Delivery, environ: Mapping[str, str],
                       timestamp: int, timeout: float) -> None:
    """POST the signed JSON body to the team's webhook."""
    body = webhook_body(delivery)
    stamp = str(timestamp)
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: sign(_secret(delivery.target, "secret_env", environ), stamp, body),
        IDEMPOTENCY_HEADER: delivery.idempotency_key,
        "X-Crmsphere-Event": str(delivery.payload.get("type", "")),
    }
    await _post(http, str(delivery.target["url"]), body, headers, timeout, float(timestamp))


async def send_slack(http: aiohttp.ClientSession, delivery: Delivery, environ: Mapping[str, str],
                     timeout: float, now: float | None = None) -> None:
    """POST a Slack-compatible incoming-webhook message (the URL itself is the secret);
    ``now`` (Unix time, default the clock's) reads a ``Retry-After`` date."""
    url = delivery.target.get("url") or _secret(delivery.target, "url_env", environ)
    body = json.dumps(dict(delivery.payload), ensure_ascii=False).encode()
    await _post(http, str(url), body, {"Content-Type": "application/json"}, timeout,
                time.time() if now is None else now, shown=host_only(str(url)))


def mail_message(delivery: Delivery, sender: str) -> EmailMessage:
    """The mail for a delivery; its Message-ID comes from the idempotency key."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(delivery.target["to"])
    msg["Subject"] = str(delivery.payload["subject"])
    # A re-sent mail keeps its Message-ID, so mail clients can fold duplicates.
    msg["Message-ID"] = f"<{delivery.idempotency_key}@crmsphere>"
    msg["X-Crmsphere-Idempotency-Key"] = delivery.idempotency_key
    # Extra headers the payload's producer set (List-Unsubscribe for customer mail).
    for name, value in dict(delivery.payload.get("headers") or {}).items():
        msg[str(name)] = str(value)
    msg.set_content(str(delivery.payload["body"]))
    return msg


async def send_mail(smtp: SmtpSettings, delivery: Delivery, environ: Mapping[str, str],
                    timeout: float) -> None:
    """Send the delivery's mail through the configured SMTP server."""
    username = _secret({"n": smtp.username_env}, "n", environ) if smtp.username_env else None
    password = _secret({"n": smtp.password_env}, "n", environ) if smtp.password_env else None
    try:
        await aiosmtplib.send(
            mail_message(delivery, smtp.sender), hostname=smtp.host, port=smtp.port,
            username=username, password=password, start_tls=smtp.start_tls,
            use_tls=smtp.use_tls, timeout=timeout)
    except aiosmtplib.SMTPResponseException as exc:
        # 5xx: the server refuses this message for good (bad address, policy).
        raise DeliveryFailed(f"SMTP {exc.code}: {exc.message}", permanent=exc.code >= 500) from None
    except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"SMTP {type(exc).__name__}: {exc}") from None
