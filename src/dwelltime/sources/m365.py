"""Microsoft 365 unified audit log: Management Activity API records and Purview exports.

Three file shapes carry the same records:

* **NDJSON** — one Management Activity API record per line (our poller, SIEM
  exports).  The hot path: lines are read as an Arrow array by
  :func:`reader.iter_line_blocks` and normalized by one generated DuckDB query
  (:mod:`dwelltime.sources.m365_sql`); no Python runs per record.
* **JSON documents** — arrays or ``{"value": [...]}`` wrappers, read by
  :func:`jsonrecords.iter_json_records`, then normalized by the same query.
* **Purview "Audit search" CSV** — one row per record; the full record is the
  JSON in the ``AuditData`` column, so that JSON is what gets normalized and kept as
  ``raw``.  ``source_line`` is the line the CSV record starts on (AuditData may
  span lines).

Python only touches the exceptional rows: rejected records (to say precisely why),
records whose ``params`` have duplicate names, and records with an invalid client IP.

The event uid is ``Id|CreationTime|Operation`` in the ``m365-audit`` namespace (the
vendor id, plus time and operation because Microsoft reuses an Id across record
types of one event), or the raw record when there is no Id.  A record exported both
through the API and through Purview therefore gets one uid and is stored once.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from dwelltime import duck
from dwelltime.schema import EVENT_SCHEMA
from dwelltime.sources.base import Chunk, ParseContext, Rejected, Source
from dwelltime.sources.jsonrecords import head_text, iter_json_records, parse_time, sniff_json, wrapped_records
from dwelltime.sources.m365_sql import normalize_sql
from dwelltime.sources.reader import MAX_LINE_BYTES, clip_raw, iter_line_blocks, open_binary, read_head

SOURCE_ID = "m365-audit"

_SQL = normalize_sql()
_KV_TYPE = pa.list_(pa.struct([("k", pa.string()), ("v", pa.string())]))
_PARAMS_TYPE = EVENT_SCHEMA.field("params").type
_SCAN_BATCH_ROWS = 16_384


# --------------------------------------------------------------------------- sniffing


def sniff(head: bytes, name: str) -> float:
    """Purview CSV by its header; JSON by records carrying the audit common schema."""
    text = head_text(head)
    first = text.split("\n", 1)[0]
    if "AuditData" in first and ("CreationDate" in first or "Operation" in first):
        return 0.95
    for record in sniff_json(head):
        keys = {str(k).lower() for k in record}
        if {"creationtime", "operation"} <= keys and keys & {"workload", "recordtype", "organizationid"}:
            return 0.9
    return 0.0


# --------------------------------------------------------------------------- parsing


def parse(path: Path, ctx: ParseContext) -> Iterator[Chunk]:
    """Yield normalized chunks of ``path``, whichever of the three shapes it has."""
    shape = _shape(read_head(path))
    con = _connect()
    try:
        if shape == "csv":
            batches = _csv_batches(path, ctx.chunk_rows)
        elif shape == "document":
            batches = _document_batches(path, ctx.chunk_rows)
        else:
            batches = _ndjson_batches(path, ctx.chunk_rows)
        for raw, lines, rejected in batches:
            events, bad = normalize(con, raw, lines, ctx.source_file)
            merged = sorted([*rejected, *bad], key=lambda r: r.line)
            yield Chunk(events, merged)
    finally:
        con.close()


def _connect() -> duckdb.DuckDBPyConnection:
    # Rows carry their index, so output order does not matter (duck.connect lets
    # DuckDB emit rows as they finish, markedly faster on the hot path).
    return duck.connect()


def _shape(head: bytes) -> str:
    """'csv', 'document' (array / wrapper / pretty-printed) or 'ndjson'."""
    text = head_text(head).lstrip()
    first = text.split("\n", 1)[0].strip()
    if text.startswith("["):
        return "document"
    if text.startswith("{"):
        try:
            value = orjson.loads(first)
        except orjson.JSONDecodeError:
            # "{" alone or a cut-off line: pretty-printed or one huge document.
            return "document" if first == "{" or len(first) >= len(text.rstrip()) else "ndjson"
        return "document" if wrapped_records(value) is not None else "ndjson"
    if "AuditData" in first:
        return "csv"
    return "ndjson"  # unknown: each line is rejected with its number


_Batch = tuple[pa.Array, pa.Array, list[Rejected]]


def _ndjson_batches(path: Path, chunk_rows: int) -> Iterator[_Batch]:
    """Line blocks grouped up to ``chunk_rows`` lines (one query per group, not per block)."""
    lines: list[pa.Array] = []
    numbers: list[pa.Array] = []
    rejected: list[Rejected] = []
    count = 0
    for block in iter_line_blocks(path):
        block_lines = block.lines
        if len(block_lines) and block.line_numbers[0].as_py() == 1:
            block_lines = _strip_bom(block_lines)
        lines.append(block_lines)
        numbers.append(block.line_numbers)
        rejected.extend(block.rejected)
        count += len(block_lines)
        if count >= chunk_rows:
            yield pa.concat_arrays(lines), pa.concat_arrays(numbers), rejected
            lines, numbers, rejected, count = [], [], [], 0
    if count or rejected:
        yield _concat(lines, pa.string_view()), _concat(numbers, pa.int64()), rejected


def _concat(arrays: list[pa.Array], typ: pa.DataType) -> pa.Array:
    return pa.concat_arrays(arrays) if arrays else pa.array([], typ)


def _strip_bom(lines: pa.Array) -> pa.Array:
    first = lines[0].as_py()
    if not first.startswith("\ufeff"):
        return lines
    return pa.concat_arrays([pa.array([first[1:]], pa.string_view()), lines[1:]])


def _document_batches(path: Path, chunk_rows: int) -> Iterator[_Batch]:
    """Members of a JSON array / wrapper document (raw = each member, compact)."""
    raws: list[str] = []
    ordinals: list[int] = []
    rejected: list[Rejected] = []
    for ordinal, raw, record in iter_json_records(path):
        if isinstance(record, Rejected):
            rejected.append(record)
        else:
            raws.append(raw)
            ordinals.append(ordinal)
        if len(raws) >= chunk_rows:
            yield pa.array(raws, pa.string()), pa.array(ordinals, pa.int64()), rejected
            raws, ordinals, rejected = [], [], []
    if raws or rejected:
        yield pa.array(raws, pa.string()), pa.array(ordinals, pa.int64()), rejected


def _csv_batches(path: Path, chunk_rows: int) -> Iterator[_Batch]:
    """Rows of a Purview audit export: the AuditData JSON of each, with its starting line."""
    raws: list[str] = []
    starts: list[int] = []
    rejected: list[Rejected] = []
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, MAX_LINE_BYTES))
    try:
        with open_binary(path) as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="")
            reader = csv.reader(text)
            header = next(reader, [])
            column = _audit_data_column(header)
            start = reader.line_num + 1
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    rejected.append(Rejected(start, f"CSV: {exc}", ""))
                    start = reader.line_num + 1
                    continue
                except (EOFError, OSError) as exc:
                    rejected.append(Rejected(start, f"compressed stream is truncated or corrupt ({exc})", ""))
                    break
                line, start = start, reader.line_num + 1
                if not any(cell.strip() for cell in row):
                    continue  # a blank line is not a record
                if column is None or column >= len(row) or not row[column].strip():
                    reason = "CSV has no AuditData column" if column is None else "CSV row has no AuditData"
                    rejected.append(Rejected(line, reason, clip_raw(",".join(row).encode())))
                    continue
                raws.append(row[column])
                starts.append(line)
                if len(raws) >= chunk_rows:
                    yield pa.array(raws, pa.string()), pa.array(starts, pa.int64()), rejected
                    raws, starts, rejected = [], [], []
    finally:
        csv.field_size_limit(limit)
    if raws or rejected:
        yield pa.array(raws, pa.string()), pa.array(starts, pa.int64()), rejected


def _audit_data_column(header: list[str]) -> int | None:
    for index, name in enumerate(header):
        if name.strip().strip('"').lower() == "auditdata":
            return index
    return None


# --------------------------------------------------------------------------- normalizing


def normalize(
    con: duckdb.DuckDBPyConnection, raw: pa.Array, lines: pa.Array, source_file: str
) -> tuple[pa.Table, list[Rejected]]:
    """Normalize records (``raw`` JSON texts, with their line numbers) into event rows.

    Returns the events and the records rejected, each with a specific reason.
    """
    count = len(raw)
    src = pa.table({"i": pa.array(np.arange(count, dtype=np.int32)), "raw": raw})
    # DuckDB scans an Arrow table in parallel by record batch: one batch = one thread.
    src = pa.Table.from_batches(src.to_batches(max_chunksize=_SCAN_BATCH_ROWS))
    rejected: list[Rejected] = []
    try:
        out = _run(con, src)
    except duckdb.InvalidInputException:
        # Some line is not JSON at all.  Rare, so find those lines only now and rerun.
        con.register("src", src)
        bad = con.sql("SELECT i FROM src WHERE NOT json_valid(raw)").to_arrow_table().column("i")
        mask = np.ones(count, dtype=bool)
        mask[bad.to_numpy()] = False
        for index in sorted(bad.to_pylist()):
            rejected.append(_rejection(raw[index].as_py(), int(lines[index].as_py())))
        # (Arrow cannot filter string_view arrays; this slow path can afford a copy.)
        text = src.column("raw").cast(pa.string())
        out = _run(con, src.set_column(1, "raw", text).filter(pa.array(mask)))
    flagged = out.column("reject").to_numpy(zero_copy_only=False)
    if flagged.any():
        for index in sorted(out.column("i").filter(pa.array(flagged)).to_pylist()):
            rejected.append(_rejection(raw[index].as_py(), int(lines[index].as_py())))
        out = out.filter(pa.array(~flagged))
    return _assemble(out, raw, lines, source_file), rejected


def _run(con: duckdb.DuckDBPyConnection, src: pa.Table) -> pa.Table:
    con.register("src", src)
    try:
        return con.sql(_SQL).to_arrow_table()
    finally:
        con.unregister("src")


def _rejection(raw: str, line: int) -> Rejected:
    return Rejected(line, _reject_reason(raw), clip_raw(raw.encode()))


def _reject_reason(raw: str) -> str:
    """Why a record could not be normalized, as precisely as the record allows."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return f"JSON: {exc}"
    if not isinstance(value, dict):
        kind = "list" if isinstance(value, list) else type(value).__name__
        return f"JSON: expected object, got {kind}"
    keys = {str(k).lower(): v for k, v in value.items()}
    created = keys.get("creationtime")
    operation = keys.get("operation")
    if created is None:
        return "no CreationTime"
    if operation is None or operation == "":
        return "no Operation"
    if not isinstance(created, str):
        return f"CreationTime is not text: {str(created)[:40]}"
    if parse_time(created) is None:
        return f"unparseable CreationTime {created[:40]!r}"
    # Both present and sound, yet the query found none: the keys mix letter cases.
    return "CreationTime / Operation keys in a letter case that does not match the record's other keys"


