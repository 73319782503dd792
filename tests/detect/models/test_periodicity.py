"""The periodicity measure: implants and scripts score high, people score low, whatever the jitter and gaps."""

from __future__ import annotations

import doctest
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dwelltime.detect.models import periodicity as module
from dwelltime.detect.models.periodicity import Onset, RhythmRule, first_rhythms, periodicity

HOUR = 3600.0
DAY = 86_400.0


def test_docstring_examples() -> None:
    assert doctest.testmod(module).failed == 0


def _renewal(rng: np.random.Generator, mean: float, jitter: float, days: float, missed: float) -> np.ndarray:
    """An implant: each sleep starts where the last one ended; some beats never reach the log."""
    sleeps = mean + rng.normal(0, jitter, int(days * DAY / mean) + 10)
    times = np.cumsum(sleeps)
    times = times[times < days * DAY]
    return times[rng.random(len(times)) >= missed]


def test_a_jittered_implant_with_gaps_is_a_clock() -> None:
    rng = np.random.default_rng(1)
    found = periodicity(_renewal(rng, 6 * HOUR, 0.5 * HOUR, days=21, missed=0.1))
    assert abs(found.period_s - 6 * HOUR) < 0.05 * 6 * HOUR
    assert found.score > 0.8
    assert found.day_coverage >= 0.75  # beats fall around the clock
    assert not found.daily
    assert "every 6.0 h" in found.explain()


def test_a_script_sleeping_thirty_to_ninety_minutes_is_regular() -> None:
    rng = np.random.default_rng(2)
    times = np.cumsum(rng.uniform(30 * 60, 90 * 60, 150))
    found = periodicity(times)
    assert 45 * 60 < found.period_s < 75 * 60
    assert found.score > 0.4


def test_a_persons_reading_is_not() -> None:
    rng = np.random.default_rng(3)
    times = []
    for day in range(28):
        if day % 7 in (5, 6):
            continue  # weekends off
        start = day * DAY + 0 * HOUR  # 09:00 JST is 00:00 UTC
        times.extend(start + np.sort(rng.uniform(0, 9 * HOUR, rng.poisson(6))))
    found = periodicity(times)
    assert found.score < 0.2
    assert found.day_coverage <= 0.5


def test_a_daily_job_is_flagged_daily() -> None:
    rng = np.random.default_rng(4)
    times = np.arange(30) * DAY + 3 * HOUR + rng.normal(0, 120, 30)
    found = periodicity(times)
    assert found.daily and found.score > 0.9


def test_too_few_intervals_give_no_rhythm() -> None:
    found = periodicity([0, 600, 1200])
    assert math.isnan(found.period_s) and found.score == 0.0
    assert found.explain() == "no regular rhythm"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    shift=st.floats(0, 1e9, allow_nan=False),
    scale=st.floats(0.5, 4.0, allow_nan=False),
)
def test_order_shift_and_scale(seed: int, shift: float, scale: float) -> None:
    """Order of the input does not matter; shifting the clock changes nothing; slowing it scales the period."""
    rng = np.random.default_rng(seed)
    times = _renewal(rng, 2 * HOUR, 0.2 * HOUR, days=10, missed=0.05)
    base = periodicity(times)
    shuffled = periodicity(rng.permutation(times) + shift)
    assert math.isclose(shuffled.score, base.score, abs_tol=1e-6)
    assert math.isclose(shuffled.period_s, base.period_s, rel_tol=1e-6)
    slower = periodicity(times * scale)
    assert math.isclose(slower.period_s, base.period_s * scale, rel_tol=1e-6)
    assert math.isclose(slower.score, base.score, abs_tol=1e-6)


def test_first_rhythms_finds_each_regular_pair_once_at_its_onset() -> None:
    """Pair 0 keeps a 30-min clock (with log lines of one visit doubled), pair 1 is a person: one onset, pair 0's."""
    rng = np.random.default_rng(3)
    clock = np.cumsum(1800 * (1 + rng.uniform(-0.05, 0.05, 20)))
    clock = np.sort(np.r_[clock, clock[:5] + 5])  # a second log line 5 s after some visits: the same visit
    person = np.cumsum(rng.exponential(1800, 20))
    pair = np.r_[np.zeros(len(clock), dtype=np.int64), np.ones(len(person), dtype=np.int64)]
    t = np.r_[clock, person]

    rule = RhythmRule(window=12, min_score=0.7, min_fit=0.5, min_period_s=600.0, max_period_s=7200.0, same_visit_s=60.0)

    def onsets_of(eligible: np.ndarray) -> list[Onset]:
        return first_rhythms(pair, t, eligible, rule)

    onsets = onsets_of(np.ones(len(t), dtype=bool))
    assert [o.pair for o in onsets] == [0]
    (onset,) = onsets
    assert len(onset.rows) == 12 and abs(onset.rhythm.period_s - 1800) < 120
    # The onset is the 12th visit (the doubled lines are not visits), and nothing before it is eligible to be one.
    visits = np.flatnonzero(np.r_[True, np.diff(clock) >= 60])
    assert onset.rows[-1] == visits[11]
    # A pair that is never eligible (the caller's judgement, e.g. the user's own office network) has no onset.
    eligible = pair == 1
    assert onsets_of(eligible) == []
