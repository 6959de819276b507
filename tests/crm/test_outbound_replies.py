"""A reply sent where the customer spoke becomes ONE note on the customer's CRM timeline,
through the outbox, with the text and the reply's address."""

from __future__ import annotations

import aiohttp

from community.replies import ReplyActor
from domain import Analysis, Author, CustomerLink, Mention, RawPost
from tests.collectors.replies.fake_mastodon_writes import MastodonWrites
from tests.community.reply_fixtures import SOURCE_KEY, STATUS_ID, Clock, desk_for, fake_mastodon
from tests.conftest import T0
from tests.crm.test_outbound import Rig, rig  # noqa: F401  (the fixture)
from tests.stored import stored_mention_ids

TEXT = "Thanks Jo, the anvil fix shipped: https://ideas.example/forum/ideas/3"


async def test_a_sent_reply_is_one_note_on_the_contact(rig: Rig) -> None:  # noqa: F811
    fake = MastodonWrites()
    fake.add_status(STATUS_ID, "Acme anvils keep breaking")
    server = await fake_mastodon(fake)
    try:
        async with aiohttp.ClientSession() as http:
            desk = desk_for(rig.store, server, http, Clock(), on_sent=rig.outbound.reply_sent)
            post = RawPost("mastodon", STATUS_ID, Author("jo@mastodon.example"), "Acme anvils keep breaking", T0,
                           url=f"https://mastodon.example/@jo/{STATUS_ID}")
            link = CustomerLink("hubspot:contact:51", 0.95, "author_handle", "@jo")
            await rig.store.save_mentions(SOURCE_KEY, [Mention(post, Analysis(links=(link,)))], None)
            mention_id = (await stored_mention_ids(rig.store, [("mastodon", STATUS_ID)]))[("mastodon", STATUS_ID)]
            lead = await rig.store.create_account("lee@crm.example", "Lee", None, "manager")
            head = await rig.store.create_account("mo@crm.example", "Mo", None, "manager")
            draft = await desk.draft(ReplyActor(f"account:{lead.id}", "manager"), mention_id, text=TEXT)
            await desk.approve(ReplyActor(f"account:{head.id}", "manager"), draft.id or 0)
            await desk.sender.settled()
            sent = await rig.store.get_reply(draft.id or 0)
            assert sent.state == "sent"

            crm = [d for d in (await rig.store.list_deliveries("pending")).items if d.channel == "crm:hubspot"]
            assert [(d.payload["type"], d.target["crm_id"]) for d in crm] == [("customer.reply.sent", "51")]
            assert crm[0].payload["url"] == sent.platform_url
            # Announced again (a replay): nothing new in the outbox.
            await desk.sender.announce(sent)
            assert len((await rig.store.list_deliveries("pending")).items) == len(crm)
            assert await rig.worker.run_once() == 1
            [note] = rig.hub.notes_on("contact", "51")
            body = note["properties"]["hs_note_body"]
            assert TEXT in body and "approved by Mo, sent by Mo" in body and str(sent.platform_url) in body
    finally:
        await server.close()
