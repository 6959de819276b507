"""A mention as a signal on an idea: convert it into a new idea, or attach it to one.

A linked mention weighs in the idea's impact (``community.impact``), is listed among the
idea's linked mentions, and its customer hears of the idea's status changes (closing the loop).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from community.ideas import IdeaEventSink, clean_text, clean_topic
from community.impact import rescore
from community.statuses import create_idea
from community.routing_items import speaking_customer
from config.forum import ForumSettings
from domain import Mention, utcnow
from domain.forum import Idea, NewIdea
from domain.errors import BadInput, Conflict
from storage.base import Store

_FIELDS = {"title", "body", "topic", "hide_handle"}


@dataclass(frozen=True, slots=True)
class SignalOutcome:
    """The idea a mention backs now, and whether this request linked it."""

    idea: Idea
    mention_id: int
    linked: bool
    created: bool


def default_title(mention: Mention, limit: int) -> str:
    """A title from the post: its first line, cut at a word, never under 3 characters."""
    line = " ".join(mention.post.text.split())
    if len(line) > limit:
        line = line[:limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"
    if len(line) < 3:
        line = f"Feedback from {mention.post.source}: {line}".strip()
    return line


def default_body(mention: Mention, hide_handle: bool = False) -> str:
    """The post's text with where it was said; with ``hide_handle`` without the author's
    handle and without the post's link (a link to a post names its author too)."""
    if hide_handle:
        return f"{mention.post.text}\n\n— a customer on {mention.post.source}"
    where = f"@{mention.post.author.handle} on {mention.post.source}"
    link = f"\n\n{mention.post.url}" if mention.post.url else ""
    return f"{mention.post.text}\n\n— {where}{link}"


def names_author(mention: Mention, text: str) -> bool:
    """True when ``text`` names the mention's author by handle (or holds the post's link)."""
    handle = mention.post.author.handle.lstrip("@").casefold()
    folded = text.casefold()
    url = mention.post.url
    return bool(handle) and handle in folded or bool(url) and url is not None and url.casefold() in folded


def idea_draft(mention: Mention, forum: ForumSettings) -> dict[str, object]:
    """What the convert step starts from: a title, a body with and one without the author's
    handle, the handle, and the topic the idea would get."""
    return {"mention_id": mention.id, "handle": mention.post.author.handle,
            "source": mention.post.source, "title": default_title(mention, forum.title_max),
            "body": default_body(mention), "body_without_handle": default_body(mention, True),
            "topic": next((t for t in mention.analysis.topics if _topic_ok(t)), None)}


class MentionSignals:
    """Converts mentions into ideas and attaches them to ideas."""

    def __init__(self, store: Store, forum: ForumSettings,
                 events: IdeaEventSink | None = None) -> None:
        self.store, self.forum, self.events = store, forum, events

    async def convert(self, mention_id: int, fields: Mapping[str, object]) -> SignalOutcome:
        """A new idea from a mention, on behalf of its linked customer's account (no author
        when the customer has none), with the mention linked as a signal."""
        unknown = set(fields) - _FIELDS
        if unknown:
            raise BadInput(f"unknown fields: {', '.join(sorted(unknown))}",
                           {"fields": sorted(unknown)})
        mention = await self.store.get_mention(mention_id)
        title = fields.get("title")
        body = fields.get("body")
        topic = fields.get("topic")
        hide_handle = fields.get("hide_handle", False)
        if not isinstance(hide_handle, bool):
            raise BadInput("field 'hide_handle' must be true or false", {"field": "hide_handle"})
        if body is None:
            body = default_body(mention, hide_handle)
        if hide_handle:
            # The manager asked for the author to stay out of the public idea: a title or body
            # still naming them is refused rather than published (or silently rewritten).
            for name, text in (("title", title), ("body", body)):
                if isinstance(text, str) and names_author(mention, text):
                    raise BadInput(f"the {name} still names @{mention.post.author.handle} or links "
                                   "the post; take it out, or do not hide the handle",
                                   {"field": name})
        if topic is None:
            topic = next((t for t in mention.analysis.topics if _topic_ok(t)), None)
        author_id = await self._author(mention)
        idea = await create_idea(self.store, NewIdea(
            title=clean_text(title if title is not None else default_title(mention, self.forum.title_max),
                             "title", self.forum.title_max, 3),
            body=clean_text(body, "body",
                            self.forum.body_max, 0),
            author_id=author_id, status=self.forum.statuses[0].key,
            topic=clean_topic(topic)), utcnow())
        await self.store.link_mention(idea.id, mention_id)
        idea = await self._scored(idea.id)
        if self.events is not None:
            await self.events.idea_created(idea)
            await self.events.idea_scored(idea.id)
        return SignalOutcome(idea, mention_id, True, True)

    async def attach(self, mention_id: int, idea_id: int) -> SignalOutcome:
        """Link a mention to an existing idea as a signal; attaching twice changes nothing."""
        await self.store.get_mention(mention_id)
        idea = await self.store.get_idea(idea_id)
        if idea.merged_into is not None:
            raise Conflict(f"idea {idea_id} was merged into idea {idea.merged_into}; attach there",
                           {"merged_into": idea.merged_into})
        linked = await self.store.link_mention(idea_id, mention_id)
        if linked:
            idea = await self._scored(idea_id)
            if self.events is not None:
                await self.events.idea_scored(idea_id)
        return SignalOutcome(idea, mention_id, linked, False)

    async def _author(self, mention: Mention) -> int | None:
        link = speaking_customer(mention)
        if link is None:
            return None
        # a blocked account no longer speaks for its customer
        accounts = (await self.store.accounts_for_customers([link.customer_id], blocked=False)).get(link.customer_id)
        return min(accounts) if accounts else None

    async def _scored(self, idea_id: int) -> Idea:
        await rescore(self.store, idea_id, self.forum.impact)
        return await self.store.get_idea(idea_id)


def _topic_ok(topic: str) -> bool:
    try:
        return clean_topic(topic) is not None
    except BadInput:
        return False
