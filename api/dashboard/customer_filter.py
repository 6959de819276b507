"""The stream's customer filter by name: the form sends a name (and the id of the customer
picked, if any); the filter itself is always a customer id.

In the browser ``static/dashboard/customer_picker.js`` suggests customers as one types and
fills the id.  Without JavaScript the plain form sends the name and the page resolves it here:
one customer (or one whose name is exactly that) is chosen, several are offered to pick from,
none is said so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from aiohttp import web

from domain import Customer
from domain.errors import NotFound
from storage.base import Store

#: How many customers a name may match and still be offered to pick from, one link each.
MAX_CHOICES = 20
#: A name longer than any the registry keeps is not searched for.
MAX_NAME = 200
#: The form's field for the typed name (the id travels as ``customer``, the filter itself).
NAME_FIELD = "customer_name"


@dataclass(frozen=True, slots=True)
class CustomerChoice:
    """What the stream's customer filter shows: the id in force, the name in the box, and
    either the customers to pick from or why none was chosen."""

    customer_id: str = ""
    name: str = ""
    choices: list[dict[str, str]] = field(default_factory=list)
    problem: str = ""


def _pick_url(query: dict[str, str], customer: Customer) -> str:
    """The stream with the same filters and ``customer``'s id as the customer filter."""
    kept = {k: v for k, v in query.items() if k not in (NAME_FIELD, "customer") and v}
    return "/dashboard?" + urlencode({**kept, "customer": customer.id})


def _one_line(text: str) -> str:
    # A name typed or pasted with line breaks or tabs is the same name to a person.
    return " ".join(text.split())


async def customer_choice(store: Store, request: web.Request) -> CustomerChoice:
    """The customer filter of the stream page's URL; raises a redirect to the stream filtered
    by id when a typed name names one customer (post/redirect/get: the URL then says which)."""
    query = {k: v for k, v in request.query.items()}
    customer_id = query.get("customer", "").strip()
    name = _one_line(query.get(NAME_FIELD, ""))
    if not name:
        if not customer_id:
            return CustomerChoice()
        try:
            known = await store.get_customer(customer_id)
        except NotFound:
            return CustomerChoice(customer_id, customer_id,
                                  problem=f"No customer has the id “{customer_id[:80]}”.")
        return CustomerChoice(known.id, known.name)
    if len(name) > MAX_NAME:
        return CustomerChoice(name=name[:MAX_NAME],
                              problem=f"A customer name is at most {MAX_NAME} characters.")
    if customer_id:
        try:
            picked = await store.get_customer(customer_id)
        except NotFound:
            picked = None
        if picked is not None and picked.name.casefold() == name.casefold():
            return CustomerChoice(picked.id, picked.name)  # the name of the customer picked
    page = await store.list_customers(name, MAX_CHOICES + 1)
    found = list(page.items)
    exact = [c for c in found if c.name.casefold() == name.casefold()]
    chosen = exact if len(exact) == 1 else found if len(found) == 1 else []
    if chosen:
        raise web.HTTPSeeOther(_pick_url(query, chosen[0]))
    if not found:
        return CustomerChoice(name=name, problem=f"No customer matches “{name}”.")
    offered = (exact or found)[:MAX_CHOICES]
    more = len(found) > MAX_CHOICES and not exact
    return CustomerChoice(name=name, choices=[
        {"id": c.id, "name": c.name, "company": c.company or "", "url": _pick_url(query, c)}
        for c in offered],
        problem=f"Several customers match “{name}”: pick one" +
                (f" (the first {MAX_CHOICES}; type more of the name to narrow them)." if more else "."))
