"""The NLP signals: one module per signal here, declaring its spaCy component and its
``Signal`` (``domain.signals``, where the declaration type and the registry live, so that
storage and config read them without importing the NLP layer).

Importing this package registers every signal declared in it (each module calls
``register_signal`` when imported, as collectors register themselves); the composition root
imports it before anything reads the registry. To add a signal, add one module here.

The registry's names are re-exported for the NLP stage and the API. This package imports no
spaCy: a module declares its component's factory by name and module, loaded with the pipeline.
"""

from __future__ import annotations

import importlib
import pkgutil

from domain.signals import (
    RESERVED,
    Reader,
    Signal,
    facets,
    filters_of,
    matches,
    nullable,
    payload_signals,
    register_signal,
    signal_named,
    signal_pairs,
    signals,
    stored_apart,
    unregister_signal,
    values_of,
)

__all__ = ["RESERVED", "Reader", "Signal", "facets", "filters_of", "matches", "nullable",
           "payload_signals", "register_signal", "signal_named", "signal_pairs", "signals",
           "stored_apart", "unregister_signal", "values_of"]

# Every module of the package declares its signals when imported, in name order.
for _found in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_found.name}")
