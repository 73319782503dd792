"""Mailbox corpus: files vs index, determinism, time semantics, planted personal data."""

from __future__ import annotations

import email
import email.policy
import hashlib
import mailbox
import re
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

import pytest

from dwelltime.simulate import pii
from dwelltime.simulate.activity import Client, Network
from dwelltime.simulate.corpus import (
    Corpus,
    build_corpus,
    folder_from_path,
    folder_path,
    iter_mbox,
    mailbox_dir,
)
from dwelltime.simulate.model import MailHost, Org, Partner, User

START = date(2024, 10, 28)  # the period crosses into November (year-end adjustment season)
DAYS = 21
TOKYO = ZoneInfo("Asia/Tokyo")

_NAMES = (
    ("田中 宏", "Hiroshi Tanaka"), ("鈴木 陽子", "Yoko Suzuki"), ("佐藤 健太", "Kenta Sato"),
    ("高橋 美咲", "Misaki Takahashi"), ("伊藤 誠", "Makoto Ito"), ("渡辺 直美", "Naomi Watanabe"),
    ("山本 大輔", "Daisuke Yamamoto"), ("中村 智子", "Tomoko Nakamura"), ("小林 直樹", "Naoki Kobayashi"),
    ("加藤 由美", "Yumi Kato"), ("吉田 拓也", "Takuya Yoshida"), ("", "Emily Clark"),
    ("山田 隆", "Takashi Yamada"), ("松本 恵子", "Keiko Matsumoto"),
)  # fmt: skip
_DEPTS = ("人事課", "会計課", "情報政策課", "国際課")


def hand_org(kind: str = "hybrid") -> Org:
    net = Network("203.0.113.7", "JP", 2516, "KDDI CORPORATION", "office", "Tokyo")
    cli = Client("outlook", "Microsoft Office/16.0", "Client=MSExchangeRPC", "Mobile Apps", "", "", "mapi")
    users = []
    for i, (ja, en) in enumerate(_NAMES):
        local = en.lower().replace(" ", ".")
        users.append(
            User(
                upn=f"{local}@example.go.jp",
                login=local,
                name_ja=ja,
                name_en=en,
                department=_DEPTS[i % len(_DEPTS)],
                role=("manager", "staff", "staff", "admin")[i % 4],
                home=net,
                home_pool=("203.0.113.0/24",),
                mobile=None,
                mobile_pool=(),
                clients=(cli,),
                mobile_poll_minutes=None,
                imap_user=False,
                vpn_user=False,
                traveller=i % 3 == 0,
                # the last one joins during the period: no history
                start=START + timedelta(days=10) if i == len(_NAMES) - 1 else date(2019, 4, 1),
                work_hours=(9, 18),
            )
        )
    partners = (
        Partner(
            "株式会社サンプル商事",
            "sample-shoji.example.co.jp",
            "JP",
            "ja",
            ("taro.yamada@sample-shoji.example.co.jp",),
        ),
        Partner("みらい技研", "mirai-giken.example.jp", "JP", "ja"),
        Partner("Acme Consulting", "acme.example.com", "US", "en", ("john.smith@acme.example.com",)),
        Partner("Northwind Ltd", "northwind.example.co.uk", "GB", "en"),
    )
    return Org(
        kind=kind,
        name="デジタル推進庁",
        domain="example.go.jp",
        tenant_id="00000000-0000-4000-8000-000000000001",
        timezone="Asia/Tokyo",
        users=tuple(users),
        office=(net,),
        office_after_change=(net,),
        isp_change_day=None,
        partners=partners,
        hosts=(MailHost("imap1", "10.0.0.143", "mailstore"),),
    )


def _build(out: Path, seed: int = 11, kind: str = "hybrid") -> Corpus:
    return build_corpus(hand_org(kind), START, DAYS, seed, out, density=8.0, history_days=200, history_density=1.5)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Corpus, Path]:
    out = tmp_path_factory.mktemp("corpus")
    return _build(out), out


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.mbox"))}


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _text_of(msg: EmailMessage) -> str:
    """Decoded text of every leaf part (body and attachments), as a scoping tool would read it."""
    out = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        content = part.get_content()
        out.append(content if isinstance(content, str) else content.decode("utf-8"))
    return "\n".join(out)


