"""The shared line reader: numbering, blank lines, CRLF, bad bytes, long lines, gzip damage."""

from __future__ import annotations

import gzip
from pathlib import Path

from dwelltime.sources import reader
from dwelltime.sources.reader import iter_line_blocks, read_head


def _collect(
    path: Path, block_bytes: int = reader.DEFAULT_BLOCK_BYTES
) -> tuple[list[str], list[int], list[tuple[int, str]]]:
    lines: list[str] = []
    numbers: list[int] = []
    rejected: list[tuple[int, str]] = []
    for block in iter_line_blocks(path, block_bytes=block_bytes):
        lines += [str(x) for x in block.lines.to_pylist()]
        numbers += block.line_numbers.to_pylist()
        rejected += [(r.line, r.reason) for r in block.rejected]
    return lines, numbers, rejected


def test_numbering_skips_blank_lines_and_strips_crlf(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"first\r\n\n  \nsecond\nshort\nno newline at end")
    lines, numbers, rejected = _collect(path)
    assert lines == ["first", "second", "short", "no newline at end"]
    assert numbers == [1, 4, 5, 6]
    assert rejected == []


def test_invalid_utf8_line_is_rejected_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"ok one\n\xff\xfebad\nok two\n")
    lines, numbers, rejected = _collect(path)
    assert lines == ["ok one", "ok two"] and numbers == [1, 3]
    assert rejected == [(2, "invalid UTF-8 at byte 0")]


def test_small_blocks_give_the_same_lines_as_one_block(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    body = "".join(f"line {i} {'x' * (i % 37)}\n" for i in range(5000))
    path.write_text(body)
    assert _collect(path, block_bytes=1000) == _collect(path)
    lines, numbers, _ = _collect(path, block_bytes=777)
    assert numbers == list(range(1, 5001)) and lines[4999].startswith("line 4999 ")


def test_overlong_line_is_rejected_and_reading_continues(tmp_path: Path, monkeypatch: object) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"before\n" + b"y" * 3_000_000 + b"\nafter\n")
    import pytest

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader, "MAX_LINE_BYTES", 1_000_000)
        lines, numbers, rejected = _collect(path, block_bytes=500_000)
    assert lines == ["before", "after"] and numbers == [1, 3]
    assert rejected and rejected[0][0] == 2 and "longer than" in rejected[0][1]


def test_gzip_read_by_magic_and_truncation_reported_after_good_lines(tmp_path: Path) -> None:
    body = b"".join(b"record %d\n" % i for i in range(200_000))
    whole = tmp_path / "logfile"  # no .gz suffix: detected by magic
    whole.write_bytes(gzip.compress(body))
    lines, _, rejected = _collect(whole)
    assert len(lines) == 200_000 and rejected == []
    assert read_head(whole, 10) == b"record 0\nr"
    cut = tmp_path / "cut.gz"
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 2])
    lines, numbers, rejected = _collect(cut)
    assert 10_000 < len(lines) < 200_000
    assert lines == [f"record {i}" for i in range(len(lines))]
    assert len(rejected) == 1 and rejected[0][0] == numbers[-1] + 1 and "truncated" in rejected[0][1]


def test_concatenated_gzip_members_are_all_read(tmp_path: Path) -> None:
    path = tmp_path / "two.gz"
    path.write_bytes(gzip.compress(b"a\nb\n") + gzip.compress(b"c\n"))
    assert _collect(path)[0] == ["a", "b", "c"]


def test_take_lines_picks_views_without_copying(tmp_path: Path) -> None:
    import numpy as np
    import pyarrow as pa

    from dwelltime.sources.reader import take_lines

    path = tmp_path / "x.log"
    path.write_text("short\n" + "a much longer line than twelve bytes\n" + "third line, also long enough\n")
    block = next(iter_line_blocks(path, prefetch=False))
    picked = take_lines(block.lines, np.array([2, 0]))
    assert picked.to_pylist() == ["third line, also long enough", "short"]
    assert picked.buffers()[2].address == block.lines.buffers()[2].address
    plain = take_lines(block.lines.cast(pa.string()), np.array([1]))
    assert plain.to_pylist() == ["a much longer line than twelve bytes"]
