"""What every behavioural model's scorer does with its input rows: timestamps and numeric columns.

The scorers (``Detection.scorer``) read their query's rows into Python or numpy; DuckDB hands
timestamps back naive or zoned depending on the column, and Arrow columns with nulls need a
copy to become numpy arrays.  One way of doing each, so alert times compare equal everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pyarrow as pa


def utc(value: object) -> datetime:
    """A row's timestamp as an aware UTC datetime (naive values are UTC already)."""
    if not isinstance(value, datetime):
        raise TypeError(f"not a timestamp: {value!r}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def float_column(rows: pa.Table, name: str) -> npt.NDArray[np.float64]:
    """A numeric column as float64 (nulls become nan)."""
    return np.asarray(rows.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


def int_column(rows: pa.Table, name: str) -> npt.NDArray[np.int64]:
    """An integer column without nulls as int64."""
    return np.asarray(rows.column(name).to_numpy(zero_copy_only=False), dtype=np.int64)
