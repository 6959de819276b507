"""Names as people write them on social media: hashtags, run-together handles and addresses,
hyphens, line breaks, missing accents, possessives and capitals; and everyday words that are
not the customer (word sense from a shipped frequency list, names inside longer names)."""

from __future__ import annotations

import pytest

from domain import Customer, Identity
from nlp.pipeline import analyse_posts, build_pipeline
from nlp.wordsense import WordSense, ambiguity_report, fold, squash, without_legal_suffix
from tests.conftest import post

REGISTRY = [
    Customer("acme", "Acme Anvils", "company", aliases=("Acme",), identities=(Identity("x", "acme_hq"),)),
    Customer("kramer", "Kramer Ltd", "company"),
    Customer("hm", "Hall-Martinez", "company"),
    Customer("bolt", "Bolt Technologies", "company", aliases=("Bolt",)),
    Customer("square", "Square Health", "company"),
    Customer("anna", "Anna Grünewald", "person"),
    Customer("patrick", "Patrick Harris", "person"),
    Customer("jerry", "Jerry West", "person"),
    Customer("summer", "Summer Day", "person"),
    Customer("priya", "Priya Raman", "person"),
    Customer("zen", "Zentrix Labs", "company", aliases=("Zentrix",)),
    Customer("is", "Infinite Sums", "company", aliases=("IS",)),
    Customer("allen", "Allen PLC", "company"),
    Customer("allen_group", "Allen PLC Group", "company"),
]


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(REGISTRY)


def accepted(nlp, text: str) -> dict[str, object]:
    """Customer id → strongest accepted link of a post with ``text``."""
    (analysis,) = analyse_posts(nlp, [post(text=text, handle="somebody")])
    out: dict[str, object] = {}
    for link in analysis.links:
        if link.status == "accepted":
            out.setdefault(link.customer_id, link)
    return out


def all_links(nlp, text: str) -> dict[str, object]:
    (analysis,) = analyse_posts(nlp, [post(text=text, handle="somebody")])
    return {k.customer_id: k for k in analysis.links}


@pytest.mark.parametrize("tag", ["#AcmeAnvils", "#acmeanvils", "#Acme_Anvils", "#ACMEANVILS"])
def test_hashtag_of_a_company_name_links_with_hashtag_evidence(nlp, tag: str) -> None:
    text = f"new drop from {tag} is out 🔥"
    link = accepted(nlp, text)["acme"]
    assert link.rule == "hashtag" and "hashtag" in link.evidence
    assert text[link.start:link.end] == tag


def test_hashtag_without_the_legal_suffix_links_only_when_the_rest_is_distinctive(nlp) -> None:
    assert accepted(nlp, "shoutout #KramerLtd for the quick fix")["kramer"].rule == "hashtag"
    # "kramer" alone is a surname (and a sitcom character): not this customer.
    assert "kramer" not in all_links(nlp, "this is such a #kramer moment lol")
    # "#bolt" is a word; "#zentrix" (an invented word) is distinctive.
    assert "bolt" not in accepted(nlp, "lightning #bolt over the lake")
    assert accepted(nlp, "loving the new release #zentrix")["zen"].rule == "hashtag"


def test_handles_and_addresses_that_spell_a_name(nlp) -> None:
    handle = accepted(nlp, "@acmeanvils when is the export coming back?")["acme"]
    assert handle.rule == "spelt_handle" and "no customer's handle" in handle.evidence
    assert accepted(nlp, "@kramerltd hello?")["kramer"].rule == "spelt_handle"
    domain = accepted(nlp, "pricing on https://www.acmeanvils.com/pricing changed again")["acme"]
    assert domain.rule == "spelt_domain"
    # A registered handle is still the handle rule, not a spelling.
    assert "acme" not in {k.customer_id for k in all_links(nlp, "@acme_hq hi").values()
                          if k.rule == "spelt_handle"}


