"""The OpenAPI 3.1 description of the JSON API, one module per area."""
