"""The simulated users' mailboxes: mbox files on disk and a compact index in memory.

``build_corpus(org, start, days, seed, out_dir)`` plans who writes to whom, day by day,
from ``history_days`` before ``start`` to the end of the period, writes every message as
an RFC 5322 message into mbox files (one per folder), and returns a :class:`Corpus` that
answers the questions the behaviour, the attack scenarios and ground truth ask: which
folders a mailbox has, what was in a folder at a given time, what arrived on a day, and
what personal data a message holds.

Why mbox and not Maildir: one file per folder instead of one per message (a 1,000-user
corpus holds hundreds of thousands of messages), appends are cheap, and Dovecot serves
mbox too.  Layout::

    out_dir/<local part of the UPN>/<folder>.mbox

where a folder name is split on "/" into directories and each level is written in IMAP
modified UTF-7 (RFC 3501 5.1.3, what IMAP servers put on disk), so "予算" becomes
"&Toh7lw-.mbox" and "Archive/2023" becomes "Archive/2023.mbox".  :func:`folder_path` and
:func:`folder_from_path` convert both ways; folder names are ours, never attacker input.

Model of a mailbox (a snapshot, kept simple on purpose):

- each message lives in one folder of a mailbox from its Date on and never moves.  Mail
  older than ``archive_after_days`` before the period sits in ``Archive/<year>`` (moved
  there before the period began, which no log of the period can see), rules file some
  mail into project folders ("予算", "案件/2024", "人事", ...), newsletters and notices
  often go straight to Deleted Items;
- a message sent inside the organisation is one message (one Message-ID) in the sender's
  Sent Items and in every recipient's mailbox, as on a real server;
- sizes are the byte length of the message as stored in the mbox file (LF line ends,
  without the mbox "From " separator line).

Message-IDs (with angle brackets, as ``InternetMessageId`` shows them) are unique within a
corpus and deterministic: Exchange Online style for a cloud or hybrid organisation's own
mail, ``<...@mailhost.domain>`` on premises, ``<...@mail.partner-domain>`` from outside.

Memory: per message a handful of ints in ``array`` columns, its id and subject; per
mailbox two int arrays.  About 300 bytes a message.
"""

from __future__ import annotations

import base64
import bisect
import gzip
import hashlib
import heapq
import math
import random
import re
from array import array
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from zoneinfo import ZoneInfo

import orjson

from dwelltime.simulate import pii, textgen
from dwelltime.simulate.activity import MessageRef
from dwelltime.simulate.calendar import is_working_day
from dwelltime.simulate.mailfmt import address, address_list, encode_header_text, render
from dwelltime.simulate.model import Org, Partner, User
from dwelltime.simulate.pii import CATEGORIES
from dwelltime.simulate.textgen import (
    BUDGET,
    CITIZEN,
    EVENT,
    EXPENSE,
    HR_BANK,
    HR_MYNUMBER,
    INQUIRY,
    INVOICE,
    KIND_NAMES,
    MEETING,
    NEWS,
    NOTICE,
    PROJECTS,
    REVIEW,
    STATUS,
    TRAVEL,
    Persona,
)

INBOX, SENT, DELETED = "Inbox", "Sent Items", "Deleted Items"
STANDARD_FOLDERS = (INBOX, SENT, DELETED)
_NCAT = len(CATEGORIES)


def _cumulative(weighted: tuple[tuple[int, float], ...]) -> tuple[tuple[int, ...], tuple[float, ...]]:
    kinds = tuple(k for k, _ in weighted)
    acc: list[float] = []
    total = 0.0
    for _, w in weighted:
        total += w
        acc.append(total)
    return kinds, tuple(acc)


# Base daily rates per user on a working day, before scaling to ``density``.
_RATE_INTERNAL, _RATE_EXT_OUT, _RATE_EXT_IN = 0.9, 0.45, 1.1
_BASE_ENTRIES = 5.1  # mailbox entries per user per working day those rates give (measured)
_OFF_DAY = 0.06  # weekends and holidays: a trickle (partners abroad, the keen)
_ROLE_FACTOR = {"manager": 1.3, "executive": 1.0, "admin": 0.9, "staff": 1.0, "service": 0.15}

_INTERNAL_KINDS_W = ((MEETING, 22.0), (STATUS, 18.0), (REVIEW, 16.0), (BUDGET, 7.0), (EVENT, 3.0), (TRAVEL, 3.0),
                   (EXPENSE, 1.5), (HR_MYNUMBER, 1.2), (HR_BANK, 0.8))  # fmt: skip
_OUT_KINDS_W = ((MEETING, 25.0), (STATUS, 12.0), (REVIEW, 15.0), (INQUIRY, 18.0), (EVENT, 4.0))
_IN_KINDS_W = ((MEETING, 18.0), (STATUS, 10.0), (REVIEW, 12.0), (INQUIRY, 20.0), (INVOICE, 7.0), (EVENT, 4.0),
             (CITIZEN, 3.0))  # fmt: skip

_INTERNAL_KINDS = _cumulative(_INTERNAL_KINDS_W)
_OUT_KINDS = _cumulative(_OUT_KINDS_W)
_IN_KINDS = _cumulative(_IN_KINDS_W)

# Project folders a user may keep, and which kinds of mail their rules file there.
_PROJECT_FOLDERS: dict[str, tuple[int, ...]] = {
    "予算": (BUDGET,),
    "案件": (STATUS, REVIEW),  # becomes 案件/<year>
    "人事": (HR_MYNUMBER, HR_BANK),
    "出張": (TRAVEL, EXPENSE),
    "会議資料": (MEETING,),
    "Partners": (INQUIRY, INVOICE),
    "Projects/International": (),  # mail in English
}
_TZ = {"JP": 9, "KR": 9, "CN": 8, "TW": 8, "SG": 8, "HK": 8, "AU": 10, "IN": 5, "DE": 1, "FR": 1, "NL": 1,
       "GB": 0, "IE": 0, "US": -5, "CA": -5, "BR": -3}  # fmt: skip
