"""The customer search on every backend: a word prefix of name, company, e-mail or handle,
folded (case and accents do not count), ranked (the name itself, then names starting with
the query, then the rest), and plain text whatever a user types."""

from __future__ import annotations

import pytest

from domain import Customer, Identity
from storage import Store
from tests.conftest import customer

REGISTRY = [
    customer("c_anna", "Anna Smith", kind="person", company="Nordwind Logistik",
             emails=("anna.smith@nordwind.example",), identities=(Identity("x", "anna_sm"),)),
    customer("c_joanne", "Joanne Baker", kind="person", emails=("jb@bakery.example",)),
    customer("c_jose", "José Álvarez", kind="person", company="Café Düsseldorf GmbH",
             identities=(Identity("mastodon", "@pepe@social.example"),)),
    customer("c_emile", "Émile Zola-Dupont", kind="person"),
    customer("c_ann", "Ann", kind="person", company="Smithson & Sons"),
    customer("c_annex", "Annex Storage", company="Annex Storage Ltd"),
    customer("c_obrien", "Siobhán O'Brien", kind="person", emails=("SIOBHAN@Example.IE",)),
    customer("c_pct", "100% Juice Co", company="Juice_Works"),
]


async def names(store: Store, text: str, limit: int = 50) -> list[str]:
    return [c.name for c in (await store.list_customers(text, limit)).items]


@pytest.fixture
async def registry(store: Store) -> Store:
    await store.upsert_customers(REGISTRY)
    return store


async def test_a_term_matches_the_start_of_any_word_not_the_middle(registry: Store) -> None:
    # "ann" begins "Ann", "Anna" and "Annex", not "Joanne": a word prefix, not a substring.
    assert await names(registry, "ann") == ["Ann", "Anna Smith", "Annex Storage"]
    assert await names(registry, "smith") == ["Ann", "Anna Smith"]  # a company word counts too
    assert await names(registry, "baker") == ["Joanne Baker"]
    assert await names(registry, "oanne") == []


async def test_every_term_must_match_a_word(registry: Store) -> None:
    assert await names(registry, "anna nord") == ["Anna Smith"]
    assert await names(registry, "smith anna") == ["Anna Smith"]
    assert await names(registry, "anna zola") == []


async def test_case_and_accents_do_not_count(registry: Store) -> None:
    assert await names(registry, "jose") == ["José Álvarez"]
    assert await names(registry, "ALVAREZ") == ["José Álvarez"]
    assert await names(registry, "emile") == ["Émile Zola-Dupont"]
    assert await names(registry, "ÉMILE") == ["Émile Zola-Dupont"]
    assert await names(registry, "dusseldorf") == ["José Álvarez"]
    assert await names(registry, "siobhan") == ["Siobhán O'Brien"]
    assert await names(registry, "Cafe\u0301") == ["José Álvarez"]  # the accent typed as a combining mark
    assert await names(registry, "An\u200bna") == ["Anna Smith"]  # a zero-width space pasted in


async def test_a_name_typed_in_full_ranks_by_its_start(registry: Store) -> None:
    assert await names(registry, "anna sm") == ["Anna Smith"]
    assert await names(registry, "Siobhán O'B") == ["Siobhán O'Brien"]


async def test_e_mail_and_handles_find_their_customer(registry: Store) -> None:
    assert await names(registry, "anna.smith@nord") == ["Anna Smith"]
    assert await names(registry, "nordwind.example") == ["Anna Smith"]
    assert await names(registry, "siobhan@example.ie") == ["Siobhán O'Brien"]
    assert await names(registry, "@anna_sm") == ["Anna Smith"]
    assert await names(registry, "pepe") == ["José Álvarez"]
    assert await names(registry, "example") == ["José Álvarez", "Siobhán O'Brien"]
    # The top-level domain alone is no word of an address: it would match every customer.
    assert await names(registry, "ie") == []


async def test_hyphenated_and_apostrophe_names(registry: Store) -> None:
    assert await names(registry, "dupont") == ["Émile Zola-Dupont"]
    assert await names(registry, "zola-du") == ["Émile Zola-Dupont"]
    assert await names(registry, "o'bri") == ["Siobhán O'Brien"]
    assert await names(registry, "brien") == ["Siobhán O'Brien"]


