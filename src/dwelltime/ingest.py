"""Ingest: files in, normalized enriched events stored once, every record accounted for.

For each file: detect its format, parse it in bounded chunks, enrich, store new
events, quarantine rejected records, and append a manifest entry.  The per-file
summary obeys two identities an analyst can check:
``read = parsed + quarantined`` and ``events = stored + duplicates``
(events and parsed records differ only where a format folds several records into one
event — Postfix queue lines — or splits one into several — Workspace activities).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from dwelltime.errors import DwelltimeError, StoreError
from dwelltime.sources.base import Chunk, ParseContext, Rejected, Source
from dwelltime.sources.registry import detect, get_source
from dwelltime.store.writer import EventStore, conform
from dwelltime.workspace import Workspace


class Enricher(Protocol):
    def enrich(self, table: pa.Table) -> pa.Table: ...


@dataclass
class FileSummary:
    """What happened to one input file."""

    path: str
    format: str | None = None
    size: int = 0
    sha256: str | None = None
    read: int = 0
    parsed: int = 0
    quarantined: int = 0
    events: int = 0
    stored: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    error: str | None = None
    started_at: str = ""
    finished_at: str = ""
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class IngestOptions:
    format: str | None = None
    year: int | None = None
    tz: str = "UTC"
    chunk_rows: int = 100_000


ProgressCallback = Callable[[str, int], None]


def expand_paths(paths: Iterable[Path], exclude: Path | None = None) -> Iterator[Path]:
    """Files under the given paths, directories recursed in name order; the workspace itself excluded."""
    excluded = exclude.resolve() if exclude else None
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if excluded and excluded in child.resolve().parents:
                    continue
                if any(part.startswith(".") for part in child.relative_to(path).parts):
                    continue
                yield child
        else:
            yield path


def ingest(
    paths: Iterable[Path],
    workspace: Workspace,
    options: IngestOptions,
    enricher: Enricher | None = None,
    progress: ProgressCallback | None = None,
) -> list[FileSummary]:
    """Ingest every file under ``paths`` into ``workspace``; one summary per file."""
    summaries: list[FileSummary] = []
    forced = get_source(options.format) if options.format else None
    with workspace.write_lock(), EventStore(workspace) as store:
        for path in expand_paths(paths, exclude=workspace.root):
            summary = _ingest_file(path, store, options, forced, enricher, progress)
            summaries.append(summary)
            _append_manifest(workspace.manifest_path, summary)
    return summaries


def _ingest_file(
    path: Path,
    store: EventStore,
    options: IngestOptions,
    forced: Source | None,
    enricher: Enricher | None,
    progress: ProgressCallback | None,
) -> FileSummary:
    started = datetime.now(UTC)
    summary = FileSummary(path=str(path), started_at=started.isoformat())
    clock = _Stopwatch()
    try:
        stat = path.stat()
    except OSError as exc:
        summary.error = f"cannot read {path}: {exc.strerror or exc}"
        return summary
    summary.size = stat.st_size
    hasher = _BackgroundHash(path)
    try:
        source = forced or detect(path)
        summary.format = source.id
        ctx = ParseContext(
            source_file=str(path),
            year=options.year,
            tz=options.tz,
            mtime=datetime.fromtimestamp(stat.st_mtime, UTC),
            chunk_rows=options.chunk_rows,
        )
        for chunk in source.parse(path, ctx):
            _take_chunk(chunk, summary, store, source.id, enricher)
            if progress:
                progress(str(path), summary.read)
    except StoreError:
        raise  # the workspace itself failed (disk full, permissions): stop, don't blame the file
    except DwelltimeError as exc:
        summary.error = str(exc)
    except OSError as exc:
        summary.error = f"{path}: {exc.strerror or exc}"
    except Exception as exc:  # a parser bug: keep what was stored, say where it stopped
        summary.error = f"{path}: parser {summary.format} failed after {summary.read} records: {exc!r}"
    store.flush()  # the manifest entry is written only once the file's events are on disk
    summary.sha256 = hasher.result()
    summary.seconds = round(clock.elapsed(), 3)
    summary.finished_at = datetime.now(UTC).isoformat()
    return summary


def _take_chunk(
    chunk: Chunk, summary: FileSummary, store: EventStore, source_id: str, enricher: Enricher | None
) -> None:
    events = conform(chunk.events)
    rejected = list(chunk.rejected)
    parsed = chunk.records_parsed
    # Rows a parser emitted without the two things storage relies on are quarantined, not dropped.
    unusable = pc.or_(pc.is_null(events.column("time")), pc.is_null(events.column("event_uid")))
    if pc.any(unusable).as_py():
        bad = events.filter(unusable)
        for line, raw in zip(bad.column("source_line").to_pylist(), bad.column("raw").to_pylist(), strict=True):
            rejected.append(Rejected(int(line or 0), "parser produced no timestamp or uid", str(raw or "")))
        events = events.filter(pc.invert(unusable))
        parsed = max(0, parsed - bad.num_rows) if chunk.parsed is None else parsed
    if enricher is not None and events.num_rows:
        events = enricher.enrich(events)
    stored, duplicates = store.store_events(events)
    store.store_rejected(rejected, summary.path, source_id)
    summary.parsed += parsed
    summary.quarantined += len(rejected)
    summary.read += parsed + len(rejected)
    summary.events += events.num_rows
    summary.stored += stored
    summary.duplicates += duplicates
    for item in rejected:
        key = _reason_class(item.reason)
        summary.reasons[key] = summary.reasons.get(key, 0) + 1


def _reason_class(reason: str) -> str:
    """Group quarantine reasons for the summary (numbers and quoted values removed)."""
    head = reason.split(":", 1)[0]
    return "".join("N" if ch.isdigit() else ch for ch in head)[:80]


def _append_manifest(manifest: Path, summary: FileSummary) -> None:
    line = orjson.dumps(summary.to_json()) + b"\n"
    with manifest.open("ab") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def read_manifest(manifest: Path) -> list[dict[str, object]]:
    if not manifest.exists():
        return []
    entries = []
    for raw in manifest.read_bytes().splitlines():
        try:
            entries.append(orjson.loads(raw))
        except orjson.JSONDecodeError:
            continue  # a line cut short by a kill; the file will be ingested again anyway
    return entries


class _BackgroundHash:
    """SHA-256 of the file as stored on disk, computed on a thread while parsing runs.

    hashlib releases the GIL on large buffers, so on two cores this costs little wall
    time; the manifest's hash is what an analyst cites as evidence of what was analysed.
    """

    def __init__(self, path: Path) -> None:
        self._digest: str | None = None
        self._thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        digest = hashlib.sha256()
        try:
            with path.open("rb") as handle:
                while block := handle.read(8 * 1024 * 1024):
                    digest.update(block)
        except OSError:
            return
        self._digest = digest.hexdigest()

    def result(self) -> str | None:
        self._thread.join()
        return self._digest


class _Stopwatch:
    def __init__(self) -> None:
        import time

        self._time = time.perf_counter
        self._start = self._time()

    def elapsed(self) -> float:
        return self._time() - self._start
