"""RFC 5322 / MIME serialisation of corpus messages.

Why not ``EmailMessage.as_bytes()``: measured here, the email package's generator makes
about 300 messages/s with ``policy=default`` and 1,500/s with compat32, while a 1,000-user,
90-day corpus holds a quarter of a million messages that must be written in well under a
minute.  So the MIME tree is laid out here (it is a fixed, small set of shapes), and every
encoding rule that is easy to get wrong comes from the standard library: RFC 2047 encoded
words (``email.header.Header``), address formatting (``email.utils.formataddr``), dates
(``format_datetime``), RFC 2231 file names (``encode_rfc2231``), base64 and
quoted-printable (``binascii``).  The tests parse every generated message back with the
email package (``policy=default``) and compare the decoded text with what was planted.

Shapes: text/plain; multipart/alternative (plain + html, as Outlook sends); either of
those inside multipart/mixed with attachments.  Japanese text is sent as UTF-8 base64,
UTF-8 quoted-printable or ISO-2022-JP 7bit (the classic Japanese mail encoding), English
as us-ascii 7bit.  Lines end in LF: the messages are stored in mbox files.
"""

from __future__ import annotations

import base64
import binascii
import html
import random
from email.utils import encode_rfc2231, formataddr

from dwelltime.simulate.textgen import Attachment, Content


def encode_header_text(text: str, charset: str = "utf-8", name: str = "Subject") -> str:
    """Unstructured header value: ASCII as is, anything else as RFC 2047 "B" encoded words.

    Same output rules as ``email.header.Header(text, "utf-8").encode()`` (encoded words of
    at most 75 characters, never splitting a character, folded with a space) at a tenth of
    the cost; the tests decode it with the email package.
    """
    if text.isascii():
        return text
    words: list[str] = []
    chunk = bytearray()
    for ch in text:
        b = ch.encode("utf-8")
        if len(chunk) + len(b) > _MAX_WORD_BYTES:
            words.append(_b_word(chunk))
            chunk = bytearray()
        chunk += b
    if chunk:
        words.append(_b_word(chunk))
    return "\n ".join(words)


# "=?utf-8?b?" + base64 + "?=" <= 75 characters: 63 base64 characters hold 45 bytes (60 chars).
_MAX_WORD_BYTES = 45


def _b_word(data: bytes | bytearray) -> str:
    return "=?utf-8?b?" + base64.b64encode(bytes(data)).decode("ascii") + "?="


_ADDR_CACHE: dict[tuple[str, str], str] = {}


def address(display: str, addr: str) -> str:
    """``formataddr`` (display names RFC 2047 encoded), cached: the same people write every day."""
    key = (display, addr)
    got = _ADDR_CACHE.get(key)
    if got is None:
        got = formataddr(key, charset="utf-8")
        if len(_ADDR_CACHE) < 200_000:
            _ADDR_CACHE[key] = got
    return got


def address_list(items: list[str]) -> str:
    """Join formatted addresses, folding after each comma once the line gets long."""
    out = ""
    line = 0
    for i, item in enumerate(items):
        if i:
            if line + len(item) > 70:
                out += ",\n "
                line = 1
            else:
                out += ", "
                line += 2
        out += item
        line += len(item)
    return out


def _text_part(text: str, subtype: str, lang: str, rng: random.Random) -> bytes:
    if text.isascii():
        cs, cte, payload = "us-ascii", "7bit", text.encode("ascii")
    else:
        roll = rng.random()
        if lang == "ja" and roll < 0.25:
            try:
                cs, cte, payload = "iso-2022-jp", "7bit", text.encode("iso-2022-jp")
            except UnicodeEncodeError:
                cs, cte, payload = "utf-8", "base64", base64.encodebytes(text.encode("utf-8"))
        elif roll < 0.85:
            cs, cte, payload = "utf-8", "base64", base64.encodebytes(text.encode("utf-8"))
        else:
            cs, cte, payload = "utf-8", "quoted-printable", binascii.b2a_qp(text.encode("utf-8"), istext=True)
    if not payload.endswith(b"\n"):
        payload += b"\n"
    head = f'Content-Type: text/{subtype}; charset="{cs}"\nContent-Transfer-Encoding: {cte}\n\n'
    return head.encode("ascii") + payload


def _html_of(text: str, lang: str) -> str:
    paras = "".join(f"<p>{html.escape(line)}</p>\n" if line else "<p>&nbsp;</p>\n" for line in text.split("\n"))
    return (
        f'<html lang="{lang}">\n<head></head>\n'
        f'<body>\n<div style="font-family: Meiryo, sans-serif; font-size: 11pt">\n{paras}</div>\n</body>\n</html>\n'
    )


def _attachment_part(att: Attachment) -> bytes:
    data = att.text.encode(att.charset)
    if att.charset == "utf-8" and att.subtype == "csv" and not att.filename.isascii():
        data = b"\xef\xbb\xbf" + data  # Excel's UTF-8 CSV starts with a BOM
    cs = "Shift_JIS" if att.charset == "shift_jis" else att.charset
    if att.filename.isascii():
        name_param = f'name="{att.filename}"'
        disp = f'attachment; filename="{att.filename}"'
    else:
        name_param = f'name="{encode_header_text(att.filename, name="Content-Type")}"'
        disp = f"attachment;\n filename*={encode_rfc2231(att.filename, 'utf-8')}"
    head = (
        f'Content-Type: text/{att.subtype}; charset="{cs}";\n {name_param}\n'
        f"Content-Disposition: {disp}; size={len(data)}\nContent-Transfer-Encoding: base64\n\n"
    )
    return head.encode("ascii") + base64.encodebytes(data)


def _multipart(subtype: str, boundary: str, parts: list[bytes]) -> bytes:
    b = boundary.encode("ascii")
    out = [f'Content-Type: multipart/{subtype};\n boundary="{boundary}"\n\n'.encode("ascii")]
    for part in parts:
        out.append(b"--" + b + b"\n" + part + b"\n")
    out.append(b"--" + b + b"--\n")
    return b"".join(out)


def render(headers: list[tuple[str, str]], content: Content, lang: str, rng: random.Random, tag: str) -> bytes:
    """The whole message: ``headers`` (already encoded) then the MIME body.

    ``tag`` makes boundaries unique per message without the global random module (which
    the email package's own boundary maker uses).
    """
    body = _text_part(content.body, "plain", lang, rng)
    if content.html:
        html_part = _text_part(_html_of(content.body, lang), "html", lang, rng)
        body = _multipart("alternative", f"_alt_{tag}_", [body, html_part])
    if content.attachments:
        body = _multipart("mixed", f"_mix_{tag}_", [body] + [_attachment_part(a) for a in content.attachments])
    head = "".join(f"{name}: {value}\n" for name, value in headers) + "MIME-Version: 1.0\n"
    return head.encode("ascii") + body
