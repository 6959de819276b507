"""The configured mapping from CRM properties to a ``Customer``.

CRM fields come from the CRM: this module decides nothing else.  A record whose
mapped fields cannot be read (no name, a revenue that is not a number, an
e-mail without ``@``) raises ``BadItem`` naming the field; the rest of the page syncs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from config.crm import ObjectMapping
from domain import Customer, Identity, normalise_handle
from domain.crm import CrmCustomer
from domain.errors import BadItem

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PROFILE_URL = re.compile(r"^https?://[^/]+/(?:@)?([^/?#]+)")
MAX_TEXT = 500


def customer_id(connector: str, object_type: str, crm_id: str) -> str:
    """The stable id of the customer a CRM record feeds, e.g. ``hubspot:company:42``."""
    return f"{connector}:{object_type}:{crm_id}"


def _text(properties: Mapping[str, Any], prop: str | None) -> str | None:
    if not prop:
        return None
    value = properties.get(prop)
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise BadItem(f"{prop}: expected text, got {type(value).__name__}", prop)
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise BadItem(f"{prop}: longer than {MAX_TEXT} characters", prop)
    return text or None


def _many(properties: Mapping[str, Any], props: tuple[str, ...], separator: str) -> list[str]:
    found: list[str] = []
    for prop in props:
        value = properties.get(prop)
        if isinstance(value, (list, tuple)):
            parts = [str(v) for v in value]
        else:
            text = _text(properties, prop)
            parts = text.split(separator) if text else []
        found += [p.strip() for p in parts if p and p.strip()]
    return found


def revenue(value: Any, prop: str) -> int | None:
    """Annual revenue as whole units; ``BadItem`` when it is not a non-negative number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise BadItem(f"{prop}: {value!r} is not a number", prop)
    try:
        number = Decimal(str(value).replace(",", "").replace("_", "").strip())
    except InvalidOperation:
        raise BadItem(f"{prop}: {str(value)[:40]!r} is not a number", prop) from None
    if not number.is_finite() or number < 0 or number > Decimal(10) ** 15:
        raise BadItem(f"{prop}: {str(value)[:40]!r} is not a plausible annual revenue", prop)
    return int(number)


def _domain(raw: str, prop: str) -> str:
    text = raw.lower().strip()
    text = re.sub(r"^https?://", "", text).split("/")[0].removeprefix("www.")
    if not _DOMAIN.match(text):
        raise BadItem(f"{prop}: {raw[:60]!r} is not a domain", prop)
    return text


def _handle(raw: str, prop: str) -> str:
    match = _PROFILE_URL.match(raw.strip())
    handle = normalise_handle(match.group(1) if match else raw)
    if not handle or any(c.isspace() for c in handle):
        raise BadItem(f"{prop}: {raw[:60]!r} is not a handle", prop)
    return handle


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def map_customer(connector: str, object_type: str, crm_id: str,
                 properties: Mapping[str, Any], mapping: ObjectMapping,
                 company_crm_id: str | None = None) -> CrmCustomer:
    """The customer one CRM record feeds; ``BadItem`` names the first unreadable field."""
    if object_type not in ("company", "contact"):
        raise BadItem(f"type: {object_type!r} is neither company nor contact", "type")
    if not isinstance(properties, Mapping):
        raise BadItem("properties: expected an object", "properties")
    names = [n for n in (_text(properties, p) for p in mapping.name) if n]
    if not names:
        raise BadItem(f"name: no value in {', '.join(mapping.name)}", "name")
    segment = _text(properties, mapping.segment)
    emails = [e.lower() for e in _many(properties, mapping.emails, mapping.separator)]
    for email in emails:
        if not _EMAIL.match(email):
            raise BadItem(f"emails: {email[:60]!r} is not an e-mail address", "emails")
    domains = [_domain(d, "domains") for d in _many(properties, mapping.domains, mapping.separator)]
    identities = []
    for prop, platform in mapping.handles.items():
        identities += [Identity(platform, _handle(h, prop))
                       for h in _many(properties, (prop,), mapping.separator)]
    customer = Customer(
        id=customer_id(connector, object_type, crm_id), name=" ".join(names),
        kind="company" if object_type == "company" else "person",
        company=_text(properties, mapping.company),
        segment=segment.lower() if segment else None,
        annual_revenue=revenue(properties.get(mapping.annual_revenue), mapping.annual_revenue)
        if mapping.annual_revenue else None,
        emails=_unique(emails), domains=_unique(domains),
        aliases=_unique(_many(properties, mapping.aliases, mapping.separator)),
        identities=tuple(dict.fromkeys(identities)))
    return CrmCustomer(connector, object_type, crm_id, customer, company_crm_id)


def learned_value(identities: tuple[Identity, ...], aliases: tuple[str, ...]) -> str:
    """Learned handles and aliases as one custom-field value: ``x:@acme; alias:Acme Help``."""
    parts = [f"{i.platform}:@{i.handle}" for i in identities] + [f"alias:{a}" for a in aliases]
    return "; ".join(parts)
