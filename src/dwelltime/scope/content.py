"""The full text of one indexed message: body and attachments, for personal-data scanning.

Only exposed messages come here (see :mod:`dwelltime.scope.mailbox` for why attachments
are not extracted at index time).  Attachments are read with maintained libraries —
pdfminer.six (PDF), python-docx (DOCX), openpyxl (XLSX) — and text/* parts are decoded with
their charset (Shift_JIS CSV files are common in Japanese offices).  Every extractor treats
the file as hostile data: failures give an empty text and a note, never an exception, and
sizes are capped so a zip bomb in a DOCX cannot exhaust memory.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path
from typing import Any

from dwelltime.scope.mailbox import walk_parts
from dwelltime.scope.text import html_to_text

MAX_ATTACHMENT_BYTES = 32 * 1024 * 1024
MAX_TEXT_CHARS = 2_000_000
_ZIP_RATIO_LIMIT = 200  # uncompressed / compressed: beyond this an archive is treated as a bomb


@dataclass
class MessageText:
    body: str
    attachments: dict[str, str] = field(default_factory=dict)  # file name -> text
    notes: list[str] = field(default_factory=list)  # what could not be read, and why

    @property
    def text(self) -> str:
        return "\n\n".join([self.body, *self.attachments.values()])


def read_message_text(source_path: str, offset: int, length: int, kind: str) -> MessageText:
    """Body and attachment text of the message stored at ``source_path[offset:offset+length]``."""
    if kind == "msg":
        return _msg_text(source_path)
    try:
        with Path(source_path).open("rb") as handle:
            handle.seek(offset)
            raw = handle.read(length)
    except OSError as exc:
        return MessageText("", notes=[f"cannot read {source_path}: {exc.strerror or exc}"])
    return message_text(BytesParser(policy=compat32).parsebytes(raw))


def message_text(msg: Message) -> MessageText:
    body, parts = walk_parts(msg)
    out = MessageText(body)
    for index, (filename, ctype, part) in enumerate(parts, start=1):
        name = filename or f"attachment-{index}"
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        text, note = attachment_text(name, ctype, payload, part.get_content_charset())
        if text:
            out.attachments[name] = text[:MAX_TEXT_CHARS]
        if note:
            out.notes.append(f"{name}: {note}")
    return out


def attachment_text(name: str, content_type: str, data: bytes, charset: str | None = None) -> tuple[str, str | None]:
    """(text, note) of one attachment; the note says why nothing (or not everything) was read."""
    if len(data) > MAX_ATTACHMENT_BYTES:
        return "", f"larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB, not read"
    lower = name.lower()
    try:
        if content_type.startswith("text/") or lower.endswith((".txt", ".csv", ".tsv", ".md", ".log")):
            if content_type == "text/html" or lower.endswith((".html", ".htm")):
                return html_to_text(_decode(data, charset)), None
            return _decode(data, charset), None
        if content_type == "application/pdf" or lower.endswith(".pdf"):
            return _pdf(data), None
        if lower.endswith(".docx") or "wordprocessingml" in content_type:
            return _docx(data), None
        if lower.endswith((".xlsx", ".xlsm")) or "spreadsheetml" in content_type:
            return _xlsx(data), None
    except Exception as exc:  # hostile or broken files: say so, keep going
        return "", f"unreadable {content_type} ({type(exc).__name__})"
    return "", f"{content_type} not searched for personal data"


def _decode(data: bytes, charset: str | None) -> str:
    candidates = [c for c in (charset, "utf-8", "cp932", "euc-jp", "iso-2022-jp") if c]
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", errors="replace")


def _pdf(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    return str(extract_text(io.BytesIO(data), maxpages=200))


def _safe_zip(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        total = sum(info.file_size for info in archive.infolist())
    if total > max(len(data), 1) * _ZIP_RATIO_LIMIT or total > 512 * 1024 * 1024:
        raise ValueError("archive expands too far (zip bomb?)")


def _docx(data: bytes) -> str:
    _safe_zip(data)
    import docx

    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def _xlsx(data: bytes) -> str:
    _safe_zip(data)
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines: list[str] = []
    try:
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                cells = ["" if v is None else str(v) for v in row]
                if any(cells):
                    lines.append("\t".join(cells))
                if len(lines) > 200_000:
                    break
    finally:
        book.close()
    return "\n".join(lines)


def _msg_text(path: str) -> MessageText:
    try:
        import extract_msg
    except ImportError:
        return MessageText("", notes=["reading .msg needs the extract-msg package"])
    message: Any = extract_msg.openMsg(path)
    try:
        out = MessageText(str(message.body or ""))
        for attachment in message.attachments:
            name = str(getattr(attachment, "longFilename", None) or getattr(attachment, "shortFilename", None) or "")
            data = getattr(attachment, "data", None)
            if isinstance(data, bytes):
                mime = str(getattr(attachment, "mimetype", None) or "application/octet-stream")
                text, note = attachment_text(name, mime, data)
                if text:
                    out.attachments[name] = text
                if note:
                    out.notes.append(f"{name}: {note}")
        return out
    finally:
        message.close()
