"""Behavioural models: statistical scorers that complement the rule catalogue."""
