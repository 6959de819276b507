"""A manager's confirmation or rejection is taught to the running gazetteer in place.

Rebuilding 100k customers for one new alias took seconds; ``teach_pipeline`` adds the
alias or handle to the existing indexes instead.  Whatever it adds must link exactly as
a pipeline built from scratch with the updated records would.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from domain import Identity, LinkNegative, RawPost
from nlp.phrases import PhraseIndex
from nlp.pipeline import analyse_posts, build_pipeline
from nlp.runner import Analyzer, teach_pipeline
from tests.conftest import acme_customers, post

# Realistic posts around what is taught: case, punctuation, a typo, an address, a
# handle on another platform, the alias inside a longer name, a rejected author.
POSTS = [
    post("1", "ROADRUNNER ANVIL CO. shipped us a dented anvil 😡", handle="wile"),
    post("2", "anyone else on roadrunner anvil co? support never answers", handle="coyote"),
    post("3", "Roadrunner Anvl Co lost my order again", handle="beep"),
    post("4", "Roadrunner Anvil Corporation is someone else entirely", handle="other"),
    post("5", "mail me at roadrunner.anvil.co@mail.example", handle="mailer"),
    post("6", "hey @acme_official can you look at ticket 4411?", source="bluesky", handle="ops"),
    post("7", "posting from my new account", source="bluesky", handle="acme_official"),
    post("8", "jo here, new handle", source="hackernews", handle="jrivera"),
    post("9", "acme is ok I guess", handle="newbie"),
    post("10", "acme is ok I guess", handle="someone_else"),
]


def taught_registry():
    acme, jo, target = acme_customers()
    acme2 = replace(acme, aliases=(*acme.aliases, "Roadrunner Anvil Co"),
                    identities=(*acme.identities, Identity("bluesky", "acme_official")))
    jo2 = replace(jo, identities=(*jo.identities, Identity("hackernews", "jrivera")))
    return [acme2, jo2, target]


NEGATIVES = (LinkNegative("cus_acme", "x", "newbie", "acme"),)


def links(nlp, posts: list[RawPost]) -> list[set[tuple]]:
    return [{(k.customer_id, k.rule, k.confidence, k.evidence, k.start, k.end, k.status) for k in a.links}
            for a in analyse_posts(nlp, posts)]


def test_taught_pipeline_links_like_one_built_from_the_updated_registry() -> None:
    taught = build_pipeline(acme_customers())
    linker = taught.get_pipe("customer_linker")
    before = links(taught, POSTS)
    assert teach_pipeline(taught, taught_registry()[:2], NEGATIVES)
    fresh = build_pipeline(taught_registry(), negatives=NEGATIVES)
    after = links(taught, POSTS)
    assert after == links(fresh, POSTS)
    assert after != before
    assert ("cus_acme", "alias") in {(c, r) for c, r, *_ in after[0]}
    assert ("cus_acme", "author_handle") in {(c, r) for c, r, *_ in after[6]}
    assert all(c != "cus_acme" for c, *_ in after[8])
    # The phrase automaton of the whole gazetteer was built once, at build time.
    assert linker.names.builds == 1


def test_a_change_that_is_not_an_addition_is_refused_whole() -> None:
    nlp = build_pipeline(acme_customers())
    acme, jo, _ = taught_registry()
    renamed = replace(acme, name="Acme Anvils & Rockets")
    unknown = replace(jo, id="cus_new")
    shrunk = replace(acme_customers()[0], aliases=())
    for batch in ([jo, renamed], [unknown], [shrunk]):
        assert not teach_pipeline(nlp, batch, None)
    # Nothing of a refused batch was applied (jo's new handle came with the rename).
    (a,) = analyse_posts(nlp, [POSTS[7]])
    assert ("cus_jo", "author_handle") not in {(k.customer_id, k.rule) for k in a.links}


def test_phrases_learned_late_fold_into_the_main_automaton() -> None:
    index: PhraseIndex[str] = PhraseIndex()
    index.LATE_LIMIT = 3
    index.add("acme anvils", "a")
    assert list(index.find("acme anvils")) == [(0, 11, ["a"])]
    index.add("anvils", "late")          # a new phrase: the small automaton
    index.add("Acme  Anvils", "b")        # a known phrase: its list grows in place
    assert index.builds == 1
    assert list(index.find("acme anvils")) == [(0, 11, ["a", "b"]), (5, 11, ["late"])]
    index.add("rockets", "r")
    index.add("wile e", "w")              # third late phrase: folded
    assert index.builds == 1 and len(index) == 4
    assert [v for *_, v in index.find("wile e bought acme anvils and rockets")] == [
        ["w"], ["a", "b"], ["late"], ["r"]]
    assert index.builds == 2


@pytest.mark.parametrize("workers", [0, 1])
async def test_analyzer_learns_without_a_rebuild(workers: int) -> None:
    analyzer = Analyzer(workers=workers, batch_size=8)
    await analyzer.start(acme_customers())
    try:
        assert await analyzer.learn(taught_registry()[:1], NEGATIVES)
        first, *_, rejected, other = await analyzer.analyse(POSTS)
        assert ("cus_acme", "alias") in {(k.customer_id, k.rule) for k in first.links}
        assert all(k.customer_id != "cus_acme" for k in rejected.links)
        assert [k.customer_id for k in other.links] == ["cus_acme"]
        # A second rejection (the store's full list again) reaches the worker that already
        # took the first lesson.
        assert await analyzer.learn([], (*NEGATIVES, LinkNegative("cus_acme", "x", "someone_else", "acme")))
        *_, rejected, other = await analyzer.analyse(POSTS)
        assert all(k.customer_id != "cus_acme" for k in rejected.links + other.links)
        assert analyzer.builds == 1
        # A rename needs the full build: refused, and the caller reloads.
        assert not await analyzer.learn([replace(acme_customers()[0], name="Acme Rockets")])
    finally:
        await analyzer.close()


async def test_a_lesson_during_a_reload_reaches_the_new_pipeline() -> None:
    # A confirmation while the customer watch reloads (another process imported customers):
    # taught to the pipeline being replaced, the alias would be lost.
    analyzer = Analyzer(workers=0)
    await analyzer.start(acme_customers())
    try:
        reload = asyncio.create_task(analyzer.start(acme_customers()))
        await asyncio.sleep(0)  # the reload is under way
        assert await analyzer.learn(taught_registry()[:1])
        await reload
        (first,) = await analyzer.analyse(POSTS[:1])
        assert ("cus_acme", "alias") in {(k.customer_id, k.rule) for k in first.links}
    finally:
        await analyzer.close()


# Aliases as managers type them from a confirmed mention: accents, capitals, hyphens.
HOSTILE_ALIASES = ("Société Générale d'Électricité", "GRÜNEWALD-BÄCKEREI", "Łódź Öko Werke",
                   "Zoë")
# Posts as people write those names: without accents, in lower case or capitals, over a
# line break, run together as a hashtag or a handle, with a typo.
HOSTILE_POSTS = [
    post("h1", "societe generale d'electricite cut our power again, support?", handle="a1"),
    post("h2", "Société Générale d’Électricité finally answered", handle="a2"),
    post("h3", "GRUNEWALD BACKEREI sold me stale bread", handle="a3"),
    post("h4", "grünewald\nbäckerei has the best rolls", handle="a4"),
    post("h5", "love #GrunewaldBackerei and #grünewaldbäckerei", handle="a5"),
    post("h6", "ping @lodzokowerke about the invoice", handle="a6"),
    post("h7", "Lodz Oko Werke shipped late, again", handle="a7"),
    post("h8", "Grunewald Backerai never replied to my ticket", handle="a8"),
    post("h9", "ZOE from support was great", handle="a9"),
    post("h10", "zoe is a lovely name", handle="a10"),
]


def test_learned_aliases_link_like_a_rebuild_on_accents_capitals_and_hyphens() -> None:
    base = acme_customers()
    taught = build_pipeline(base)
    acme = base[0]
    updated = [replace(acme, aliases=(*acme.aliases, *HOSTILE_ALIASES)), *base[1:]]
    assert teach_pipeline(taught, updated[:1], None)
    fresh = build_pipeline(updated)
    learned, rebuilt = links(taught, HOSTILE_POSTS), links(fresh, HOSTILE_POSTS)
    for p, got, want in zip(HOSTILE_POSTS, learned, rebuilt):
        assert got == want, p.text
    # The comparison is not of two empty results: the folded spellings do link.
    linked = {p.external_id for p, found in zip(HOSTILE_POSTS, rebuilt)
              if any(c == "cus_acme" for c, *_ in found)}
    assert {"h1", "h2", "h3", "h4", "h5", "h7"} <= linked
