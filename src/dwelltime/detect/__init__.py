"""Detections: one module per detection under ``rules/``, run over the store as SQL."""
