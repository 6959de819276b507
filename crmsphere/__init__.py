"""crmsphere: social listening and customer collaboration with the CRM at the centre."""

__version__ = "0.1.0"
