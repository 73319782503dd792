"""One exception tree, so callers can catch what they can handle and nothing else."""

from __future__ import annotations


class DwelltimeError(Exception):
    """Base of every error dwelltime raises on purpose."""


class ConfigError(DwelltimeError):
    """Bad option, bad workspace, missing database file."""


class UnknownFormatError(DwelltimeError):
    """A file that no parser recognises; the message names the formats tried."""


class ParseError(DwelltimeError):
    """A record that cannot be parsed; carries file, line and reason."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason


class StoreError(DwelltimeError):
    """The workspace store is inconsistent or unwritable."""


class DetectionError(DwelltimeError):
    """A detection failed to run."""
