"""The MongoDB backend of ``Store``: one module per area."""
