"""What a detection is: its logic (one SQL query), its metadata, and its test cases, side by side.

Queries are written once in the portable subset of SQL that sqlglot transpiles from
DuckDB to Spark, against the ``events`` relation (the normalized event schema).  Each
returns one row per alert with the columns in :data:`ALERT_COLUMNS`.

No look-ahead: a query may compare an event only with events *before* it (window
frames ending at ``1 PRECEDING``, or joins on ``earlier.time < later.time``), so that
replaying history gives the alerts a live deployment would have raised at the same
times.  The registry test checks this by running every detection over a prefix of the
data and over the whole, and comparing the alerts inside the prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: Columns every detection query returns, in this order.
ALERT_COLUMNS: tuple[str, ...] = ("entity", "entity_type", "time", "score", "event_uids", "src_ips", "explanation")
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
#: Risk each severity adds to its entity (see :mod:`dwelltime.incidents.correlate`).
SEVERITY_RISK: dict[str, int] = {"low": 10, "medium": 25, "high": 50, "critical": 80}

_ID = re.compile(r"dt(\.[a-z0-9_]+){2,}")
_TECHNIQUE = re.compile(r"T\d{4}(\.\d{3})?")


@dataclass(frozen=True)
class Case:
    """A small set of events and how many alerts the detection must raise on them."""

    name: str
    events: tuple[dict[str, Any], ...]
    alerts: int


@dataclass(frozen=True)
class Detection:
    id: str  # dt.<area>.<name>
    title: str
    techniques: tuple[str, ...]  # MITRE ATT&CK technique ids
    severity: str
    event_classes: tuple[str, ...]  # what the query reads; it is skipped when none is stored
    description: str  # why it matters and how to triage it
    query: str  # portable SQL over `events`, returning ALERT_COLUMNS
    positives: tuple[Case, ...] = field(default_factory=tuple)
    negatives: tuple[Case, ...] = field(default_factory=tuple)

    @property
    def risk(self) -> int:
        return SEVERITY_RISK[self.severity]

    def problems(self) -> list[str]:
        """Convention violations (empty when the detection is well formed)."""
        found = []
        if not _ID.fullmatch(self.id):
            found.append(f"id {self.id!r} is not dt.<area>.<name>")
        if self.severity not in SEVERITIES:
            found.append(f"severity {self.severity!r} not in {SEVERITIES}")
        found += [f"bad ATT&CK id {t!r}" for t in self.techniques if not _TECHNIQUE.fullmatch(t)]
        if not self.techniques:
            found.append("no ATT&CK technique")
        if len(self.description) < 120:
            found.append("description too short to say why it matters and how to triage")
        if not self.positives or not self.negatives:
            found.append("needs at least one positive and one negative case")
        if any(c.alerts < 1 for c in self.positives) or any(c.alerts != 0 for c in self.negatives):
            found.append("positive cases must expect alerts and negative cases none")
        return found