def test_same_seed_same_bytes(built: tuple[Corpus, Path], tmp_path: Path) -> None:
    _, out = built
    again = tmp_path / "again"
    _build(again)
    first, second = _tree_digest(out), _tree_digest(again)
    assert first and first == second
    other = _build(tmp_path / "other", seed=12)
    assert _tree_digest(other.out_dir) != first


def test_files_agree_with_index(built: tuple[Corpus, Path]) -> None:
    corpus, out = built
    end = datetime.combine(START + timedelta(days=DAYS), datetime.min.time(), TOKYO)
    total = 0
    for upn in corpus.mailboxes():
        box = corpus.mailbox(upn)
        user_dir = out / mailbox_dir(upn)
        on_disk = {
            folder_from_path(PurePosixPath(p.relative_to(user_dir).as_posix())) for p in user_dir.rglob("*.mbox")
        }
        assert on_disk == set(box.folders())
        for folder in box.folders():
            refs = box.messages_in(folder, end)
            path = corpus.mailbox_file(upn, folder)
            mb = mailbox.mbox(path, create=False)
            try:
                stored = [mb.get_bytes(k) for k in mb.iterkeys()]
            finally:
                mb.close()
            assert len(stored) == len(refs), (upn, folder)
            assert list(iter_mbox(path)) == stored
            for ref, raw in zip(refs, stored, strict=True):
                msg = _parse(raw)
                assert msg["Message-ID"] == ref.message_id
                assert re.fullmatch(r"<[^<>@\s]+@[a-z0-9.-]+\.[a-z]+>", ref.message_id, re.IGNORECASE)
                assert ref.size == len(raw) and ref.folder == folder
                assert box.message(ref.message_id) == ref
            total += len(refs)
    assert total == sum(len(corpus.mailbox(u)) for u in corpus.mailboxes())
    assert corpus.message_count() > 1000


def test_message_ids_unique_and_shared_across_mailboxes(built: tuple[Corpus, Path]) -> None:
    corpus, _ = built
    ids = corpus._ids
    assert len(set(ids)) == len(ids)
    # a mail between colleagues is one message in the sender's Sent Items and the recipient's mailbox
    shared = 0
    for upn in corpus.mailboxes()[:5]:
        box = corpus.mailbox(upn)
        for ref in box.arrivals(START + timedelta(days=1)) + box.arrivals(START + timedelta(days=2)):
            info = box.info(ref.message_id)
            if info.direction == "out":
                for rcpt in info.to:
                    if rcpt in corpus.mailboxes():
                        other = corpus.mailbox(rcpt).message(ref.message_id)
                        assert other.message_id == ref.message_id and other.size == ref.size
                        assert other.folder != "Sent Items"
                        shared += 1
    assert shared > 0


def test_headers_match_index(built: tuple[Corpus, Path]) -> None:
    corpus, _ = built
    upn = corpus.mailboxes()[0]
    box = corpus.mailbox(upn)
    mb = mailbox.mbox(corpus.mailbox_file(upn, "Inbox"), create=False)
    try:
        for key in list(mb.keys())[:60]:
            msg = _parse(mb.get_bytes(key))
            info = box.info(str(msg["Message-ID"]))
            assert str(msg["Subject"]) == info.subject
            assert msg["Date"].datetime.astimezone(UTC) == info.time
            assert msg["From"].addresses[0].addr_spec == info.sender
            assert [a.addr_spec for a in msg["To"].addresses] == list(info.to)
            assert info.direction == "in"
    finally:
        mb.close()


def test_messages_in_respects_time(built: tuple[Corpus, Path]) -> None:
    corpus, _ = built
    upn = corpus.mailboxes()[1]
    box = corpus.mailbox(upn)
    checked = 0
    for hours in range(0, DAYS * 24, 17):
        at = datetime.combine(START, datetime.min.time(), TOKYO) + timedelta(hours=hours)
        for folder in box.folders():
            refs = box.messages_in(folder, at)
            later = box.messages_in(folder, at + timedelta(hours=17))
            assert [r.message_id for r in later[: len(refs)]] == [r.message_id for r in refs]
            for ref in refs:
                assert box.arrival(ref.message_id) <= at
            for ref in later[len(refs) :]:
                assert box.arrival(ref.message_id) > at
            checked += len(later) - len(refs)
    assert checked > 0
    assert box.messages_in("No such folder", datetime.now(UTC)) == []


