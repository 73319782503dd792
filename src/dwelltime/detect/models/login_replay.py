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

from dataclasses import dataclass, field
from typing import NamedTuple

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


class LevelDetail(NamedTuple):
    """One level's share of a sign-in's score, with the counts behind it (for the explanation)."""

    log_ratio: float  # 0 where the sign-in has no value at this level
    user_count: int  # the user's learned sign-ins at the value (under its parent), before this one
    user_total: int  # the user's learned sign-ins under the parent
    org_count: int  # other people who had used the value
    org_total: int  # (other person, value) pairs under the parent


@dataclass(frozen=True)
class Replay:
    """Scores (log10 likelihood ratios) in input order, the learn filter's flags, and how they were reached.

    The per-level parts and counts behind a score are asked for by row (:meth:`details`):
    only the few alerting sign-ins are explained, so they are computed for those alone
    instead of being kept for millions of rows.
    """

    score: Floats
    flagged: Bools  # not learned (score >= learn_below)
    rounds: int
    _state: _State = field(repr=False, compare=False)

    def details(self, indices: npt.ArrayLike) -> list[dict[str, LevelDetail]]:
        """Per row of ``indices`` (input positions), each level's part of its score and its counts."""
        return self._state.details(np.asarray(indices, dtype=np.int64).reshape(-1))


class _Grouping:
    """Rows grouped by a key and ordered by time within each group: tie-aware sums over earlier rows.

    A group's rows are contiguous in :attr:`order`; sums restart at each group start.  Rows
    of one group at one instant (``tied``) take the sum at their instant's first row, so
    events of one instant never see each other.
    """

    def __init__(self, codes: Ints, time: Ints, order: Ints | None = None) -> None:
        # Rows come in time order (replay sorts them once), so a stable sort by code alone
        # orders them by (code, time).
        self.codes = codes
        self.time = time
        n = len(codes)
        if order is None:
            self.order, sorted_keys = _stable_order(codes)
        else:
            self.order, sorted_keys = order, codes[order]
        new_group = np.ones(n, dtype=bool)
        np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new_group[1:])
        self.starts = np.flatnonzero(new_group)
        self.lengths = np.diff(self.starts, append=n)
        self.singletons = len(self.starts) == n  # every sum over earlier rows of the group is 0
        # Many small groups: a row's group start, gathered, beats repeating each start.
        self.group_start = np.repeat(self.starts, self.lengths) if len(self.starts) * 16 > n else None
        self.missing = n > 0 and int(codes.min()) < 0  # code -1 (no value) sorts first: group 0
        self.new_group = new_group
        sorted_time = time[self.order]
        tied = ~new_group
        tied[1:] &= sorted_time[1:] == sorted_time[:-1]
        self.tied = np.flatnonzero(tied)
        if len(self.tied):
            instant_starts = np.flatnonzero(~tied)
            self.tied_from = instant_starts[np.searchsorted(instant_starts, self.tied, side="right") - 1]

    def _at_group_start(self, sorted_values: Counts) -> Counts:
        if self.group_start is not None:
            return sorted_values[self.group_start]
        return np.repeat(sorted_values[self.starts], self.lengths)

    def group_ids(self) -> Ints:
        """Dense codes of the groups in row order (-1 for the rows with code -1): a compact key."""
        ids = np.cumsum(self.new_group, dtype=np.int64) - (2 if self.missing else 1)
        out = np.empty_like(ids)
        out[self.order] = ids
        return out

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
        if self.singletons:
            return np.zeros_like(weights)
        w = weights[self.order]
        exclusive = np.cumsum(w, dtype=np.int32)
        exclusive -= w
        base = self._at_group_start(exclusive)
        if len(self.tied):
            exclusive[self.tied] = exclusive[self.tied_from]
        exclusive -= base
        out = np.empty_like(w)
        out[self.order] = exclusive
        return out

    def firsts(self, weights: Counts) -> Counts:
        """1 on the first row of each group with a non-zero weight (in time order), else 0."""
        if self.singletons:
            return (weights > 0).astype(np.int32)
        w = weights[self.order]
        exclusive = np.cumsum(w, dtype=np.int32)
        exclusive -= w
        out = np.empty_like(w)
        out[self.order] = (w > 0) & (exclusive == self._at_group_start(exclusive))
        return out


