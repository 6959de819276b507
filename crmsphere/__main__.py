"""Allow ``python -m crmsphere``."""

from crmsphere.cli import main

raise SystemExit(main())
