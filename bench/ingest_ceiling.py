"""How fast could Microsoft 365 ingest be at best on this machine?  (issue: Foundation)

The issue's target (250,000 records/s end to end on 2 cores) was set from a measurement of
DuckDB's ``read_ndjson`` with "the needed fields declared" written straight to Parquet.  This
script repeats that measurement on the records ``bench/ingest.py`` generates, with three field
sets, and with nothing else (no normalization, no verbatim record, no enrichment, no dedup):

* ``few``: five flat fields (time, id, operation, user, client IP);
* ``flat``: every scalar field the parser reads (no lists);
* ``full``: every field the parser reads, with the ``Folders[].FolderItems[]`` lists the issue
  requires normalized (MailItemsAccessed InternetMessageIds and sizes) and the property lists.

* ``verbatim``: each line read as the store reads it and written as the ``raw`` column every
  event keeps (the store's Parquet settings for it).

``full`` and ``verbatim`` together are the least work an ingest that keeps the schema's promises
can do; ``bound`` is their CPU time spread perfectly over the cores, before any normalization,
enrichment or dedup.  If it is below the target, no pipeline on these parsers meets it.

    .venv/bin/python bench/ingest_ceiling.py [--records N] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from dwelltime.simulate.bulk import write_m365_ndjson
from dwelltime.sources.m365_sql import SPEC
from dwelltime.sources.reader import iter_line_blocks

TARGET = 250_000
_FEW = ("CreationTime", "Id", "Operation", "UserId", "ClientIP")
_LISTS = ("Folders", "AffectedItems", "ExtendedProperties", "DeviceProperties", "OperationProperties")
_LISTS += ("ModifiedProperties", "Target", "Parameters")


def duck_type(spec: object) -> str:
    """A ``json_transform``-style structure as a DuckDB type name."""
    if isinstance(spec, dict):
        return "STRUCT(" + ", ".join(f'"{k}" {duck_type(v)}' for k, v in spec.items()) + ")"
    if isinstance(spec, list):
        return duck_type(spec[0]) + "[]"
    return str(spec)


def columns_literal(names: tuple[str, ...] | None) -> str:
    chosen = {k: v for k, v in SPEC.items() if names is None or k in names}
    return "{" + ", ".join(f"'{k}': '{duck_type(v)}'" for k, v in chosen.items()) + "}"


def measure(path: Path, out: Path, names: tuple[str, ...] | None) -> dict[str, float]:
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    source = f"read_ndjson($path, columns = {columns_literal(names)}, maximum_object_size = 16777216)"
    wall, cpu = time.perf_counter(), time.process_time()
    count = con.execute(
        f"COPY (SELECT * FROM {source}) TO '{out}' (FORMAT parquet, COMPRESSION zstd)", {"path": str(path)}
    ).fetchone()
    seconds = time.perf_counter() - wall
    records = int(count[0]) if count else 0
    return {
        "records": records,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "records_per_s": round(records / seconds),
    }


def measure_verbatim(path: Path, out: Path) -> dict[str, float]:
    """The lines read as the store reads them and written as it writes ``raw`` (zstd 1, no dictionary)."""
    wall, cpu = time.perf_counter(), time.process_time()
    records = 0
    with pq.ParquetWriter(
        out,
        pa.schema([("raw", pa.string_view())]),
        compression="zstd",
        compression_level=1,
        use_dictionary=False,
        write_statistics=False,
        store_schema=False,
    ) as writer:
        for block in iter_line_blocks(path):
            writer.write_table(pa.table({"raw": block.lines}), row_group_size=128 * 1024)
            records += len(block.lines)
    seconds = time.perf_counter() - wall
    return {
        "records": records,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "records_per_s": round(records / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "dwelltime-bench")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ingest_ceiling.json")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    path = args.data / f"m365-{args.records}.log"
    if not path.exists():
        write_m365_ndjson(path, args.records)
    flat = tuple(k for k in SPEC if k not in _LISTS and not isinstance(SPEC[k], dict))
    figures: dict[str, object] = {"cores": os.cpu_count(), "target_records_per_s": TARGET, "bytes": path.stat().st_size}
    with tempfile.TemporaryDirectory() as tmp:
        for label, names in (("few", _FEW), ("flat", flat), ("full", None)):
            result = measure(path, Path(tmp) / f"{label}.parquet", names)
            result["meets_target"] = result["records_per_s"] >= TARGET
            figures[label] = result
            print(label, json.dumps(result), flush=True)
        verbatim = measure_verbatim(path, Path(tmp) / "verbatim.parquet")
        figures["verbatim"] = verbatim
        print("verbatim", json.dumps(verbatim), flush=True)
    full = figures["full"]
    assert isinstance(full, dict)
    cores = os.cpu_count() or 1
    seconds = (full["cpu_seconds"] + verbatim["cpu_seconds"]) / cores
    bound = round(args.records / seconds)
    figures["bound"] = {"records_per_s": bound, "meets_target": bound >= TARGET}
    print("bound", json.dumps(figures["bound"]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
