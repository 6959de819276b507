"""Transition shim: the routing types now live in the domain leaf, ``crmsphere.domain_routing``.

Kept only while branches written against the old place are merged; the relayout script removes
this module and rewrites any remaining ``community.routing_types`` import. New code imports
``crmsphere.domain_routing`` (storage may import only the leaf, never ``community``).
"""

from __future__ import annotations

from typing import Any

from crmsphere import domain_routing


def __getattr__(name: str) -> Any:
    """The routing type ``name`` from its new home (PEP 562 module attribute)."""
    return getattr(domain_routing, name)