def _assemble(out: pa.Table, raw: pa.Array, lines: pa.Array, source_file: str) -> pa.Table:
    """Put DuckDB's output into the event schema, fixing IPs and params on the side."""
    count = out.num_rows
    src_ip, bad_ip = _canonical_ips(out.column("ip_host").combine_chunks(), out.column("ip_plain").combine_chunks())
    params = _fix_params(out.column("params").combine_chunks(), out.column("params_dup"), out.column("ip_text"), bad_ip)
    indices = out.column("i")
    columns: dict[str, Any] = {
        "src_ip": src_ip,
        "src_port": out.column("src_port").cast(pa.int32()),
        "params": params,
        "source_format": _constant(SOURCE_ID, count),
        "source_file": _constant(source_file, count),
        "source_line": pc.take(lines, indices),
        # The verbatim text comes from the input, not through DuckDB (a copy of every record saved).
        "raw": _take_text(raw, indices),
    }
    arrays = []
    for field in EVENT_SCHEMA:
        if field.name in columns:
            arrays.append(columns[field.name])
        elif field.name in out.column_names:
            arrays.append(out.column(field.name).cast(field.type))
        else:
            arrays.append(pa.nulls(count, field.type))
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


def _take_text(texts: pa.Array, indices: pa.ChunkedArray) -> pa.Array:
    """``texts[indices]``; string_view inputs are gathered through their views (the one copy of the
    text happens when the events take the schema's plain string type)."""
    positions = indices.combine_chunks() if isinstance(indices, pa.ChunkedArray) else indices
    if len(positions) == 0:
        return pa.array([], pa.string())
    if pa.types.is_string_view(texts.type):
        return _gather_views(texts, positions.to_numpy(zero_copy_only=False))
    return pc.take(texts, positions).cast(pa.string())


