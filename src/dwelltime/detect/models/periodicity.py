"""Periodicity: does one (user, source) or (host, destination) pair act on a clock?

Scripts are regular where people are not.  An implant that calls home every 6 hours (give or
take half an hour) for weeks, or a stolen-credential script that syncs a mailbox every 30–90
minutes, leaves a rhythm a person's reading never has.  What makes this hard in real logs:

* **jitter** — implants randomise their sleep; each interval varies, and because each sleep
  starts where the last one ended (a renewal process) the phase drifts, so phase-folding
  methods that assume a fixed clock fail over weeks.  We therefore look at the *intervals*;
* **gaps** — a laptop asleep, a server rebooted, a log rotated away: missed beats make an
  interval two or three periods long.  Each interval is divided by its nearest whole number of
  periods before its spread is measured;
* **people's own rhythm** — someone who reads mail at 09:00 every working day has a 24-hour
  "period".  A daily rhythm confined to part of the day is a person's; a script's beats fall
  around the clock.  We report how much of the day the beats cover and leave daily periods
  to the caller's judgement (``daily`` flag);
* **legitimate polling** — a phone's ActiveSync heartbeat is periodic too.  Telling it apart is
  the profile's job (the same pair polled like this from the start of its history, from the
  user's own carrier); this module only measures the rhythm.

The estimate, for times ``t_1 < ... < t_n`` (seconds):

1. intervals ``d_i = t_{i+1} - t_i``, dropping bursts shorter than ``min_interval``;
2. dispersion ``rmad = MAD(d) / median(d)``, robust to the few long intervals that gaps make.
   Measured here: people's and Poisson arrivals give 0.6–0.8 (exponential 0.69, log-normal
   0.60, Pareto 0.78); a script sleeping uniformly 30–90 min gives 0.25; an implant every
   6 h ± 30 min with one beat in ten missed gives 0.07;
3. ``score = clip(1 - rmad / HUMAN_RMAD, 0, 1)`` with ``HUMAN_RMAD = 0.6``: 0 for anything as
   irregular as a person, towards 1 for a clock;
4. the beat: the median interval, refined to the median of ``d_i / k_i`` over the intervals
   that are ``k_i <= max_skip`` whole beats within ``tolerance``; ``fit`` is their share.

>>> import numpy as np
>>> beats = np.arange(0, 30 * 3600, 1800.0)                    # every 30 minutes for 30 hours
>>> r = periodicity(np.delete(beats, [5, 6, 20]))              # three beats missed
>>> round(r.period_s), r.cycles, round(r.fit, 2), round(r.rmad, 3), round(r.score, 2)
(1800, 59, 1.0, 0.0, 1.0)
>>> rng = np.random.default_rng(7)
>>> human = np.cumsum(rng.exponential(3600, 60))               # Poisson arrivals: no rhythm
>>> round(periodicity(human).score, 2)
0.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

DAY = 86_400.0


@dataclass(frozen=True)
class Periodicity:
    period_s: float  # the beat, seconds (nan when there is none)
    cycles: int  # beats the series spans at that period
    intervals: int  # intervals measured
    fit: float  # share of intervals that are whole numbers of beats, within tolerance
    rmad: float  # robust spread of the intervals: MAD / median
    day_coverage: float  # share of the 24 hours of the day in which beats fall (0..1)
    daily: bool  # the period is a whole number of days (a person's or a cron job's day)
    score: float  # 0 (no rhythm) .. 1 (a clock)

    def explain(self) -> str:
        """One sentence for an alert: how regular, how long, how much of the day."""
        if not np.isfinite(self.period_s):
            return "no regular rhythm"
        return (
            f"every {_duration(self.period_s)} (spread {self.rmad:.0%}, {self.fit:.0%} of {self.intervals}"
            f" intervals fit, {self.cycles} beats, beats in {self.day_coverage:.0%} of the day's hours)"
        )


#: Robust dispersion (MAD / median of intervals) at or above which a series is as irregular as people.
HUMAN_RMAD = 0.6


def periodicity(
    times: npt.ArrayLike,
    *,
    min_interval: float = 30.0,
    tolerance: float = 0.25,
    max_skip: int = 4,
    min_intervals: int = 6,
) -> Periodicity:
    """Measure the rhythm of ``times`` (seconds, any order); see the module docstring."""
    t = np.sort(np.asarray(times, dtype=np.float64))
    t = t[np.isfinite(t)]
    gaps = np.diff(t)
    gaps = gaps[gaps >= min_interval]
    coverage = _day_coverage(t)
    if len(gaps) < min_intervals:
        return Periodicity(float("nan"), 0, len(gaps), 0.0, float("nan"), coverage, False, 0.0)
    middle = float(np.median(gaps))
    rmad = float(np.median(np.abs(gaps - middle)) / middle)
    period = middle
    for _ in range(3):  # refine on the intervals that are whole beats
        beats = np.maximum(1, np.rint(gaps / period))
        per_beat = gaps / beats
        good = (beats <= max_skip) & (np.abs(per_beat - period) <= tolerance * period)
        if not good.any():
            break
        period = float(np.median(per_beat[good]))
    beats = np.maximum(1, np.rint(gaps / period))
    good = (beats <= max_skip) & (np.abs(gaps / beats - period) <= tolerance * period)
    score = min(1.0, max(0.0, 1.0 - rmad / HUMAN_RMAD))
    cycles = round(float((t[-1] - t[0]) / period)) if period > 0 else 0
    daily = period >= 0.95 * DAY and abs(period / DAY - round(period / DAY)) < 0.05
    return Periodicity(period, cycles, len(gaps), float(good.mean()), rmad, coverage, bool(daily), score)


def _day_coverage(t: npt.NDArray[np.float64]) -> float:
    if len(t) == 0:
        return 0.0
    hours = np.unique(((t % DAY) // 3600).astype(np.int64))
    return float(len(hours) / 24)


def _duration(seconds: float) -> str:
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


@dataclass(frozen=True)
class RhythmRule:
    """What counts as a clock for a detection: the window of visits and the rhythm it must keep."""

    window: int  # visits whose intervals are measured
    min_score: float  # 1 - spread / a person's spread
    min_fit: float  # share of intervals that are whole beats
    min_period_s: float
    max_period_s: float
    same_visit_s: float  # events of a pair closer than this are one visit


@dataclass(frozen=True)
class Onset:
    """Where a pair's rhythm first holds: the window of visits (row indices) ending at the onset."""

    pair: int
    rows: npt.NDArray[np.int64]
    rhythm: Periodicity