_PARTNER_DEPTS_JA = ("営業部", "技術部", "総務部", "事業推進部", "国際部")
_PARTNER_DEPTS_EN = ("Sales", "Engineering", "International Affairs", "Operations", "Policy")
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9 _.,&+\-]+")


# --- folder names on disk -----------------------------------------------------------


def _mutf7_encode(text: str) -> str:
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            raw = "".join(run).encode("utf-16-be")
            b64 = base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",")
            out.append(f"&{b64}-")
            run.clear()

    for ch in text:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def _mutf7_decode(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "&":
            out.append(ch)
            i += 1
            continue
        end = text.index("-", i)
        chunk = text[i + 1 : end]
        if not chunk:
            out.append("&")
        else:
            b64 = chunk.replace(",", "/")
            out.append(base64.b64decode(b64 + "=" * (-len(b64) % 4)).decode("utf-16-be"))
        i = end + 1
    return "".join(out)


def folder_path(folder: str) -> PurePosixPath:
    """Relative file of a folder inside a user's directory: "案件/2024" -> "&aEhO9g-/2024.mbox"."""
    segments = [_mutf7_encode(s) for s in folder.split("/")]
    for seg in segments:
        if seg in ("", ".", "..") or not _SAFE_SEGMENT.fullmatch(seg) or seg.startswith("."):
            raise ValueError(f"folder name {folder!r} does not map to a safe file name")
    return PurePosixPath(*segments[:-1], segments[-1] + ".mbox")


def folder_from_path(rel: PurePosixPath) -> str:
    """Inverse of :func:`folder_path`."""
    parts = list(rel.parts)
    if not parts or not parts[-1].endswith(".mbox"):
        raise ValueError(f"not a corpus mbox path: {rel}")
    parts[-1] = parts[-1][: -len(".mbox")]
    return "/".join(_mutf7_decode(p) for p in parts)


_SAFE_LOCAL = re.compile(r"[a-z0-9][a-z0-9._+\-]*")


def mailbox_dir(upn: str) -> str:
    """Directory of a user's mailbox: the local part of the UPN (validated, never escaped)."""
    local = upn.split("@", 1)[0].lower()
    if not _SAFE_LOCAL.fullmatch(local):
        raise ValueError(f"UPN {upn!r} has a local part unsafe as a directory name")
    return local


# --- the index -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageInfo:
    """What the logs need about one message in one mailbox (beyond MessageRef)."""

    message_id: str
    folder: str
    size: int
    time: datetime  # Date header, UTC
    direction: str  # "out" when this mailbox's owner sent it, else "in"
    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    kind: str  # meeting, invoice, hr_mynumber, ... (textgen.KIND_NAMES)


class Mailbox:
    """One user's mailbox as the rest of the simulator sees it."""

    def __init__(self, corpus: Corpus, owner: int) -> None:
        self._c = corpus
        self._owner = owner
        self.upn = corpus._people[owner].email
        self._msgs = array("i")  # message numbers, in time order
        self._folders = array("H")  # folder codes, parallel
        self._times = array("q")  # message times, parallel (for bisect)
        self._by_folder: dict[int, tuple[array[int], array[int]]] | None = None

    def _append(self, msg: int, folder: int, t: int) -> None:
        self._msgs.append(msg)
        self._folders.append(folder)
        self._times.append(t)

    def folders(self) -> list[str]:
        """Inbox, Sent Items, Deleted Items, then archive years, then the other folders, sorted."""
        names = {self._c._folder_names[f] for f in set(self._folders)}
        rest = sorted(names - set(STANDARD_FOLDERS), key=lambda n: (not n.startswith("Archive/"), n))
        return [*STANDARD_FOLDERS, *rest]

    def _index(self) -> dict[int, tuple[array[int], array[int]]]:
        if self._by_folder is None:
            by: dict[int, tuple[array[int], array[int]]] = {}
            for m, f, t in zip(self._msgs, self._folders, self._times, strict=True):
                times, msgs = by.setdefault(f, (array("q"), array("i")))
                times.append(t)
                msgs.append(m)
            self._by_folder = by
        return self._by_folder

    def messages_in(self, folder: str, at: datetime) -> list[MessageRef]:
        """Messages in ``folder`` at time ``at`` (those dated at or before it)."""
        code = self._c._folder_codes.get(folder)
        if code is None:
            return []
        got = self._index().get(code)
        if got is None:
            return []
        times, msgs = got
        end = bisect.bisect_right(times, _epoch(at))
        return [self._c._ref(m, folder) for m in msgs[:end]]

    def arrivals(self, day: date) -> list[MessageRef]:
        """Messages received or sent on ``day`` (a calendar day in the organisation's time zone)."""
        lo, hi = self._c._day_bounds(day)
        i, j = bisect.bisect_left(self._times, lo), bisect.bisect_left(self._times, hi)
        names = self._c._folder_names
        return [self._c._ref(self._msgs[k], names[self._folders[k]]) for k in range(i, j)]

    def _locate(self, message_id: str) -> tuple[int, int]:
        msg = self._c._id_index.get(message_id)
        if msg is None:
            raise KeyError(message_id)
        t = self._c._time[msg]
        k = bisect.bisect_left(self._times, t)
        while k < len(self._times) and self._times[k] == t:
            if self._msgs[k] == msg:
                return msg, self._folders[k]
            k += 1
        raise KeyError(f"{message_id} is not in the mailbox of {self.upn}")

    def message(self, message_id: str) -> MessageRef:
        msg, folder = self._locate(message_id)
        return self._c._ref(msg, self._c._folder_names[folder])

    def arrival(self, message_id: str) -> datetime:
        """When the message arrived in (or was sent from) this mailbox: its Date, UTC."""
        msg, _ = self._locate(message_id)
        return datetime.fromtimestamp(self._c._time[msg], UTC)

    def info(self, message_id: str) -> MessageInfo:
        """Time, direction, sender, recipients and subject of a message in this mailbox."""
        msg, folder = self._locate(message_id)
        c = self._c
        to, cc = c._recipients(msg)
        sender = c._sender[msg]
        return MessageInfo(
            message_id=message_id,
            folder=c._folder_names[folder],
            size=c._size[msg],
            time=datetime.fromtimestamp(c._time[msg], UTC),
            direction="out" if sender == self._owner else "in",
            sender=c._people[sender].email,
            to=tuple(c._people[p].email for p in to),
            cc=tuple(c._people[p].email for p in cc),
            subject=c._subject[msg],
            kind=KIND_NAMES[c._kind[msg]],
        )

    def __len__(self) -> int:
        return len(self._msgs)


class Corpus:
    """The index of a written corpus.  Built by :func:`build_corpus`."""

    def __init__(self, org: Org, out_dir: Path, seed: int) -> None:
        self.org = org
        self.out_dir = out_dir
        self.seed = seed
        self._tz = ZoneInfo(org.timezone)
        self._people: list[Persona] = []
        self._person_index: dict[str, int] = {}
        self._mailboxes: dict[str, Mailbox] = {}
        self._folder_names: list[str] = []
        self._folder_codes: dict[str, int] = {}
        self._ids: list[str] = []
        self._id_index: dict[str, int] = {}
        self._time = array("q")
        self._sender = array("i")
        self._rcpt_off = array("i", [0])
        self._rcpt = array("i")
        self._nto = array("H")
        self._kind = array("B")
        self._lang = array("B")  # 0 ja, 1 en
        self._project = array("B")
        self._reply_of = array("i")
        self._size = array("i")
        self._pii = array("H")  # _NCAT counts per message
        self._subject: list[str] = []
        self._sent_to: dict[int, Counter[int]] = {}
        self._contacts: dict[int, list[int]] = {}
        self._ctx: textgen.Context | None = None
        self._msgid_style: list[str] = []

    # --- public API -------------------------------------------------------------------

    def mailbox(self, upn: str) -> Mailbox:
        try:
            return self._mailboxes[upn.lower()]
        except KeyError:
            raise KeyError(f"no mailbox for {upn}") from None

    def mailboxes(self) -> list[str]:
        return sorted(self._mailboxes)

    def pii_truth(self, message_id: str) -> dict[str, int]:
        """Personal data planted in a message: category -> number of distinct values.

        Counted over the decoded text of the body parts and attachments only (addresses in
        the From/To/Cc headers are not counted; an address written in a signature or a
        quoted header in the body is).  Categories are :data:`pii.CATEGORIES`, all present.
        A value is counted once per message however often it appears (a plain and an HTML
        part repeat the same text).  Value forms: see :mod:`dwelltime.simulate.pii`.
        """
        msg = self._id_index[message_id]
        base = msg * _NCAT
        return {cat: self._pii[base + i] for i, cat in enumerate(CATEGORIES)}

    def pii_values(self, message_id: str) -> list[tuple[str, str]]:
        """The planted values themselves, (category, value) sorted (regenerated on demand)."""
        msg = self._id_index[message_id]
        _, content = self._compose(msg)
        return content.pii.items()

    def correspondents(self, upn: str) -> list[str]:
        """Addresses this user writes to, most frequent first (colleagues and partner contacts).

        Users who have not written yet (new staff) get the people they work with.
        """
        owner = self._person_index[upn.lower()]
        counts = self._sent_to.get(owner)
        if counts:
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], self._people[kv[0]].email))
            return [self._people[p].email for p, _ in ranked]
        return [self._people[p].email for p in self._contacts.get(owner, [])]

    def message_count(self) -> int:
        return len(self._ids)

    def mailbox_file(self, upn: str, folder: str) -> Path:
        return self.out_dir / mailbox_dir(upn) / folder_path(folder)

    # --- internals --------------------------------------------------------------------

    def _ref(self, msg: int, folder: str) -> MessageRef:
        return MessageRef(self._ids[msg], folder, self._size[msg])

    def _recipients(self, msg: int) -> tuple[list[int], list[int]]:
        lo, hi = self._rcpt_off[msg], self._rcpt_off[msg + 1]
        all_ = list(self._rcpt[lo:hi])
        n = self._nto[msg]
        return all_[:n], all_[n:]

    def _day_bounds(self, day: date) -> tuple[int, int]:
        lo = datetime(day.year, day.month, day.day, tzinfo=self._tz)
        return _epoch(lo), _epoch(lo + timedelta(days=1))

    def _folder(self, name: str) -> int:
        code = self._folder_codes.get(name)
        if code is None:
            code = len(self._folder_names)
            self._folder_names.append(name)
            self._folder_codes[name] = code
        return code

    def _add_person(self, p: Persona, style: str) -> int:
        idx = self._person_index.get(p.email)
        if idx is not None:
            return idx
        idx = len(self._people)
        self._people.append(p)
        self._msgid_style.append(style)
        self._person_index[p.email] = idx
        return idx

    def _msg_rng(self, msg: int) -> random.Random:
        return random.Random((self.seed * 0x100000001B3 + msg * 0x9E3779B97F4A7C15) & ((1 << 127) - 1))

    def _compose(self, msg: int) -> tuple[random.Random, textgen.Content]:
        """Text of message ``msg`` from its plan alone, so it can be regenerated exactly."""
        assert self._ctx is not None
        rng = self._msg_rng(msg)
        to, _ = self._recipients(msg)
        sender = self._people[self._sender[msg]]
        lang = "ja" if self._lang[msg] == 0 else "en"
        local = datetime.fromtimestamp(self._time[msg], UTC) + timedelta(hours=sender.utc_offset)
        reply = None
        orig = self._reply_of[msg]
        if orig >= 0:
            oto, _ = self._recipients(orig)
            osender = self._people[self._sender[orig]]
            reply = textgen.Reply(
                osender,
                tuple(self._people[p] for p in oto),
                datetime.fromtimestamp(self._time[orig], UTC) + timedelta(hours=osender.utc_offset),
                self._subject[orig],
            )
        w = textgen.Writer(rng, self._ctx, lang, local)
        content = textgen.compose(
            w, self._kind[msg], sender, tuple(self._people[p] for p in to), self._project[msg], reply
        )
        return rng, content


