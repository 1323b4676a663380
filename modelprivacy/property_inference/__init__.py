"""Confidential property inference (placeholder, filled below)."""
