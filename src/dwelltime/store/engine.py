"""DuckDB over the workspace's Parquet: the embedded default query engine.

Views are created per connection from the workspace path (never persisted with
absolute paths), so a workspace directory can be moved or archived and still opens.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from dwelltime import duck
from dwelltime.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from dwelltime.workspace import Workspace


def connect(workspace: Workspace, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with ``events`` and ``quarantine`` views over the workspace."""
    con = duck.connect(threads)
    _view(con, "events", workspace.events_dir, EVENT_SCHEMA)
    _view(con, "quarantine", workspace.quarantine_dir, QUARANTINE_SCHEMA)
    return con


def _view(con: duckdb.DuckDBPyConnection, name: str, directory: object, schema: pa.Schema) -> None:
    from pathlib import Path

    base = Path(str(directory))
    if any(base.glob("date=*/*.parquet")):
        pattern = str(base / "date=*" / "*.parquet").replace("'", "''")
        columns = ", ".join(f'"{n}"' for n in schema.names)
        con.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT {columns} "
            f"FROM read_parquet('{pattern}', hive_partitioning = false, union_by_name = true)"
        )
    else:
        empty = schema.empty_table()
        con.register(f"_{name}_empty", empty)
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM _{name}_empty")
