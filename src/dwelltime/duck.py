"""One way to open DuckDB, with the settings every part of dwelltime relies on.

* No progress bar: it would write to the analyst's terminal in the middle of our output.
* UTC session time zone: timestamps are compared and printed in UTC everywhere.
* No extension auto-install: dwelltime never reaches the network at run time; the
  extensions it uses (json, parquet, icu) are built into the Python package.
* Spill files in the system temporary directory, not in ``./.tmp`` of whatever directory the
  analyst ran the command from (DuckDB's default for in-memory databases).
* Insertion order not preserved: our queries carry explicit row indices or ORDER BY,
  and letting DuckDB emit rows as they finish is markedly faster on two cores.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb


def connect(threads: int | None = None, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
    }
    if threads:
        config["threads"] = threads
    if database == ":memory:":
        config["temp_directory"] = str(Path(tempfile.gettempdir()) / f"dwelltime-duckdb-{os.getpid()}")
    con = duckdb.connect(database, config=config)
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    return con
