"""Login risk over a whole history at once: the scores :class:`LoginRisk` would give, vectorised.

Replaying months of sign-ins one by one in Python runs at tens of thousands per second; an
investigation starts with millions.  Every count the model reads ("this user's sign-ins at
this AS before this instant", "distinct ASes the organisation had seen before it") is a
cumulative sum over rows sorted by (group, time), so one round of scoring is a few dozen
numpy passes.

The learn filter makes a user's counts depend on their scores (a flagged sign-in is not
learned), so the replay iterates: score with the flags of the previous round, flag, repeat
until no flag changes.  The organisation's counts (people per value) take every sign-in, so
they are computed once, and a round rescores only the users whose flags just changed.  The
flags are determined instant by instant (a flag depends only on earlier rows), so the fixed
point is unique and equals the streaming result; each round fixes at least the earliest row
still wrong.  A run of an intruder's sign-ins from one network could need one round per
sign-in (the first is flagged, so the second sees nothing learned and is flagged, and so
on); the first rounds therefore also *guess* a new flag onto the user's later sign-ins with
the value that weighed most in it (provisionally flagged until a round clears them), which
settles such runs in a few rounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dwelltime.detect.models.login_risk import (
    CLASS_WEIGHT,
    DEVICE_FAMILIES,
    FAMILIES,
    FAMILY_OF,
    LEARN_BELOW,
    LEVEL_SIZE,
    MOST_FAMILIAR,
    UNIFORM_SHARE,
    agent_levels,
)

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
#: Weights and counts: 0/1 flags summed, in 32 bits (half the memory traffic of floats).
Counts = npt.NDArray[np.int32]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Replay:
    """Scores (log10 likelihood ratios) in input order, per-level parts, and how they were reached."""

    score: Floats
    flagged: Bools  # not learned (score >= learn_below)
    levels: dict[str, Floats]  # level -> its log ratio per row (0 where the level is missing)
    #: level -> (user count, user total, other people with the value, (other person, value) pairs)
    counts: dict[str, tuple[Ints, Ints, Counts, Counts]]
    rounds: int


class _Grouping:
    """Rows grouped by a key and ordered by time within each group: tie-aware sums over earlier rows."""

    def __init__(self, codes: Ints, time: Ints, order: Ints | None = None) -> None:
        # Rows come in time order (replay sorts them once), so a stable sort by code alone
        # orders them by (code, time), faster than a lexsort on both.
        self.codes = codes
        self.time = time
        self.order = _stable_order(codes) if order is None else order
        sorted_codes = codes[self.order]
        sorted_time = time[self.order]
        n = len(codes)
        index = np.arange(n)
        new_group = np.ones(n, dtype=bool)
        new_group[1:] = sorted_codes[1:] != sorted_codes[:-1]
        new_block = new_group.copy()
        new_block[1:] |= sorted_time[1:] != sorted_time[:-1]
        self.group_start = np.maximum.accumulate(np.where(new_group, index, 0))
        # Rows of one group at one instant are rare: without them, a row's instant starts at the row.
        self.ties = not bool(new_block.all())
        self.block_start = np.maximum.accumulate(np.where(new_block, index, 0)) if self.ties else None

    def subset(self, rows: Ints, position: Ints) -> _Grouping:
        """The grouping of ``rows`` (ascending), taken from this one's order: no sort.

        ``position`` maps a row of the whole to its place in ``rows`` (-1 outside them).  A
        few rows are sorted afresh instead (filtering the whole order costs a pass over it).
        """
        if len(rows) * 8 < len(self.order):
            return _Grouping(self.codes[rows], self.time[rows])
        kept = self.order[position[self.order] >= 0]
        return _Grouping(self.codes[rows], self.time[rows], position[kept])

    def before(self, weights: Counts) -> Counts:
        """Per row: the sum of ``weights`` over rows of its group strictly earlier in time."""
        w = weights[self.order]
        exclusive = np.cumsum(w, dtype=np.int32) - w
        at_instant = exclusive if self.block_start is None else exclusive[self.block_start]
        out = np.empty_like(w)
        out[self.order] = at_instant - exclusive[self.group_start]
        return out

    def firsts(self, weights: Counts) -> Counts:
        """1 on the first row of each group with a non-zero weight (in time order), else 0."""
        w = weights[self.order]
        inclusive = np.cumsum(w, dtype=np.int32)
        within = inclusive - (inclusive[self.group_start] - w[self.group_start])
        out = np.empty_like(w)
        out[self.order] = (w > 0) & (within == w)
        return out


def _stable_order(codes: Ints) -> Ints:
    """``np.argsort(codes, kind="stable")``, at a third of the cost.

    Why: numpy's stable sort of int64 is a merge sort; its default sort is a vectorised
    quicksort, several times faster, but unstable.  Keys made unique by the row index
    (``code * n + row``) have no ties, so any sort of them is the stable order.  Codes too
    spread out for that are made dense first.
    """
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    low = int(codes.min())
    if (int(codes.max()) - low + 1) * n < 2**62:
        dense = codes - low
    else:
        dense = np.unique(codes, return_inverse=True)[1].astype(np.int64).reshape(-1)
    return np.argsort(dense * n + np.arange(n, dtype=np.int64))


def _value_codes(values: pa.Array | pa.ChunkedArray) -> tuple[Ints, pa.Array]:
    """Dense codes of a column (-1 for null) and the distinct values they index."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    encoded = pc.dictionary_encode(array)
    return np.asarray(encoded.indices.fill_null(-1), dtype=np.int64), encoded.dictionary


