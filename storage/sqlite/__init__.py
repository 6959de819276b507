"""The embedded SQLite backend of ``Store``: one module per area."""
