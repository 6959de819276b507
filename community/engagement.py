"""Votes (including staff proxy votes), comments with one level of replies and internal
notes, and following."""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from community import comments as comment_rules
from community.following import follow
from community.access import Viewer, require_at_least, require_signed_in
from community.ideas import IdeaEventSink, Ideas, clean_text
from community.impact import rescore, vote_impact
from community.accounts import TOKEN_REFUSED, token_hash_of, token_viewer_of
from community.voting import Ballot, VoteCheck, cast as cast_vote, cast_judged, uncast
from config.forum import ForumSettings
from domain import Customer, utcnow
from domain.forum import PROXY_SOURCES, ApiToken, Comment, Idea, RateWindow, ScoreThreshold, Vote, VoteCast
from domain.errors import AuthFailed, BadInput, Conflict, Forbidden, NotFound
from storage import Store
from storage.contract.uow import UnitOfWork

_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.-]{2,40})")


def mentioned_names(body: str) -> list[str]:
    """The @names in a comment, in order, each once (lower-case)."""
    seen: dict[str, None] = {}
    for name in _MENTION.findall(body):
        seen.setdefault(name.rstrip(".").lower(), None)
    return list(seen)


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    """Where a vote stands after a request: voted or not, whether this request changed it."""

    idea_id: int
    voted: bool
    changed: bool
    vote_count: int


