"""Reading log files robustly: gzip by magic, bounded blocks, line numbers, bad bytes.

Every line-oriented parser reads through :func:`iter_line_blocks`, so invalid
UTF-8, over-long lines and truncated gzip streams are handled once, the same way:
the offending line becomes a :class:`Rejected` with its line number and reason, and
reading goes on.  Memory stays bounded by ``block_bytes`` whatever the file size.
"""

from __future__ import annotations

import io
import os
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Full, Queue
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from dwelltime.sources.base import Rejected

GZIP_MAGIC = b"\x1f\x8b"
#: Lines longer than this are rejected (their first bytes kept in the quarantine).
MAX_LINE_BYTES = 4 * 1024 * 1024
#: How much of a rejected record the quarantine keeps.
QUARANTINE_RAW_BYTES = 64 * 1024
DEFAULT_BLOCK_BYTES = 32 * 1024 * 1024


class _GzipStream(io.RawIOBase):
    """Streaming gzip reader that hands out every byte it could decompress.

    The standard library's GzipFile raises on a truncated stream before returning
    the data it already decompressed in that read; for evidence we want every line
    up to the damage, then a clear error.  Multi-member files (``cat a.gz b.gz``) work.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._inflater = zlib.decompressobj(wbits=31)
        self._pending = b""
        self._finished = False
        self._truncated = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        want = size if size and size > 0 else 1 << 62
        out: list[bytes] = []
        have = 0
        if self._pending:
            out.append(self._pending[:want])
            self._pending = self._pending[want:]
            have = len(out[0])
        if not out and self._truncated:
            self._truncated = False
            raise EOFError("compressed stream ended before its end marker")
        while have < want and not self._finished:
            compressed = self._raw.read(256 * 1024)
            if not compressed:
                self._finished = True
                if not self._inflater.eof:
                    self._truncated = True
                    if out:
                        return b"".join(out)
                    self._truncated = False
                    raise EOFError("compressed stream ended before its end marker")
                break
            piece = self._inflater.decompress(compressed)
            while self._inflater.eof and self._inflater.unused_data:
                rest = self._inflater.unused_data
                self._inflater = zlib.decompressobj(wbits=31)
                piece += self._inflater.decompress(rest)
            if len(piece) > want - have:
                self._pending = piece[want - have :]
                piece = piece[: want - have]
            out.append(piece)
            have += len(piece)
        return b"".join(out)

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_binary(path: Path) -> BinaryIO:
    """Open a file for reading, transparently decompressing gzip (detected by magic, not name)."""
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    if magic == GZIP_MAGIC:
        return _GzipStream(raw)  # type: ignore[return-value]
    return raw


def read_head(path: Path, size: int = 64 * 1024) -> bytes:
    """The first ``size`` decompressed bytes (fewer if the file is shorter or corrupt)."""
    try:
        with open_binary(path) as handle:
            return handle.read(size)
    except (OSError, EOFError, zlib.error):
        return b""


def clip_raw(data: bytes) -> str:
    """Text of a rejected record for the quarantine: bad bytes replaced, length bounded."""
    text = data[:QUARANTINE_RAW_BYTES].decode("utf-8", errors="replace")
    if len(data) > QUARANTINE_RAW_BYTES:
        text += f"… [truncated, {len(data)} bytes in all]"
    return text


@dataclass
class LineBlock:
    """A run of non-empty, decoded lines with their 1-based line numbers."""

    lines: pa.Array  # string_view, one element per non-empty line, no terminator
    line_numbers: pa.Array  # int64, 1-based
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def read(self) -> int:
        return len(self.lines) + len(self.rejected)


def iter_line_blocks(path: Path, block_bytes: int = DEFAULT_BLOCK_BYTES, prefetch: bool = True) -> Iterator[LineBlock]:
    """Yield the file's lines in blocks of roughly ``block_bytes``.

    With ``prefetch`` the next block is read and split on a background thread while the
    caller works on the current one (reading, numpy and Arrow release the GIL, as does
    DuckDB), so reading costs little wall time on two cores; one extra block in memory.
    """
    blocks = _iter_line_blocks(path, block_bytes)
    return _prefetched(blocks) if prefetch else blocks


def _prefetched(blocks: Iterator[LineBlock]) -> Iterator[LineBlock]:
    done = object()
    queue: Queue[object] = Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for block in blocks:
                while not stop.is_set():
                    try:
                        queue.put(block, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put(exc)

    worker = threading.Thread(target=produce, name="line-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = queue.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, LineBlock)
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                queue.get_nowait()
            except Empty:
                worker.join(timeout=0.05)


def _iter_line_blocks(path: Path, block_bytes: int) -> Iterator[LineBlock]:
    """The reading loop behind :func:`iter_line_blocks`.

    Blank lines are not records and are skipped (they still count for numbering).
    A trailing ``\\r`` is removed.  A truncated or corrupt gzip stream ends the file
    with one rejected pseudo-record that says so, after every line read before it.
    Each block owns a fresh buffer that its Arrow arrays point into (no copy of the text).
    """
    next_line = 1
    carry = b""
    with open_binary(path) as handle:
        while True:
            buffer, size, failure = _read_block(handle, block_bytes, carry)
            data = memoryview(buffer)[:size]
            if size == len(carry):  # nothing new: end of file (or of the readable stream)
                if carry and failure:
                    yield LineBlock(
                        _EMPTY_LINES,
                        _EMPTY_NUMBERS,
                        [Rejected(next_line, f"last line cut short: {failure}", clip_raw(carry))],
                    )
                    return
                if carry:
                    block, next_line = _decode_block(carry + b"\n", next_line)
                    yield block
                if failure:
                    yield LineBlock(_EMPTY_LINES, _EMPTY_NUMBERS, [Rejected(next_line, failure, "")])
                return
            cut = buffer.rfind(b"\n", 0, size)
            if cut < 0:
                # No newline yet; keep accumulating unless the line is already too long.
                if size > MAX_LINE_BYTES:
                    too_long = Rejected(next_line, f"line longer than {MAX_LINE_BYTES} bytes", clip_raw(bytes(data)))
                    next_line += 1
                    carry = _skip_to_newline(handle)
                    yield LineBlock(_EMPTY_LINES, _EMPTY_NUMBERS, [too_long])
                    continue
                carry = bytes(data)
                continue
            carry = bytes(data[cut + 1 :])
            block, next_line = _decode_block(data[: cut + 1], next_line)
            yield block
            if failure:
                reason = f"last line cut short: {failure}" if carry else failure
                yield LineBlock(_EMPTY_LINES, _EMPTY_NUMBERS, [Rejected(next_line, reason, clip_raw(carry))])
                return


_EMPTY_LINES: pa.Array = pa.array([], pa.string_view())
_EMPTY_NUMBERS: pa.Array = pa.array([], pa.int64())
_PIECE = 1024 * 1024


def _read_block(handle: BinaryIO, block_bytes: int, carry: bytes) -> tuple[bytearray, int, str | None]:
    """A new buffer holding ``carry`` then up to ``block_bytes`` more; on a corrupt stream,
    what came before the fault and the reason."""
    buffer = bytearray(len(carry) + min(block_bytes, _remaining(handle)))
    buffer[: len(carry)] = carry
    view = memoryview(buffer)
    size = len(carry)
    while size < len(buffer):
        try:
            got = _read_into(handle, view[size : min(len(buffer), size + 8 * _PIECE)])
        except (EOFError, OSError, zlib.error) as exc:
            reason = str(exc) or type(exc).__name__
            return buffer, size, f"compressed stream is truncated or corrupt ({reason})"
        if not got:
            break
        size += got
    return buffer, size, None


def _remaining(handle: BinaryIO) -> int:
    """Bytes left in a plain file (so a small file gets a small buffer); unbounded for streams."""
    if isinstance(handle, _GzipStream):
        return 1 << 62
    try:
        return max(0, os.fstat(handle.fileno()).st_size - handle.tell()) + 1
    except (OSError, AttributeError, io.UnsupportedOperation):
        return 1 << 62


def _read_into(handle: BinaryIO, target: memoryview) -> int:
    readinto = getattr(handle, "readinto", None)
    if readinto is not None and not isinstance(handle, _GzipStream):
        return int(readinto(target))
    piece = handle.read(len(target))
    target[: len(piece)] = piece
    return len(piece)


def _skip_to_newline(handle: BinaryIO) -> bytes:
    """Discard the rest of an over-long line; return what follows its newline."""
    while True:
        buffer, size, failure = _read_block(handle, _PIECE, b"")
        if not size:
            return b""
        cut = buffer.find(b"\n", 0, size)
        if cut >= 0:
            return bytes(buffer[cut + 1 : size])
        if failure:
            return b""


def _decode_block(data: bytes | memoryview, first_line: int) -> tuple[LineBlock, int]:
    """Split ``data`` (which ends with a newline) into lines without copying the text.

    The lines are an Arrow string-view array pointing into ``data``: finding the
    newlines with numpy and building the views costs a fraction of splitting in Python.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    count = len(newlines)
    starts = np.empty(count, dtype=np.int64)
    starts[0] = 0
    starts[1:] = newlines[:-1] + 1
    ends = newlines.copy()
    has_cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    ends -= has_cr
    lengths = ends - starts
    numbers = np.arange(first_line, first_line + count, dtype=np.int64)
    rejected: list[Rejected] = []
    keep = lengths > 0
    # Whitespace-only lines are blank too; only lines starting with white space need a look.
    first_bytes = buf[np.minimum(starts, len(buf) - 1)]
    for i in np.flatnonzero(keep & ((first_bytes == 32) | (first_bytes == 9))):
        if not bytes(data[starts[i] : ends[i]]).strip():
            keep[i] = False
    long_lines = np.flatnonzero(lengths > MAX_LINE_BYTES)
    for i in long_lines:
        rejected.append(
            Rejected(
                int(numbers[i]), f"line longer than {MAX_LINE_BYTES} bytes", clip_raw(bytes(data[starts[i] : ends[i]]))
            )
        )
    keep[long_lines] = False
    lines: pa.Array
    try:
        # Validate all at once (fast); only a block with bad bytes is decoded line by line.
        _validate_utf8(data)
        lines = _string_views(data, buf, starts[keep], lengths[keep])
        numbers = numbers[keep]
    except pa.ArrowInvalid:
        lines, bad = _decode_slowly(bytes(data), starts, ends, numbers)
        rejected.extend(bad)
        valid = np.asarray(lines.is_valid()) & keep
        lines = lines.filter(pa.array(valid))
        numbers = numbers[valid]
    rejected.sort(key=lambda r: r.line)
    return LineBlock(lines, pa.array(numbers), rejected), first_line + count