async def test_the_name_itself_ranks_first_then_names_starting_with_the_query(store: Store) -> None:
    await store.upsert_customers([
        customer("c1", "Aaron Marsh", kind="person", company="Marshmallow Ltd"),
        customer("c2", "Marsh", kind="person"),
        customer("c3", "Marsha Klein", kind="person"),
        customer("c4", "Ben Marshall", kind="person"),
    ])
    assert await names(store, "marsh") == ["Marsh", "Marsha Klein", "Aaron Marsh", "Ben Marshall"]


async def test_pages_continue_across_the_ranks(store: Store) -> None:
    people = [customer(f"p{i:02d}", f"Kim Number{i:02d}", kind="person") for i in range(5)]
    people += [customer(f"q{i:02d}", f"Lee Kimball{i:02d}", kind="person") for i in range(4)]
    await store.upsert_customers(people)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = await store.list_customers("kim", 2, cursor)
        assert len(page.items) <= 2
        seen += [c.id for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"p{i:02d}" for i in range(5)] + [f"q{i:02d}" for i in range(4)]


@pytest.mark.parametrize("hostile", [
    "%", "_", "%%", "100%_", "\\", ".*", "^a", "a|b", "(", "[a-z]+", "$where", '"', '"anna', "*",
    "ann*", "NEAR(anna smith)", "anna AND smith OR", "{\"$gt\": \"\"}", "' OR 1=1 --", "\u0000",
    "\U0010ffff", "   ", "@", "anna\nsmith",
])
async def test_hostile_input_is_plain_text(registry: Store, hostile: str) -> None:
    found = await names(registry, hostile)
    # No operator of any engine: punctuation matches nothing, and words match only as words.
    expected = {
        # The caret is trimmed like "@": names starting with "a", then a word (Álvarez).
        "^a": ["Ann", "Anna Smith", "Annex Storage", "José Álvarez"],
        '"anna': ["Anna Smith"], "ann*": ["Ann", "Anna Smith", "Annex Storage"],
        "NEAR(anna smith)": [], "anna AND smith OR": [], "anna\nsmith": ["Anna Smith"],
        "100%_": ["100% Juice Co"],
    }.get(hostile, [])
    assert found == expected


async def test_a_long_query_is_answered(registry: Store) -> None:
    assert await names(registry, "anna " * 2000) == ["Anna Smith"]
    assert await names(registry, "a" * 10_000) == []


async def test_deleted_and_merged_customers_are_gone_from_results(registry: Store) -> None:
    async def merge(uow: object) -> None:
        # A CRM merge: the survivor takes the loser's address and handle, the loser goes.
        survivor = Customer(**{**_fields(REGISTRY[0]), "emails": ("anna.smith@nordwind.example",
                                                                   "jb@bakery.example"),
                               "identities": (Identity("x", "anna_sm"), Identity("x", "jbaker"))})
        await uow.customer_edits.put(survivor, _now())  # type: ignore[attr-defined]
        await uow.customer_edits.delete("c_joanne")  # type: ignore[attr-defined]

    await registry.unit_of_work().run(merge)
    assert await names(registry, "joanne") == []
    assert await names(registry, "jb@bakery") == ["Anna Smith"]
    assert await names(registry, "jbaker") == ["Anna Smith"]
    await registry.unit_of_work().run(lambda uow: uow.customer_edits.delete("c_annex"))
    assert await names(registry, "ann") == ["Ann", "Anna Smith"]


async def test_a_renamed_customer_is_found_by_its_new_name_only(registry: Store) -> None:
    await registry.upsert_customers([customer("c_annex", "Vault Storage", company=None)])
    assert await names(registry, "annex") == []
    assert await names(registry, "vault") == ["Vault Storage"]


async def test_a_handle_added_later_finds_its_customer(registry: Store) -> None:
    await registry.unit_of_work().run(
        lambda uow: uow.customer_edits.add_handle("c_emile", Identity("reddit", "u_nana_fan")))
    assert await names(registry, "nana") == ["Émile Zola-Dupont"]


def _fields(c: Customer) -> dict[str, object]:
    return {f: getattr(c, f) for f in Customer.__slots__}  # type: ignore[attr-defined]


def _now():  # type: ignore[no-untyped-def]
    from tests.conftest import T0
    return T0
