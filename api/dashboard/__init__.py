"""The staff dashboard: pages, JSON answers and the live stream."""
