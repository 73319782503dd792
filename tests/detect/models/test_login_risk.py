"""Login risk: the score maths on hand-computed cases, the replay equal to the streaming model,
order within ties irrelevant, and an attacker's sign-ins kept out of the baseline."""

from __future__ import annotations

import doctest
import math
import random

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from dwelltime.detect.models import login_risk
from dwelltime.detect.models.login_replay import replay
from dwelltime.detect.models.login_risk import LEARN_BELOW, LoginRisk, level_log_ratio, replay_stream
from dwelltime.detect.rules import model_login_risk

COLUMNS = ("user", "time_us", "country", "asn", "ip", "net_class", "agent", "client")


def test_doctests() -> None:
    assert doctest.testmod(login_risk).failed == 0
    assert doctest.testmod(model_login_risk).failed == 0


def test_witten_bell_by_hand() -> None:
    # A user with 10 sign-ins under the parent, over 2 values; the org: 100 over 4.
    # New value for the user, seen 5 times in the org (country level, K = 250):
    p_org = (5 + 4 / 250) / (100 + 4)
    p_user = (0 + 2 * p_org) / (10 + 2)
    p_att = 0.5 / 250 + 0.5 * p_org  # the country: half uniform
    expected = math.log10(p_att) - math.log10(p_user)
    assert level_log_ratio("country", (0, 10, 2, 5, 100, 4)) == expected
    # A value the user has 8 of their 10 at scores below zero (likelier the user).
    assert level_log_ratio("country", (8, 10, 2, 50, 100, 4)) < 0
    # AS level, hosting weight 8: the uniform half is 8 times heavier.
    heavy = level_log_ratio("asn", (0, 10, 2, 0, 100, 4), 8.0)
    light = level_log_ratio("asn", (0, 10, 2, 0, 100, 4), 1.0)
    assert heavy > light
    # The user agent: the attacker model is the organisation's, so the org's rarity cancels.
    p_org = (0 + 4 / 5000) / (100 + 4)
    assert math.isclose(level_log_ratio("agent", (0, 10, 2, 0, 100, 4)), math.log10(p_org / (2 * p_org / 12)))


def _record(
    user: str,
    t: int,
    asn: int,
    ip: str,
    net: str = "isp",
    agent: str = "Chrome/1",
    client: str = "browser",
    country: str = "JP",
) -> dict[str, object]:
    return {
        "user": user,
        "time_us": t * 1_000_000,
        "country": country,
        "asn": asn,
        "ip": ip,
        "net_class": net,
        "agent": agent,
        "client": client,
    }


def _stream(rows: list[dict[str, object]]) -> list[float]:
    order = sorted(range(len(rows)), key=lambda i: rows[i]["time_us"])  # type: ignore[arg-type, return-value]
    records = [{**rows[i], "time_s": rows[i]["time_us"] / 1_000_000} for i in order]  # type: ignore[operator]
    scores = replay_stream(records)
    out = [0.0] * len(rows)
    for position, index in enumerate(order):
        out[index] = scores[position]
    return out


