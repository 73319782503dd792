"""Event ids of line-oriented logs: MD5 of the namespace, the raw line and its line number.

Why MD5 and not the SHA-256 of :func:`dwelltime.sources.base.uid_of`: on the
highest-volume inputs (millions of Dovecot lines) SHA-256 alone cost ~1.5 µs a line,
a third of the whole ingest budget; MD5 costs a third of that.  The reason
:func:`uid_of` chose a cryptographic hash still holds (an attacker who writes part of
a line must not be able to make it shadow a genuine one), and MD5's known weakness
does not reach it here:

* shadowing a genuine line needs a *second preimage* of that line's key, which is as
  far out of reach for MD5 as for SHA-256;
* a chosen-prefix collision lets an attacker make two keys of *their own* collide,
  but only with identical bytes after the collision blocks; every key ends with the
  line's number, which differs between any two lines of a file, and the collision
  blocks would have to sit in the attacker-controlled middle of a line that the server
  finishes with its own fields.

The id stays stable (same namespace, line text and number -> same id, whatever path
normalized the line).  Changing from SHA-256 changed every Dovecot event id once: a
workspace filled before the change does not recognise re-ingested Dovecot lines as
duplicates.
"""

from __future__ import annotations

import hashlib

from dwelltime.sources.base import UID_SEP


def _check(namespace: str) -> None:
    if not namespace.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"bad uid namespace {namespace!r}")


def line_uid(namespace: str, raw: str, line: int) -> str:
    """32 hex digits: MD5 of ``namespace US raw US line``.  Must equal :func:`line_uid_sql`."""
    _check(namespace)
    return hashlib.md5(f"{namespace}{UID_SEP}{raw}{UID_SEP}{line}".encode(), usedforsecurity=False).hexdigest()


def line_uid_sql(namespace: str, raw_expr: str = "raw", line_expr: str = "source_line") -> str:
    """DuckDB SQL computing :func:`line_uid` (``namespace`` is our literal id, the others column names)."""
    _check(namespace)
    return f"md5('{namespace}' || chr(31) || ({raw_expr}) || chr(31) || CAST({line_expr} AS VARCHAR))"