def _combine(parent: Ints, child: Ints) -> Ints:
    """Codes of (parent, child) pairs, -1 where either is missing; dense again when they would grow too large."""
    width = int(child.max(initial=0)) + 2
    if (int(parent.max(initial=0)) + 2) * width >= 2**62:
        parent = np.unique(parent, return_inverse=True)[1].astype(np.int64)
    combined = parent * width + child
    return np.where((parent < 0) | (child < 0), -1, combined)


@dataclass
class _Level:
    """One level: where it is present, its user groupings' codes, and the organisation's side, fixed."""

    name: str
    active: Bools
    user_value: Ints  # codes of (user, path)
    user_parent: Ints  # codes of (user, parent)
    by_user_value: _Grouping  # over all rows (the first round's)
    by_user_parent: _Grouping
    class_weight: Floats | float
    p_org: Floats
    org_count: Counts  # other people who had used the value before each row
    org_total: Counts


def _level_values(table: pa.Table) -> dict[str, Ints]:
    """Per level, dense codes of the level's own value (-1 where missing)."""
    agent_codes, agents = _value_codes(table.column("agent"))
    families = [agent_levels(text) for text in agents.to_pylist()]
    os_names = sorted({f[0] for f in families if f[0]})
    browser_names = sorted({f[1] for f in families if f[1]})
    os_of = np.array([os_names.index(f[0]) if f[0] else -1 for f in families] + [-1], dtype=np.int64)
    browser_of = np.array([browser_names.index(f[1]) if f[1] else -1 for f in families] + [-1], dtype=np.int64)
    time = np.asarray(table.column("time_us").to_numpy(zero_copy_only=False), dtype=np.int64)
    return {
        "country": _value_codes(table.column("country"))[0],
        "asn": np.asarray(table.column("asn").fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64),
        "ip": _value_codes(table.column("ip"))[0],
        "os": os_of[agent_codes],  # -1 indexes the trailing "missing"
        "browser": browser_of[agent_codes],
        "agent": agent_codes,
        "client": _value_codes(table.column("client"))[0],
        "hour": (time // 1_000_000 // 3600 + 72) % 168,
    }


def _levels(table: pa.Table, time: Ints, chrono: Ints) -> list[_Level]:
    """Every level's codes, and the organisation's counts (which no flag changes), computed once.

    Codes are integers built down each family's hierarchy (a level's path is its parent's
    path and its own value); a level's value grouping is the next level's parent grouping,
    so each grouping is sorted once.
    """
    n = table.num_rows
    own = {name: codes[chrono] for name, codes in _level_values(table).items()}
    user = _value_codes(table.column("user"))[0][chrono]
    class_codes, classes = _value_codes(table.column("net_class"))  # a handful of classes: map each once
    per_class = [CLASS_WEIGHT.get(c or "unknown", 1.0) for c in [*classes.to_pylist(), None]]
    weights = np.array(per_class, dtype=np.float64)[class_codes][chrono]  # -1 (null) takes the trailing "unknown"
    everyone = np.zeros(n, dtype=np.int64)
    levels: list[_Level] = []
    for _family, names in FAMILIES:
        parent_path = everyone
        by_parent, by_user_parent = _Grouping(everyone, time), _Grouping(user, time)
        for name in names:
            path = _combine(parent_path, own[name])
            active = path >= 0
            uv = _combine(user, path)
            # Rows without the value get groups of their own (they count nowhere).
            alone = -2 - np.arange(n)
            by_value = _Grouping(np.where(active, path, alone), time)
            by_user_value = _Grouping(np.where(active, uv, alone), time)
            present = active.astype(np.int32)
            new_pair = by_user_value.firsts(present)  # a user's first use of the value
            new_value = by_value.firsts(present)  # the organisation's first use of it
            # Other people: everyone's (user, value) pairs before the row, less the row's user's own.
            c_o = by_value.before(new_pair) - by_user_value.before(new_pair)
            n_o = by_parent.before(new_pair) - by_user_parent.before(new_pair)
            t_o = by_parent.before(new_value)
            size = LEVEL_SIZE[name]
            with np.errstate(divide="ignore", invalid="ignore"):
                p_org = np.where(n_o > 0, (c_o + t_o / size) / (n_o + t_o), 1.0 / size)
            levels.append(
                _Level(
                    name,
                    active,
                    by_user_value.codes,
                    by_user_parent.codes,  # the same groups as (user, parent path)
                    by_user_value,
                    by_user_parent,
                    weights if name == "asn" else 1.0,
                    p_org,
                    c_o,
                    n_o,
                )
            )
            parent_path = path
            by_parent, by_user_parent = by_value, by_user_value
    return levels


def _hugepages(enabled: bool) -> bool:
    """Set whether numpy asks the kernel for transparent huge pages for large arrays; returns the old setting.

    Why: with the kernel's THP defrag on "madvise" (Debian's default), every fresh huge page
    numpy asks for can stall in direct compaction.  The replay allocates a few GB of short-lived
    arrays; measured here, 1.7 M sign-ins took 10.2 s with huge pages and 8.1 s without (system
    time 3.8 s -> 1.3 s).  The switch is numpy's own (``NUMPY_MADVISE_HUGEPAGE`` at import).
    """
    setter = getattr(np._core.multiarray, "_set_madvise_hugepage", None)  # type: ignore[attr-defined]
    return bool(setter(enabled)) if setter is not None else enabled


def replay(table: pa.Table, learn_below: float = LEARN_BELOW, guess_rounds: int = 8) -> Replay:
    """Score every sign-in of ``table`` as the streaming model would have, in one go (see :func:`_replay`)."""
    previous = _hugepages(False)
    try:
        return _replay(table.combine_chunks(), learn_below, guess_rounds)
    finally:
        _hugepages(previous)


def _replay(table: pa.Table, learn_below: float, guess_rounds: int) -> Replay:
    """Score every sign-in of ``table`` as the streaming model would have, in one go.

    ``table`` columns: ``user``, ``time_us`` (int64, µs), ``country``, ``asn`` (int),
    ``ip``, ``net_class``, ``agent``, ``client`` (any may be null except user and time).

    Round 1 scores everything with every sign-in learned; that is already the streaming
    result for every user none of whose sign-ins is flagged.  Later rounds rescore only the
    users whose flags changed in the round before (their other users' scores cannot move:
    the organisation's counts do not depend on flags).  For ``guess_rounds`` rounds a new
    flag is also guessed onto the user's later sign-ins with the value that weighed most in
    it (see the module docstring and :func:`_guess`); after that, plain rounds, which end:
    each fixes the earliest wrong flag.
    """
    n = table.num_rows
    given_time = np.asarray(table.column("time_us").to_numpy(zero_copy_only=False), dtype=np.int64)
    chrono = np.argsort(given_time, kind="stable")
    time = given_time[chrono]
    levels = _levels(table, time, chrono)
    user_codes = _value_codes(table.column("user"))[0][chrono]

    score = np.zeros(n)
    parts = {level.name: np.zeros(n) for level in levels}
    counts_u = {level.name: (np.zeros(n, np.int64), np.zeros(n, np.int64)) for level in levels}
    flagged = np.zeros(n, dtype=bool)
    rows = np.arange(n)
    rounds = 0
    while len(rows):
        rounds += 1
        position = np.full(n, -1, dtype=np.int64)
        position[rows] = np.arange(len(rows))
        sub_score, sub_parts, sub_counts = _score_rows(
            levels, rows, time[rows], (~flagged[rows]).astype(np.int32), len(rows) == n, position
        )
        score[rows] = sub_score
        for name in parts:
            parts[name][rows] = sub_parts[name]
            counts_u[name][0][rows] = sub_counts[name][0]
            counts_u[name][1][rows] = sub_counts[name][1]
        new_flags = sub_score >= learn_below
        changed = new_flags != flagged[rows]
        if not changed.any():
            break
        if rounds <= guess_rounds:
            new_flags |= _guess(levels, rows, position, sub_parts, new_flags & ~flagged[rows]) & ~(
                flagged[rows] & ~new_flags
            )
        flagged[rows] = new_flags
        moved = np.unique(user_codes[rows][changed])
        rows = np.flatnonzero(np.isin(user_codes, moved))
    back = np.empty(n, dtype=np.int64)
    back[chrono] = np.arange(n)  # from time order back to the caller's
    counts = {
        level.name: (
            counts_u[level.name][0][back],
            counts_u[level.name][1][back],
            level.org_count[back],
            level.org_total[back],
        )
        for level in levels
    }
    parts = {name: values[back] for name, values in parts.items()}
    return Replay(score[back], score[back] >= learn_below, parts, counts, rounds)


def _guess(levels: list[_Level], rows: Ints, position: Ints, parts: dict[str, Floats], fresh: Bools) -> Bools:
    """Later sign-ins of a newly flagged user with the value that weighed most in the flag.

    A flagged value is not learned, so the user's next sign-in with it is likely flagged too
    (an intruder's VPS, session after session): guessing so settles a run of them in one
    round instead of one round per sign-in.  Only a guess: the next round checks it.
    """
    names = [level.name for level in levels]
    top = np.argmax(np.stack([parts[name] for name in names]), axis=0)
    later = np.zeros(len(rows), dtype=bool)
    for index, level in enumerate(levels):
        chosen = fresh & (top == index)
        if not chosen.any():
            continue
        whole = len(rows) == len(level.active)
        grouping = level.by_user_value if whole else level.by_user_value.subset(rows, position)
        later |= grouping.before(chosen.astype(np.int32)) > 0
    return later


def _score_rows(
    levels: list[_Level], rows: Ints, time: Ints, learned: Counts, whole: bool, position: Ints
) -> tuple[Floats, dict[str, Floats], dict[str, tuple[Ints, Ints]]]:
    """Scores of ``rows`` (all rows of the users they belong to) with ``learned`` as the user filter."""
    families: dict[str, Floats] = {}
    parts: dict[str, Floats] = {}
    counts: dict[str, tuple[Ints, Ints]] = {}
    for level in levels:
        size = LEVEL_SIZE[level.name]
        active = level.active[rows]
        here = learned * active  # a row without this level's value counts nowhere in it
        if whole:
            by_value, by_parent = level.by_user_value, level.by_user_parent
        else:
            by_value = level.by_user_value.subset(rows, position)
            by_parent = level.by_user_parent.subset(rows, position)
        c_u = by_value.before(here)
        n_u = by_parent.before(here)
        t_u = by_parent.before(by_value.firsts(here))
        p_org = level.p_org[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            p_user = np.where(n_u > 0, (c_u + t_u * p_org) / (n_u + t_u), p_org)
        uniform = UNIFORM_SHARE.get(level.name, 0.0)
        weight = level.class_weight[rows] if isinstance(level.class_weight, np.ndarray) else level.class_weight
        p_att = uniform * weight / size + (1.0 - uniform) * p_org
        ratio = np.where(active, np.maximum(MOST_FAMILIAR, np.log10(p_att) - np.log10(p_user)), 0.0)
        family = FAMILY_OF[level.name]
        families[family] = families[family] + ratio if family in families else ratio
        parts[level.name] = ratio
        counts[level.name] = (c_u.astype(np.int64), n_u.astype(np.int64))
    device = np.maximum.reduce([families.get(f, np.zeros(len(rows))) for f in DEVICE_FAMILIES])
    total = device + sum((v for f, v in families.items() if f not in DEVICE_FAMILIES), np.zeros(len(rows)))
    return total, parts, counts
