"""``dwelltime tune --budget N``: which incident threshold gives the analysts N incidents a day.

A team can read only so many incidents.  The alerts are already stored; incidents are a
cheap function of them (risk summed per entity in a sliding window, against a
threshold), so this re-correlates the stored alerts at a range of thresholds and reports,
for each, how many incidents a day the data would have produced, and, given a
simulation's ground truth, which attacks each threshold would have detected, how fast,
and how many false incidents it would have raised.  The recommendation is the lowest
threshold within the budget: the most sensitive setting the team can afford.  It changes
nothing; ``dwelltime detect --threshold T`` sets one (see :mod:`dwelltime.incidents.threshold`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import orjson
import pyarrow as pa

from dwelltime.evaluate import Truth, parse_incidents, score
from dwelltime.incidents.correlate import THRESHOLD, correlate

#: Thresholds tried (risk points; a low alert adds 10, medium 25, high 50, critical 80).
THRESHOLDS: tuple[int, ...] = (10, 25, 35, 50, 60, 75, 100, 130, 160)


@dataclass(frozen=True)
class TuneRow:
    """What one threshold would have given on the stored alerts."""

    threshold: int
    incidents: int
    per_day: float
    within_budget: bool
    # with ground truth only:
    detected: int | None = None
    attacks: int | None = None
    missed: list[str] = field(default_factory=list)
    median_ttd_seconds: float | None = None
    false_incidents: int | None = None
    false_per_1000_users_week: float | None = None


@dataclass(frozen=True)
class TuneReport:
    budget_per_day: float
    days: float
    current: int
    recommended: int | None  # lowest threshold within budget (None: none is)
    rows: list[TuneRow]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def tune(
    alerts: pa.Table,
    aliases: dict[str, str],
    days: float,
    budget_per_day: float,
    truth: Truth | None = None,
    thresholds: Sequence[int] = THRESHOLDS,
    current: int = THRESHOLD,
) -> TuneReport:
    """Re-correlate ``alerts`` at each threshold and at ``current`` (the workspace's own).

    ``days`` is the span of the data the alerts came from.
    """
    span = max(days, 1.0 / 24)
    rows = []
    for threshold in sorted({*thresholds, current}):
        incidents, _membership = correlate(alerts, aliases, threshold=threshold)
        per_day = len(incidents) / span
        row = TuneRow(threshold, len(incidents), round(per_day, 3), per_day <= budget_per_day)
        if truth is not None:
            # Scored through the incident JSON contract, exactly as 'dwelltime eval' scores a workspace.
            report = score(truth, parse_incidents(orjson.loads(orjson.dumps([i.to_json() for i in incidents]))))
            row = TuneRow(
                threshold,
                len(incidents),
                round(per_day, 3),
                per_day <= budget_per_day,
                detected=report.detected,
                attacks=len(report.attacks),
                missed=sorted(a.scenario for a in report.attacks if not a.detected),
                median_ttd_seconds=report.median_ttd_seconds,
                false_incidents=len(report.false_incidents),
                false_per_1000_users_week=round(report.false_per_1000_users_week, 3),
            )
        rows.append(row)
    within = [r.threshold for r in rows if r.within_budget]
    return TuneReport(budget_per_day, round(span, 3), current, min(within) if within else None, rows)
