"""Zeek conn, ssl and smtp logs, as Zeek's TSV or as JSON lines.

**One source, ``zeek``, for all three logs.**  Deployments often ship every Zeek log
through one pipe (JSON with a ``_path`` field, or a SIEM export mixing them), and
the TSV header says which log a file is; so the parser dispatches per record, on
``#path`` for TSV, on ``_path`` / the record's fields for JSON (and the file name as
a last hint).  Three sources sniffing the same headers would only compete.  Zeek
logs other than conn, ssl and smtp (dns, http...) are not read: their records are
rejected with that reason and the sniffer answers 0 for them.

TSV: the ``#separator``, ``#set_separator``, ``#empty_field``, ``#unset_field``,
``#path`` and ``#fields`` headers are honoured, and may change mid-file (rotated
logs concatenated).  ``\\xHH`` escapes in values (Zeek writes a separator or a
non-printable byte that way) are undone.  JSON: ``ts`` as epoch seconds or ISO
text; ``id.orig_h`` flat keys or a nested ``id`` object.

Mapping (bytes in schema terms: ``bytes_in`` = client -> server, ``bytes_out`` =
server -> client; Zeek's *originator* is the client, so ``orig_bytes`` ->
``bytes_in`` and ``resp_bytes`` -> ``bytes_out``):

* conn -> ``network``/``connect``; outcome success for states where the handshake
  completed, failure for rejected / unanswered attempts.
* ssl -> ``network``/``tls``; ``server_name`` (SNI) -> ``dst_host``; outcome from
  ``established``.
* smtp -> ``mail_flow``; ``deliver`` / ``reject`` by the last reply code, ``tls``
  when the session went STARTTLS before any envelope was seen.

``session_id`` is Zeek's connection ``uid`` in all three, so the conn, ssl and smtp
rows of one connection join.  The event uid key is path + uid + time (+ SMTP
transaction depth): the same Zeek record read from TSV or from JSON dedupes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from dwelltime.schema import Action, EventClass, Outcome
from dwelltime.sources.base import Chunk, EventRows, ParseContext, Source, uid_of
from dwelltime.sources.jsonrecords import canonical_ip, head_text, parse_time, unwrap_export
from dwelltime.sources.reader import iter_line_blocks

SOURCE_ID = "zeek"
UID_NAMESPACE = "zeek"
SUPPORTED_PATHS = ("conn", "ssl", "smtp")

_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")
_EPOCH_TEXT = re.compile(r"\d{1,12}(\.\d*)?")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Connection states in which the TCP handshake completed (or UDP/ICMP saw both sides).
_ESTABLISHED = frozenset({"S1", "S2", "S3", "SF", "RSTO", "RSTR"})
_REFUSED = frozenset({"REJ", "S0", "RSTOS0", "RSTRH", "SH", "SHR"})


@dataclass
class _Header:
    """The TSV header state in force; defaults are Zeek's."""

    separator: str = "\t"
    set_separator: str = ","
    empty_field: str = "(empty)"
    unset_field: str = "-"
    path: str | None = None
    fields: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    #: (field name, value kind) per column, built once per #fields/#types change.
    plan: list[tuple[str, str]] | None = None

    def columns(self) -> list[tuple[str, str]]:
        if self.plan is None:
            types = self.types if len(self.types) == len(self.fields) else [""] * len(self.fields)
            self.plan = [(name, _kind(kind)) for name, kind in zip(self.fields, types, strict=True)]
        return self.plan


def _kind(zeek_type: str) -> str:
    """Collapse Zeek's types to how a value is decoded: set, int, float, bool or text."""
    if zeek_type.startswith(("set[", "vector[")):
        return "set"
    if zeek_type in ("count", "int", "port"):
        return "int"
    if zeek_type in ("interval", "double"):
        return "float"
    if zeek_type == "bool":
        return "bool"
    return "text"  # time stays text too: float would lose the last microsecond digit


def sniff(head: bytes, name: str) -> float:
    """Confident on Zeek conn/ssl/smtp logs, TSV or JSON; 0 on other Zeek logs and anything else."""
    text = head_text(head)
    if text.startswith("#separator") or "\n#fields\t" in text or text.startswith("#fields"):
        match = re.search(r"^#path\s+(\S+)", text, re.MULTILINE)
        if match:
            return 0.95 if match.group(1) in SUPPORTED_PATHS else 0.0
        return 0.6 if _path_from_name(name) else 0.0
    for line in text.splitlines()[:5]:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict):
            record = unwrap_export(record)
            if _endpoints(record)[0] is not None and "uid" in record:
                return 0.95 if _json_path(record, _path_from_name(name)) else 0.0
    return 0.0


def parse(path: Path, ctx: ParseContext) -> Iterator[Chunk]:
    rows = EventRows(SOURCE_ID, ctx.source_file)
    header = _Header(path=None)
    name_hint = _path_from_name(path.name)
    for block in iter_line_blocks(path):
        for rejected in block.rejected:
            rows.reject(rejected.line, rejected.reason, rejected.raw)
        for text, number in zip(block.lines.to_pylist(), block.line_numbers.to_pylist(), strict=True):
            if text.startswith("#"):
                _read_header(header, text)
                continue
            if text.lstrip().startswith("{"):
                problem = _json_line(rows, text, number, name_hint)
            else:
                problem = _tsv_line(rows, header, text, number)
            if problem:
                rows.reject(number, problem, text)
            if len(rows) >= ctx.chunk_rows:
                yield rows.take()
    if len(rows):
        yield rows.take()


