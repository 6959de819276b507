"""The Mastodon reply writer against a fake instance over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest

from collectors.replies import ReplyAuthFailed, ReplyOutcomeUnknown, ReplyRateLimited, ReplyTarget
from collectors.replies.mastodon import MastodonReplies
from tests.collectors.replies.conftest import Serve
from tests.collectors.replies.fake_mastodon_writes import OUR_ACCOUNT, RESET, MastodonWrites

TEXT = ("Thanks Jo \u2014 bulk routing shipped today:\nhttps://ideas.nimbus.example/forum/ideas/42 "
        "(see the <changelog> & notes)")


async def writer(serve: Serve, http: aiohttp.ClientSession, fake: MastodonWrites,
                 token: str | None = None) -> MastodonReplies:
    base = await serve(fake.app())
    return MastodonReplies({"access_token": token or fake.token}, {"instance": base}, http)


async def test_reply_lands_under_the_status_and_is_found_again(serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = MastodonWrites()
    fake.add_status("115600000000000101", "Anyone tried the bulk routing API?")
    mastodon = await writer(serve, http, fake)
    target = ReplyTarget("mastodon", "115600000000000101", author_handle="target@mastodon.example")
    assert await mastodon.find_sent(target, TEXT) is None

    sent = await mastodon.send(target, TEXT)

    posted = fake.statuses[sent.platform_id]
    # Addressed to its author (else Mastodon does not notify them), shown as "@target".
    assert fake.posts[0]["body"]["status"] == "@target@mastodon.example " + TEXT
    assert '@<span>target</span></a></span> Thanks Jo' in posted["content"]
    assert posted["in_reply_to_id"] == "115600000000000101"
    assert posted["account"]["id"] == OUR_ACCOUNT["id"] and posted["visibility"] == "public"
    assert sent.url == f"https://mastodon.example/@nimbus/{sent.platform_id}"
    assert fake.posts[0]["headers"]["Idempotency-Key"]
    # The instance renders the text to HTML (links in spans, <br />, escaped <>&): still ours.
    assert await mastodon.find_sent(target, TEXT) == sent
    assert await mastodon.find_sent(target, "Another answer") is None


async def test_429_says_when_to_try_again(serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = MastodonWrites(remaining=0)
    fake.add_status("115600000000000101", "hello")
    mastodon = await writer(serve, http, fake)
    mastodon.clock = lambda: (RESET - timedelta(seconds=90)).timestamp()
    with pytest.raises(ReplyRateLimited) as caught:
        await mastodon.send(ReplyTarget("mastodon", "115600000000000101"), TEXT)
    assert caught.value.retry_after == pytest.approx(90, abs=1)
    assert "try again in 90 s" in caught.value.reason
    assert fake.posts == []


async def test_401_names_the_refused_token(serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = MastodonWrites()
    fake.add_status("115600000000000101", "hello")
    mastodon = await writer(serve, http, fake, token="revoked")
    with pytest.raises(ReplyAuthFailed, match="HTTP 401: The access token is invalid"):
        await mastodon.send(ReplyTarget("mastodon", "115600000000000101"), TEXT)


async def test_answer_lost_after_the_post_is_an_unknown_outcome_found_by_find_sent(
        serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = MastodonWrites(crash_after_post=True)
    fake.add_status("115600000000000101", "hello")
    mastodon = await writer(serve, http, fake)
    target = ReplyTarget("mastodon", "115600000000000101")
    with pytest.raises(ReplyOutcomeUnknown):
        await mastodon.send(target, TEXT)
    found = await mastodon.find_sent(target, TEXT)
    ours = [s for s in fake.statuses.values() if s["account"]["id"] == OUR_ACCOUNT["id"]]
    assert found is not None and [s["id"] for s in ours] == [found.platform_id]


async def test_an_answer_that_is_not_json_after_posting_is_an_unknown_outcome(
        serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = MastodonWrites(html_after_post=True)
    fake.add_status("115600000000000101", "hello")
    mastodon = await writer(serve, http, fake)
    target = ReplyTarget("mastodon", "115600000000000101")
    with pytest.raises(ReplyOutcomeUnknown, match="not JSON"):
        await mastodon.send(target, TEXT)
    assert await mastodon.find_sent(target, TEXT) is not None  # so the workflow records it, once
