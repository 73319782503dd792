"""Split a simulation's logs at a moment, in their own formats: two deliveries of one history.

Why: an incremental detection run must give what a full run gives.  To check it (and to
time it) the same simulated history is ingested in two parts, the events before a moment
and those from it on, as a live deployment would receive them.  Each file keeps its
format (NDJSON records of M365 and Entra, syslog lines, Zeek TSV with its header in both
parts); empty parts are not written.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

_NDJSON_TIME = re.compile(rb'"(?:CreationTime|createdDateTime)"\s*:\s*"([0-9T:.-]+)')


def _split_ndjson(path: Path, cutoff: datetime, early: Path, late: Path) -> None:
    with path.open("rb") as src, early.open("wb") as a, late.open("wb") as b:
        for line in src:
            found = _NDJSON_TIME.search(line[:400])
            when = datetime.fromisoformat(found.group(1).decode()[:19]).replace(tzinfo=UTC) if found else cutoff
            (a if when < cutoff else b).write(line)


def _split_syslog(path: Path, cutoff: datetime, early: Path, late: Path) -> None:
    with path.open("rb") as src, early.open("wb") as a, late.open("wb") as b:
        out = a
        for line in src:
            if out is a and datetime.fromisoformat(line.split(b" ", 1)[0].decode()) >= cutoff:
                out = b
            out.write(line)


def _split_zeek(path: Path, cutoff: datetime, early: Path, late: Path) -> None:
    edge = cutoff.timestamp()
    with path.open("rb") as src, early.open("wb") as a, late.open("wb") as b:
        for line in src:
            if line.startswith(b"#"):
                a.write(line)
                b.write(line)
            else:
                (a if float(line.split(b"\t", 1)[0]) < edge else b).write(line)


def split_logs(logs: Path, cutoff: datetime, early: Path, late: Path) -> None:
    """Copy the simulated logs into the events before ``cutoff`` and those from it on (same formats)."""
    for path in sorted(p for p in logs.rglob("*") if p.is_file()):
        rel = path.relative_to(logs)
        for side in (early, late):
            (side / rel).parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".json":
            _split_ndjson(path, cutoff, early / rel, late / rel)
        elif path.parent.name == "zeek":
            _split_zeek(path, cutoff, early / rel, late / rel)
        else:
            _split_syslog(path, cutoff, early / rel, late / rel)
        for side in (early, late):
            if (side / rel).stat().st_size == 0:
                (side / rel).unlink()  # ingest refuses empty files
