"""CRM connectors by kind, imported only when configured (their client libraries are heavy)."""

from __future__ import annotations

import importlib

from crm.base import CrmConnector
from domain.errors import NotConfigured

#: kind -> "module:ClassName"; a module is imported the first time its kind is used.
CONNECTORS: dict[str, str] = {
    "hubspot": "crm.hubspot:HubSpotConnector",
    "salesforce": "crm.salesforce:SalesforceConnector",
}


def connector_class(kind: str) -> type[CrmConnector]:
    """The connector class of ``kind``; ``NotConfigured`` when unknown or not importable."""
    target = CONNECTORS.get(kind)
    if target is None:
        raise NotConfigured(f"no CRM connector {kind!r} (known: {', '.join(sorted(CONNECTORS))})")
    module_name, _, name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise NotConfigured(f"CRM connector {kind!r} cannot be loaded: {exc}") from exc
    return getattr(module, name)
