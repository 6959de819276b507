"""The moderation queue's rule, on both backends: a comment deleted (by its author) while it
waited for approval no longer waits for a moderator; storage reads it when asked."""

from __future__ import annotations

from community.access import Viewer
from community.moderation import Moderation
from config.forum import ForumSettings
from domain.forum import NewIdea
from storage import Store
from tests.conftest import T0
from tests.forum_rules import add_comment, create_idea, delete_comment


async def test_a_comment_deleted_while_waiting_leaves_the_queue(store: Store,
                                                                forum_settings: ForumSettings) -> None:
    author = await store.create_account("jo@example.com", "Jo", None)
    team = await store.create_account("mod@crm.example", "Mod", None, "team")
    idea = await create_idea(store, NewIdea("Export to CSV", "", author.id, "open"), T0)
    regretted = await add_comment(store, idea.id, author.id, "buy cheap watches http://spam.example",
                                  None, False, T0, "pending")
    waiting = await add_comment(store, idea.id, author.id, "Please add Excel too", None, False, T0, "pending")
    await delete_comment(store, regretted.id, T0)

    queue = await Moderation(store, forum_settings).queue(Viewer(account=team, role="team", via="session"))
    assert [c.id for c in queue.comments] == [waiting.id]
    # The read itself leaves the choice to its caller.
    both = await store.unapproved_comments(deleted=True)
    assert [(c.id, c.deleted) for c in both] == [(regretted.id, True), (waiting.id, False)]
