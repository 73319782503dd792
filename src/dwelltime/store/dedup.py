"""Exactly-once storage: which event uids a workspace already holds.

Events are partitioned by date, and a record's date never changes, so the set of
stored uids is kept per date partition, loaded lazily from that partition's Parquet
files the first time a batch touches the date.  Each uid is held as the 64-bit
integer of its first 16 hex digits in a sorted numpy array: 8 bytes an event instead
of ~90 for a Python string, which keeps a months-long ingest inside the memory
budget.  Within one date a 64-bit prefix collision is vanishingly unlikely (about
1e-8 at a million events a day).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import pyarrow as pa

_HEX_VALUES = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX_VALUES[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX_VALUES[_c] = 10 + _i


def uid_keys(uids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """64-bit keys of hex uids (vectorized; the first 16 hex digits)."""
    if isinstance(uids, pa.ChunkedArray):
        uids = uids.combine_chunks() if uids.num_chunks else pa.array([], pa.string())
    if uids.type != pa.string():
        uids = uids.cast(pa.string())
    if uids.null_count:
        raise ValueError("event_uid must not be null")
    count = len(uids)
    if count == 0:
        return np.empty(0, dtype=np.uint64)
    offsets = np.frombuffer(uids.buffers()[1], dtype=np.int32)[uids.offset : uids.offset + count + 1]
    widths = np.diff(offsets)
    if np.all(widths == 32):  # our own uids: fixed-width hex, decode straight from the Arrow buffer
        data = np.frombuffer(uids.buffers()[2], dtype=np.uint8)
        start = int(offsets[0])
        digits = _HEX_VALUES[data[start : start + 32 * count].reshape(-1, 32)[:, :16]]
        if not (digits == 255).any():
            packed = np.ascontiguousarray((digits[:, 0::2] << 4) | digits[:, 1::2])
            return packed.view(">u8").ravel().astype(np.uint64)
    return np.array([_python_key(str(u)) for u in uids.to_pylist()], dtype=np.uint64)


def _python_key(uid: str) -> int:
    try:
        return int(uid[:16], 16)
    except ValueError:
        import hashlib

        return int.from_bytes(hashlib.sha256(uid.encode()).digest()[:8], "big")


class SeenIndex:
    """Stored uid keys per partition, loaded on demand, bounded by an LRU of partitions.

    Each partition's keys are a few sorted runs (newest last), merged when there are
    too many: membership is a binary search per run, and admitting a batch appends one
    run instead of re-sorting everything already stored (which made dedup quadratic in
    the size of a busy day).
    """

    MAX_RUNS = 8

    def __init__(self, load: Callable[[str], np.ndarray], max_partitions: int = 400) -> None:
        self._load = load
        self._max = max_partitions
        self._parts: OrderedDict[str, list[np.ndarray]] = OrderedDict()

    def _get(self, partition: str) -> list[np.ndarray]:
        runs = self._parts.get(partition)
        if runs is None:
            runs = [np.unique(self._load(partition))]
            self._parts[partition] = runs
            while len(self._parts) > self._max:
                self._parts.popitem(last=False)
        else:
            self._parts.move_to_end(partition)
        return runs

    def admit(self, partition: str, keys: np.ndarray) -> np.ndarray:
        """Mask of rows that are new (not stored, not an earlier row of this batch); records them as stored.

        The caller must store exactly the admitted rows before admitting the next batch.
        """
        runs = self._get(partition)
        unique, first = np.unique(keys, return_index=True)
        fresh_unique = np.ones(len(unique), dtype=bool)
        for run in runs:
            if len(run):
                at = np.minimum(np.searchsorted(run, unique), len(run) - 1)
                fresh_unique &= run[at] != unique
        fresh = np.zeros(len(keys), dtype=bool)
        fresh[first[fresh_unique]] = True
        if fresh_unique.any():
            runs.append(unique[fresh_unique])  # already sorted
            if len(runs) > self.MAX_RUNS:
                runs[:] = [np.sort(np.concatenate(runs))]
        return fresh

    def forget(self, partition: str) -> None:
        """Drop a partition's cached keys (after a write failed, so they reload from disk)."""
        self._parts.pop(partition, None)
