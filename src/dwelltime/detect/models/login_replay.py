"""Login risk over a whole history at once: the scores :class:`LoginRisk` would give, vectorised.

Replaying months of sign-ins one by one in Python runs at tens of thousands per second; an
investigation starts with millions.  Every count the model reads ("this user's sign-ins at
this AS before this instant", "distinct ASes the organisation had seen before it") is a
cumulative sum over rows sorted by (group, time), so one round of scoring is a few dozen
numpy passes.

The learn filter makes the counts depend on the scores (a flagged sign-in is not counted),
so the replay iterates: score with the flags of the previous round, flag, repeat until no
flag changes.  The flags are determined instant by instant (a flag depends only on earlier
rows), so the fixed point is unique and equals the streaming result; each round fixes at
least the earliest row still wrong.  A run of an attacker's sign-ins from one network can
need one round per sign-in: the first is flagged, so the second sees nothing learned and is
flagged, and so on.  Each round therefore also *propagates* a new flag to the later rows of
the same user and network (provisionally flagged until a round clears them), which settles
such runs in a few rounds.  If ``max_rounds`` pass without a fixed point the streaming
scorer is run instead (exact, slow) and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dwelltime.detect.models.login_risk import (
    CLASS_WEIGHT,
    FAMILIES,
    LEARN_BELOW,
    LEVEL_SIZE,
    ORG_SHARE,
    agent_levels,
    replay_stream,
)

_SEP = "\x1f"

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Replay:
    """Scores (log10 likelihood ratios) in input order, per-level parts, and how they were reached."""

    score: Floats
    flagged: Bools  # not learned (score >= learn_below)
    levels: dict[str, Floats]  # level -> its log ratio per row (0 where the level is missing)
    counts: dict[str, tuple[Ints, Ints, Ints, Ints]]  # level -> (user count, user total, org count, org total)
    rounds: int
    exact_fallback: bool


class _Grouping:
    """Rows grouped by a key and ordered by time within each group: tie-aware sums over earlier rows."""

    def __init__(self, codes: Ints, time: Ints) -> None:
        self.order = np.lexsort((time, codes))
        sorted_codes = codes[self.order]
        sorted_time = time[self.order]
        n = len(codes)
        index = np.arange(n)
        new_group = np.ones(n, dtype=bool)
        new_group[1:] = sorted_codes[1:] != sorted_codes[:-1]
        new_block = new_group.copy()
        new_block[1:] |= sorted_time[1:] != sorted_time[:-1]
        self.group_start = np.maximum.accumulate(np.where(new_group, index, 0))
        self.block_start = np.maximum.accumulate(np.where(new_block, index, 0))

    def before(self, weights: Floats) -> Floats:
        """Per row: the sum of ``weights`` over rows of its group strictly earlier in time."""
        w = weights[self.order]
        exclusive = np.cumsum(w) - w
        out = np.empty_like(w)
        out[self.order] = exclusive[self.block_start] - exclusive[self.group_start]
        return out

    def firsts(self, weights: Floats) -> Floats:
        """1 on the first row of each group with a non-zero weight (in time order), else 0."""
        w = weights[self.order]
        inclusive = np.cumsum(w)
        within = inclusive - (inclusive[self.group_start] - w[self.group_start])
        out = np.empty_like(w)
        out[self.order] = ((w > 0) & (within == w)).astype(np.float64)
        return out


def _codes(keys: pa.Array) -> tuple[Ints, Bools]:
    encoded = pc.dictionary_encode(keys).combine_chunks() if isinstance(keys, pa.ChunkedArray) else None
    array = encoded if encoded is not None else pc.dictionary_encode(keys)
    valid = np.asarray(array.is_valid())
    codes = np.asarray(array.indices.fill_null(-1), dtype=np.int64)
    return codes, valid


def _join(*parts: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(*parts, _SEP)


@dataclass
class _Level:
    name: str
    active: Bools
    user_value: _Grouping
    user_parent: _Grouping
    org_value: _Grouping
    org_parent: _Grouping
    class_weight: Floats | float


def _level_paths(table: pa.Table) -> dict[str, pa.Array]:
    agents = table.column("agent").to_pylist()
    families = {text: agent_levels(text) for text in set(agents) if text}
    os_family = pa.array([families[a][0] if a else None for a in agents], pa.string())
    browser = pa.array([families[a][1] if a else None for a in agents], pa.string())
    seconds = pc.divide(table.column("time_us"), 1_000_000)
    hours = pc.cast(pc.add(pc.divide(seconds, 3600), 72), pa.int64())
    hour = pc.cast(pc.subtract(hours, pc.multiply(pc.divide(hours, 168), 168)), pa.string())
    asn = table.column("asn")
    asn_text = pc.binary_join_element_wise(pa.scalar("AS"), pc.cast(asn, pa.string()), "")
    values = {
        "country": table.column("country"),
        "asn": asn_text,
        "ip": table.column("ip"),
        "os": os_family,
        "browser": browser,
        "agent": table.column("agent"),
        "client": table.column("client"),
        "hour": hour,
    }
    paths: dict[str, pa.Array] = {}
    for _family, levels in FAMILIES:
        path: pa.Array | None = None
        for level in levels:
            value = values[level]
            value = value.combine_chunks() if isinstance(value, pa.ChunkedArray) else value
            path = value if path is None else _join(path, value)
            paths[level] = path
    return paths


def _parent(paths: dict[str, pa.Array], level: str, count: int) -> pa.Array:
    for _family, levels in FAMILIES:
        if level in levels:
            at = levels.index(level)
            return pa.array([""] * count, pa.string()) if at == 0 else paths[levels[at - 1]]
    raise KeyError(level)


def replay(table: pa.Table, learn_below: float = LEARN_BELOW, max_rounds: int = 40) -> Replay:
    """Score every sign-in of ``table`` as the streaming model would have, in one go.

    ``table`` columns: ``user``, ``time_us`` (int64, µs), ``country``, ``asn`` (int),
    ``ip``, ``net_class``, ``agent``, ``client`` (any may be null except user and time).
    """
    n = table.num_rows
    time = np.asarray(table.column("time_us").to_numpy(zero_copy_only=False), dtype=np.int64)
    user = table.column("user").combine_chunks()
    paths = _level_paths(table)
    net_class = table.column("net_class").to_pylist()
    weights = np.array([CLASS_WEIGHT.get(c or "unknown", 1.0) for c in net_class], dtype=np.float64)
    levels: list[_Level] = []
    for _family, names in FAMILIES:
        for name in names:
            path = paths[name]
            parent = _parent(paths, name, n)
            uv, active = _codes(_join(user, path))
            up, _ = _codes(_join(user, parent))
            ov, _ = _codes(path)
            op, _ = _codes(parent)
            levels.append(
                _Level(
                    name,
                    active,
                    _Grouping(uv, time),
                    _Grouping(up, time),
                    _Grouping(ov, time),
                    _Grouping(op, time),
                    weights if name == "asn" else 1.0,
                )
            )
    network_codes, _ = _codes(_join(user, paths["asn"]))
    network = _Grouping(np.where(network_codes < 0, -1 - np.arange(n), network_codes), time)

    flagged = np.zeros(n, dtype=bool)
    for rounds in range(1, max_rounds + 1):
        score, parts, counts = _score(levels, (~flagged).astype(np.float64))
        new_flags = score >= learn_below
        if np.array_equal(new_flags, flagged):
            return Replay(score, flagged, parts, counts, rounds, exact_fallback=False)
        # Newly flagged rows: provisionally flag the later rows of the same user and network.
        fresh = (new_flags & ~flagged).astype(np.float64)
        provisional = network.before(fresh) > 0
        flagged = new_flags | (provisional & ~(flagged & ~new_flags))
    return _exact(table, learn_below, levels, max_rounds)


def _score(
    levels: list[_Level], learned: Floats
) -> tuple[Floats, dict[str, Floats], dict[str, tuple[Ints, Ints, Ints, Ints]]]:
    total = np.zeros(len(learned))
    parts: dict[str, Floats] = {}
    counts: dict[str, tuple[Ints, Ints, Ints, Ints]] = {}
    for level in levels:
        size = LEVEL_SIZE[level.name]
        here = learned * level.active  # a row without this level's value counts nowhere in it
        c_u = level.user_value.before(here)
        n_u = level.user_parent.before(here)
        t_u = level.user_parent.before(level.user_value.firsts(here))
        c_o = level.org_value.before(here)
        n_o = level.org_parent.before(here)
        t_o = level.org_parent.before(level.org_value.firsts(here))
        with np.errstate(divide="ignore", invalid="ignore"):
            p_org = np.where(n_o > 0, (c_o + t_o / size) / (n_o + t_o), 1.0 / size)
            p_user = np.where(n_u > 0, (c_u + t_u * p_org) / (n_u + t_u), p_org)
        p_att = (1.0 - ORG_SHARE) * level.class_weight / size + ORG_SHARE * p_org
        ratio = np.where(level.active, np.log10(p_att) - np.log10(p_user), 0.0)
        total += ratio
        parts[level.name] = ratio
        counts[level.name] = (
            c_u.astype(np.int64),
            n_u.astype(np.int64),
            c_o.astype(np.int64),
            n_o.astype(np.int64),
        )
    return total, parts, counts


def _exact(table: pa.Table, learn_below: float, levels: list[_Level], rounds: int) -> Replay:
    """The streaming scorer over the rows in time order (the fallback when rounds do not settle)."""
    rows = table.to_pylist()
    order = sorted(range(len(rows)), key=lambda i: rows[i]["time_us"])
    records = [
        {
            "user": rows[i]["user"],
            "time_s": rows[i]["time_us"] / 1_000_000,
            "country": rows[i]["country"],
            "asn": rows[i]["asn"],
            "ip": rows[i]["ip"],
            "net_class": rows[i]["net_class"],
            "agent": rows[i]["agent"],
            "client": rows[i]["client"],
        }
        for i in order
    ]
    scores = np.empty(len(rows))
    scores[np.array(order, dtype=np.int64)] = replay_stream(records, learn_below)
    flagged = scores >= learn_below
    _total, parts, counts = _score(levels, (~flagged).astype(np.float64))
    return Replay(scores, flagged, parts, counts, rounds, exact_fallback=True)
