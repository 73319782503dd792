"""Synthetic logs in real vendor formats (written by our own writers, never by the parsers)."""