def _epoch(t: datetime) -> int:
    if t.tzinfo is None:
        raise ValueError("naive datetime: the simulator works in timezone-aware UTC")
    return int(t.timestamp())


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    limit = math.exp(-lam)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _rng(seed: int, name: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}|corpus|{name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def _pick(rng: random.Random, table: tuple[tuple[int, ...], tuple[float, ...]]) -> int:
    kinds, acc = table
    return kinds[min(bisect.bisect_right(acc, rng.random() * acc[-1]), len(kinds) - 1)]


# --- people ----------------------------------------------------------------------------


def _user_persona(u: User, org: Org, rng: random.Random, office_address: str, main: str) -> Persona:
    name = pii.name_from_parts(u.name_ja, u.name_en)
    line = f"{rng.randrange(10000):04d}"
    return Persona(
        email=u.upn.lower(),
        name=name,
        org_ja=org.name,
        org_en=org.name,
        dept=u.department,
        country="JP",
        lang="ja" if u.name_ja else "en",
        internal=True,
        office_phone=f"03-{main}-{line}",
        office_phone_intl=f"+81-3-{main}-{line}",
        mobile=pii.phone_jp_mobile(rng) if rng.random() < 0.3 else "",
        office_address=office_address,
        utc_offset=9,
    )


_LOCAL_NAME = re.compile(r"([a-z]+)[._-]([a-z]+)")


def _contact_name(rng: random.Random, local: str, japanese: bool) -> pii.PersonName:
    """A name for a partner contact, from the address when it spells one."""
    m = _LOCAL_NAME.fullmatch(local.lower())
    if m:
        a, b = m.group(1), m.group(2)
        if japanese:
            fam = {f[2].lower(): f for f in pii.JA_FAMILY}
            giv = {g[2].lower(): g for g in pii.JA_GIVEN}
            for x, y in ((a, b), (b, a)):
                if x in fam and y in giv:
                    f, g = fam[x], giv[y]
                    return pii.PersonName(f"{f[0]} {g[0]}", f"{f[1]} {g[1]}", f"{g[2]} {f[2]}", f[2], g[2])
        elif len(a) > 1 and len(b) > 1:
            return pii.PersonName("", "", f"{a.title()} {b.title()}", b.title(), a.title())
    return pii.ja_name(rng) if japanese else pii.en_name(rng)


def _partner_personas(p: Partner, rng: random.Random) -> list[Persona]:
    japanese = p.language == "ja"
    office = pii.address_for(rng, p.country, residential=False)
    area = rng.choice(("03", "06", "045", "052"))
    contacts = list(p.contacts)
    if not contacts:
        for _ in range(3):
            n = pii.ja_name(rng) if japanese else pii.en_name(rng)
            contacts.append(pii.email_for(rng, n, p.domain))
    out = []
    for addr in contacts:
        addr = addr.lower()
        name = _contact_name(rng, addr.split("@", 1)[0], japanese)
        if p.country == "JP":
            phone = pii.phone_jp_landline(rng, area)
            intl = "+81-" + phone[1:]
        else:
            phone = intl = pii.phone_intl(rng, p.country)
        out.append(
            Persona(
                email=addr,
                name=name,
                org_ja=p.name,
                org_en=p.name,
                dept=rng.choice(_PARTNER_DEPTS_JA if japanese else _PARTNER_DEPTS_EN),
                country=p.country,
                lang=p.language,
                internal=False,
                office_phone=phone,
                office_phone_intl=intl,
                mobile=(pii.phone_jp_mobile(rng) if p.country == "JP" else "") if rng.random() < 0.3 else "",
                office_address=office if rng.random() < 0.8 else "",
                utc_offset=_TZ.get(p.country, 0),
            )
        )
    return out


def _system_persona(email: str, ja: str, en: str, dept: str, org: Org) -> Persona:
    return Persona(email, pii.PersonName(ja, "", en, en, en), org.name, org.name, dept, "JP", "ja", True,
                   "", "", "", "", 9)  # fmt: skip


# --- building ----------------------------------------------------------------------------


class _Spool:
    """Per-file write buffers, flushed when they grow: bounded memory, few open files."""

    def __init__(self, root: Path, limit: int = 48 << 20) -> None:
        self.root = root
        self.limit = limit
        self.buffers: dict[Path, list[bytes]] = {}
        self.pending = 0
        self.started: set[Path] = set()

    def add(self, path: Path, data: bytes) -> None:
        self.buffers.setdefault(path, []).append(data)
        self.pending += len(data)
        if self.pending >= self.limit:
            self.flush()

    def touch(self, path: Path) -> None:
        if path not in self.started and path not in self.buffers:
            self.buffers[path] = []

    def flush(self) -> None:
        for path in sorted(self.buffers):
            chunks = self.buffers[path]
            mode = "ab" if path in self.started else "wb"
            if mode == "wb":
                path.parent.mkdir(parents=True, exist_ok=True)
            with path.open(mode) as fh:
                fh.write(b"".join(chunks))
            self.started.add(path)
        self.buffers.clear()
        self.pending = 0


@dataclass(slots=True)
class _Plan:
    t: int
    kind: int
    lang: int
    sender: int
    to: list[int]
    cc: list[int]
    project: int
    reply_of: int
    deliver: list[int]  # user person-indices whose mailbox receives it (not the sender)


def build_corpus(
    org: Org,
    start: date,
    days: int,
    seed: int,
    out_dir: Path | str,
    *,
    density: float = 5.0,
    history_days: int = 420,
    history_density: float = 0.4,
    archive_after_days: int = 60,
    pii_truth: Path | str | None = None,
) -> Corpus:
    """Write the mailboxes of every user of ``org`` under ``out_dir`` and index them.

    ``density``: mailbox entries (messages received plus sent) per user per working day
    during the period, on average (people vary: managers more, service accounts little).
    ``history_days`` of older mail before ``start`` at ``history_density`` entries per
    working day, most of it in ``Archive/<year>`` folders.

    ``pii_truth``: also write the personal data planted in every message to this file
    (see :class:`PiiTruthWriter`), so that personal-data detection can be measured.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    c = Corpus(org, out, seed)
    b = _Builder(c, org, start, days, seed, density, history_days, history_density, archive_after_days)
    if pii_truth is None:
        b.run()
        return c
    with PiiTruthWriter(Path(pii_truth)) as sink:
        b.pii_sink = sink
        b.run()
    return c


class PiiTruthWriter:
    """The personal-data truth of a corpus, one JSON line per message, gzip-compressed.

    Written as messages are emitted (the planted values are at hand then; regenerating them
    later with :meth:`Corpus.pii_values` would compose every message a second time).  Each
    line: ``message_id``, ``lang`` ("ja"/"en"), ``kind``, ``pii`` (distinct values per
    category of :data:`pii.CATEGORIES`, all present) and ``values`` (the sorted
    ``[category, value]`` pairs; value forms as :mod:`dwelltime.simulate.pii` describes).
    Lines follow the order messages were written (their Date order).  The gzip header
    carries no time stamp or name, so the same seed gives the same bytes.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._raw: BinaryIO = path.open("wb")
        self._gz = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=1)
        self._buf: list[bytes] = []

    def add(self, message_id: str, lang: str, kind: str, log: pii.PiiLog) -> None:
        counts = log.counts()
        line = {
            "message_id": message_id,
            "lang": lang,
            "kind": kind,
            "pii": {cat: counts[i] for i, cat in enumerate(CATEGORIES)},
            "values": log.items(),
        }
        self._buf.append(orjson.dumps(line))
        if len(self._buf) >= 4096:
            self._flush()

    def _flush(self) -> None:
        if self._buf:
            self._gz.write(b"\n".join(self._buf) + b"\n")
            self._buf.clear()

    def close(self) -> None:
        self._flush()
        self._gz.close()
        self._raw.close()

    def __enter__(self) -> PiiTruthWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Builder:
    def __init__(
        self,
        c: Corpus,
        org: Org,
        start: date,
        days: int,
        seed: int,
        density: float,
        history_days: int,
        history_density: float,
        archive_after_days: int,
    ) -> None:
        self.c, self.org, self.start, self.days, self.seed = c, org, start, days, seed
        self.density, self.history_days, self.history_density = density, history_days, history_density
        self.archive_before = start - timedelta(days=archive_after_days)
        self.purge_before = start - timedelta(days=30)
        self.rng = _rng(seed, "plan")
        self.spool = _Spool(c.out_dir)
        self.tz = ZoneInfo(org.timezone)
        self.salt = _rng(seed, "msgid").getrandbits(64)
        self.paths: dict[tuple[int, int], Path] = {}
        self.pii_sink: PiiTruthWriter | None = None
        self._setup_people()

    # --- who is who -----------------------------------------------------------------

    def _setup_people(self) -> None:
        c, org = self.c, self.org
        rng = _rng(self.seed, "people")
        office = pii.address_jp(rng, residential=False)
        main = f"{rng.randrange(3000, 6000)}"
        users = sorted(org.users, key=lambda u: u.upn)
        self.users: list[int] = []
        self.user_of: dict[int, User] = {}
        for u in users:
            idx = c._add_person(_user_persona(u, org, rng, office, main), "internal")
            self.users.append(idx)
            self.user_of[idx] = u
            c._mailboxes[u.upn.lower()] = Mailbox(c, idx)
        self.partner_people: list[list[int]] = []
        for p in sorted(org.partners, key=lambda p: p.domain):
            self.partner_people.append([c._add_person(x, "external") for x in _partner_personas(p, rng)])
        self.domestic = [i for i, p in enumerate(sorted(org.partners, key=lambda p: p.domain)) if p.country == "JP"]
        d = org.domain
        self.noreply = c._add_person(
            _system_persona(f"noreply@{d}", "情報システム課", "IT Services", "情報システム課", org), "internal"
        )
        self.pr = c._add_person(_system_persona(f"koho@{d}", "広報室", "Public Relations", "広報室", org), "internal")
        self.all_staff = c._add_person(_system_persona(f"all-staff@{d}", "全職員", "All staff", "", org), "internal")
        # desks that receive HR and travel/expense mail
        self.hr_desk = self._desk(r"人事|総務|HR|Human|Personnel|General Affairs", 2)
        self.acct_desk = self._desk(r"会計|経理|Account|Financ|総務|General Affairs", 2)
        self.activity: dict[int, float] = {}
        self.colleagues: dict[int, list[int]] = {}
        self.partners_of: dict[int, list[int]] = {}
        self.folders_of: dict[int, set[str]] = {}
        by_dept: dict[str, list[int]] = {}
        for i in self.users:
            by_dept.setdefault(self.user_of[i].department, []).append(i)
        for i in self.users:
            u = self.user_of[i]
            self.activity[i] = math.exp(rng.gauss(0, 0.45)) * _ROLE_FACTOR.get(u.role, 1.0)
            same = [j for j in by_dept[u.department] if j != i]
            other = [j for j in self.users if j != i and self.user_of[j].department != u.department]
            pool = rng.sample(same, k=min(len(same), rng.randint(3, 8)))
            pool += rng.sample(other, k=min(len(other), rng.randint(1, 5)))
            self.colleagues[i] = pool
            contacts: list[int] = []
            if self.partner_people:
                chosen = set()
                for _ in range(rng.randint(1, 4)):
                    if self.domestic and rng.random() < 0.7:
                        chosen.add(rng.choice(self.domestic))
                    else:
                        chosen.add(rng.randrange(len(self.partner_people)))
                for pi in sorted(chosen):
                    people = self.partner_people[pi]
                    contacts += rng.sample(people, k=min(len(people), rng.randint(1, 2)))
            self.partners_of[i] = contacts
            c._contacts[i] = pool + contacts
            folders = set(rng.sample(sorted(_PROJECT_FOLDERS), k=rng.randint(1, 3)))
            if i in self.hr_desk:
                folders.add("人事")
            if i in self.acct_desk:
                folders.add("出張")
            self.folders_of[i] = folders
        self.subscribers = [i for i in self.users if rng.random() < 0.35]
        self.recent: dict[int, deque[int]] = {i: deque(maxlen=6) for i in self.users}
        c._ctx = textgen.Context(
            seed=self.seed,
            today=self.start + timedelta(days=self.days),
            people=tuple(c._people[i] for i in self.users),
            partner_domains=tuple(sorted(p.domain for p in org.partners)),
        )
        self.citizens = 0

    def _desk(self, pattern: str, fallback: int) -> list[int]:
        rx = re.compile(pattern, re.IGNORECASE)
        found = [i for i in self.users if rx.search(self.user_of[i].department)]
        if found:
            return found[:6]
        return sorted(self.users)[:fallback]

    # --- planning -------------------------------------------------------------------

    def _when(self, rng: random.Random, day: date, person: Persona, user: User | None) -> int:
        lo, hi = user.work_hours if user is not None else (9, 18)
        overtime = rng.random() < 0.1
        hour = rng.uniform(hi, min(hi + 4, 23.9)) if overtime else rng.uniform(lo, hi)
        local = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour)
        return _epoch(local - timedelta(hours=person.utc_offset))

    def _lang(self, a: Persona, others: Iterable[Persona], rng: random.Random) -> int:
        people = [a, *others]
        if any(p.lang == "en" for p in people if not p.internal):
            return 1
        if any(not p.name.ja for p in people) or rng.random() < 0.04:
            return 1
        return 0

    def _active(self, idx: int, day: date) -> bool:
        # Staff who joined before the period have mail from before it too; only those
        # who join during the period start with an empty mailbox.
        joined = self.user_of[idx].start
        return joined <= day or joined <= self.start

    def _plan_day(self, day: date) -> list[_Plan]:
        rng = self.rng
        c = self.c
        hist = day < self.start
        working = is_working_day(day)
        scale = (self.history_density if hist else self.density) / _BASE_ENTRIES
        if not working:
            scale *= _OFF_DAY
        plans: list[_Plan] = []
        active = [i for i in self.users if self._active(i, day)]
        if not active:
            return plans
        active_set = set(active)
        for i in active:
            lam = (_RATE_INTERNAL + _RATE_EXT_OUT + _RATE_EXT_IN) * self.activity[i] * scale
            for _ in range(_poisson(rng, lam)):
                r = rng.random() * (_RATE_INTERNAL + _RATE_EXT_OUT + _RATE_EXT_IN)
                if r < _RATE_INTERNAL:
                    p = self._internal(rng, day, i, active_set)
                elif r < _RATE_INTERNAL + _RATE_EXT_OUT:
                    p = self._outbound(rng, day, i, active_set)
                else:
                    p = self._inbound(rng, day, i, active_set)
                if p is not None:
                    plans.append(p)
        if working:
            if rng.random() < 0.08:
                t = self._when(rng, day, c._people[self.noreply], None)
                plans.append(_Plan(t, NOTICE, 0, self.noreply, [self.all_staff], [], 0, -1, list(active)))
            if day.weekday() == 2 and rng.random() < 0.7:
                subs = [i for i in self.subscribers if i in active_set]
                if subs:
                    t = self._when(rng, day, c._people[self.pr], None)
                    plans.append(_Plan(t, NEWS, 0, self.pr, [self.all_staff], [], 0, -1, subs))
        plans.sort(key=lambda p: (p.t, p.sender))
        return plans

    def _reply_target(self, rng: random.Random, i: int, t: int) -> int:
        if rng.random() >= 0.35:
            return -1
        recent = [m for m in self.recent[i] if 0 < t - self.c._time[m] < 14 * 86400]
        return rng.choice(recent) if recent else -1

    def _internal(self, rng: random.Random, day: date, i: int, active: set[int]) -> _Plan | None:
        c = self.c
        me = c._people[i]
        t = self._when(rng, day, me, self.user_of[i])
        reply = self._reply_target(rng, i, t)
        if reply >= 0:
            return self._reply(rng, i, t, reply, active)
        kind = _pick(rng, _INTERNAL_KINDS)
        if kind == HR_MYNUMBER and day.month not in (10, 11, 12, 1) and rng.random() < 0.8:
            kind = STATUS
        if kind in (HR_MYNUMBER, HR_BANK):
            to = [x for x in self.hr_desk if x != i and x in active][:1]
        elif kind in (TRAVEL, EXPENSE):
            to = [x for x in self.acct_desk if x != i and x in active][:1]
        else:
            pool = [x for x in self.colleagues[i] if x in active]
            n = min(len(pool), 1 + _poisson(rng, 0.6))
            to = rng.sample(pool, k=n)
        if not to:
            return None
        cc_pool = [x for x in self.colleagues[i] if x in active and x not in to]
        cc = rng.sample(cc_pool, k=min(len(cc_pool), _poisson(rng, 0.6))) if kind not in (HR_MYNUMBER, HR_BANK) else []
        people = [c._people[x] for x in to + cc]
        lang = self._lang(me, people, rng)
        project = rng.randrange(len(PROJECTS))
        return _Plan(t, kind, lang, i, to, cc, project, -1, to + cc)

    def _outbound(self, rng: random.Random, day: date, i: int, active: set[int]) -> _Plan | None:
        c = self.c
        contacts = self.partners_of[i]
        if not contacts:
            return self._internal(rng, day, i, active)
        me = c._people[i]
        t = self._when(rng, day, me, self.user_of[i])
        reply = self._reply_target(rng, i, t)
        if reply >= 0:
            return self._reply(rng, i, t, reply, active)
        first = rng.choice(contacts)
        same_org = [x for x in contacts if c._people[x].email.split("@")[1] == c._people[first].email.split("@")[1]]
        to = [first] + [x for x in same_org if x != first and rng.random() < 0.3]
        cc = [x for x in self.colleagues[i] if x in active and rng.random() < 0.06][:2]
        kind = _pick(rng, _OUT_KINDS)
        lang = self._lang(me, [c._people[x] for x in to], rng)
        return _Plan(t, kind, lang, i, to, cc, rng.randrange(len(PROJECTS)), -1, list(cc))

    def _inbound(self, rng: random.Random, day: date, i: int, active: set[int]) -> _Plan | None:
        c = self.c
        kind = _pick(rng, _IN_KINDS)
        if kind == CITIZEN or not self.partner_people:
            sender = self._citizen(rng)
            kind = CITIZEN
        else:
            contacts = self.partners_of[i]
            if contacts and rng.random() < 0.88:
                sender = rng.choice(contacts)
            else:
                sender = rng.choice(rng.choice(self.partner_people))
        sp = c._people[sender]
        t = self._when(rng, day, sp, None)
        cc = [x for x in self.colleagues[i] if x in active and rng.random() < 0.04][:2]
        lang = 1 if sp.lang == "en" else 0
        return _Plan(t, kind, lang, sender, [i], cc, rng.randrange(len(PROJECTS)), -1, [i, *cc])

    def _citizen(self, rng: random.Random) -> int:
        self.citizens += 1
        name = pii.ja_name(rng)
        email = pii.email_for(rng, name, rng.choice(pii.RESERVED_DOMAINS[:3]))
        local, dom = email.split("@")
        email = f"{local}{self.citizens}@{dom}"
        p = Persona(email, name, "", "", "", "JP", "ja", False, "", "", pii.phone_jp_mobile(rng), "", 9)
        return self.c._add_person(p, "external")

    def _reply(self, rng: random.Random, i: int, t: int, orig: int, active: set[int]) -> _Plan | None:
        c = self.c
        target = c._sender[orig]
        if target == i:
            return None
        to = [target]
        cc = [x for x in self.colleagues[i] if x in active and rng.random() < 0.08][:2]
        kind = c._kind[orig]
        if kind not in (MEETING, STATUS, REVIEW, INQUIRY, EVENT):
            kind = REVIEW
        deliver = [x for x in to + cc if x in self.user_of and x in active]
        return _Plan(t, kind, c._lang[orig], i, to, cc, c._project[orig], orig, deliver)

    # --- placing and writing ----------------------------------------------------------

    def _place(self, plan: _Plan, rng: random.Random, local_day: date, hist: bool) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        if plan.sender in self.user_of:
            out.append((plan.sender, SENT))
        seen = {plan.sender}
        for u in plan.deliver:
            if u in seen or u not in self.user_of:
                continue
            seen.add(u)
            folder = INBOX
            if plan.kind in (NEWS, NOTICE):
                if rng.random() < 0.5:
                    folder = DELETED
            else:
                for name in sorted(self.folders_of[u]):
                    kinds = _PROJECT_FOLDERS[name]
                    hit = plan.kind in kinds or (name == "Projects/International" and plan.lang == 1)
                    if hit and rng.random() < 0.75:
                        folder = f"案件/{local_day.year}" if name == "案件" else name
                        break
            if hist:
                if folder == DELETED and local_day < self.purge_before:
                    continue  # emptied long ago
                if folder == INBOX and local_day < self.archive_before:
                    folder = f"Archive/{local_day.year}"
            out.append((u, folder))
        return out

    def run(self) -> None:
        """Plan day by day; emit in time order.

        A day's plans all fall at or after that day's local midnight (partners write in
        their own working hours, and none is more than an hour ahead of Tokyo), but mail
        from the Americas or Europe lands on the next Tokyo day.  So plans wait in a heap
        and are emitted once no later day can produce anything earlier: every mailbox's
        index is then in time order, which ``messages_in`` and ``arrivals`` rely on.
        """
        c = self.c
        first = self.start - timedelta(days=self.history_days)
        last = self.start + timedelta(days=self.days)
        place_rng = _rng(self.seed, "place")
        pending: list[tuple[int, int, int, _Plan]] = []
        seq = 0
        for n in range((last - first).days):
            day = first + timedelta(days=n)
            for plan in self._plan_day(day):
                heapq.heappush(pending, (plan.t, plan.sender, seq, plan))
                seq += 1
            horizon = c._day_bounds(day)[1]
            while pending and pending[0][0] < horizon:
                plan = heapq.heappop(pending)[3]
                local_day = datetime.fromtimestamp(plan.t, self.tz).date()
                placed = self._place(plan, place_rng, local_day, local_day < self.start)
                if placed:
                    self._emit(plan, placed)
        # what is left falls after the end of the period
        for upn in c._mailboxes:
            for folder in STANDARD_FOLDERS:
                self.spool.touch(c.out_dir / mailbox_dir(upn) / folder_path(folder))
        self.spool.flush()

    def _message_id(self, msg: int, sender: int, t: int, rng: random.Random) -> str:
        c = self.c
        scrambled = ((msg + 1) * 0x9E3779B97F4A7C15 ^ self.salt) & 0xFFFFFFFFFFFFFFFF
        p = c._people[sender]
        domain = p.email.split("@", 1)[1]
        if c._msgid_style[sender] == "internal":
            if self.org.kind in ("cloud", "hybrid"):
                server = f"TYCPR01MB{1000 + (sender * 7919) % 9000}"
                return f"<{server}{scrambled:016X}{rng.getrandbits(48):012X}@{server}.jpnprd01.prod.outlook.com>"
            stores = [h for h in self.org.hosts if h.role == "mailstore"] or list(self.org.hosts)
            host = stores[0].name if stores else "mail"
            fqdn = host if "." in host else f"{host}.{self.org.domain}"
            return f"<{scrambled:016x}.{rng.getrandbits(32):08x}@{fqdn}>"
        stamp = datetime.fromtimestamp(t, UTC).strftime("%Y%m%d%H%M%S")
        return f"<{stamp}.{scrambled:016x}@mail.{domain}>"

    def _emit(self, plan: _Plan, placed: list[tuple[int, str]]) -> None:
        c = self.c
        msg = len(c._ids)
        c._time.append(plan.t)
        c._sender.append(plan.sender)
        c._rcpt.extend(plan.to)
        c._rcpt.extend(plan.cc)
        c._rcpt_off.append(len(c._rcpt))
        c._nto.append(len(plan.to))
        c._kind.append(plan.kind)
        c._lang.append(plan.lang)
        c._project.append(plan.project)
        c._reply_of.append(plan.reply_of)
        rng, content = c._compose(msg)
        mid = self._message_id(msg, plan.sender, plan.t, rng)
        c._ids.append(mid)
        c._id_index[mid] = msg
        c._subject.append(content.subject)
        counts = content.pii.counts()
        c._pii.extend(counts)
        if self.pii_sink is not None:
            self.pii_sink.add(mid, "ja" if plan.lang == 0 else "en", KIND_NAMES[plan.kind], content.pii)
        data = self._render(msg, plan, content, rng, mid)
        c._size.append(len(data))
        record = b"".join((b"From ", c._people[plan.sender].email.encode("ascii"), b" ", _asctime(plan.t), data, b"\n"))
        for u, folder in placed:
            mb = c._mailboxes[c._people[u].email]
            code = c._folder(folder)
            mb._append(msg, code, plan.t)
            path = self.paths.get((u, code))
            if path is None:
                path = self.paths[(u, code)] = c.out_dir / mailbox_dir(mb.upn) / folder_path(folder)
            self.spool.add(path, record)
            if folder != SENT and plan.kind not in (NEWS, NOTICE, CITIZEN):
                self.recent[u].append(msg)
        if plan.sender in self.user_of:
            counter = c._sent_to.setdefault(plan.sender, Counter())
            counter.update(plan.to + plan.cc)

    def _display(self, p: Persona, lang: int) -> str:
        if lang == 0 and p.name.ja:
            return p.name.ja
        return p.name.en

    def _render(self, msg: int, plan: _Plan, content: textgen.Content, rng: random.Random, mid: str) -> bytes:
        c = self.c
        lang = "ja" if plan.lang == 0 else "en"
        sender = c._people[plan.sender]
        tz = self.tz if sender.internal else timezone(timedelta(hours=sender.utc_offset))
        local = datetime.fromtimestamp(plan.t, UTC).astimezone(tz)
        headers = [("From", address(self._display(sender, plan.lang), sender.email))]
        headers.append(("To", address_list([address(self._display(c._people[x], plan.lang), c._people[x].email)
                                            for x in plan.to])))  # fmt: skip
        if plan.cc:
            cc = [address(self._display(c._people[x], plan.lang), c._people[x].email) for x in plan.cc]
            headers.append(("Cc", address_list(cc)))
        headers.append(("Subject", encode_header_text(content.subject)))
        headers.append(("Date", format_datetime(local)))
        headers.append(("Message-ID", mid))
        if plan.reply_of >= 0:
            orig = c._ids[plan.reply_of]
            headers.append(("In-Reply-To", orig))
            headers.append(("References", orig))
        headers.append(("Content-Language", "ja-JP" if lang == "ja" else "en-US"))
        data = render(headers, content, lang, rng, f"{msg:x}_{rng.getrandbits(40):010x}")
        if b"\nFrom " in data:
            data = data.replace(b"\nFrom ", b"\n>From ")
        return data


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _asctime(t: int) -> bytes:
    """ctime()-style UTC date of an mbox "From " line, with its newline."""
    d = datetime.fromtimestamp(t, UTC)
    text = (
        f"{_DAYS[d.weekday()]} {_MONTHS[d.month - 1]} {d.day:2d} {d.hour:02d}:{d.minute:02d}:{d.second:02d} {d.year}\n"
    )
    return text.encode("ascii")


def iter_mbox(path: Path) -> Iterator[bytes]:
    """Messages of one corpus mbox file, as stored (tools and tests that read the corpus)."""
    data = path.read_bytes()
    if not data:
        return
    pieces = data.removesuffix(b"\n").split(b"\n\nFrom ")
    for k, piece in enumerate(pieces):
        body = piece.split(b"\n", 1)[1]
        yield body if k == len(pieces) - 1 else body + b"\n"