def _stable_order(codes: Ints) -> tuple[Ints, Ints]:
    """``np.argsort(codes, kind="stable")``, at a tenth of the cost, and keys equal where codes are.

    Why: numpy's stable sort of int64 is a merge sort, and even its fast unstable argsort
    moves (key, index) pairs.  Packing the row index into the low bits of the key
    (``code << bits | row``) makes every key unique, so a plain ``np.sort`` of the packed
    keys (vectorised) is the stable order, read back from the low bits.  Codes too spread
    out for that are made dense first.
    """
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64), codes
    bits = max(1, (n - 1).bit_length())
    low = int(codes.min())
    if (int(codes.max()) - low).bit_length() + bits <= 62:
        dense = codes - low
    else:
        dense = np.unique(codes, return_inverse=True)[1].astype(np.int64).reshape(-1)
    keys = dense << bits
    keys |= np.arange(n, dtype=np.int64)
    keys.sort()
    order = keys & ((1 << bits) - 1)
    keys >>= bits
    return order, keys


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
    """One level: where it is present, its user groupings, and the organisation's side, fixed."""

    name: str
    active: Bools
    by_user_value: _Grouping  # (user, path), over all rows
    by_user_parent: _Grouping  # (user, parent path): the level above's by_user_value
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
        "asn": _value_codes(table.column("asn"))[0],  # dense: AS numbers run to 2**32
        "ip": _value_codes(table.column("ip"))[0],
        "os": os_of[agent_codes],  # -1 indexes the trailing "missing"
        "browser": browser_of[agent_codes],
        "agent": agent_codes,
        "client": _value_codes(table.column("client"))[0],
        "hour": (time // 1_000_000 // 3600 + 72) % 168,
    }


def _levels(table: pa.Table, time: Ints, chrono: Ints) -> list[_Level]:
    """Every level's groupings, and the organisation's counts (which no flag changes), computed once.

    A level's path is its parent's path and its own value, coded as the dense id of the
    (parent path, value) group, so codes stay small down the hierarchy; a level's value
    grouping is the next level's parent grouping, so each grouping is sorted once.  Rows
    without the value share code -1; they carry no weight anywhere, so the sums of the
    rows with values never see them.
    """
    n = table.num_rows
    own = {name: codes[chrono] for name, codes in _level_values(table).items()}
    user = _value_codes(table.column("user"))[0][chrono]
    class_codes, classes = _value_codes(table.column("net_class"))  # a handful of classes: map each once
    per_class = [CLASS_WEIGHT.get(c or "unknown", 1.0) for c in [*classes.to_pylist(), None]]
    weights = np.array(per_class, dtype=np.float64)[class_codes][chrono]  # -1 (null) takes the trailing "unknown"
    everyone = np.zeros(n, dtype=np.int64)
    by_everyone, by_user = _Grouping(everyone, time), _Grouping(user, time)
    levels: list[_Level] = []
    for _family, names in FAMILIES:
        parent_path, by_parent, by_user_parent = everyone, by_everyone, by_user
        for name in names:
            by_value = _Grouping(_combine(parent_path, own[name]), time)
            path = by_value.group_ids()
            active = path >= 0
            by_user_value = _Grouping(_combine(user, path), time)
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
                _Level(name, active, by_user_value, by_user_parent, weights if name == "asn" else 1.0, p_org, c_o, n_o)
            )
            parent_path, by_parent, by_user_parent = path, by_value, by_user_value
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
    flagged = np.zeros(n, dtype=bool)
    rows = np.arange(n)
    rounds = 0
    while len(rows):
        rounds += 1
        position = np.full(n, -1, dtype=np.int64)
        position[rows] = np.arange(len(rows))
        groupings = _Subsets(rows, position)
        learned = (~flagged[rows]).astype(np.int32)
        sub_score, top, _ = _score_rows(levels, groupings, learned, detail=False)
        score[rows] = sub_score
        new_flags = sub_score >= learn_below
        changed = new_flags != flagged[rows]
        if not changed.any():
            break
        if rounds <= guess_rounds:
            fresh = new_flags & ~flagged[rows]
            new_flags |= _guess(levels, groupings, top, fresh) & ~(flagged[rows] & ~new_flags)
        flagged[rows] = new_flags
        moved = np.unique(user_codes[rows][changed])
        rows = np.flatnonzero(np.isin(user_codes, moved))
    in_input_order = np.empty(n)
    in_input_order[chrono] = score
    state = _State(levels, user_codes, score >= learn_below, chrono)
    return Replay(in_input_order, in_input_order >= learn_below, rounds, state)


