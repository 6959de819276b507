"""Replying where the customer spoke: the rules of a reply's life.

``draft -> approved -> sending -> sent(platform id, url) | failed(reason)``.  Staff draft (a
customer never can); managers and admins approve and send, team members too when
``replies.team_members_may_send`` is on.  Where a team's replies need approval
(``replies.require_approval`` / ``approval_by_team``) the approver must be a second person,
not the one who drafted it.  Approving (one reply or a batch) only records ``approved`` and
wakes the sender, which posts off the request, within a second or two; the ``replies`` job
sends what is left (rate-limited replies after their wait, sends a crash interrupted) — see
``community/reply_sending.py`` for the exactly-once rule.  Every move is audited with who and
when, in the same write as the move.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from community.reply_sending import ReplySender
from community.reply_writers import ReplyWriters, reply_off
from community.routing_items import speaking_customer
from config.replies import RepliesSettings
from domain import Mention, utcnow
from domain.forum import role_rank
from domain.replies import REPLY_STATES, Reply, ReplyAudit, ReplyState
from domain.errors import BadInput, Conflict, Forbidden, NotFound
from domain.text_edge import typed_text
from storage import Store

#: Shipped-idea replies and job sends are made by the system, never by a person.
SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class ReplyActor:
    """Who acts on a reply: ``key`` is ``account:<id>`` (or ``operator``), ``role`` their role."""

    key: str
    role: str

    @property
    def staff(self) -> bool:
        """Team members, managers and admins."""
        return role_rank(self.role) >= role_rank("team")


class ReplyDesk:
    """Drafts, edits, approves and sends replies; lists them by state and team."""

    def __init__(self, store: Store, settings: RepliesSettings, writers: ReplyWriters, *,
                 clock: Callable[[], datetime] = utcnow, on_sent: Any = None) -> None:
        self.store, self.settings, self.writers, self.clock = store, settings, writers, clock
        self.sender = ReplySender(store, settings, writers, clock=clock, on_sent=on_sent)

    # -- what a person may do --------------------------------------------------------------------
    def _may_draft(self, actor: ReplyActor) -> None:
        if not actor.staff:
            raise Forbidden("only staff may draft replies to customers")

    def _may_send(self, actor: ReplyActor) -> None:
        if role_rank(actor.role) >= role_rank("manager"):
            return
        if actor.staff and self.settings.team_members_may_send:
            return
        raise Forbidden("only managers (or team members when replies.team_members_may_send is on) "
                        "may approve and send replies")

    def reply_status(self, platform: str) -> tuple[bool, str]:
        """Whether some source of ``platform`` can send replies, and if none can why (for
        pages listing many mentions; one mention's button asks ``reply_status_of``)."""
        return self.writers.platform_status(platform)

    def reply_source_of(self, mention: Mention) -> tuple[str | None, str] | None:
        """The source a reply to ``mention`` goes out through and why sending is off (see
        ``ReplyWriters.source_of``); ``None`` when its platform has no reply writer at all."""
        if mention.post.source not in self.writers.platforms():
            return None
        return self.writers.source_of(mention.post.source, mention.source_key)

    def reply_status_of(self, mention: Mention) -> tuple[bool, str]:
        """Whether a reply to ``mention`` can be sent through the source that read it, and
        if not why (for its reply button)."""
        why = reply_off(self.writers.for_mention(mention))
        return not why, why

    def _text(self, text: object) -> str:
        if not isinstance(text, str):
            raise BadInput("text must be a string", {"field": "text"})
        cleaned = typed_text(text, "text").strip()
        if not cleaned:
            raise BadInput("text is empty", {"field": "text"})
        if len(cleaned) > self.settings.max_chars:
            raise BadInput(f"text is longer than {self.settings.max_chars} characters", {"field": "text"})
        return cleaned

    async def render_saved(self, name: str, mention_id: int, idea_url: str | None = None) -> str:
        """The saved reply ``name`` for the customer behind the mention."""
        template = self.settings.saved_replies.get(name)
        if template is None:
            raise BadInput(f"no saved reply {name!r} (known: {', '.join(sorted(self.settings.saved_replies))})",
                           {"field": "saved"})
        if "{idea_url}" in template and not idea_url:
            raise BadInput(f"saved reply {name!r} needs an idea link", {"field": "idea_url"})
        if idea_url and (not idea_url.startswith(("https://", "http://")) or len(idea_url) > 2000
                         or any(c.isspace() for c in idea_url)):
            raise BadInput("idea_url must be an http(s) address", {"field": "idea_url"})
        mention = await self.store.get_mention(mention_id)
        link = speaking_customer(mention)
        name_of = mention.post.author.name or f"@{mention.post.author.handle}"
        if link is not None:
            customer = (await self.store.get_customers([link.customer_id])).get(link.customer_id)
            name_of = customer.name if customer is not None else name_of
        return template.format(customer_name=name_of, idea_url=idea_url or "")

    # -- moves ----------------------------------------------------------------------------------
    async def draft(self, actor: ReplyActor, mention_id: int, *, text: object = None, saved: str | None = None,
                    idea_url: str | None = None, team_key: str | None = None) -> Reply:
        """A new draft replying to the mention, written or from a saved reply."""
        self._may_draft(actor)
        mention = await self.store.get_mention(int(mention_id))
        if mention.post.source not in self.writers.platforms():
            raise BadInput(f"{mention.post.source} mentions cannot be replied to from here", {"field": "mention_id"})
        if saved and text in (None, ""):
            body = await self.render_saved(saved, int(mention_id), idea_url)
        else:
            body = self._text(text)
        now = self.clock()
        [reply] = await self.store.add_replies([Reply(
            mention_id=int(mention_id), source=mention.post.source, text=body, drafted_by=actor.key,
            drafted_at=now, team_key=team_key)], [f"saved reply {saved}" if saved and not text else ""])
        return reply

    async def _move(self, reply: Reply, expected: tuple[ReplyState, ...], changes: dict[str, Any],
                    action: str, actor: ReplyActor, detail: str = "") -> Reply:
        assert reply.id is not None
        moved = await self.store.move_reply(reply.id, expected, changes,
                                            ReplyAudit(reply.id, action, actor.key, self.clock(), detail))
        if moved is None:
            current = await self.store.get_reply(reply.id)
            raise Conflict(f"reply {reply.id} is {current.state}, not {' or '.join(expected)}",
                           {"state": current.state})
        return moved

    async def edit(self, actor: ReplyActor, reply_id: int, text: object) -> Reply:
        """New text for a draft, or for a failed reply (which becomes a draft again)."""
        self._may_draft(actor)
        reply = await self.store.get_reply(int(reply_id))
        return await self._move(reply, ("draft", "failed"),
                                {"text": self._text(text), "state": "draft", "failure": None,
                                 "retry_after": None, "approved_by": None, "approved_at": None},
                                "edited", actor)

    async def approve(self, actor: ReplyActor, reply_id: int) -> Reply:
        """Approve a draft (a second person where the team needs approval); the sender is
        woken to post it, after this returns (the reply as approved)."""
        self._may_send(actor)
        reply = await self.store.get_reply(int(reply_id))
        if self.settings.needs_approval(reply.team_key) and reply.drafted_by == actor.key:
            raise Forbidden("a second person must approve this reply: you drafted it")
        ready, why = self.reply_status_of(await self.store.get_mention(reply.mention_id))
        if not ready:
            raise Conflict(f"replies on {reply.source} are off: {why}", {"reason": why})
        approved = await self._move(reply, ("draft",), {"state": "approved", "approved_by": actor.key,
                                                         "approved_at": self.clock()}, "approved", actor)
        self.sender.wake()  # after the commit: the round reads what was approved
        return approved

    async def send(self, actor: ReplyActor, reply_id: int) -> Reply:
        """Send a reply: a draft where the team needs no approval (approved by this), or an
        approved one now (not waiting for the job's next round); the sender posts it after
        this returns.  A reply that needs approval must be approved first."""
        self._may_send(actor)
        reply = await self.store.get_reply(int(reply_id))
        if reply.state == "draft":
            if self.settings.needs_approval(reply.team_key):
                raise Conflict("this reply needs a second person's approval before it is sent",
                               {"state": reply.state})
            return await self.approve(actor, int(reply_id))
        if reply.state != "approved":
            raise Conflict(f"reply {reply.id} is {reply.state}: only drafts and approved replies are sent",
                           {"state": reply.state})
        if reply.retry_after is not None and reply.retry_after > self.clock():
            raise Conflict(f"{reply.source} asked us to wait: this reply goes after "
                           f"{reply.retry_after.isoformat(timespec='seconds')}", {"retry_after": reply.retry_after.isoformat()})
        self.sender.wake()
        return reply

    async def approve_batch(self, actor: ReplyActor, batch_key: str, *, limit: int = 500) -> list[Reply]:
        """Approve every draft of a batch (a shipped idea's replies) in one action; the job
        sends them.  Drafts this person wrote, where a second person is needed, are left."""
        self._may_send(actor)
        approved = []
        for reply in await self.store.list_replies(batch_key=batch_key, states=["draft"], limit=limit):
            if self.settings.needs_approval(reply.team_key) and reply.drafted_by == actor.key:
                continue
            try:
                mention = await self.store.get_mention(reply.mention_id)
            except NotFound:
                continue  # deleted since: nothing to answer
            if not self.reply_status_of(mention)[0]:
                continue  # stays a draft: its source is off (the queue says why)
            moved = await self.store.move_reply(
                reply.id or 0, ["draft"], {"state": "approved", "approved_by": actor.key,
                                           "approved_at": self.clock()},
                ReplyAudit(reply.id or 0, "approved", actor.key, self.clock(), f"batch {batch_key}"))
            if moved is not None:
                approved.append(moved)
        if approved:
            self.sender.wake()
        return approved

    async def retry(self, actor: ReplyActor, reply_id: int) -> Reply:
        """A failed reply approved again by a person (credentials fixed, platform back); the
        sender is woken to post it."""
        self._may_send(actor)
        reply = await self.store.get_reply(int(reply_id))
        retried = await self._move(reply, ("failed",), {"state": "approved", "failure": None,
                                                         "retry_after": None}, "retried", actor)
        self.sender.wake()
        return retried

    async def mark_sent(self, actor: ReplyActor, reply_id: int, url: object) -> Reply:
        """A person posted the reply by hand (Hacker News, or after checking a failed send):
        record it sent with the address where it is."""
        self._may_send(actor)
        if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 2000:
            raise BadInput("url must be the http(s) address of the posted reply", {"field": "url"})
        reply = await self.store.get_reply(int(reply_id))
        if reply.state == "draft" and self.settings.needs_approval(reply.team_key) and reply.drafted_by == actor.key:
            raise Forbidden("a second person must approve this reply: you drafted it")
        done = await self._move(reply, ("draft", "approved", "failed"),
                                {"state": "sent", "sent_at": self.clock(), "sent_by": actor.key,
                                 "platform_url": url, "failure": None}, "sent", actor, "posted by hand")
        await self.sender.announce(done)
        return done

    async def list_replies(self, *, state: str | None = None, team_key: str | None = None,
                   batch_key: str | None = None, limit: int = 200) -> list[Reply]:
        """Replies by state, team or batch, newest first."""
        if state is not None and state not in REPLY_STATES:
            raise BadInput(f"state must be one of {', '.join(REPLY_STATES)}", {"field": "state"})
        return await self.store.list_replies(states=[state] if state else [],
                                             team_key=team_key, batch_key=batch_key, limit=limit)
