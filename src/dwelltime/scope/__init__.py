"""Breach scoping: the attacker's sessions, the messages they exposed, whose personal data those held."""
