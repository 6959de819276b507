"""Posting credentials per source: the ``[sources.reply]`` table, and Hacker News."""

from __future__ import annotations

import pytest

from collectors.replies import (
    ReplyNotConfigured,
    ReplyNotSupported,
    ReplyTarget,
    ReplyWriter,
    build_writer,
    load_writers,
    reply_settings,
)
from collectors.replies.hackernews import NO_WRITE_API
from collectors.replies.mastodon import MastodonReplies

MASTODON = {"kind": "mastodon", "name": "mastodon-social", "instance": "https://mastodon.example",
            "hashtags": ["nimbus"]}


def test_writers_are_registered() -> None:
    assert {"mastodon", "bluesky", "discourse", "hackernews"} <= set(load_writers())


def test_credentials_come_from_the_named_variable() -> None:
    table = {**MASTODON, "reply": {"access_token_env": "MASTODON_REPLY_TOKEN"}}
    writer = build_writer(table, {"MASTODON_REPLY_TOKEN": "t0k"})
    assert isinstance(writer, MastodonReplies)
    assert writer.credentials == {"access_token": "t0k"}
    assert writer.base_url == "https://mastodon.example"


@pytest.mark.parametrize(("table", "environ", "says"), [
    (MASTODON, {}, "has no [sources.reply] table: add one with access_token_env"),
    ({**MASTODON, "reply": {"access_token_env": "MASTODON_REPLY_TOKEN"}}, {}, "set MASTODON_REPLY_TOKEN"),
    ({**MASTODON, "reply": {"acess_token_env": "T"}}, {"T": "x"}, "'acess_token_env' is unknown"),
    ({**MASTODON, "reply": {}}, {}, "'access_token_env': field required"),
    ({**MASTODON, "reply": "MASTODON_REPLY_TOKEN"}, {}, "'reply' must be a table"),
    ({"kind": "rss", "name": "blog"}, {}, "rss has no reply writer"),
])
def test_replies_off_say_why(table: dict, environ: dict, says: str) -> None:
    with pytest.raises(ReplyNotConfigured) as caught:
        build_writer(table, environ)
    assert says in caught.value.reason


async def test_hacker_news_cannot_be_written_to() -> None:
    writer = build_writer({"kind": "hackernews", "name": "hn"}, {})
    target = ReplyTarget("hackernews", "41234567")
    for call in (writer.send(target, "hi"), writer.find_sent(target, "hi")):
        with pytest.raises(ReplyNotSupported) as caught:
            await call
        assert caught.value.reason == NO_WRITE_API


class PlainWriter(ReplyWriter):
    """A writer written against the first interface: credential names, no settings model."""

    source = "plain"
    credential_names = ("client_id", "client_secret")

    async def find_sent(self, target: ReplyTarget, text: str) -> None:
        return None

    async def send(self, target: ReplyTarget, text: str):  # type: ignore[no-untyped-def]
        raise NotImplementedError


def test_a_writer_without_a_settings_model_takes_env_keys_only() -> None:
    settings = reply_settings(PlainWriter, {"client_id_env": "PLAIN_ID", "client_secret_env": "PLAIN_SECRET"})
    assert settings.env_names() == {"client_id": "PLAIN_ID", "client_secret": "PLAIN_SECRET"}
    with pytest.raises(ReplyNotConfigured, match="'client_secret': only \\*_env keys"):
        reply_settings(PlainWriter, {"client_id_env": "PLAIN_ID", "client_secret": "pasted-secret"})
    with pytest.raises(ReplyNotConfigured, match="must name an environment variable"):
        reply_settings(PlainWriter, {"client_id_env": 42})
