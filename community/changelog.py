"""The public changelog: staff write entries about what shipped; everyone reads the published.

Writing is for managers and admins.  The ideas an entry ships are checked when written and
again when published: an unknown id is refused naming it, a merged idea is replaced by the
idea it was merged into.  Publishing is in ``community/changelog_publish.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from community.access import Viewer, require_at_least
from community.ideas import clean_text
from config.forum import ForumSettings
from domain import utcnow
from domain.changelog import ChangelogDraft, ChangelogEntry
from domain.forum import Idea, Role
from domain.errors import BadInput, NotFound
from storage import Store

#: Who writes and publishes the changelog.
WRITER_ROLE: Role = "manager"
_IDS_TEXT = re.compile(r"^[\d,\s#]*$")
#: A merge chain longer than this is a loop in stored data, not a real chain.
_MAX_MERGE_HOPS = 20


def parse_idea_ids(value: object, most: int) -> tuple[int, ...]:
    """Idea ids from a JSON list of integers or a form's text ("12, 15" or "#12 #15"), in the
    order given, each once; ``BadInput`` naming ``idea_ids`` otherwise."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        if not _IDS_TEXT.match(value) or len(value) > 20 * most:
            raise BadInput("idea_ids must be idea numbers separated by commas", {"field": "idea_ids"})
        value = [int(part) for part in re.findall(r"\d+", value)]
    if not isinstance(value, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in value):
        raise BadInput("idea_ids must be a list of idea ids (integers)", {"field": "idea_ids"})
    ids = tuple(dict.fromkeys(value))
    if len(ids) > most:
        raise BadInput(f"an entry ships at most {most} ideas", {"field": "idea_ids"})
    if any(not 0 < i < 2**53 for i in ids):
        raise BadInput("idea_ids must be positive ids", {"field": "idea_ids"})
    return ids


async def shipped_ideas(store: Store, idea_ids: tuple[int, ...]) -> list[Idea]:
    """The ideas ``idea_ids`` name, each merged one replaced by the idea it was merged into
    (each once, in order); ``BadInput`` naming every unknown id."""
    found = await store.get_ideas(list(idea_ids))
    unknown = [i for i in idea_ids if i not in found]
    if unknown:
        raise BadInput(f"idea_ids: no idea {', '.join(f'#{i}' for i in unknown)}",
                       {"field": "idea_ids", "unknown": unknown})
    shipped: dict[int, Idea] = {}
    for idea_id in idea_ids:
        idea = found[idea_id]
        for _ in range(_MAX_MERGE_HOPS):
            if idea.merged_into is None:
                break
            idea = await store.get_idea(idea.merged_into)
        shipped.setdefault(idea.id, idea)
    return list(shipped.values())


class Changelog:
    """Changelog rules over a store; cheap to build per request."""

    def __init__(self, store: Store, settings: ForumSettings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.settings, self.clock = store, settings, clock
        self.bounds = settings.changelog

    def _title(self, value: object) -> str:
        return clean_text(value, "title", self.bounds.title_max, 3)

    def _body(self, value: object) -> str:
        return clean_text(value, "body", self.bounds.body_max, 1)

    async def _ideas(self, value: object) -> tuple[int, ...]:
        ids = parse_idea_ids(value, self.bounds.max_ideas)
        return tuple(i.id for i in await shipped_ideas(self.store, ids))

    async def write(self, viewer: Viewer, title: object, body: object,
                    idea_ids: object = None) -> ChangelogEntry:
        """A new draft entry (managers and admins)."""
        account = require_at_least(viewer, WRITER_ROLE, "write the changelog")
        draft = ChangelogDraft(self._title(title), self._body(body), await self._ideas(idea_ids))
        return await self.store.create_changelog_entry(draft, account.id, self.clock())

    async def edit(self, viewer: Viewer, entry_id: int, fields: dict) -> ChangelogEntry:
        """Change title, body and (while a draft) the shipped ideas."""
        require_at_least(viewer, WRITER_ROLE, "edit the changelog")
        unknown = set(fields) - {"title", "body", "idea_ids"}
        if unknown:
            raise BadInput(f"unknown fields: {', '.join(sorted(unknown))}", {"fields": sorted(unknown)})
        entry = await self.store.get_changelog_entry(entry_id)
        ideas = None
        if "idea_ids" in fields:
            ideas = await self._ideas(fields["idea_ids"])
            if entry.public and ideas != entry.idea_ids:
                # Its ideas were moved and their askers told: a new entry ships more.
                raise BadInput("the ideas of a published entry cannot change; write a new entry",
                               {"field": "idea_ids"})
        draft = ChangelogDraft(
            title=self._title(fields["title"]) if "title" in fields else None,
            body=self._body(fields["body"]) if "body" in fields else None, idea_ids=ideas)
        return await self.store.update_changelog_entry(entry_id, draft, self.clock())

    async def get(self, viewer: Viewer, entry_id: int) -> ChangelogEntry:
        """One entry: drafts only for writers (``NotFound`` for everyone else)."""
        entry = await self.store.get_changelog_entry(entry_id)
        if not entry.public and not viewer.at_least(WRITER_ROLE):
            raise NotFound(f"no changelog entry {entry_id}")
        return entry

    async def browse(self, viewer: Viewer, limit: int = 20, offset: int = 0,
                     drafts: bool = False) -> tuple[list[ChangelogEntry], int]:
        """A page of entries, newest first; ``drafts`` (writers only) lists drafts first."""
        if drafts:
            require_at_least(viewer, WRITER_ROLE, "see changelog drafts")
        return await self.store.list_changelog_entries(not drafts, limit, offset)

    async def ideas_of(self, viewer: Viewer, entries: list[ChangelogEntry]) -> dict[int, Idea]:
        """The shipped ideas of ``entries`` the viewer may see, by id (hidden, unapproved and
        spam ones stay staff-only)."""
        wanted = sorted({i for e in entries for i in e.idea_ids})
        found = await self.store.get_ideas(wanted) if wanted else {}
        return {i: idea for i, idea in found.items()
                if viewer.staff or not (idea.hidden or idea.spam or idea.approval != "approved")}
