"""SeenIndex: exactly the new keys are admitted, across batches, runs and reloads."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dwelltime.sources.base import uid_of
from dwelltime.store.dedup import SeenIndex, uid_keys


def test_admits_each_key_once_across_many_batches() -> None:
    rng = np.random.default_rng(7)
    stored_on_disk = rng.integers(0, 2**63, 1000, dtype=np.uint64)
    index = SeenIndex(lambda _p: stored_on_disk)
    seen: set[int] = {int(k) for k in stored_on_disk}
    for _ in range(30):  # more batches than MAX_RUNS, so runs get merged too
        batch = np.concatenate([rng.choice(stored_on_disk, 50), rng.integers(0, 2**63, 200, dtype=np.uint64)])
        batch = np.concatenate([batch, batch[:20]])  # duplicates inside the batch
        fresh = index.admit("2024-01-01", batch)
        expected = []
        local: set[int] = set()
        for key in batch.tolist():
            expected.append(key not in seen and key not in local)
            local.add(key)
        assert fresh.tolist() == expected
        seen |= local


def test_partitions_are_independent_and_keys_match_uids() -> None:
    index = SeenIndex(lambda _p: np.empty(0, dtype=np.uint64))
    uids = pa.array([uid_of("x", str(i)) for i in range(5)])
    keys = uid_keys(uids)
    assert keys.tolist() == [int(u[:16], 16) for u in uids.to_pylist()]
    assert index.admit("a", keys).all()
    assert not index.admit("a", keys).any()
    assert index.admit("b", keys).all()
