"""What a detection is: its logic (one SQL query), its metadata, and its test cases, side by side.

Queries are written once in the portable subset of SQL that sqlglot transpiles from
DuckDB to Spark, against the ``events`` relation (the normalized event schema).  Each
returns one row per alert with the columns in :data:`ALERT_COLUMNS`.

No look-ahead: a query may compare an event only with events *before* it (window
frames ending at ``1 PRECEDING``, or joins on ``earlier.time < later.time``), so that
replaying history gives the alerts a live deployment would have raised at the same
times.  The registry test checks this by running every detection over a prefix of the
data and over the whole, and comparing the alerts inside the prefix.

Incremental runs (``dwelltime detect --since``): a detection also declares what of the
past its judgement of a *new* event rests on, so that a run over new data need not
read all history.  ``lookback`` is the span of raw history before the new data that its
windows, bursts and lags reach into; ``keep`` lists the older rows its baselines are
built from (for "first time this user used this network": the first row per user and
network).  After every run each detection's kept rows are stored; the next run judges
the new events over ``kept rows older than the lookback`` + ``every event since``.  The
reductions are idempotent and mergeable (the first row per key of "old firsts + new
rows" is the first row per key of everything), so an incremental run raises exactly
the alerts a full run over the same data raises; a test checks that for every
detection at every cut point of its cases.  A detection that declares no ``lookback``
is run over all stored events on incremental runs too (always correct, never fast).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
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
class Keep:
    """Older rows of ``relation`` that a detection's baselines are built from, kept between runs.

    ``where`` selects the rows the baseline is computed over (a SQL predicate, constant
    text).  With ``keys`` (each a comma-separated list of SQL expressions), only the first
    ``first`` rows per key, in ``(time, event_uid)`` order, are kept: enough for
    first-seen baselines, minima, and "at least N before" counts.  Without keys every
    matching row is kept: for baselines that need all of it (daily volumes, bursts),
    declared only where those rows are few.
    """

    where: str
    keys: tuple[str, ...] = ()
    first: int = 1
    relation: str = "events"  # "events" or a shared relation (see dwelltime.detect.shared)


#: Rows every detection's history keeps: each user's first event (their history starts
#: there: learning periods) and each log format's first event (the organisation's start
#: is the earliest of them; partitioning by format keeps the ranking parallel).
BASE_KEEP: tuple[Keep, ...] = (Keep("TRUE", ("user", "source_format")),)


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
    #: Raw history before new data that the query's windows reach into (None: all of it).
    lookback: timedelta | None = None
    #: Older rows its baselines need beyond the lookback (BASE_KEEP is always added).
    keep: tuple[Keep, ...] = ()
    #: A behavioural model: takes the connection and ``query`` (which then selects the model's
    #: input rows, not alerts) and returns the alert rows (ALERT_COLUMNS) the model raises.
    scorer: Callable[[Any, str], Sequence[tuple[object, ...]]] | None = None
    #: A model's calibration: its alert's score -> risk points (None: the severity's risk for every alert).
    risk_of: Callable[[float], int] | None = None

    @property
    def risk(self) -> int:
        return SEVERITY_RISK[self.severity]

    def alert_risk(self, score: float) -> int:
        """Risk points one alert of this detection adds to its entity."""
        return self.risk if self.risk_of is None else int(self.risk_of(score))

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
        if self.lookback is not None and self.lookback < timedelta(0):
            found.append("negative lookback")
        return found
