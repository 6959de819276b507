"""Teaching the linker: confirm or reject a queued link, then re-link the author's past mentions.

Joins the store and the analyser the way ``ingest`` does, so that neither needs the
other: ``crm.link_decisions`` records the decision (and any new alias or handle) in one
unit of work, the gazetteer learns the new alias, handle or rejection in place (see
``Runtime.learn_customers``), and the author's stored mentions are analysed again and
their unconfirmed links replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crmsphere import people
from crm.link_decisions import confirm_link, reject_link, replace_links
from domain import Identity, LinkReview
from domain.errors import BadInput
from crmsphere.runtime import Runtime

Teach = Literal["none", "handle", "alias"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What a manager's decision did: the link as decided, and how many links were rewritten."""

    review: LinkReview
    relinked_mentions: int
    learned: str | None = None
    #: The kept person of the author, when the confirmation attached them to the customer.
    person_id: int | None = None


async def relink_author(rt: Runtime, source: str, author_handle: str) -> int:
    """Analyse an author's stored mentions again and replace their unconfirmed links."""
    mentions = await rt.store.author_mentions(source, author_handle)
    if not mentions:
        return 0
    analyses = await rt.analyzer.analyse([m.post for m in mentions])
    await replace_links(rt.store, {m.id: a.links for m, a in zip(mentions, analyses) if m.id is not None})
    return len(mentions)


async def confirm(rt: Runtime, link_id: int, teach: Teach = "none", alias: str | None = None) -> Decision:
    """Confirm a link; ``teach`` adds the author's handle or an alias to the customer."""
    review = await rt.store.get_link(link_id)
    post, link = review.mention.post, review.link
    identity, learned = None, None
    if teach == "handle":
        identity = Identity(post.source, post.author.handle)
        learned = f"handle @{post.author.handle} on {post.source}"
    elif teach == "alias":
        if alias is None and link.start is not None and link.end is not None:
            alias = post.text[link.start:link.end]
        if not alias or not alias.strip():
            raise BadInput("teach 'alias' needs an alias (the link has no span to take it from)",
                           {"field": "alias"})
        learned = f"alias '{alias.strip()}'"
    in_step = await rt.gazetteer_in_step()
    decided = await confirm_link(rt.store, link_id, identity=identity, alias=alias if teach == "alias" else None)
    if rt.crm_outbound is not None:  # a confirmed link is sure: its CRM timeline entry goes out
        await rt.crm_outbound.links_confirmed([decided.mention])
    if teach == "handle" or link.rule in people.IDENTITY_RULES:
        # The author is the customer: so is every handle and past mention of their person.
        attached = await people.attach_author(rt, post.source, post.author.handle, link.customer_id,
                                              in_step=in_step)
        if attached is not None:
            return Decision(await rt.store.get_link(link_id), attached.relinked_mentions, learned,
                            attached.person.id)
    if learned:
        await rt.learn_customers([link.customer_id], in_step=in_step)
    relinked = await relink_author(rt, post.source, post.author.handle)
    return Decision(decided, relinked, learned)


async def reject(rt: Runtime, link_id: int) -> Decision:
    """Reject a link: record the negative example, teach it to the gazetteer, re-link the author."""
    review = await rt.store.get_link(link_id)
    post, link = review.mention.post, review.link
    phrase = post.text[link.start:link.end] if link.start is not None and link.end is not None else None
    decided = await reject_link(rt.store, link_id, phrase)
    await rt.learn_customers([], negatives=True)
    relinked = await relink_author(rt, post.source, post.author.handle)
    return Decision(decided, relinked, f"not {link.customer_id} for @{post.author.handle} on {post.source}")
