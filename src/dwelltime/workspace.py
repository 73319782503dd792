"""Where a workspace's data lives, and the lock that keeps two writers apart.

A workspace is a plain directory an analyst can copy, archive as evidence, or open
with any Parquet reader: ``events/date=YYYY-MM-DD/*.parquet``, ``quarantine/``,
``manifest.jsonl``.  Nothing about it lives in a global config file.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dwelltime.errors import ConfigError, StoreError

DEFAULT_WORKSPACE = "dwelltime-data"
ENV_HOME = "DWELLTIME_HOME"


def resolve_workspace(path: str | Path | None) -> Path:
    """An explicit path wins, then $DWELLTIME_HOME, then ./dwelltime-data."""
    if path:
        return Path(path)
    env = os.environ.get(ENV_HOME)
    return Path(env) if env else Path(DEFAULT_WORKSPACE)


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def open(cls, path: str | Path | None = None, create: bool = True) -> Workspace:
        root = resolve_workspace(path)
        if root.exists() and not root.is_dir():
            raise ConfigError(f"workspace {root} exists and is not a directory")
        if not root.exists():
            if not create:
                raise ConfigError(f"no workspace at {root} (run 'dwelltime ingest' first or pass --workspace)")
            root.mkdir(parents=True)
        ws = cls(root)
        for sub in (ws.events_dir, ws.quarantine_dir, ws.tmp_dir):
            sub.mkdir(parents=True, exist_ok=True)
        return ws

    @property
    def events_dir(self) -> Path:
        return self.root / "events"

    @property
    def quarantine_dir(self) -> Path:
        return self.root / "quarantine"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.jsonl"

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Exclusive writer lock; a second concurrent ingest fails fast instead of racing."""
        lock_path = self.root / ".lock"
        with lock_path.open("a") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StoreError(f"workspace {self.root} is being written by another dwelltime process") from exc
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
