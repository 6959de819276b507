"""Configuration: built-in defaults, demo data, and the loader that validates and freezes them."""