def _validate_utf8(data: bytes | memoryview) -> None:
    """Raise ArrowInvalid unless ``data`` is valid UTF-8 (Arrow's validator: ~3x Python's decode)."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    blob = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    blob.cast(pa.large_string())


def _string_views(data: bytes | memoryview, buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """Arrow ``string_view`` array over ``data`` (16-byte views; <= 12 bytes inline)."""
    count = len(starts)
    views = np.zeros((count, 16), dtype=np.uint8)
    words = views.view(np.int32)
    words[:, 0] = np.minimum(lengths, np.iinfo(np.int32).max)
    short = np.flatnonzero(lengths <= 12)
    if len(short):
        span = np.arange(12)
        inside = span[None, :] < lengths[short, None]
        positions = np.where(inside, starts[short, None] + span[None, :], 0)
        views[short, 4:16] = np.where(inside, buf[positions], 0)
    longer = np.flatnonzero(lengths > 12)
    if len(longer):
        views[longer, 4:8] = buf[starts[longer, None] + np.arange(4)[None, :]]
        words[longer, 2] = 0
        words[longer, 3] = starts[longer]
    return pa.Array.from_buffers(pa.string_view(), count, [None, pa.py_buffer(views), pa.py_buffer(data)])


def _decode_slowly(
    data: bytes, starts: np.ndarray, ends: np.ndarray, numbers: np.ndarray
) -> tuple[pa.Array, list[Rejected]]:
    """Per-line decoding for a block with invalid UTF-8: bad lines become rejections."""
    decoded: list[str | None] = []
    rejected: list[Rejected] = []
    for start, end, number in zip(starts.tolist(), ends.tolist(), numbers.tolist(), strict=True):
        raw = data[start:end]
        try:
            decoded.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            rejected.append(Rejected(number, f"invalid UTF-8 at byte {exc.start}", clip_raw(raw)))
            decoded.append(None)
    return pa.array(decoded, pa.string()), rejected


def take_lines(lines: pa.Array, rows: np.ndarray) -> pa.Array:
    """``lines[rows]`` for a block's lines, string_view included (Arrow's take has no kernel for it).

    A string_view element is a 16-byte view into shared data buffers, so taking rows is
    taking views: no text is copied.  Lines never hold nulls.
    """
    if not pa.types.is_string_view(lines.type):
        return lines.take(pa.array(rows, pa.int64()))
    if lines.null_count:
        raise ValueError("block lines must not be null")
    buffers = lines.buffers()
    views = np.frombuffer(buffers[1], dtype=np.uint8).reshape(-1, 16)[lines.offset : lines.offset + len(lines)]
    picked = np.ascontiguousarray(views[rows])
    return pa.Array.from_buffers(pa.string_view(), len(rows), [None, pa.py_buffer(picked), *buffers[2:]])
