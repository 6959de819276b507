"""The configured mapping from CRM properties to customers, and what it refuses."""

from __future__ import annotations

import pytest

from config.crm import ObjectMapping
from crm.mapping import learned_value, map_customer, revenue
from domain import Identity
from domain.errors import BadItem

CONTACT = ObjectMapping(name=("firstname", "lastname"), company="company", segment="tier",
                        annual_revenue="rev", emails=("email", "more_emails"),
                        domains=("site",), aliases=("nick",),
                        handles={"twitter": "x", "reddit_user": "reddit"})


def test_every_field_is_read_and_normalised() -> None:
    mapped = map_customer("hubspot", "contact", "51", {
        "firstname": " Jo ", "lastname": "Rivera", "company": "Acme", "tier": "Enterprise",
        "rev": "1,200,000.50", "email": "JO@Acme.example", "more_emails": "jo@acme.example; j@r.example",
        "site": "https://www.Acme.example/about", "nick": "JR;Jojo",
        "twitter": "https://twitter.com/JoRivera", "reddit_user": "u_jo"}, CONTACT, "7")
    c = mapped.customer
    assert (c.id, c.name, c.kind, c.company, c.segment, c.annual_revenue) == (
        "hubspot:contact:51", "Jo Rivera", "person", "Acme", "enterprise", 1_200_000)
    assert c.emails == ("jo@acme.example", "j@r.example") and c.domains == ("acme.example",)
    assert c.aliases == ("JR", "Jojo")
    assert c.identities == (Identity("x", "jorivera"), Identity("reddit", "u_jo"))
    assert mapped.company_crm_id == "7"


@pytest.mark.parametrize("props, field", [
    ({"lastname": ""}, "name"),
    ({"firstname": "Jo", "rev": "lots"}, "rev"),
    ({"firstname": "Jo", "rev": "-5"}, "rev"),
    ({"firstname": "Jo", "email": "not-an-address"}, "emails"),
    ({"firstname": "Jo", "site": "not a domain"}, "domains"),
    ({"firstname": "Jo", "twitter": "two words"}, "twitter"),
    ({"firstname": {"nested": 1}}, "firstname"),
])
def test_an_unreadable_field_is_named(props: dict, field: str) -> None:
    with pytest.raises(BadItem) as caught:
        map_customer("hubspot", "contact", "1", props, CONTACT)
    assert caught.value.where == field and caught.value.reason.startswith(field)


def test_revenue_forms() -> None:
    assert revenue(5_000_000, "r") == 5_000_000
    assert revenue("1.5e6", "r") == 1_500_000
    assert revenue("", "r") is None and revenue(None, "r") is None
    with pytest.raises(BadItem, match="not a number"):
        revenue(True, "r")


def test_learned_value_lists_handles_then_aliases() -> None:
    assert learned_value((Identity("x", "acme_help"),), ("Acme Help",)) == "x:@acme_help; alias:Acme Help"


def test_unknown_platform_in_config_is_refused() -> None:
    with pytest.raises(ValueError, match="platform"):
        ObjectMapping(handles={"myspace_url": "myspace"})
