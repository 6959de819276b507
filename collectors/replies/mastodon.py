"""Replies on Mastodon: ``POST /api/v1/statuses`` with ``in_reply_to_id``.

The reply is public and answers the stored status by its id on our instance (the collector
stores ids as the instance gives them).  An ``Idempotency-Key`` made from the status and the
text makes Mastodon answer a repeated post (within its hour) with the first status instead of
a second one; ``find_sent`` reads the status's descendants
(``GET /api/v1/statuses/:id/context``) for one by our account
(``GET /api/v1/accounts/verify_credentials``) with the same text.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from pydantic import ConfigDict

from collectors.replies import (
    ReplyFailed,
    ReplyOutcomeUnknown,
    ReplySettings,
    ReplyTarget,
    ReplyWriter,
    SentReply,
    register_writer,
)
from collectors.replies.reply_http import request_json, same_text
from collectors.web import html_to_text


#: The mentions a status starts with: Mastodon shows a remote "@user@host" as "@user".
_LEADING_MENTIONS = re.compile(r"^(?:@[\w.-]+(?:@[\w.-]+)?\s*)+")


def _body(text: str) -> str:
    return _LEADING_MENTIONS.sub("", text.strip())


class MastodonReplySettings(ReplySettings):
    """``[sources.reply]`` of a mastodon source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    access_token_env: str
    #: Where to post when not the source's own ``base_url`` / ``instance``.
    base_url: str | None = None
    visibility: str = "public"


@register_writer("mastodon")
class MastodonReplies(ReplyWriter):
    """Posts replies with the access token of our account (scopes ``write:statuses``, and
    ``read:statuses`` + ``read:accounts`` for ``find_sent``)."""

    credential_names = ("access_token",)
    settings_model = MastodonReplySettings

    def __init__(self, credentials: Any, options: Any, http: Any = None) -> None:
        super().__init__(credentials, options, http)
        self.base_url = str(self.options.get("base_url") or self.options.get("instance") or "").rstrip("/")
        self.visibility = str(self.options.get("visibility") or "public")
        self.clock: Callable[[], float] = time.time
        self._account_id: str | None = None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials.get('access_token', '')}"}

    @staticmethod
    def addressed(target: ReplyTarget, text: str) -> str:
        """``text`` starting with the author's handle, as Mastodon's own apps write a reply: a
        reply that does not mention its author does not notify them."""
        handle = (target.author_handle or "").lstrip("@")
        if not handle or f"@{handle}".lower() in text.lower():
            return text
        return f"@{handle} {text}"

    def _status_id(self, target: ReplyTarget) -> str:
        if not self.base_url:
            raise ReplyFailed("mastodon: the source has no 'instance' or 'base_url' to post to")
        if not target.external_id.isdigit():
            raise ReplyFailed(f"mastodon: {target.external_id!r} is not a status id of this instance")
        return target.external_id

    async def _our_account(self) -> str:
        if self._account_id is None:
            account = await request_json(
                self.http, "GET", f"{self.base_url}/api/v1/accounts/verify_credentials",
                platform="mastodon", what="our account", headers=self._headers(), clock=self.clock)
            if not isinstance(account, dict) or not account.get("id"):
                raise ReplyFailed("mastodon: verify_credentials answered without an account id")
            self._account_id = str(account["id"])
        return self._account_id

    async def find_sent(self, target: ReplyTarget, text: str) -> SentReply | None:
        """Our status answering ``target`` with ``text`` among its descendants, or ``None``."""
        status_id = self._status_id(target)
        text = self.addressed(target, text)
        ours = await self._our_account()
        context = await request_json(
            self.http, "GET", f"{self.base_url}/api/v1/statuses/{quote(status_id)}/context",
            platform="mastodon", what="the thread", headers=self._headers(), clock=self.clock)
        descendants = context.get("descendants") if isinstance(context, dict) else None
        if not isinstance(descendants, list):
            raise ReplyFailed("mastodon: the thread's context has no descendants list")
        for status in descendants:
            if not isinstance(status, dict):
                continue
            account = status.get("account") if isinstance(status.get("account"), dict) else {}
            if (str(account.get("id")) == ours and str(status.get("in_reply_to_id")) == status_id
                    and same_text(_body(html_to_text(str(status.get("content") or ""))), _body(text))):
                return SentReply(str(status["id"]), status.get("url") or status.get("uri"))
        return None

    async def send(self, target: ReplyTarget, text: str) -> SentReply:
        """Post ``text`` as a public reply to the status ``target``."""
        status_id = self._status_id(target)
        text = self.addressed(target, text)
        key = hashlib.sha256(f"{status_id}\n{text}".encode()).hexdigest()
        status = await request_json(
            self.http, "POST", f"{self.base_url}/api/v1/statuses", platform="mastodon",
            what="the reply", headers={**self._headers(), "Idempotency-Key": key},
            json={"status": text, "in_reply_to_id": status_id, "visibility": self.visibility},
            writes=True, clock=self.clock)
        if not isinstance(status, dict) or not status.get("id"):
            raise ReplyOutcomeUnknown("mastodon accepted the reply but answered without a status id")
        return SentReply(str(status["id"]), status.get("url") or status.get("uri"))