# --------------------------------------------------------------------------- TSV


def _read_header(header: _Header, text: str) -> None:
    """Apply one ``#`` line.  ``#separator`` uses a space; the rest use the separator."""
    if text.startswith("#separator"):
        value = text[len("#separator") :].strip()
        header.separator = _unescape(value) if value else "\t"
        return
    name, _, value = text[1:].partition(header.separator)
    if name == "set_separator":
        header.set_separator = _unescape(value)
    elif name == "empty_field":
        header.empty_field = value
    elif name == "unset_field":
        header.unset_field = value
    elif name == "path":
        header.path = value
    elif name == "fields":
        header.fields = value.split(header.separator)
        header.plan = None
    elif name == "types":
        header.types = value.split(header.separator)
        header.plan = None


def _tsv_line(rows: EventRows, header: _Header, text: str, number: int) -> str | None:
    if not header.fields:
        return "Zeek TSV line before any #fields header"
    values = text.split(header.separator)
    if len(values) != len(header.fields):
        return f"Zeek TSV line has {len(values)} fields, #fields declares {len(header.fields)}"
    record: dict[str, Any] = {}
    unset, empty = header.unset_field, header.empty_field
    for (name, kind), value in zip(header.columns(), values, strict=True):
        if value == unset:
            continue
        if kind == "set":
            record[name] = [] if value == empty else [_unescape(v) for v in value.split(header.set_separator)]
        elif value == empty:
            record[name] = ""
        else:
            record[name] = _typed(_unescape(value), kind)
    path = header.path if header.path in SUPPORTED_PATHS else None
    if path is None:
        return f"Zeek {header.path or 'unknown'} log is not read (only conn, ssl, smtp)"
    return _add(rows, record, path, text, number)


def _typed(value: str, kind: str) -> Any:
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except ValueError:
        return value
    if kind == "bool":
        return value == "T"
    return value


def _unescape(value: str) -> str:
    if "\\x" not in value:
        return value
    data = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), value.encode())
    return data.decode("utf-8", errors="backslashreplace")


# --------------------------------------------------------------------------- JSON


def _json_line(rows: EventRows, text: str, number: int, name_hint: str | None) -> str | None:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return f"JSON: {exc}"
    if not isinstance(value, dict):
        return "JSON: expected object"
    record = unwrap_export(value)
    path = _json_path(record, name_hint)
    if path is None:
        declared = record.get("_path")
        if declared:
            return f"Zeek {declared} log is not read (only conn, ssl, smtp)"
        return "not a Zeek conn, ssl or smtp record"
    return _add(rows, record, path, text, number)


def _json_path(record: dict[str, Any], name_hint: str | None) -> str | None:
    """Which log a JSON record belongs to: ``_path``, else its fields, else the file name."""
    declared = record.get("_path")
    if isinstance(declared, str):
        return declared if declared in SUPPORTED_PATHS else None
    if any(k in record for k in ("mailfrom", "rcptto", "helo", "last_reply")):
        return "smtp"
    if "conn_state" in record or ("proto" in record and "history" in record):
        return "conn"
    if any(k in record for k in ("server_name", "cipher", "established", "ja3")):
        return "ssl"
    if name_hint and name_hint in SUPPORTED_PATHS and "uid" in record:
        return name_hint
    return None


def _path_from_name(name: str) -> str | None:
    """``conn.log``, ``conn.09:00:00-10:00:00.log.gz``, ``ssl.json`` -> the log's path."""
    stem = Path(name).name.split(".", 1)[0].lower()
    return stem if stem in SUPPORTED_PATHS else None


# --------------------------------------------------------------------------- rows


