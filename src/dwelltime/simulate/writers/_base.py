"""What every writer shares: the record reference, the writer protocol, appendable line files, ids.

Kept apart from ``__init__`` so the format modules can import it without importing the
router (which imports them).  Nothing here knows a vendor format.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, ClassVar, Protocol

from dwelltime.simulate.activity import Activity
from dwelltime.simulate.model import Org


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Where one written record is: enough for ground truth to point at it.

    ``file`` is relative to the output directory (POSIX separators), ``line`` is 1-based,
    ``record_id`` is the vendor's id of the record where it has one (M365 ``Id``, Entra ``id``,
    Zeek ``uid``) or the id that ties syslog lines together: the Dovecot session of a Dovecot
    line; for Postfix the queue id of the message, also on the SMTP session lines (connect,
    TLS, disconnect) that carry none, or ``smtpd[pid]`` for an AUTH attempt without a message.
    """

    format: str
    file: str
    line: int
    record_id: str


class Writer(Protocol):
    """Renders activities in one vendor format, appending to files under an output directory."""

    format: str

    def write(self, activity: Activity) -> list[RecordRef]:
        """Append the records of ``activity``; return a reference to each record written."""
        ...

    def close(self) -> None:
        """Flush and close every file (and write trailers such as Zeek's ``#close``)."""
        ...


class LineFiles:
    """Append-only text files under one root, with the line count of each kept in memory.

    Line numbers are what ground truth needs, so they are counted as lines are written
    rather than re-read.  A file is truncated the first time this object opens it (one
    simulation run owns its output directory) and re-opened for append if it had to be
    closed to stay under ``max_open`` handles (a long run touches one file per day).

    Writers that share a file (Dovecot and Postfix both log to ``mail.log``) must share one
    instance so their line numbers agree: :meth:`acquire` hands out one instance per root
    and closes it when the last writer releases it.
    """

    _live: ClassVar[dict[str, tuple[LineFiles, int]]] = {}

    def __init__(self, root: Path, max_open: int = 8) -> None:
        self.root = root
        self.max_open = max_open
        self._lines: dict[str, int] = {}
        self._open: dict[str, IO[str]] = {}  # insertion order = least recently opened first

    @classmethod
    def acquire(cls, root: Path) -> LineFiles:
        key = str(root.resolve())
        files, users = cls._live.get(key, (None, 0))
        if files is None:
            files = cls(root)
        cls._live[key] = (files, users + 1)
        return files

    def release(self) -> None:
        key = str(self.root.resolve())
        files, users = self._live.get(key, (self, 1))
        if users <= 1:
            self._live.pop(key, None)
            self.close()
        else:
            self._live[key] = (files, users - 1)

    def lines(self, rel: str) -> int:
        """Lines written so far to ``rel``."""
        return self._lines.get(rel, 0)

    def append(self, rel: str, lines: list[str]) -> int:
        """Append ``lines`` (without newlines) to ``rel``; return the 1-based number of the first."""
        handle = self._open.get(rel)
        if handle is None:
            handle = self._open_file(rel)
        first = self._lines.get(rel, 0) + 1
        handle.write("\n".join(lines))
        handle.write("\n")
        self._lines[rel] = first - 1 + len(lines)
        return first

    def _open_file(self, rel: str) -> IO[str]:
        while len(self._open) >= self.max_open:
            oldest = next(iter(self._open))
            self._open.pop(oldest).close()
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = "a" if rel in self._lines else "w"
        self._lines.setdefault(rel, 0)
        handle = path.open(mode, encoding="utf-8", newline="\n", buffering=1 << 20)
        self._open[rel] = handle
        return handle

    def close(self) -> None:
        for handle in self._open.values():
            handle.close()
        self._open.clear()


def component_rng(org: Org, seed: int, name: str) -> random.Random:
    """A generator seeded from (seed, organisation, component): same inputs, same bytes."""
    digest = hashlib.sha256(f"{seed}\x1f{org.tenant_id}\x1f{org.domain}\x1f{name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def stable_int(*parts: str) -> int:
    """A 128-bit integer fixed by ``parts``: ids that must agree across writers and runs
    (a user's object id, a mailbox GUID, an item id) without keeping a table of them."""
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:16], "big")


def stable_guid(*parts: str) -> str:
    return str(uuid.UUID(int=stable_int(*parts), version=4))


def random_guid(rng: random.Random) -> str:
    """A version-4 GUID (the variant and version bits set, as Microsoft's ids have them).

    Same text as ``str(uuid.UUID(int=..., version=4))``, formatted directly: it is called
    several times per record on the hottest path.
    """
    n = rng.getrandbits(128)
    n = (n & ~(0xF000 << 64) | (0x4000 << 64)) & ~(0xC000 << 48) | (0x8000 << 48)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def utc_day(when: datetime) -> str:
    return when.strftime("%Y-%m-%d")


def client_host(org: Org, role: str) -> tuple[str, str]:
    """(name, ip) of the organisation's first host with ``role``, or a plausible default."""
    for host in org.hosts:
        if host.role == role:
            return host.name, host.ip
    for host in org.hosts:
        if host.role in ("mailstore", "mta"):
            return host.name, host.ip
    return "mail01", "10.0.0.25"
