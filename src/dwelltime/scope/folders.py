"""Folder names as mail stores write them, and one comparable key for all of them.

The same folder is spelled differently by every source scoping joins: Microsoft 365 audit
records say ``\\Inbox`` and ``\\Archive\\2023``, Dovecot says ``INBOX`` and ``Archive/2023``
(or ``Archive.2023`` with the Maildir++ layout), and on disk the names are in IMAP modified
UTF-7 (RFC 3501 5.1.3: ``&Toh7lw-`` is 予算).  :func:`folder_key` maps each spelling to one
key, so a Sync of ``\\Archive\\2023`` finds the messages indexed from ``Archive/2023.mbox``.
"""

from __future__ import annotations

import base64
import re

#: Special folders under their common localized and protocol names -> one key.
_SPECIAL = {
    "inbox": "inbox",
    "受信トレイ": "inbox",
    "sent": "sent items",
    "sent items": "sent items",
    "sent messages": "sent items",
    "sent mail": "sent items",
    "送信済みアイテム": "sent items",
    "送信済み": "sent items",
    "deleted items": "deleted items",
    "trash": "deleted items",
    "deleted messages": "deleted items",
    "削除済みアイテム": "deleted items",
    "ごみ箱": "deleted items",
    "drafts": "drafts",
    "下書き": "drafts",
    "junk": "junk email",
    "junk email": "junk email",
    "junk e-mail": "junk email",
    "spam": "junk email",
    "迷惑メール": "junk email",
    "archive": "archive",
    "アーカイブ": "archive",
}

_MUTF7_RUN = re.compile(r"&([A-Za-z0-9+,]*)-")


def decode_mutf7(name: str) -> str:
    """Decode one IMAP modified UTF-7 name; text that is not valid modified UTF-7 is kept as is."""
    if "&" not in name:
        return name

    def run(match: re.Match[str]) -> str:
        body = match.group(1)
        if body == "":
            return "&"
        data = body.replace(",", "/")
        data += "=" * (-len(data) % 4)
        try:
            return base64.b64decode(data, validate=True).decode("utf-16-be")
        except (ValueError, UnicodeDecodeError):
            return match.group(0)

    return _MUTF7_RUN.sub(run, name)


def folder_key(name: str | None) -> str:
    """A case-folded, separator-normalized key for a folder path (``""`` for none).

    ``\\Inbox``, ``INBOX``, ``Inbox`` and ``受信トレイ`` give ``inbox``; ``\\Archive\\2023`` and
    ``Archive/2023`` give ``archive/2023``; the first level is mapped through the special-folder
    names so ``Sent`` and ``Sent Items`` meet.
    """
    if not name:
        return ""
    text = decode_mutf7(name).replace("\\", "/").strip("/ ")
    parts = [p.strip() for p in text.split("/") if p.strip()]
    if not parts:
        return ""
    first = parts[0].casefold()
    parts[0] = _SPECIAL.get(first, first)
    return "/".join([parts[0], *(p.casefold() for p in parts[1:])])