def first_rhythms(
    pair: npt.NDArray[np.int64],
    t: npt.NDArray[np.float64],
    eligible: npt.NDArray[np.bool_],
    rule: RhythmRule,
) -> list[Onset]:
    """For each pair, the first visit at which its last ``rule.window`` visits keep ``rule``'s clock.

    Rows are events sorted by (pair, time); events of a pair closer than ``same_visit_s``
    to the previous one are the same visit (several log lines of one session make one
    beat).  A window ends at an ``eligible`` visit (the caller's judgement of the pair at
    that moment: only the past).  Vectorised over all pairs: the robust spread of every
    window of intervals at once; :func:`periodicity` then confirms the period, fit and
    daily flag only for the windows whose spread already qualifies, which are few.
    """
    if len(t) == 0:
        return []
    window, min_score, same_visit_s = rule.window, rule.min_score, rule.same_visit_s
    new_pair = np.ones(len(t), dtype=bool)
    new_pair[1:] = pair[1:] != pair[:-1]
    gap = np.diff(t, prepend=-np.inf)
    visits = np.flatnonzero(new_pair | (gap >= same_visit_s))
    vp, vt = pair[visits], t[visits]
    starts = np.flatnonzero(np.r_[True, vp[1:] != vp[:-1]])
    position = np.arange(len(vp)) - np.repeat(starts, np.diff(np.r_[starts, len(vp)]))
    ends = np.flatnonzero((position >= window - 1) & eligible[visits])
    if len(ends) == 0:
        return []
    gaps = np.diff(vt[ends[:, None] + np.arange(-(window - 1), 1)], axis=1)
    middle = np.median(gaps, axis=1)
    spread = np.median(np.abs(gaps - middle[:, None]), axis=1) / np.maximum(middle, 1e-9)
    found: list[Onset] = []
    done: set[int] = set()
    for end in ends[spread <= (1.0 - min_score) * HUMAN_RMAD].tolist():
        key = int(vp[end])
        if key in done:
            continue
        rows = visits[end - window + 1 : end + 1]
        rhythm = periodicity(t[rows], min_interval=same_visit_s)
        if (
            rhythm.score >= min_score
            and rhythm.fit >= rule.min_fit
            and rule.min_period_s <= rhythm.period_s <= rule.max_period_s
            and not rhythm.daily
        ):
            done.add(key)
            found.append(Onset(key, rows, rhythm))
    return found