@pytest.mark.parametrize(("text", "customer"), [
    ("hall-martinez shipped the wrong part again", "hm"),
    ("Hall Martinez shipped the wrong part again", "hm"),
    ("Kramer Ltd's support line is down", "kramer"),
    ("KRAMER LTD STILL HASN'T REFUNDED ME", "kramer"),
    ("We moved our clinic to Square\nHealth last week", "square"),
    ("Call with Anna Grunewald about the renewal", "anna"),
    ("Call with ANNA GRÜNEWALD about the renewal", "anna"),
])
def test_everyday_spellings_of_names(nlp, text: str, customer: str) -> None:
    assert customer in accepted(nlp, text)


def test_name_inside_a_longer_capitalised_name_is_someone_else(nlp) -> None:
    assert "patrick" not in all_links(nlp, "Loved Neil Patrick Harris in that show")
    assert "patrick" in accepted(nlp, "Our account manager Patrick Harris sorted the invoice")
    # The longest registered name wins.
    assert set(accepted(nlp, "Allen PLC Group sent the contract")) == {"allen_group"}


def test_common_words_need_a_cue(nlp) -> None:
    # A famous person who shares a customer's name goes to review, not straight through.
    jerry = all_links(nlp, "Jerry West to be featured on HBO")["jerry"]
    assert jerry.status == "pending" and "public figure" in jerry.evidence
    priya = all_links(nlp, "Priya Raman spotted at the Oscars")["priya"]
    assert priya.status == "pending"
    plain = all_links(nlp, "Jerry West said hi")["jerry"]
    assert plain.status == "pending" and "common name" in plain.evidence
    assert "jerry" in accepted(nlp, "Jerry West from our customer team renewed the contract")
    assert "summer" not in all_links(nlp, "what a lovely summer day at the beach")
    assert "square" not in accepted(nlp, "went to the square health fair yesterday")
    assert "square" in accepted(nlp, "Switched our clinic to Square Health last month")
    # A distinctive person's name needs no cue.
    assert "priya" in accepted(nlp, "Priya Raman is brilliant")
    assert "is" not in accepted(nlp, "THIS IS NOT OK")
    # At a sentence start, a business word somewhere near is not enough; a service word right after is.
    assert "bolt" not in accepted(nlp, "Bolt team fixed the roof before the storm")
    # An everyday word with customer-service words is right too rarely to go through
    # (nlp/calibration.py: "ambiguous_with_service_cue"): it links and waits for a manager.
    bolt = all_links(nlp, "Bolt support never answered my ticket")["bolt"]
    assert bolt.status == "pending" and "business context" in bolt.evidence
    assert all_links(nlp, "Bolt Labs sent the invoice")["bolt"].status == "pending"
    # Capitalised only because a clause starts there, business words or not.
    assert "bolt" not in accepted(nlp, "Priya Raman: Bolt of a manager, that one")
    # Capitalised only because a line starts there: an everyday word, no link at all.
    assert "bolt" not in all_links(nlp, "what a storm last night\nBolt of lightning hit the tree")


def test_folding_keeps_offsets_and_spellings() -> None:
    text = "Grünewald\nHall-Martinez"
    assert len(fold(text)) == len(text) and fold(text) == "Grunewald Hall Martinez"
    assert squash("#Acme_Anvils") == "acmeanvils" == squash("Acme-Anvils")
    assert without_legal_suffix("Kramer Ltd") == "kramer"
    assert without_legal_suffix("Smith and Sons") == "smith"
    assert without_legal_suffix("Zentrix") is None


def test_word_sense_comes_from_the_frequency_list() -> None:
    sense = WordSense(("en", "de"))
    assert sense.is_common("bolt") and sense.is_common("kramer") and sense.is_common("und")
    assert not sense.is_common("zentrix") and not sense.is_common("larkspur")
    # A language wordfreq has no list for adds nothing (and does not fail).
    assert WordSense(("xx",)).is_common("bolt")


def test_registry_import_flags_ambiguous_names_with_the_reason() -> None:
    report = {(a.customer_id, a.phrase): a.reason for a in ambiguity_report(REGISTRY)}
    assert "common word" in report[("bolt", "Bolt")]
    assert "two letters" in report[("is", "IS")]
    assert "common" in report[("jerry", "Jerry West")]
    assert ("zen", "Zentrix") not in report and ("priya", "Priya Raman") not in report
    assert ("acme", "Acme Anvils") not in report
