"""Attachment text for personal-data scanning: PDF, DOCX, XLSX, Shift_JIS CSV, and hostile files."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import compat32

from dwelltime.scope.content import attachment_text, message_text


def _pdf(text: str) -> bytes:
    """A one-page PDF with one line of Helvetica text, its cross-reference offsets computed."""
    stream = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 144] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _docx(lines: list[str], table: list[list[str]]) -> bytes:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    grid = document.add_table(rows=len(table), cols=len(table[0]))
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_pdf_docx_xlsx_and_shift_jis_csv_give_their_text() -> None:
    text, note = attachment_text("card.pdf", "application/pdf", _pdf("Card 4111 1111 1111 1111 for J. Smith"))
    assert "4111 1111 1111 1111" in text and note is None
    text, _ = attachment_text(
        "form.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _docx(["申請者: 山田 太郎"], [["生年月日", "昭和55年3月4日"]]),
    )
    assert "山田 太郎" in text and "生年月日\t昭和55年3月4日" in text
    text, _ = attachment_text(
        "list.xlsx", "application/octet-stream", _xlsx([["氏名", "電話"], ["佐藤 花子", "03-1234-5678"]])
    )
    assert "佐藤 花子\t03-1234-5678" in text
    text, _ = attachment_text("名簿.csv", "text/csv", "氏名,電話\n鈴木 一郎,090-1111-2222\n".encode("cp932"))
    assert "鈴木 一郎" in text


def test_broken_and_hostile_files_are_notes_not_crashes() -> None:
    text, note = attachment_text("x.pdf", "application/pdf", b"%PDF-1.4 garbage")
    assert text == "" and note is not None and "unreadable" in note
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"0" * 50_000_000)
    text, note = attachment_text("bomb.docx", "application/octet-stream", bomb.getvalue())
    assert text == "" and note is not None
    text, note = attachment_text("tool.exe", "application/x-msdownload", b"MZ...")
    assert text == "" and note is not None and "not searched" in note


def test_message_text_joins_body_and_attachments() -> None:
    msg = EmailMessage()
    msg["From"] = "a@a.example"
    msg["Subject"] = "申請書"
    msg.set_content("添付のとおりです。")
    msg.add_attachment(_pdf("Passport TK1234567"), maintype="application", subtype="pdf", filename="旅券.pdf")
    parsed = BytesParser(policy=compat32).parsebytes(msg.as_bytes())
    found = message_text(parsed)
    assert found.body.strip() == "添付のとおりです。"
    assert list(found.attachments) == ["旅券.pdf"]
    assert "TK1234567" in found.text


def test_index_can_extract_attachment_text_up_front(tmp_path: object) -> None:
    from pathlib import Path

    from dwelltime.scope.mailbox import index_path, load_index
    from dwelltime.workspace import Workspace

    base = Path(str(tmp_path))
    box = base / "boxes" / "s.ito" / "Inbox"
    box.mkdir(parents=True)
    msg = EmailMessage()
    msg["From"] = "a@a.example"
    msg["Message-ID"] = "<pdf@a.example>"
    msg.set_content("see attached")
    msg.add_attachment(_pdf("Passport TK1234567"), maintype="application", subtype="pdf", filename="p.pdf")
    (box / "1.eml").write_bytes(msg.as_bytes())
    ws = Workspace.open(base / "ws")
    index_path(ws, base / "boxes", workers=1)
    assert load_index(ws).column("attachment_text").to_pylist() == [None]
    index_path(ws, base / "boxes", workers=1, attachment_text=True)
    (text,) = load_index(ws).column("attachment_text").to_pylist()
    assert "TK1234567" in text


def test_a_msg_file_without_extract_msg_is_a_named_error(tmp_path: object, monkeypatch: object) -> None:
    import sys
    from pathlib import Path

    from dwelltime.scope.mailbox import index_path
    from dwelltime.workspace import Workspace

    base = Path(str(tmp_path))
    (base / "boxes" / "s.ito").mkdir(parents=True)
    (base / "boxes" / "s.ito" / "mail.msg").write_bytes(b"\xd0\xcf\x11\xe0 not really an Outlook file")
    monkeypatch.setitem(sys.modules, "extract_msg", None)  # type: ignore[attr-defined]
    summary = index_path(Workspace.open(base / "ws"), base / "boxes", workers=1)
    assert summary.messages == 0
    assert any("mail.msg" in e and "extract-msg" in e for e in summary.errors)