class Engagement:
    """Voting, commenting and following rules over a store."""

    def __init__(self, store: Store, settings: ForumSettings,
                 events: IdeaEventSink | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.settings, self.events = store, settings, events
        #: the time writes are stamped with (the demo dates its forum over past weeks)
        self.clock = clock
        self.ideas = Ideas(store, settings, events, clock)

    async def _open_idea(self, viewer: Viewer, idea_id: int, doing: str) -> Idea:
        return self._check_open(viewer, await self.store.get_idea(idea_id), doing)

    # -- votes ------------------------------------------------------------------
    async def vote(self, viewer: Viewer, idea_id: int) -> VoteOutcome:
        """The viewer's customer votes for the idea (again: nothing changes)."""
        return await self._add(viewer, idea_id, self._own_vote(viewer, idea_id, self.clock()))

    async def token_vote(self, plain_token: str, idea_id: int) -> tuple[Viewer, VoteOutcome]:
        """``vote`` for the caller of an ``Authorization: Bearer`` token, who is learnt inside
        the vote's own unit of work: over SQLite the token read, the checks and the writes
        are one transaction and one hop to the writer thread, with nothing read on the
        event loop (bench/forum.py).  Refused there, nothing written, as ``Accounts.
        token_viewer`` and ``vote`` refuse: an unknown or revoked token or a blocked owner
        (``AuthFailed``), an account linked to no customer (``Forbidden``).  Returns the
        viewer the token stands for with the outcome."""
        token_hash = token_hash_of(plain_token)
        if token_hash is None:
            raise AuthFailed(TOKEN_REFUSED)
        now = self.clock()
        thresholds, stored = self._thresholds()
        used: list[ApiToken] = []  # the token the unit read, and whom it stands for
        voters: list[Viewer] = []

        async def ballot_of(uow: UnitOfWork) -> Ballot:
            # The token, its owner, the idea and the owner's customer: one read (over SQLite
            # one statement), judged in the order of the other routes: caller, account, idea.
            found, idea, customer = await uow.token_vote_subjects(token_hash, idea_id)
            if found is not None:
                used.append(found[0])
            who = token_viewer_of(found)
            if who is None:
                raise AuthFailed(TOKEN_REFUSED)
            voters.append(who)
            vote = self._own_vote(who, idea_id, now)
            if idea is None:
                raise NotFound(f"no idea {idea_id}")
            return Ballot(vote, self._vote_check(who), self._vote_rate(who), (idea, customer))

        try:
            ballot, cast = await cast_judged(self.store.unit_of_work, idea_id, ballot_of, thresholds)
        finally:
            if used:  # the token was used, whatever became of the vote (as on every route)
                await self.store.note_token_use(used[-1], utcnow())
        return voters[-1], await self._settle(ballot.vote, ballot.rate, cast, stored)

    def _own_vote(self, viewer: Viewer, idea_id: int, now: datetime) -> Vote:
        account = require_signed_in(viewer)
        if account.customer_id is None:
            raise Forbidden("verify your e-mail first: votes count for the customer your account "
                            "is linked to")
        return Vote(idea_id, account.customer_id, account.id, now)

    async def proxy_vote(self, viewer: Viewer, idea_id: int, customer_id: object, note: object,
                         source: object) -> VoteOutcome:
        """Staff record a vote on behalf of a customer, with a note and where it came from."""
        account = require_at_least(viewer, "team", "add proxy votes")
        if not isinstance(customer_id, str) or not customer_id.strip():
            raise BadInput("customer_id must name a customer", {"field": "customer_id"})
        if source not in PROXY_SOURCES:
            raise BadInput(f"source must be one of {', '.join(PROXY_SOURCES)}", {"field": "source"})
        text = clean_text(note if note is not None else "", "note", 2000, 0)
        vote = Vote(idea_id, customer_id.strip(), account.id, self.clock(), proxy=True,
                    proxy_note=text or None, proxy_source=source)
        return await self._add(viewer, idea_id, vote)

    def _check_open(self, viewer: Viewer, idea: Idea, doing: str) -> Idea:
        idea = self.ideas.visible(viewer, idea)
        if idea.merged_into is not None:
            raise Conflict(f"idea {idea.id} was merged into idea {idea.merged_into}; {doing} there",
                           {"merged_into": idea.merged_into})
        if idea.locked and not viewer.staff:
            raise Conflict(f"idea {idea.id} is locked")
        if idea.approval != "approved" and not viewer.staff:
            raise Conflict(f"idea {idea.id} is waiting for a moderator; {doing} once it is approved")
        return idea

    def _vote_rate(self, viewer: Viewer) -> RateWindow | None:
        if viewer.staff or viewer.account_id is None:
            return None
        return self.ideas.limits.window("votes", f"account:{viewer.account_id}")

    def _vote_check(self, viewer: Viewer) -> VoteCheck:
        weights = self.settings.impact

        def check(idea: Idea, customer: Customer | None) -> float | None:
            self._check_open(viewer, idea, "vote")
            return vote_impact(customer, weights) if self.ideas.voting_open(idea) else None

        return check

    def _thresholds(self) -> tuple[Sequence[ScoreThreshold], Callable[..., Awaitable[None]] | None]:
        # IdeaEvents has the vote record its thresholds in the vote's transaction; another
        # sink hears of the vote through idea_scored and voted.
        stored = getattr(self.events, "vote_stored", None)
        return (self.events.score_thresholds() if stored is not None else ()), stored  # type: ignore[union-attr]

    async def _add(self, viewer: Viewer, idea_id: int, vote: Vote) -> VoteOutcome:
        # Hot path (bench/forum.py): one unit of work (community.voting), over SQLite one
        # transaction and one hop to the writer thread — the idea and the customer are read,
        # checked (those of _open_idea and voting_open, in that order) and the rate count,
        # the vote and the new count written, so that what was checked still holds when the
        # vote lands.
        rate = self._vote_rate(viewer)
        thresholds, stored = self._thresholds()
        cast = await cast_vote(self.store.unit_of_work, vote, self._vote_check(viewer), rate, thresholds)
        return await self._settle(vote, rate, cast, stored)

    async def _settle(self, vote: Vote, rate: RateWindow | None, cast: VoteCast,
                      stored: Callable[..., Awaitable[None]] | None) -> VoteOutcome:
        """What follows a vote's unit of work: the rate limit's answer, closed voting, the events."""
        if rate is not None and cast.hits is not None:  # a refused vote counts against the limit too
            self.ideas.limits.check(rate, cast.hits)
        if cast.closed:
            raise Conflict(f"voting is closed on ideas that are {cast.idea.status}",
                           {"status": cast.idea.status})
        if cast.added and self.events is not None:
            if stored is not None:
                await stored(cast.idea, vote.customer_id, cast.reached)
            else:
                await self.events.idea_scored(vote.idea_id)
                voted = getattr(self.events, "voted", None)  # optional: CRM timelines, the bridge
                if voted is not None:
                    await voted(vote.idea_id, vote.customer_id)
        return VoteOutcome(vote.idea_id, True, cast.added, cast.idea.vote_count)

    async def unvote(self, viewer: Viewer, idea_id: int, customer_id: str | None = None) -> VoteOutcome:
        """Take back the viewer's customer's vote (staff: any customer's, by ``customer_id``)."""
        account = require_signed_in(viewer)
        if customer_id is not None and customer_id != account.customer_id:
            require_at_least(viewer, "team", "remove another customer's vote")
        whose = customer_id or account.customer_id
        if whose is None:
            raise Forbidden("your account is not linked to a customer, so it has no votes")
        rate = None
        if not viewer.staff and viewer.account_id is not None:
            rate = self.ideas.limits.window("votes", f"account:{viewer.account_id}")
        weights = self.settings.impact

        def check(idea: Idea, customer: Customer | None) -> float:
            self._check_open(viewer, idea, "unvote")
            return vote_impact(customer, weights)

        # One unit of work (community.voting): read, checked, counted and taken back together.
        cast = await uncast(self.store.unit_of_work, idea_id, whose, check, rate)
        if rate is not None and cast.hits is not None:
            self.ideas.limits.check(rate, cast.hits)
        return VoteOutcome(idea_id, False, cast.added, cast.idea.vote_count)

    # -- comments ---------------------------------------------------------------
    async def comment(self, viewer: Viewer, idea_id: int, body: object, parent_id: object = None,
                      internal: object = False) -> Comment:
        """A comment, a reply to a top-level comment, or (staff) an internal note."""
        account = require_signed_in(viewer)
        if not isinstance(internal, bool):
            raise BadInput("internal must be true or false", {"field": "internal"})
        if internal:
            require_at_least(viewer, "team", "write internal notes")
        await self._open_idea(viewer, idea_id, "comment")
        text = clean_text(body, "body", 10_000, 1)
        await self.ideas.count_write(viewer, "comments")
        parent = None
        if parent_id is not None and parent_id != "":
            try:
                parent = await self.store.get_comment(int(parent_id))  # type: ignore[call-overload]
            except (TypeError, ValueError):
                raise BadInput("parent_id must be a comment id", {"field": "parent_id"}) from None
            if parent.idea_id != idea_id or not self._may_see(viewer, parent):
                raise BadInput("parent_id must be a comment on this idea", {"field": "parent_id"})
            if parent.parent_id is not None:
                parent = await self.store.get_comment(parent.parent_id)  # one level: reply to the thread
        internal = internal or bool(parent and parent.internal)
        waits = self.settings.moderation.approve_comments and not viewer.staff and not internal
        return await comment_rules.add_comment(self.store, idea_id, account.id, text,
                                          parent.id if parent else None, internal, self.clock(),
                                          "pending" if waits else "approved")

    @staticmethod
    def _may_see(viewer: Viewer, comment: Comment) -> bool:
        # Staff see everything; others see approved, unhidden public comments and their own
        # comments still waiting for (or refused) approval.
        if viewer.staff:
            return True
        if comment.internal or comment.hidden:
            return False
        return comment.approval == "approved" or (
            viewer.account_id is not None and comment.author_id == viewer.account_id)

    async def comments(self, viewer: Viewer, idea_id: int) -> list[Comment]:
        """An idea's comments as ``viewer`` may see them: internal notes, hidden comments and
        others' comments waiting for approval for staff only."""
        await self.ideas.get(viewer, idea_id)
        found = await self.store.list_comments(idea_id, include_internal=viewer.staff)
        return [c for c in found if self._may_see(viewer, c)]

    async def _own_comment(self, viewer: Viewer, comment_id: int) -> Comment:
        account = require_signed_in(viewer)
        comment = await self.store.get_comment(comment_id)
        if comment.deleted or not self._may_see(viewer, comment):
            raise NotFound(f"no comment {comment_id}")
        if viewer.staff:
            return comment
        if comment.author_id != account.id:
            raise Forbidden("only the author or staff may change this comment")
        if self.clock() - comment.created_at > timedelta(minutes=self.settings.edit_window_minutes):
            raise Forbidden(f"comments can be changed for {self.settings.edit_window_minutes} minutes")
        return comment

    async def edit_comment(self, viewer: Viewer, comment_id: int, body: object) -> Comment:
        """Change a comment's text (author within the edit window, staff always)."""
        await self._own_comment(viewer, comment_id)
        return await comment_rules.edit_comment(self.store, comment_id, clean_text(body, "body", 10_000, 1),
                                           self.clock())

    async def delete_comment(self, viewer: Viewer, comment_id: int) -> None:
        """Delete a comment (its replies stay)."""
        await self._own_comment(viewer, comment_id)
        await comment_rules.delete_comment(self.store, comment_id, self.clock())

    async def follow(self, viewer: Viewer, idea_id: int, on: bool = True) -> None:
        """Follow or stop following an idea."""
        account = require_signed_in(viewer)
        await self.ideas.get(viewer, idea_id)
        await follow(self.store, idea_id, account.id, on)

    async def link_mention(self, viewer: Viewer, idea_id: int, mention_id: int) -> bool:
        """Staff link a social mention to an idea; its customer now weighs in the impact."""
        require_at_least(viewer, "team", "link mentions to ideas")
        linked = await self.store.link_mention(idea_id, mention_id)
        if linked:
            await rescore(self.store, idea_id, self.settings.impact)
            if self.events is not None:
                await self.events.idea_scored(idea_id)
        return linked
