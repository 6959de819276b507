"""Contract of the review queue page's store reads and writes: pending links, refused aliases."""

from __future__ import annotations

import dataclasses

import pytest

from domain import Analysis, CustomerLink, Mention, MentionQuery
from crm.link_decisions import refuse_alias
from domain.errors import NotFound
from storage import Store
from tests.conftest import T0, customer, post


async def test_pending_links_drop_and_refused_aliases(store: Store) -> None:
    await store.upsert_customers([customer("cus_is", "Integrated Systems", aliases=("IS",))])
    pending = CustomerLink("cus_is", 0.35, "alias", "alias 'is'", 5, 7, status="pending")
    sure = CustomerLink("cus_is", 0.9, "company_name", "name", 0, 18)
    await store.save_mentions("t", [
        Mention(post("1", "This is broken"), Analysis(links=(pending,))),
        Mention(dataclasses.replace(post("2", "Integrated Systems is great", handle="b")),
                Analysis(links=(sure, dataclasses.replace(pending, start=19, end=21)))),
    ], None)
    rows = await store.pending_links()
    assert [(r.source, r.author_handle, r.phrase, r.link.rule) for r in rows] == [
        ("x", "someone", "is", "alias"), ("x", "b", "is", "alias")]
    assert rows[0].created_at == T0 and rows[0].link.id < rows[1].link.id
    assert len(await store.pending_links(limit=1)) == 1

    # Only pending links go; the mention keeps its sure link.
    assert await store.drop_pending_links([r.link.id for r in rows[1:]] + [424242]) == 1
    assert [r.link.id for r in await store.pending_links()] == [rows[0].link.id]
    kept = {m.post.external_id: m for m in (await store.list_mentions(MentionQuery())).items}
    assert [k.rule for k in kept["2"].analysis.links] == ["company_name"]
    assert await store.drop_pending_links([]) == 0

    assert await refuse_alias(store, "cus_is", " IS ", "account:1", T0) is True
    assert await refuse_alias(store, "cus_is", "is", "account:2", T0) is False  # the same alias
    refused = await store.refused_aliases()
    assert [(r.customer_id, r.alias, r.refused_by, r.refused_at) for r in refused] == [
        ("cus_is", "IS", "account:1", T0)]
    assert await store.get_meta("customers_changed_at") is not None
    with pytest.raises(NotFound):
        await refuse_alias(store, "cus_nobody", "x", "operator", T0)
