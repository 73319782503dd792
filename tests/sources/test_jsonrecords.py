"""The shared JSON record reader: every shape, numbering, damage and the value helpers."""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dwelltime.sources import jsonrecords
from dwelltime.sources.base import Rejected
from dwelltime.sources.jsonrecords import (
    canonical_ip,
    iter_json_records,
    parse_time,
    sniff_json,
    unwrap_export,
    wrapped_records,
)


def _read(tmp_path: Path, content: bytes, name: str = "x.json") -> list[tuple[int, str, object]]:
    path = tmp_path / name
    path.write_bytes(content)
    return list(iter_json_records(path))


def _records(items: list[tuple[int, str, object]]) -> list[tuple[int, object]]:
    return [(line, rec if isinstance(rec, dict) else ("REJ", rec.reason)) for line, _, rec in items]  # type: ignore[union-attr]


def test_ndjson_keeps_line_numbers_and_rejects_bad_lines(tmp_path: Path) -> None:
    items = _read(tmp_path, b'{"a":1}\n[1,2]\n\n{bad\n"text"\n{"a":2}\n')
    assert _records(items) == [
        (1, {"a": 1}),
        (2, ("REJ", "JSON: expected object, got list")),
        (4, ("REJ", items[2][2].reason)),  # type: ignore[union-attr]
        (5, ("REJ", "JSON: expected object, got string")),
        (6, {"a": 2}),
    ]
    assert items[2][2].reason.startswith("JSON: ")  # type: ignore[union-attr]
    assert items[0][1] == '{"a":1}'  # raw is the line verbatim


def test_ndjson_first_line_bad_is_still_ndjson(tmp_path: Path) -> None:
    items = _read(tmp_path, b'{"a":\n{"a":2}\n{"a":3}\n')
    assert [line for line, _, _ in items] == [1, 2, 3]
    assert isinstance(items[0][2], Rejected)
    assert items[2][2] == {"a": 3}


@pytest.mark.parametrize(
    "content",
    [
        b'[{"a":1},{"a":2}]',
        b'{"value":[{"a":1},{"a":2}],"@odata.nextLink":"https://x"}',
        b'{"records":[{"a":1},{"a":2}]}',
        b'{"kind":"admin#reports#activities","items":[{"a":1},{"a":2}],"nextPageToken":"t"}',
        b'{\n  "a": 1\n}\n{\n  "a": 2\n}\n',  # jq . output: pretty objects one after another
        b'\xef\xbb\xbf[{"a":1},{"a":2}]',  # PowerShell's UTF-8 BOM
        '[{"a":1},{"a":2}]'.encode("utf-16"),  # Windows PowerShell 5 Out-File
        b'{"value":[{"a":1}]}\n{"value":[{"a":2}]}\n',  # Graph pages, one per line
    ],
)
def test_document_shapes_number_records_by_ordinal(tmp_path: Path, content: bytes) -> None:
    items = _read(tmp_path, content)
    assert [(line, rec) for line, _, rec in items] == [(1, {"a": 1}), (2, {"a": 2})]
    assert items[1][1] == '{"a":2}'  # re-serialized compactly


def test_gzip_document(tmp_path: Path) -> None:
    items = _read(tmp_path, gzip.compress(b'{"value":[{"a":1}]}'), "x.json.gz")
    assert [rec for _, _, rec in items] == [{"a": 1}]


def test_truncated_array_keeps_records_before_the_cut(tmp_path: Path) -> None:
    items = _read(tmp_path, b'[{"a":1},\n {"a":2}, 3, {"a":')
    assert [rec for _, _, rec in items[:2]] == [{"a": 1}, {"a": 2}]
    assert isinstance(items[2][2], Rejected) and items[2][2].reason == "JSON: expected object, got number"
    last = items[3][2]
    assert isinstance(last, Rejected)
    assert last.line == 4
    assert "document truncated" in last.reason
    assert last.raw == '{"a":'


