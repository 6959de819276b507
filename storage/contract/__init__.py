"""The ``Store`` contract: one abstract class per area, both backends implement them."""
