"""Routing over HTTP: teams, queues, rules and escalations."""
