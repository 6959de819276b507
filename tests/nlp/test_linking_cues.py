"""Common person names as customers really write them: in lower case or as a hashtag, with
words of customer service in the post (accepted), or among news and entertainment words
(review); titled names written as one hashtag across their dots (``#Mr._James_Baldwin_PhD``).

Every name here is all common words (wordfreq), so none links on its name alone."""

from __future__ import annotations

import pytest

from domain import Customer
from nlp.pipeline import build_pipeline
from tests.nlp.linking_helpers import links

REGISTRY = [
    Customer("cheryl", "Cheryl Reynolds", "person"),
    Customer("kathryn", "Kathryn Hernandez", "person"),
    Customer("tammy", "Tammy Huff", "person"),
    Customer("baldwin", "Mr. James Baldwin PhD", "person"),
    Customer("kitzmann", "Dipl.-Ing. Hildegart Kitzmann MBA", "person"),
    Customer("acme", "Acme Anvils", "company", aliases=("Acme",)),
]


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(REGISTRY)



@pytest.mark.parametrize(("text", "customer"), [
    ("just got off a call with cheryl reynolds about the renewal, went well", "cheryl"),
    ("tammy huff from their billing side sorted the refund in a day", "tammy"),
    ("anyone know if kathryn hernandez still handles the api docs over there?", "kathryn"),
    # The cue five words after a possessive name: the "'s" is the name's, not a word.
    ("Shoutout to Tammy Huff's quick work sorting our invoice", "tammy"),
    # Product words that are no generic business word ("csv", "export").
    ("Cheryl Reynolds walked us through the csv export", "cheryl"),
])
def test_common_person_name_with_customer_service_words_is_accepted(nlp, text: str, customer: str) -> None:
    link = links(nlp, text)[customer]
    assert link.status == "accepted", link.evidence


@pytest.mark.parametrize(("text", "customer"), [
    ("cheryl reynolds is so funny lol", "cheryl"),
    ("Cheryl Reynolds said hi at the school gate", "cheryl"),
    # Words of customer service, but around a public figure of that name.
    ("Tammy Huff interview on the new season: she talks about her account of the tour", "tammy"),
    ("Seen this? #KathrynHernandez premiere tonight on HBO, support the film", "kathryn"),
    # A hashtag with nothing about being anyone's customer.
    ("What a sunset tonight #kathrynhernandez", "kathryn"),
])
def test_common_person_name_without_a_customer_cue_waits_for_review(nlp, text: str, customer: str) -> None:
    found = links(nlp, text)
    assert customer not in found or found[customer].status == "pending"


@pytest.mark.parametrize("text", [
    "Refund finally came through after three tickets #kathrynhernandez",
    "#KathrynHernandez sorted our billing mess in one call, legend",
    "Onboarding call done, thanks #Kathryn_Hernandez!",
])
def test_person_hashtag_with_customer_service_words_in_the_post_is_accepted(nlp, text: str) -> None:
    link = links(nlp, text)["kathryn"]
    assert link.rule == "hashtag" and link.status == "accepted", link.evidence


# A title and a degree do not make a common name rare ("Mr.", "PhD" are common words too):
# "Mr. James Baldwin PhD" without customer-service words waits for review like "James Baldwin".
@pytest.mark.parametrize(("text", "customer", "tag", "status"), [
    ("Nature good method. #Mr._James_Baldwin_PhD", "baldwin", "#Mr._James_Baldwin_PhD", "pending"),
    ("shoutout #Dipl._Ing._Hildegart_Kitzmann_MBA. for the fix", "kitzmann",
     "#Dipl._Ing._Hildegart_Kitzmann_MBA", "accepted"),
    ("#Mr.JamesBaldwinPhD answered within the hour", "baldwin", "#Mr.JamesBaldwinPhD", "pending"),
    ("#Mr.JamesBaldwinPhD answered my support ticket within the hour", "baldwin", "#Mr.JamesBaldwinPhD",
     "accepted"),
])
def test_titled_name_hashtag_reads_on_past_the_dots(nlp, text: str, customer: str, tag: str,
                                                     status: str) -> None:
    link = links(nlp, text)[customer]
    assert link.rule == "hashtag" and link.status == status, link.evidence
    assert text[link.start:link.end] == tag


def test_a_dot_after_a_hashtag_that_spells_no_longer_name_keeps_the_platforms_tag(nlp) -> None:
    text = "new anvils from #AcmeAnvils.Great stuff"
    link = links(nlp, text)["acme"]
    assert link.rule == "hashtag" and text[link.start:link.end] == "#AcmeAnvils"
    # A sentence's full stop after a tag is no part of it.
    assert links(nlp, "ordered from #AcmeAnvils. Again.")["acme"].status == "accepted"