def test_truncated_wrapper_keeps_members(tmp_path: Path) -> None:
    items = _read(tmp_path, b'{"records":[{"a":1},{"a":2},{"a"')
    assert [rec for _, _, rec in items[:2]] == [{"a": 1}, {"a": 2}]
    assert isinstance(items[2][2], Rejected) and "truncated" in items[2][2].reason


def test_invalid_json_in_the_middle_of_a_document(tmp_path: Path) -> None:
    items = _read(tmp_path, b'[{"a":1}, {"a": nope}, {"a":3}]')
    assert items[0][2] == {"a": 1}
    assert isinstance(items[1][2], Rejected)
    assert "invalid JSON" in items[1][2].reason
    assert len(items) == 2  # nothing after damage is guessed at


def test_invalid_utf8_ends_document_with_reason(tmp_path: Path) -> None:
    items = _read(tmp_path, b'[{"a":1},{"a":"\xff"}]')
    assert items[0][2] == {"a": 1}
    assert isinstance(items[-1][2], Rejected) and "invalid UTF-8 at byte" in items[-1][2].reason


def test_truncated_gzip_document(tmp_path: Path) -> None:
    noise = os.urandom(20000).hex().encode()  # incompressible, so the cut loses only the tail
    data = gzip.compress(b'[{"a":1},{"a":2},' + b'{"b":"' + noise + b'"}]')
    items = _read(tmp_path, data[:-200], "x.json.gz")
    assert items[0][2] == {"a": 1}
    assert isinstance(items[-1][2], Rejected)
    assert "compressed stream" in items[-1][2].reason


def test_empty_file_yields_nothing(tmp_path: Path) -> None:
    assert _read(tmp_path, b"") == []


def test_sniff_json_on_a_cut_head() -> None:
    head = b'{"value":[{"a":1},{"a":2},{"a":3'
    assert sniff_json(head) == [{"a": 1}, {"a": 2}]
    assert sniff_json(b'{"a":1}\n{"a":2}\n{"a":') == [{"a": 1}, {"a": 2}]
    assert sniff_json(b"Mar  1 00:00:00 host postfix/smtpd[1]: connect") == []
    assert sniff_json(b'[{"a":1}, 2, {"b":2}]', limit=1) == [{"a": 1}]


def test_wrapped_records_needs_scalar_siblings() -> None:
    assert wrapped_records({"value": [1], "@odata.context": "x"}) == [1]
    assert wrapped_records({"items": [1], "actor": {"email": "x"}}) is None
    assert wrapped_records({"id": "x"}) is None


def test_unwrap_splunk_export() -> None:
    inner = {"uid": "C1"}
    assert unwrap_export({"preview": False, "result": {"_raw": '{"uid":"C1"}'}}) == inner
    assert unwrap_export({"_raw": '{"uid":"C1"}'}) == inner
    assert unwrap_export({"result": {"_raw": "not json"}}) == {"result": {"_raw": "not json"}}


def test_parse_time() -> None:
    assert parse_time("2019-10-18T04:45:48.0729893-05:00") == datetime(2019, 10, 18, 9, 45, 48, 72989, tzinfo=UTC)
    assert parse_time("2024-01-01 10:00:00") == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert parse_time(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_time("yesterday") is None
    assert parse_time(True) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("203.0.113.5:4431", "203.0.113.5"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("fe80::1%eth0", "fe80::1"),
        ("not-an-ip", None),
        ("", None),
        (None, None),
    ],
)
def test_canonical_ip(text: str | None, expected: str | None) -> None:
    assert canonical_ip(text) == expected


def test_oversized_document_is_rejected_with_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonrecords, "MAX_DOCUMENT_BYTES", 16)
    items = _read(tmp_path, b'[{"a":1},{"a":2},{"a":3}]')
    assert len(items) == 1
    rejected = items[0][2]
    assert isinstance(rejected, Rejected)
    assert "larger than 16 bytes" in rejected.reason and "one record per line" in rejected.reason
