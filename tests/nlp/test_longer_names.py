"""A customer's name inside someone else's longer name is not that customer; the longest
registered name wins.

"Neil Patrick Harris" holds the customer "Patrick Harris". Mid-sentence the capital of
"Neil" gives it away; at a sentence's start, after a quote mark and in a headline in
capitals it does not, so there the word before must be a registered person's first name
(a registry of people holds the common ones: here "Neil Barker" and "Maria Lopez")."""

from __future__ import annotations

import pytest

from domain import Customer
from nlp.pipeline import build_pipeline
from tests.nlp.linking_helpers import links

REGISTRY = [
    Customer("patrick", "Patrick Harris", "person"),
    Customer("neil", "Neil Barker", "person"),
    Customer("maria", "Maria Lopez", "person"),
    Customer("jordan", "Jordan Lee", "person"),
    Customer("allen", "Allen PLC", "company"),
    Customer("allen_group", "Allen PLC Group", "company"),
    Customer("acme", "Acme Anvils", "company", aliases=("Acme",)),
]


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(REGISTRY)



@pytest.mark.parametrize("text", [
    "Neil Patrick Harris joins the cast of the Beetlejuice sequel",
    "Neil Patrick Harris's new special drops on Friday and I'm here for it",
    "Neil Patrick Harris' performance tonight was unreal",
    "So excited: Neil Patrick Harris is hosting again!!",
    "\"Neil Patrick Harris is a national treasure\" — my mum, every Christmas",
    "“Neil Patrick Harris” is trending and I'm scared to click",
    "RT @broadwayworld: Neil Patrick Harris returns to Broadway this fall",
    "NEIL PATRICK HARRIS JOINS THE CAST OF HOW I MET YOUR FATHER",
    "BREAKING: NEIL PATRICK HARRIS TO HOST THE TONYS AGAIN",
    "lol NEIL PATRICK HARRIS'S face in that trailer 😂",
    "Loved Neil Patrick Harris in that show",
    "Watched Maria Patrick Harris's panel at the con, hilarious",
])
def test_name_inside_a_longer_name_links_no_one(nlp, text: str) -> None:
    assert "patrick" not in links(nlp, text)


@pytest.mark.parametrize("text", [
    "Patrick Harris sorted our invoice today, great support",
    "PATRICK HARRIS SORTED OUR INVOICE IN TEN MINUTES",
    "THANKS PATRICK HARRIS FOR THE QUICK REPLY ON THE RENEWAL",
    "Today Patrick Harris walked us through the new billing export",
    "Our account manager Patrick Harris's reply came within the hour",
    "Great call with our account rep Patrick Harris about the renewal",
])
def test_the_customer_himself_still_links(nlp, text: str) -> None:
    assert "patrick" in links(nlp, text)


def test_a_possessive_is_the_name_found_exactly_not_a_typo(nlp) -> None:
    text = "Our account manager Patrick Harris' reply came within the hour"
    link = links(nlp, text)["patrick"]
    assert link.rule == "person_name"
    assert text[link.start:link.end] == "Patrick Harris"


@pytest.mark.parametrize("text", [
    "Allen PLC Group sent the contract over this morning",
    "ALLEN PLC GROUP SENT THE CONTRACT",
    "allen plc group sent the contract, finally",
    "Allen PLC Group's legal team signed off on the renewal",
    "Signed with Allen PLC\nGroup last week",
])
def test_the_longest_registered_name_wins(nlp, text: str) -> None:
    found = links(nlp, text)
    assert "allen_group" in found and "allen" not in found


def test_the_shorter_name_alone_is_its_own_customer(nlp) -> None:
    found = links(nlp, "Allen PLC sent the contract over this morning")
    assert "allen" in found and "allen_group" not in found
