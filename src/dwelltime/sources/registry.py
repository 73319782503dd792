"""The list of log sources, and format detection.

Sources are listed by module name and imported on first use, so a broken optional
source cannot stop the others from loading, and ``--format`` names stay stable.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from dwelltime.errors import ConfigError, UnknownFormatError
from dwelltime.sources.base import Source
from dwelltime.sources.reader import read_head

#: Modules that define ``SOURCE`` (or ``SOURCES``), in detection tie-break order.
SOURCE_MODULES: tuple[str, ...] = (
    "dwelltime.sources.m365",
    "dwelltime.sources.entra",
    "dwelltime.sources.gworkspace",
    "dwelltime.sources.zeek",
    "dwelltime.sources.dovecot",
    "dwelltime.sources.postfix",
    "dwelltime.sources.syslog",
)


@cache
def all_sources() -> tuple[Source, ...]:
    found: list[Source] = []
    for name in SOURCE_MODULES:
        module = importlib.import_module(name)
        declared = getattr(module, "SOURCES", None) or [getattr(module, "SOURCE", None)]
        found.extend(s for s in declared if isinstance(s, Source))
    ids = [s.id for s in found]
    if len(ids) != len(set(ids)):
        raise RuntimeError(f"duplicate source ids: {ids}")
    return tuple(found)


def get_source(source_id: str) -> Source:
    for source in all_sources():
        if source.id == source_id:
            return source
    known = ", ".join(s.id for s in all_sources())
    raise ConfigError(f"unknown format {source_id!r}; known formats: {known}")


def detect(path: Path) -> Source:
    """The source most confident it can read ``path``; refuses with the formats tried."""
    head = read_head(path)
    best: tuple[float, Source] | None = None
    for source in all_sources():
        try:
            confidence = source.sniff(head, path.name)
        except Exception:  # a sniffer bug must not hide the other formats
            confidence = 0.0
        if confidence > 0 and (best is None or confidence > best[0]):
            best = (confidence, source)
    if best is None:
        tried = ", ".join(s.id for s in all_sources())
        what = "empty" if not head else "not in a known format"
        raise UnknownFormatError(f"{path}: {what} (tried: {tried}); use --format to force one")
    return best[1]
