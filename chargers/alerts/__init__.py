"""Alerts: conditions of a fleet that need a person, opened once and resolved when they clear."""