def test_history_is_archived_and_old_folders_exist(built: tuple[Corpus, Path]) -> None:
    corpus, _ = built
    upn = corpus.mailboxes()[0]
    box = corpus.mailbox(upn)
    archives = [f for f in box.folders() if f.startswith("Archive/")]
    assert archives
    at_start = datetime.combine(START, datetime.min.time(), TOKYO)
    for folder in archives:
        year = int(folder.split("/")[1])
        refs = box.messages_in(folder, at_start)
        assert refs
        assert all(box.arrival(r.message_id).astimezone(TOKYO).year == year for r in refs)


def test_arrivals_partition_the_mailbox_by_local_day(built: tuple[Corpus, Path]) -> None:
    corpus, _ = built
    upn = corpus.mailboxes()[2]
    box = corpus.mailbox(upn)
    first = START - timedelta(days=200)
    seen = []
    d = first
    while d < START + timedelta(days=DAYS + 1):
        for ref in box.arrivals(d):
            assert box.arrival(ref.message_id).astimezone(TOKYO).date() == d
            seen.append(ref.message_id)
        d += timedelta(days=1)
    assert len(seen) == len(box) == len(set(seen))
    sent = [r for r in box.arrivals(START) if r.folder == "Sent Items"]
    assert all(box.info(r.message_id).direction == "out" for r in sent)


def test_new_staff_have_no_history(built: tuple[Corpus, Path]) -> None:
    corpus, _ = built
    joiner = "keiko.matsumoto@example.go.jp"  # the last of _NAMES
    box = corpus.mailbox(joiner)
    joined = datetime.combine(START + timedelta(days=10), datetime.min.time(), TOKYO)
    for folder in box.folders():
        assert box.messages_in(folder, joined - timedelta(seconds=1)) == []
    assert corpus.correspondents(joiner)  # the people they work with, even before writing
    assert corpus.mailbox("takashi.yamada@example.go.jp").folders()[:3] == ["Inbox", "Sent Items", "Deleted Items"]


def test_correspondents_are_addresses_written_to(built: tuple[Corpus, Path]) -> None:
    corpus, _ = built
    upn = corpus.mailboxes()[0]
    people = corpus.correspondents(upn)
    assert people and upn not in people
    assert any(p.endswith("@example.go.jp") for p in people)
    assert all("@" in p for p in people)


_MYNUM = re.compile(r"(?<![\d])(?<![\d][ -])(\d{4})[ -]?(\d{4})[ -]?(\d{4})(?![ -]?\d)")
_CARD = re.compile(r"(?<![\d])(?<![\d] )(\d{4} ?\d{6} ?\d{5}|\d{4} ?\d{4} ?\d{4} ?\d{4})(?! ?\d)")
_PASSPORT = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2}\d{7}|[A-Z]\d{8})(?![A-Za-z0-9])")


def test_pii_truth_matches_a_search_of_the_text(built: tuple[Corpus, Path]) -> None:
    corpus, _ = built
    seen: dict[str, int] = dict.fromkeys(pii.CATEGORIES, 0)
    checked_ids: set[str] = set()
    for upn in corpus.mailboxes():
        for folder in corpus.mailbox(upn).folders():
            mb = mailbox.mbox(corpus.mailbox_file(upn, folder), create=False)
            try:
                raws = [mb.get_bytes(k) for k in mb.iterkeys()]
            finally:
                mb.close()
            for raw in raws:
                msg = _parse(raw)
                mid = str(msg["Message-ID"])
                if mid in checked_ids:
                    continue
                checked_ids.add(mid)
                text = _text_of(msg)
                truth = corpus.pii_truth(mid)
                assert set(truth) == set(pii.CATEGORIES)
                mynums = {"".join(m) for m in _MYNUM.findall(text) if pii.is_valid_my_number("".join(m))}
                cards = {m.replace(" ", "") for m in _CARD.findall(text) if pii.luhn_valid(m)}
                passports = set(_PASSPORT.findall(text))
                assert truth["my_number"] == len(mynums), mid
                assert truth["payment_card"] == len(cards), mid
                assert truth["passport"] == len(passports), mid
                # every planted value is in the decoded text as the log says
                values = corpus.pii_values(mid)
                for cat in pii.CATEGORIES:
                    assert truth[cat] == sum(1 for c, _ in values if c == cat)
                for cat, value in values:
                    if cat in ("my_number", "payment_card"):
                        assert value in re.sub(r"(?<=\d)[ -](?=\d)", "", text)
                    elif cat == "bank_account":
                        assert value.split()[-1] in text
                    else:
                        assert value in text, (cat, value)
                for cat, n in truth.items():
                    seen[cat] += n > 0
    # realistic rates: names and addresses nearly everywhere, sensitive identifiers in a minority
    n = len(checked_ids)
    assert seen["person_name"] > 0.6 * n and seen["email"] > 0.5 * n and seen["phone"] > 0.5 * n
    assert 0.1 * n < seen["postal_address"] < 0.8 * n  # office addresses in many signatures
    for cat in ("my_number", "passport", "bank_account", "payment_card", "date_of_birth"):
        assert 0 < seen[cat] < 0.3 * n, (cat, seen[cat], n)


