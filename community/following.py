"""Following an idea (its followers hear of its status changes), written once over the unit of
work: both backends run it.  Authors, voters and commenters follow by the rules of those
writes (``community.voting``, ``community.comments``); this is an account choosing to."""

from __future__ import annotations

from storage import Store
from storage.contract.uow import UnitOfWork


async def follow_in(uow: UnitOfWork, idea_id: int, account_id: int, on: bool = True) -> None:
    """The account follows the idea (``on``) or stops following it; ``NotFound`` for an idea
    that does not exist."""
    await uow.ideas.get(idea_id)
    if on:
        await uow.followers.add(idea_id, [account_id])
    else:
        await uow.followers.remove(idea_id, [account_id])


async def follow(store: Store, idea_id: int, account_id: int, on: bool = True) -> None:
    """``follow_in`` in a unit of work of its own."""
    await store.unit_of_work().run(lambda uow: follow_in(uow, idea_id, account_id, on))