def _gather_views(texts: pa.Array, positions: np.ndarray) -> pa.Array:
    """Gather a string_view array by position (Arrow's take has no string_view kernel here)."""
    views = np.frombuffer(texts.buffers()[1], dtype=np.uint8).reshape(-1, 16)[texts.offset : texts.offset + len(texts)]
    chosen = np.ascontiguousarray(views[positions])
    buffers = [None, pa.py_buffer(chosen), *texts.buffers()[2:]]
    return pa.Array.from_buffers(pa.string_view(), len(positions), buffers)


def _constant(value: str, count: int) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(count, dtype=np.int32)), pa.array([value])).cast(
        pa.string()
    )


def split_ip(text: str) -> tuple[str | None, int | None]:
    """(canonical address, port) of a client address as the audit log writes it.

    Handles ``1.2.3.4``, ``1.2.3.4:5678``, ``[2001:db8::1]:443``, bare IPv6 and
    ``::ffff:1.2.3.4`` (mapped to IPv4).  Anything else gives (None, None).
    """
    value = text.strip()
    port: str | None = None
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest.startswith(":"):
            port = rest[1:]
        value = host
    elif value.count(":") == 1:
        value, port = value.split(":")
    value = value.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None, None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    number = int(port) if port and port.isdigit() and int(port) <= 65535 else None
    return str(address), number