def _table(rows: list[dict[str, object]]) -> pa.Table:
    schema = pa.schema(
        [
            ("user", pa.string()),
            ("time_us", pa.int64()),
            ("country", pa.string()),
            ("asn", pa.int64()),
            ("ip", pa.string()),
            ("net_class", pa.string()),
            ("agent", pa.string()),
            ("client", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


_rows = st.lists(
    st.fixed_dictionaries(
        {
            "user": st.sampled_from(["a", "b", "c"]),
            "time_us": st.integers(0, 40).map(lambda h: h * 3_600_000_000),
            "country": st.sampled_from(["JP", "JP", "US", None]),
            "asn": st.sampled_from([2516, 2516, 4713, 14061, None]),
            "ip": st.sampled_from(["1.1.1.1", "1.1.1.2", "2.2.2.2", "9.9.9.9"]),
            "net_class": st.sampled_from(["isp", "hosting", "mobile", None]),
            "agent": st.sampled_from(["Mozilla/5.0 (Windows NT 10.0) Chrome/1", "python-requests/2", None]),
            "client": st.sampled_from(["browser", "imap", None]),
        }
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(_rows)
def test_replay_equals_the_streaming_model(rows: list[dict[str, object]]) -> None:
    result = replay(_table(rows))
    np.testing.assert_allclose(result.score, _stream(rows), rtol=1e-9, atol=1e-9)


def _stream_contributions(rows: list[dict[str, object]]) -> list[dict[str, tuple[float, int, int, int, int]]]:
    """The streaming model's per-level parts of each row's score (instants judged together, flagged not learned)."""
    order = sorted(range(len(rows)), key=lambda i: rows[i]["time_us"])  # type: ignore[arg-type, return-value]
    model = LoginRisk()
    out: list[dict[str, tuple[float, int, int, int, int]]] = [{} for _ in rows]
    start = 0
    while start < len(order):
        end = start
        while end < len(order) and rows[order[end]]["time_us"] == rows[order[start]]["time_us"]:
            end += 1
        block = [(i, {**rows[i], "time_s": rows[i]["time_us"] / 1_000_000}) for i in order[start:end]]  # type: ignore[operator]
        for i, record in block:
            out[i] = {
                c.level: (c.log_ratio, c.user_count, c.user_total, c.org_count, c.org_total)
                for c in model.contributions(record)
            }
        for _index, record in block:
            if model.score_one(record) < LEARN_BELOW:
                model.learn_one(record)
            else:
                model.observe_one(record)
        start = end
    return out


@settings(max_examples=80, deadline=None)
@given(_rows)
def test_details_are_the_streaming_models_parts_and_counts(rows: list[dict[str, object]]) -> None:
    result = replay(_table(rows))
    picked = list(range(0, len(rows), 3))
    details = result.details(picked)
    expected = _stream_contributions(rows)
    for k, index in enumerate(picked):
        for level, detail in details[k].items():
            if level in expected[index]:
                ratio, *counts = expected[index][level]
                assert math.isclose(detail.log_ratio, ratio, rel_tol=1e-9, abs_tol=1e-9), (level, detail, ratio)
                assert list(detail[1:]) == counts, (level, detail, counts)
            else:
                assert detail.log_ratio == 0.0


@settings(max_examples=60, deadline=None)
@given(_rows, st.randoms(use_true_random=False))
def test_order_within_ties_does_not_matter(rows: list[dict[str, object]], rng: random.Random) -> None:
    shuffled = list(range(len(rows)))
    rng.shuffle(shuffled)
    first = replay(_table(rows)).score
    second = replay(_table([rows[i] for i in shuffled])).score
    np.testing.assert_allclose(second, first[shuffled], rtol=1e-9, atol=1e-9)


def test_an_attacker_does_not_become_the_baseline() -> None:
    usual = [_record("ito", d * 86_400 + 9 * 3600 + u, 2516, "203.0.113.7") for d in range(40) for u in (0,)]
    others = [_record(f"u{k}", d * 86_400 + 10 * 3600, 2516, f"203.0.113.{k}") for k in range(5) for d in range(40)]
    attack = [
        _record("ito", 40 * 86_400 + h * 4 * 3600, 14061, "198.51.100.9", "hosting", "python-requests/2", "imap", "SG")
        for h in range(30)
    ]
    rows = usual + others + attack
    result = replay(_table(rows))
    scores = result.score[len(usual) + len(others) :]
    assert (scores >= LEARN_BELOW).all(), scores  # the 30th sign-in is as strange as the first
    assert abs(scores[-1] - scores[0]) < 1.0
    # Without the filter the baseline would learn the VPS: the 30th would look ordinary.
    naive = LoginRisk()
    for record in sorted(rows, key=lambda r: r["time_us"]):  # type: ignore[arg-type, return-value]
        last = naive.score_one({**record, "time_s": record["time_us"] / 1e6})  # type: ignore[operator]
        naive.learn_one({**record, "time_s": record["time_us"] / 1e6})  # type: ignore[operator]
    assert last < LEARN_BELOW
    assert result.rounds <= 5


def test_new_address_in_the_users_own_isp_scores_low_and_a_new_hosting_as_high() -> None:
    history = [_record("ito", d * 86_400 + 9 * 3600, 2516, f"203.0.113.{d % 7}") for d in range(40)]
    others = [_record(f"u{k}", d * 86_400 + 10 * 3600, 2516, "203.0.114.1") for k in range(5) for d in range(40)]
    roam = _record("ito", 41 * 86_400 + 9 * 3600, 2516, "203.0.113.99")
    vps = _record("ito", 41 * 86_400 + 9 * 3600 + 60, 14061, "198.51.100.9", "hosting")
    result = replay(_table([*history, *others, roam, vps]))
    assert result.score[-2] < 0.0  # likelier the user than an attacker
    # Only the network is new (same browser, client and hour): over a hundred times likelier than the roaming.
    assert result.score[-1] > 1.0
    assert result.score[-1] - result.score[-2] > 2.0
