"""A name several customers share links to one of them only when the post says which: the
employer of one is named too (by name or web domain), or the author is one of them. Otherwise every reading waits for a manager."""

from __future__ import annotations

import pytest

from domain import Customer, Identity
from nlp.pipeline import build_pipeline
from tests.nlp.linking_helpers import links

REGISTRY = [
    Customer("zen", "Zentrix Labs", "company", aliases=("Zentrix",), domains=("zentrix.example",)),
    Customer("kim_z", "Alex Kim", "person", company="Zentrix Labs"),
    Customer("kim_other", "Alex Kim", "person"),
    Customer("acme", "Acme Anvils", "company"),
    Customer("berry_1", "Berry Inc", "company"),
    Customer("berry_2", "Berry Inc", "company"),
    Customer("priya", "Priya Raman", "person", company="Berry Inc",
             identities=(Identity("x", "priyaraman"),)),
]


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(REGISTRY)



@pytest.mark.parametrize("text", [
    "Alex Kim from Zentrix Labs walked us through the renewal, super clear",
    "Talked to Alex Kim at Zentrix today, the api limits are going up",
    "alex kim (zentrix.example) answered my ticket within the hour",
])
def test_shared_person_name_is_picked_by_the_employer_named_beside_it(nlp, text: str) -> None:
    found = links(nlp, text)
    assert found["kim_z"].status == "accepted" and "employer Zentrix Labs" in found["kim_z"].evidence
    assert found["kim_other"].status == "pending"


def test_shared_name_without_other_evidence_waits_for_review(nlp) -> None:
    found = links(nlp, "Alex Kim recommended Acme Anvils to our team")
    assert found["acme"].status == "accepted"
    assert found["kim_z"].status == found["kim_other"].status == "pending"


def test_an_employer_name_two_companies_share_links_neither(nlp) -> None:
    # Priya works at "Berry Inc": which of the two the registry cannot say.
    found = links(nlp, "The export is broken again", handle="priyaraman")
    assert found["priya"].rule == "author_handle"
    assert "berry_1" not in found and "berry_2" not in found

