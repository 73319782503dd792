"""Reading files of JSON records, whatever shape the exporter chose.

Identity and mail services export the same records in several shapes, and the
person ingesting them rarely knows which one they have:

* **NDJSON** — one object per line (Azure Event Hub / storage-account exports, our
  own pollers, ``jq -c``).  Read as a stream through :func:`reader.iter_line_blocks`,
  so memory stays bounded and every bad line is rejected with its line number.
* **One JSON document** — an array of records (``ConvertTo-Json``, portal
  downloads), a *wrapper object* holding the array (``{"value": [...]}`` as Graph
  returns, ``{"records": [...]}`` as Azure diagnostic exports write,
  ``{"items": [...]}`` as the Google Reports API returns), a single object, or
  several pretty-printed objects one after another (``jq .`` output).  Documents
  are read **whole**, up to :data:`MAX_DOCUMENT_BYTES` (512 MiB decompressed);
  a larger document is rejected with a reason telling the user to convert it to
  one record per line, because a streaming JSON parser would cost more in code
  and speed than that rare case is worth.

Record numbering: in NDJSON the ``line`` of a record is its 1-based line in the
file; in a document it is the record's 1-based ordinal (array members counted
across the whole document), matching the ``source_line`` doc in the schema.  A
wrapper object found on one NDJSON line (a Graph page saved per line) yields its
members, all with that line number.

A damaged document (truncated download, a cut gzip, invalid UTF-8) still yields
every record before the damage, then one :class:`Rejected` saying where and why:
for evidence, the records before a cut are worth keeping.

The module also holds the small value normalizers the JSON-record parsers share
(:func:`parse_time`, :func:`canonical_ip`), so each vendor module stays about its
vendor's fields.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from dwelltime.sources.base import Rejected
from dwelltime.sources.reader import clip_raw, iter_line_blocks, open_binary, read_head

#: Largest JSON *document* read whole (NDJSON files have no limit: they stream).
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
#: Keys under which API responses and exports wrap their record arrays.
WRAPPER_KEYS: tuple[str, ...] = ("value", "records", "items")

#: What :func:`iter_json_records` yields: (line or ordinal, raw text, record or rejection).
JsonItem = tuple[int, str, dict[str, Any] | Rejected]

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


# --------------------------------------------------------------------------- reading


def iter_json_records(path: Path) -> Iterator[JsonItem]:
    """Yield ``(line, raw, record)`` for every record of a JSON-record file.

    ``record`` is the decoded object, or a :class:`Rejected` (with the same line and
    raw) when the record is not valid JSON, is not an object (``"JSON: expected
    object, got list"``), or lies past the point where a document is damaged.
    ``raw`` is the line verbatim for NDJSON and the record re-serialized compactly
    (orjson) for members of a document.  See the module docstring for the shapes.
    """
    head = read_head(path, 64 * 1024)
    if _is_ndjson(head):
        yield from _iter_ndjson(path)
    else:
        yield from _iter_document(path)


def _is_ndjson(head: bytes) -> bool:
    """One record per line?  Decided on the first two non-empty lines of the head.

    A first line that is a complete JSON value means NDJSON; so does a bad first line
    followed by a good one (one damaged record must not turn the file into one
    broken "document").  A wrapper object on the first line, anything starting with
    ``[``, a first line cut by the head (a minified document bigger than 64 KiB), or a
    pretty-printed object is a document.
    """
    head = head.removeprefix(_UTF8_BOM)
    if head.startswith(_UTF16_BOMS):
        return False
    stripped = head.lstrip()
    if not stripped or stripped[:1] == b"[":
        return False
    lines = [line for line in stripped.split(b"\n") if line.strip()]
    complete = lines if head.endswith(b"\n") else lines[:-1]
    for line in complete[:2]:
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        # A wrapper on the first line is a (minified) document, or pages one per line:
        # the document reader numbers their records by ordinal, which stays unambiguous.
        return wrapped_records(value) is None
    # Not a single parsable line: a document, unless nothing JSON-like starts it at all
    # (then line-by-line reading rejects each line with its number, which helps most).
    return stripped[:1] != b"{"


def _iter_ndjson(path: Path) -> Iterator[JsonItem]:
    for block in iter_line_blocks(path):
        rejected = iter(block.rejected)
        pending = next(rejected, None)
        for text, number in zip(block.lines.to_pylist(), block.line_numbers.to_pylist(), strict=True):
            while pending is not None and pending.line < number:
                yield pending.line, pending.raw, pending
                pending = next(rejected, None)
            yield from _ndjson_line(text, number)
        while pending is not None:
            yield pending.line, pending.raw, pending
            pending = next(rejected, None)


def _ndjson_line(text: str, number: int) -> Iterator[JsonItem]:
    if number == 1:
        text = text.removeprefix("\ufeff")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        yield number, text, Rejected(number, f"JSON: {exc}", clip_raw(text.encode()))
        return
    members = wrapped_records(value)
    if members is None:
        yield number, text, _as_record(value, number, text)
        return
    for member in members:
        raw = _compact(member)
        yield number, raw, _as_record(member, number, raw)


def _iter_document(path: Path) -> Iterator[JsonItem]:
    data, failure = _read_document(path)
    if failure is not None and not data:
        yield 1, "", Rejected(1, failure, "")
        return
    if len(data) > MAX_DOCUMENT_BYTES:
        reason = (
            f"JSON document larger than {MAX_DOCUMENT_BYTES} bytes is not read whole; "
            "convert it to one record per line (e.g. jq -c '.[]')"
        )
        yield 1, "", Rejected(1, reason, clip_raw(data[:4096]))
        return
    data = data.removeprefix(_UTF8_BOM)
    if failure is None and not data.startswith(_UTF16_BOMS):
        try:
            value = orjson.loads(data)  # fast path: one well-formed document
        except orjson.JSONDecodeError:
            pass
        else:
            yield from _document_values(iter([value]))
            return
    text, cut_reason = _decode_document(data)
    yield from _document_values(_walk(text, cut_reason or failure))


def _read_document(path: Path) -> tuple[bytes, str | None]:
    """Read up to one byte past the limit; report a truncated compressed stream."""
    try:
        with open_binary(path) as handle:
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
            try:
                handle.read(1)
            except (EOFError, OSError, zlib.error) as exc:
                return data, f"compressed stream is truncated or corrupt ({exc or type(exc).__name__})"
    except (EOFError, OSError, zlib.error) as exc:
        return b"", f"cannot read file ({exc or type(exc).__name__})"
    return data, None


def _decode_document(data: bytes) -> tuple[str, str | None]:
    """Text of a document; invalid UTF-8 ends it there (records before it still count)."""
    if data.startswith(_UTF16_BOMS):
        return data.decode("utf-16", errors="replace"), None
    data = data.removeprefix(_UTF8_BOM)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return data[: exc.start].decode("utf-8"), f"invalid UTF-8 at byte {exc.start}"


def _document_values(values: Iterator[Any]) -> Iterator[JsonItem]:
    """Number the records of a document, expanding arrays and wrappers."""
    ordinal = 0
    for value in values:
        if isinstance(value, _Damage):
            ordinal += 1
            yield ordinal, value.rest, Rejected(ordinal, value.reason, value.rest)
            return
        members = value if isinstance(value, list) else wrapped_records(value)
        for member in members if members is not None else [value]:
            ordinal += 1
            raw = _compact(member)
            yield ordinal, raw, _as_record(member, ordinal, raw)


def _as_record(value: Any, line: int, raw: str) -> dict[str, Any] | Rejected:
    if isinstance(value, dict):
        return value
    return Rejected(line, f"JSON: expected object, got {_json_type(value)}", raw)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "null" if value is None else type(value).__name__


def _compact(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # integers beyond 64 bits, which orjson refuses to write
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def wrapped_records(value: Any) -> list[Any] | None:
    """The record list inside an API wrapper object, or None when ``value`` is no wrapper.

    A wrapper holds its array under ``value`` / ``records`` / ``items`` and otherwise
    only scalars (``@odata.nextLink``, ``nextPageToken``, ``kind``, ``etag``...).
    Requiring the other members to be scalars keeps a real record that happens to
    have an ``items`` list (records nearly always nest objects) from being unwrapped.
    """
    if not isinstance(value, dict):
        return None
    found: list[Any] | None = None
    for key, member in value.items():
        if key in WRAPPER_KEYS and isinstance(member, list) and found is None:
            found = member
        elif isinstance(member, dict | list):
            return None
    return found


# --------------------------------------------------------------------------- salvage walk


@dataclass(frozen=True)
class _Damage:
    """Where a document stopped being valid JSON, and what followed (for the quarantine)."""

    reason: str
    rest: str


def _walk(text: str, cut_reason: str | None) -> Iterator[Any]:
    """Decode top-level values one after another; arrays and wrappers member by member.

    Only used when the document as a whole does not parse: walking member by member
    (with the C-accelerated stdlib scanner) finds every record before the damage.
    Yields values and, at the first damage, one :class:`_Damage`.
    """
    pos = _skip(text, 0)
    while pos < len(text):
        if text[pos] == "[":
            end = yield from _walk_array(text, pos, cut_reason)
        elif text[pos] == "{":
            try:
                value, end = _DECODER.raw_decode(text, pos)
            except ValueError:
                end = yield from _walk_wrapper(text, pos, cut_reason)
            else:
                yield value
        else:
            try:
                value, end = _DECODER.raw_decode(text, pos)
            except ValueError as exc:
                end = None
                yield _damage(text, pos, exc, cut_reason)
            else:
                yield value
        if end is None:
            return
        pos = _skip(text, end)
    if cut_reason:
        yield _Damage(cut_reason, "")


def _walk_array(text: str, pos: int, cut_reason: str | None) -> Generator[Any, None, int | None]:
    """Members of the array starting at ``pos``; returns the position after it, or None."""
    pos = _skip(text, pos + 1)
    if text.startswith("]", pos):
        return pos + 1
    while True:
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except ValueError as exc:
            yield _damage(text, pos, exc, cut_reason)
            return None
        yield value
        pos = _skip(text, end)
        if text.startswith(",", pos):
            pos = _skip(text, pos + 1)
        elif text.startswith("]", pos):
            return pos + 1
        else:
            yield _damage(text, pos, "expected ',' or ']' between array members", cut_reason)
            return None


def _walk_wrapper(text: str, pos: int, cut_reason: str | None) -> Generator[Any, None, int | None]:
    """A damaged object: walk its members and salvage a wrapper array inside it."""
    start = pos
    pos = _skip(text, pos + 1)
    while not text.startswith("}", pos):
        try:
            key, end = _DECODER.raw_decode(text, pos)
            pos = _skip(text, end)
            if not isinstance(key, str) or not text.startswith(":", pos):
                raise ValueError("expected a member name and ':'")
            pos = _skip(text, pos + 1)
            if key in WRAPPER_KEYS and text.startswith("[", pos):
                end_array = yield from _walk_array(text, pos, cut_reason)
                if end_array is None:
                    return None
                pos = _skip(text, end_array)
            else:
                _, end = _DECODER.raw_decode(text, pos)
                pos = _skip(text, end)
        except ValueError as exc:
            # The damaged object is a record itself, not a wrapper: quarantine all of it.
            yield _damage(text, start, exc, cut_reason)
            return None
        if text.startswith(",", pos):
            pos = _skip(text, pos + 1)
    return pos + 1


def _damage(text: str, pos: int, problem: ValueError | str, cut_reason: str | None) -> _Damage:
    """Describe the damage found while decoding from ``pos``.

    A decoder error at the very end of the text means the document was cut short
    (an interrupted download or copy), which is worth telling apart from bad JSON.
    """
    where = problem.pos if isinstance(problem, json.JSONDecodeError) else pos
    truncated = where >= len(text.rstrip())
    detail = cut_reason or ("document truncated" if truncated else "invalid JSON")
    message = problem.msg if isinstance(problem, json.JSONDecodeError) else str(problem)
    rest = clip_raw(text[pos:].encode())
    return _Damage(f"JSON: {detail} ({message} at char {where}); nothing after char {pos} was read", rest)


def _skip(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


# --------------------------------------------------------------------------- sniffing


def sniff_json(head: bytes, limit: int = 5) -> list[dict[str, Any]]:
    """The first (up to ``limit``) records found in the head of a file, for sniffers.

    ``head`` may be cut anywhere: incomplete records are ignored.  Works for every
    shape :func:`iter_json_records` reads (wrappers are opened, arrays walked).
    Non-object records are skipped.  Returns ``[]`` when nothing JSON-like is there.
    """
    if head.startswith(_UTF16_BOMS):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.removeprefix(_UTF8_BOM).decode("utf-8", errors="ignore")
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return []
    found: list[dict[str, Any]] = []
    if _is_ndjson(stripped.encode()):
        for line in stripped.splitlines():
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            members = wrapped_records(value)
            found.extend(m for m in (members if members is not None else [value]) if isinstance(m, dict))
            if len(found) >= limit:
                break
        return found[:limit]
    for value in _walk(stripped, None):
        if isinstance(value, _Damage):
            break
        members = value if isinstance(value, list) else wrapped_records(value)
        found.extend(m for m in (members if members is not None else [value]) if isinstance(m, dict))
        if len(found) >= limit:
            break
    return found[:limit]


def head_text(head: bytes) -> str:
    """The head as text for line-oriented sniffers (BOM removed, a cut character dropped)."""
    if head.startswith(_UTF16_BOMS):
        return head.decode("utf-16", errors="ignore")
    return head.removeprefix(_UTF8_BOM).decode("utf-8", errors="ignore")


def unwrap_export(record: dict[str, Any]) -> dict[str, Any]:
    """The vendor record inside a SIEM export envelope, or ``record`` itself.

    Splunk's JSON export puts each event's original text under ``result._raw`` (or
    ``_raw``); when that text is a JSON object, it is the record to normalize (the
    envelope remains the row's ``raw``, since that is what the file holds).
    """
    inner = record.get("result")
    holder = inner if isinstance(inner, dict) else record
    text = holder.get("_raw")
    if isinstance(text, str) and text.lstrip().startswith("{"):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return record
        if isinstance(value, dict):
            return value
    return record


# --------------------------------------------------------------------------- values


def parse_time(value: Any) -> datetime | None:
    """A timezone-aware UTC datetime from ISO 8601 text or epoch seconds; None if neither.

    ISO text without an offset is taken as UTC: the JSON exports read here all
    write UTC, and guessing a local zone would silently shift evidence.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def canonical_ip(value: Any) -> str | None:
    """Canonical text of an IP address, or None when ``value`` is not one.

    Strips a port (``1.2.3.4:5060``, ``[::1]:443``), brackets and a zone id, and maps
    IPv4-mapped IPv6 (``::ffff:1.2.3.4``) to plain IPv4 so one client has one address.
    Cached: logs repeat the same few thousand addresses, and :mod:`ipaddress` is slow.
    """
    if not isinstance(value, str):
        return None
    return _canonical_ip_text(value)


@functools.lru_cache(maxsize=65536)
def _canonical_ip_text(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text[1:]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    text = text.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)
