"""Store contract: idea search matches word forms ("invoice" finds "invoices", "invoicing"),
on SQLite (FTS5 porter tokenizer) and MongoDB (stemmed copies under a text index) alike."""

from __future__ import annotations

from community.similar import SUGGESTED
from domain import utcnow
from domain.forum import IdeaPatch, IdeaQuery, NewIdea
from tests.forum_rules import create_idea


async def _titles(store, text: str) -> list[str]:
    ideas, total = await store.list_ideas(IdeaQuery(text=text, sort="new"))
    assert total == len(ideas)
    return sorted(i.title for i in ideas)


async def test_search_finds_other_forms_of_a_word(store) -> None:
    author = await store.create_account("pm@crm.example", "Pm", None, "team")
    for title, body in [("Export invoices as CSV", "Finance asks every month."),
                        ("Invoicing in bulk", ""),
                        ("Dark mode", "Our invoice screen is too bright at night."),
                        ("Slack alerts", "Ping us when something spikes.")]:
        await create_idea(store, NewIdea(title, body, author.id, "open"), utcnow())
    both = ["Dark mode", "Export invoices as CSV", "Invoicing in bulk"]
    assert await _titles(store, "invoice") == both
    assert await _titles(store, "Invoices") == both
    assert await _titles(store, "invoiced") == both
    assert await _titles(store, "exporting invoice") == ["Export invoices as CSV"]  # every word needed
    assert await _titles(store, "spike") == ["Slack alerts"]
    # What people really type: quotes, operators, stray punctuation: plain words, never syntax.
    assert await _titles(store, '"invoice" OR * NEAR(') == []  # "or", "near" are words too
    assert await _titles(store, 'invoice" -dark') == ["Dark mode"]  # words: invoice, dark
    assert await _titles(store, "***") == []
    hits = await store.idea_titles_matching("invoice export", 5, SUGGESTED)
    assert hits and hits[0][1] == "Export invoices as CSV"


async def test_search_follows_an_edited_title(store) -> None:
    author = await store.create_account("pm@crm.example", "Pm", None, "team")
    idea = await create_idea(store, NewIdea("Dark mode", "", author.id, "open"), utcnow())
    await store.update_idea(idea.id, IdeaPatch(title="Scheduled reports by e-mail"), utcnow())
    assert await _titles(store, "report") == ["Scheduled reports by e-mail"]
    assert await _titles(store, "dark") == []
    await store.update_idea(idea.id, IdeaPatch(body="Weekly exports of invoices"), utcnow())
    assert await _titles(store, "invoice weekly") == ["Scheduled reports by e-mail"]
