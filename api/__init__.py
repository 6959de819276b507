"""The web layer: JSON API, dashboard and forum pages.  Thin views over storage and community."""