def _endpoints(record: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    nested = record.get("id")
    if isinstance(nested, dict):
        return nested.get("orig_h"), nested.get("orig_p"), nested.get("resp_h"), nested.get("resp_p")
    return record.get("id.orig_h"), record.get("id.orig_p"), record.get("id.resp_h"), record.get("id.resp_p")


def _add(rows: EventRows, record: dict[str, Any], path: str, raw: str, number: int) -> str | None:
    when = _time(record.get("ts"))
    if when is None:
        return f"Zeek {path} record without a valid ts ({record.get('ts')!r})"
    orig_h, orig_p, resp_h, resp_p = _endpoints(record)
    src_ip, dst_ip = canonical_ip(orig_h), canonical_ip(resp_h)
    uid = _text(record.get("uid"))
    params: dict[str, Any] = {}
    if orig_h and src_ip is None:
        params["src_ip_raw"] = orig_h
    if resp_h and dst_ip is None:
        params["dst_ip_raw"] = resp_h
    if path == "conn":
        fields = _conn(record, params)
    elif path == "ssl":
        fields = _ssl(record, params)
    else:
        fields = _smtp(record, params)
    micros = (when - _EPOCH) // timedelta(microseconds=1)
    # Without a uid the line-oriented rule applies: the raw line and its number.
    key = f"{path}|{uid}|{micros}|{record.get('trans_depth', '')}" if uid else f"{raw}\x1f{number}"
    rows.add(
        number,
        raw,
        event_uid=uid_of(UID_NAMESPACE, key),
        time=when,
        operation=path,
        src_ip=src_ip,
        src_port=_int(orig_p),
        dst_ip=dst_ip,
        dst_port=_int(resp_p),
        session_id=uid,
        params=params,
        **fields,
    )
    return None


def _conn(record: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    state = _text(record.get("conn_state"))
    outcome = Outcome.UNKNOWN
    if state in _ESTABLISHED:
        outcome = Outcome.SUCCESS
    elif state in _REFUSED:
        outcome = Outcome.FAILURE
    _keep(
        params,
        record,
        "proto",
        "service",
        "duration",
        "conn_state",
        "history",
        "local_orig",
        "local_resp",
        "missed_bytes",
        "orig_pkts",
        "resp_pkts",
        "orig_ip_bytes",
        "resp_ip_bytes",
        "tunnel_parents",
        "community_id",
    )
    service = _text(record.get("service"))
    return {
        "event_class": EventClass.NETWORK.value,
        "action": Action.CONNECT.value,
        "outcome": outcome.value,
        "protocol": service.split(",")[0].lower() if service else None,
        "bytes_in": _int(record.get("orig_bytes")),
        "bytes_out": _int(record.get("resp_bytes")),
        "error_code": state,
    }


def _ssl(record: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    established = record.get("established")
    outcome = Outcome.UNKNOWN
    if established in (True, "T", "true"):
        outcome = Outcome.SUCCESS
    elif established in (False, "F", "false"):
        outcome = Outcome.FAILURE
    _keep(
        params,
        record,
        "version",
        "cipher",
        "curve",
        "established",
        "resumed",
        "next_protocol",
        "ja3",
        "ja3s",
        "validation_status",
        "last_alert",
        "subject",
        "issuer",
        "sni_matches_cert",
        "ssl_history",
        "cert_chain_fps",
        "client_cert_chain_fps",
    )
    return {
        "event_class": EventClass.NETWORK.value,
        "action": Action.TLS.value,
        "outcome": outcome.value,
        "protocol": "tls",
        "dst_host": _text(record.get("server_name")),
        "status_detail": _text(record.get("last_alert")),
    }


def _smtp(record: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    reply = _text(record.get("last_reply"))
    code = reply[:3] if reply and reply[:3].isdigit() else None
    sender = _address(record.get("mailfrom"))
    recipients = [r for r in (_address(x) for x in _list(record.get("rcptto"))) if r]
    tls = record.get("tls") in (True, "T", "true")
    if code and code[0] in "45":
        action, outcome = Action.REJECT, Outcome.FAILURE
    elif sender or recipients:
        action = Action.DELIVER
        outcome = Outcome.SUCCESS if code and code[0] in "23" else Outcome.UNKNOWN
    elif tls:
        action, outcome = Action.TLS, Outcome.UNKNOWN
    else:
        action, outcome = Action.CONNECT, Outcome.UNKNOWN
    _keep(
        params,
        record,
        "trans_depth",
        "helo",
        "from",
        "to",
        "cc",
        "reply_to",
        "date",
        "in_reply_to",
        "x_originating_ip",
        "first_received",
        "second_received",
        "path",
        "tls",
        "is_webmail",
        "fuids",
    )
    msg_id = _text(record.get("msg_id"))
    return {
        "event_class": EventClass.MAIL_FLOW.value,
        "action": action.value,
        "outcome": outcome.value,
        "protocol": "smtp",
        "sender": sender,
        "recipients": recipients or None,
        "message_ids": [msg_id] if msg_id else None,
        "subject": _text(record.get("subject")),
        "user_agent": _text(record.get("user_agent")),
        "error_code": code,
        "status_detail": reply,
    }


def _keep(params: dict[str, Any], record: dict[str, Any], *names: str) -> None:
    """Copy these Zeek fields into params (the smtp ``path`` field is kept as ``smtp_path``)."""
    for name in names:
        value = record.get(name)
        if value is None or value == "" or value == []:
            continue
        params["smtp_path" if name == "path" else name] = value


def _time(value: Any) -> datetime | None:
    """Zeek ``ts``: epoch seconds (number or text, exact to the microsecond) or ISO text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        micros = round(value * 1_000_000)
    elif isinstance(value, str) and _EPOCH_TEXT.fullmatch(value):
        whole, _, fraction = value.partition(".")
        micros = int(whole) * 1_000_000 + int((fraction + "000000")[:6])
    else:
        return parse_time(value)
    try:
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        return None


def _address(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    text = text.strip().strip("<>").strip().lower()
    return text or None


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


SOURCE = Source(id=SOURCE_ID, title="Zeek conn, ssl and smtp logs (TSV or JSON)", sniff=sniff, parse=parse)
