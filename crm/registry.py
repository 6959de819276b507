"""CRM connectors by kind, imported only when configured (their client libraries are heavy).

A connector is one module in ``crm/`` and one line here; its ``[crm.<kind>]`` table takes the
settings every connector has (``config.crm.CrmConnectorSettings``: enabled, interval, mapping,
...) and hands the others to the connector as options and ``*_env`` credentials.
"""

from __future__ import annotations

import importlib

from config.crm import CrmSettings
from crm.base import CrmConnector
from domain.errors import ConfigError, NotConfigured

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


def check_kinds(settings: CrmSettings) -> None:
    """``ConfigError`` naming ``crm.<kind>`` for a table whose kind no connector registered
    (a misspelt ``[crm.hubsopt]`` would otherwise be ignored)."""
    for kind in settings.connectors():
        if kind not in CONNECTORS:
            raise ConfigError(f"crm.{kind}", "a table",
                              f"a CRM connector among {', '.join(sorted(CONNECTORS))}")
