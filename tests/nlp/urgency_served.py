"""``python -m tests.nlp.urgency_served ARGS``: the ``crmsphere`` command with the toy
``urgency`` signal of ``test_signal_registry`` registered first, as a module added to
``nlp/signals/`` would be, for tests that need a served process to know a new signal."""

from __future__ import annotations

import sys

from crmsphere.cli import main
from nlp.signals import register_signal
from tests.nlp.test_signal_registry import URGENCY

if __name__ == "__main__":
    register_signal(URGENCY)
    raise SystemExit(main(sys.argv[1:]))