def _canonical_ips(hosts: pa.Array, plain: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Canonical addresses; plain IPv4 (checked in SQL) as is, the rest once per distinct value."""
    others = pc.unique(hosts.filter(pc.invert(plain))).drop_null()
    canon = [split_ip(text)[0] for text in others.to_pylist()]
    positions = pc.index_in(hosts, value_set=others)
    fixed = pc.take(pa.array(canon, pa.string()), positions)
    src_ip = pc.if_else(plain, hosts, fixed).cast(pa.string())
    bad = np.asarray(pc.and_(pc.is_valid(hosts), pc.is_null(src_ip)).fill_null(False), dtype=bool)
    return src_ip, bad


def _fix_params(params: pa.Array, dup: pa.ChunkedArray, ip_text: pa.ChunkedArray, bad_ip: np.ndarray) -> pa.Array:
    """Make params a map: keep the first of duplicate names, record an unparsable client IP."""
    fix = np.asarray(dup.to_numpy(zero_copy_only=False), dtype=bool) | bad_ip
    if fix.any():
        rows = np.flatnonzero(fix)
        texts = ip_text.take(pa.array(rows)).to_pylist()
        fixed: list[list[dict[str, str]]] = []
        for entries, text, ip_bad in zip(params.take(pa.array(rows)).to_pylist(), texts, bad_ip[rows], strict=True):
            seen: dict[str, str] = {}
            for entry in entries or []:
                seen.setdefault(entry["k"], entry["v"])
            if ip_bad and text is not None:
                seen.setdefault("src_ip_raw", text)
            fixed.append([{"k": k, "v": v} for k, v in seen.items()])
        positions = np.arange(len(params), dtype=np.int64)
        positions[rows] = len(params) + np.arange(len(rows))
        params = pc.take(pa.concat_arrays([params.cast(_KV_TYPE), pa.array(fixed, _KV_TYPE)]), pa.array(positions))
    params = params.cast(_KV_TYPE)
    # offsets and values always agree with each other, whatever the array's own offset.
    entries = params.values
    return pa.MapArray.from_arrays(
        params.offsets, entries.field("k"), entries.field("v"), type=_PARAMS_TYPE, mask=params.is_null()
    )


SOURCE = Source(
    id=SOURCE_ID,
    title="Microsoft 365 unified audit log (Management Activity API NDJSON / JSON, Purview audit CSV)",
    sniff=sniff,
    parse=parse,
)
