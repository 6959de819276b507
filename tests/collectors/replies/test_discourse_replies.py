"""The Discourse reply writer against a fake forum over real HTTP."""

from __future__ import annotations

import aiohttp
import pytest

from collectors.replies import (
    ReplyAuthFailed,
    ReplyFailed,
    ReplyOutcomeUnknown,
    ReplyRateLimited,
    ReplyTarget,
)
from collectors.replies.discourse import DiscourseReplies
from tests.collectors.replies.conftest import Serve
from tests.collectors.replies.fake_discourse_writes import DiscourseWrites

# The link alone on its line: Discourse cooks it into a onebox, so only the raw text matches.
TEXT = "Dark mode shipped today & works at night:\nhttps://ideas.nimbus.example/forum/ideas/7"


async def writer(serve: Serve, http: aiohttp.ClientSession, fake: DiscourseWrites,
                 key: str | None = None) -> DiscourseReplies:
    base = await serve(fake.app())
    return DiscourseReplies({"api_key": key or fake.api_key, "api_username": fake.username},
                            {"base_url": base}, http)


def topic(fake: DiscourseWrites) -> dict:
    fake.add_post(815, "Is dark mode on the roadmap?", post_id=4522)
    for n in range(25):  # a long topic: our reply lands beyond the first chunk of 20
        fake.add_post(815, f"+1 from team {n}", username=f"user{n}")
    return fake.add_post(815, "Our dispatchers work nights, please!", reply_to=1)


async def test_reply_lands_on_the_post_number_and_is_found_again(serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = DiscourseWrites()
    target_post = topic(fake)
    discourse = await writer(serve, http, fake)
    target = ReplyTarget("discourse", f"post:{target_post['id']}")
    assert await discourse.find_sent(target, TEXT) is None

    sent = await discourse.send(target, TEXT)

    assert fake.created == [{"raw": TEXT, "topic_id": 815, "reply_to_post_number": target_post["post_number"]}]
    post = fake.posts[int(sent.platform_id.removeprefix("post:"))]
    assert sent.url is not None and sent.url.endswith(f"/t/dark-mode-for-the-dashboard/815/{post['post_number']}")
    assert await discourse.find_sent(target, TEXT) == sent


async def test_429_waits_as_discourse_says_and_422_is_named(serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = DiscourseWrites(wait_seconds=42)
    target = ReplyTarget("discourse", f"post:{topic(fake)['id']}")
    discourse = await writer(serve, http, fake)
    with pytest.raises(ReplyRateLimited) as caught:
        await discourse.send(target, TEXT)
    assert caught.value.retry_after == 42
    fake.wait_seconds = None
    with pytest.raises(ReplyFailed, match="HTTP 422 on the reply: Body is too short"):
        await discourse.send(target, "Shipped!")


async def test_invalid_key_is_auth_failed(serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = DiscourseWrites()
    target = ReplyTarget("discourse", f"post:{topic(fake)['id']}")
    discourse = await writer(serve, http, fake, key="rotated-key")
    with pytest.raises(ReplyAuthFailed, match="API username or key is invalid"):
        await discourse.send(target, TEXT)


async def test_lost_answer_is_found_by_find_sent(serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = DiscourseWrites(crash_after_post=True)
    target = ReplyTarget("discourse", f"post:{topic(fake)['id']}")
    discourse = await writer(serve, http, fake)
    with pytest.raises(ReplyOutcomeUnknown):
        await discourse.send(target, TEXT)
    found = await discourse.find_sent(target, TEXT)
    assert found is not None and len(fake.created) == 1