class _Subsets:
    """The groupings of one round's rows, each taken from the whole's once (levels share them)."""

    def __init__(self, rows: Ints, position: Ints) -> None:
        self.rows = rows
        self.position = position
        self.whole = len(rows) == len(position)
        self._made: dict[int, _Grouping] = {}

    def of(self, grouping: _Grouping) -> _Grouping:
        if self.whole:
            return grouping
        key = id(grouping)
        if key not in self._made:
            self._made[key] = grouping.subset(self.rows, self.position)
        return self._made[key]


@dataclass(frozen=True)
class _State:
    """What :meth:`Replay.details` needs to rescore a few users with the final flags."""

    levels: list[_Level]
    user_codes: Ints  # in time order
    flagged: Bools  # in time order
    chrono: Ints  # time order -> input position

    def details(self, indices: Ints) -> list[dict[str, LevelDetail]]:
        """Rescore the users of ``indices`` with the final flags: at the fixed point that is their final score."""
        n = len(self.chrono)
        at = np.empty(n, dtype=np.int64)
        at[self.chrono] = np.arange(n)
        wanted = at[indices]
        rows = np.flatnonzero(np.isin(self.user_codes, np.unique(self.user_codes[wanted])))
        position = np.full(n, -1, dtype=np.int64)
        position[rows] = np.arange(len(rows))
        learned = (~self.flagged[rows]).astype(np.int32)
        _, _, parts = _score_rows(self.levels, _Subsets(rows, position), learned, detail=True)
        local = position[wanted]
        out: list[dict[str, LevelDetail]] = [{} for _ in indices]
        for level in self.levels:
            ratio, c_u, n_u = parts[level.name]
            for k, (i, j) in enumerate(zip(local.tolist(), wanted.tolist(), strict=True)):
                out[k][level.name] = LevelDetail(
                    float(ratio[i]), int(c_u[i]), int(n_u[i]), int(level.org_count[j]), int(level.org_total[j])
                )
        return out


def _guess(levels: list[_Level], groupings: _Subsets, top: Ints, fresh: Bools) -> Bools:
    """Later sign-ins of a newly flagged user with the value that weighed most in the flag.

    A flagged value is not learned, so the user's next sign-in with it is likely flagged too
    (an intruder's VPS, session after session): guessing so settles a run of them in one
    round instead of one round per sign-in.  Only a guess: the next round checks it.
    """
    later = np.zeros(len(fresh), dtype=bool)
    for index, level in enumerate(levels):
        chosen = fresh & (top == index)
        if chosen.any():
            later |= groupings.of(level.by_user_value).before(chosen.astype(np.int32)) > 0
    return later


def _score_rows(
    levels: list[_Level], groupings: _Subsets, learned: Counts, detail: bool
) -> tuple[Floats, Ints, dict[str, tuple[Floats, Counts, Counts]]]:
    """Scores of the rows of ``groupings`` (all rows of their users) with ``learned`` as the user filter.

    Also, per row, the level that weighed most (for :func:`_guess`), and with ``detail``
    each level's log ratio and the user's counts behind it.
    """
    rows = groupings.rows
    families: dict[str, Floats] = {}
    parts: dict[str, tuple[Floats, Counts, Counts]] = {}
    best = np.full(len(rows), -np.inf)
    top = np.zeros(len(rows), dtype=np.int64)
    for index, level in enumerate(levels):
        size = LEVEL_SIZE[level.name]
        active = level.active[rows]
        here = learned * active  # a row without this level's value counts nowhere in it
        by_value, by_parent = groupings.of(level.by_user_value), groupings.of(level.by_user_parent)
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
        higher = ratio > best
        best = np.where(higher, ratio, best)
        top[higher] = index
        family = FAMILY_OF[level.name]
        families[family] = families[family] + ratio if family in families else ratio
        if detail:
            parts[level.name] = (ratio, c_u, n_u)
    device = np.maximum.reduce([families.get(f, np.zeros(len(rows))) for f in DEVICE_FAMILIES])
    total = device + sum((v for f, v in families.items() if f not in DEVICE_FAMILIES), np.zeros(len(rows)))
    return total, top, parts