def test_japanese_subjects_and_attachment_names_round_trip(built: tuple[Corpus, Path]) -> None:
    corpus, _ = built
    found_ja_subject = found_ja_file = found_2022 = False
    for upn in corpus.mailboxes()[:6]:
        for folder in corpus.mailbox(upn).folders():
            for raw in iter_mbox(corpus.mailbox_file(upn, folder)):
                assert raw.isascii()  # 7-bit clean: every non-ASCII byte is MIME-encoded
                msg = _parse(raw)
                subject = str(msg["Subject"])
                found_ja_subject |= not subject.isascii()
                for part in msg.iter_attachments():
                    name = part.get_filename()
                    assert name
                    found_ja_file |= not name.isascii()
                    assert part.get_content_type() in ("text/csv", "text/plain")
                found_2022 |= "iso-2022-jp" in (msg.get_content_charset() or "") or b"iso-2022-jp" in raw
    assert found_ja_subject and found_ja_file and found_2022


def test_folder_paths() -> None:
    assert folder_path("Inbox") == PurePosixPath("Inbox.mbox")
    assert folder_path("Archive/2023") == PurePosixPath("Archive/2023.mbox")
    # 予算 = U+4E88 U+7B97 -> UTF-16BE 4E 88 7B 97 -> base64 "Toh7lw==" -> "&Toh7lw-"
    assert folder_path("予算") == PurePosixPath("&Toh7lw-.mbox")
    for name in ("予算", "案件/2024", "Sent Items", "R&D", "Projects/International", "人事/給与 2024"):
        assert folder_from_path(folder_path(name)) == name
        assert all(part.isascii() for part in folder_path(name).parts)
    for bad in ("..", "a/../b", "", "x//y", ".hidden"):
        with pytest.raises(ValueError):
            folder_path(bad)
    assert mailbox_dir("Hiroshi.Tanaka@example.go.jp") == "hiroshi.tanaka"
    with pytest.raises(ValueError):
        mailbox_dir("../etc@example.go.jp")


def test_onprem_message_ids_use_the_mail_host(tmp_path: Path) -> None:
    corpus = build_corpus(hand_org("onprem"), START, 3, 1, tmp_path, history_days=0)
    upn = corpus.mailboxes()[0]
    sent = corpus.mailbox(upn).messages_in("Sent Items", datetime(2030, 1, 1, tzinfo=UTC))
    assert sent
    assert all(r.message_id.endswith("@imap1.example.go.jp>") for r in sent)


def test_pii_truth_file_lists_every_message_with_its_planted_values(tmp_path: Path) -> None:
    import gzip

    import orjson

    truth = tmp_path / "pii_truth.jsonl.gz"
    corpus = build_corpus(hand_org("hybrid"), START, 3, 4, tmp_path / "mb", history_days=20, pii_truth=truth)
    lines = [orjson.loads(line) for line in gzip.decompress(truth.read_bytes()).splitlines()]
    assert len(lines) == corpus.message_count()
    for row in lines[:200]:
        assert row["lang"] in ("ja", "en")
        assert row["pii"] == corpus.pii_truth(row["message_id"])
        assert [tuple(v) for v in row["values"]] == corpus.pii_values(row["message_id"])
    # no time stamp in the gzip header: the same seed gives the same bytes
    again = tmp_path / "again.jsonl.gz"
    build_corpus(hand_org("hybrid"), START, 3, 4, tmp_path / "mb2", history_days=20, pii_truth=again)
    assert again.read_bytes() == truth.read_bytes()
