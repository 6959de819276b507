"""The composition root's reply writers: posting credentials from the environment, and the
outbound guard of other writes (no internal address unless routing.allow_private_targets)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from collectors.replies import ReplyFailed, ReplyOutcomeUnknown, ReplyTarget
from config.settings import load_settings
from crmsphere.runtime import open_runtime
from tests.collectors.replies.fake_mastodon_writes import OUR_ACCOUNT, MastodonWrites

STATUS_ID = "115600000000000101"


def settings(tmp_path: Path, base: str, allow_private: bool):  # type: ignore[no-untyped-def]
    return load_settings(environ={}, overrides={
        "store": {"url": f"sqlite:///{tmp_path / 'replies.db'}"}, "scheduler": {"enabled": False},
        "routing": {"allow_private_targets": allow_private},
        "sources": [{"kind": "mastodon", "name": "masto", "instance": base, "hashtags": ["nimbus"],
                     "reply": {"access_token_env": "RUNTIME_MASTODON_REPLY_TOKEN"}},
                    {"kind": "bluesky", "name": "sky", "keywords": ["nimbus"]}]})


@pytest.mark.parametrize("allow_private", [False, True])
async def test_writers_use_the_guarded_session_unless_private_targets_are_allowed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, allow_private: bool) -> None:
    fake = MastodonWrites()
    fake.add_status(STATUS_ID, "hello")
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    monkeypatch.setenv("RUNTIME_MASTODON_REPLY_TOKEN", fake.token)
    try:
        async with open_runtime(settings(tmp_path, str(server.make_url("")).rstrip("/"), allow_private),
                                with_nlp=False) as runtime:
            assert runtime.replies is not None
            assert runtime.replies.reply_status("mastodon") == (True, "")
            ready, why = runtime.replies.reply_status("bluesky")
            assert not ready and "no [sources.reply] table" in why
            writer = runtime.replies.writers.by_source["masto"]
            target = ReplyTarget("mastodon", STATUS_ID)
            if allow_private:
                assert (await writer.send(target, "Thanks, it shipped")).platform_id  # type: ignore[union-attr]
            else:
                with pytest.raises(ReplyFailed) as caught:
                    await writer.send(target, "Thanks, it shipped")  # type: ignore[union-attr]
                # Refused before anything left: a plain failure, not "may have been posted".
                assert not isinstance(caught.value, ReplyOutcomeUnknown)
                assert "refused to send to 127.0.0.1" in caught.value.reason
                assert fake.posts == []
    finally:
        await server.close()
    assert len([s for s in fake.statuses.values() if s["account"]["id"] == OUR_ACCOUNT["id"]]) == int(allow_private)
