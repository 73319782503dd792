"""Personal-data detection against the simulator's planted truth: precision and recall per
category and language, and the time per message.

    python bench/pii.py [--users 60] [--days 14] [--seed 5] [--dir DIR] [--limit N]

Simulates a small organisation with ``dwelltime simulate`` (unless ``--dir`` holds one
already), reads every message once from the mbox files, extracts the text of its body and
attachments (never the headers), runs ``count_pii``/``find_pii`` and compares the
(message, category, value) triples with ``pii_truth.jsonl.gz``.  Prints a table; writes
``bench/results/pii.json``.

Text extraction: by default the scope indexer's own, ``dwelltime.scope.content.message_text``
on each message of ``mailbox.mbox`` (compat32 messages), so the figures are those of the real
pipeline.  ``--extractor bench`` uses an independent route instead: ``mailbox.mbox`` with a
factory ``email.message_from_binary_file(f, policy=email.policy.default)``; for each leaf part
of ``msg.walk()``, text parts and text attachments by ``part.get_content()`` (the email
package decodes the transfer encoding and the charset, ISO-2022-JP and Shift_JIS included);
``text/html`` through ``BeautifulSoup(html, "html.parser").get_text("\\n")``, skipped when
the message has a ``text/plain`` body.

Truth values are put in the detector's canonical forms here with independent code
(phonenumbers for E.164, a parser of the simulator's date forms), so that "the same value"
means the same on both sides.  The simulator plants no health terms: health is reported as
the number of values found (all of them false positives on this corpus).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import gzip
import json
import mailbox
import re
import subprocess
import sys
import time
import unicodedata
from collections import defaultdict
from datetime import date
from email.message import EmailMessage, Message
from pathlib import Path

import phonenumbers
from bs4 import BeautifulSoup

from dwelltime.scope.contract import PII_CATEGORIES
from dwelltime.scope.pii import find_pii
from dwelltime.scope.pii_names import ner_persons

ROOT = Path(__file__).resolve().parent
TARGET = 0.9


def message_text(msg: Message) -> str:
    """Body and attachment text of a message, as the scope indexer extracts it."""
    texts: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if not ctype.startswith("text/"):
            continue
        if ctype == "text/html":
            parent_has_plain = any(
                p.get_content_type() == "text/plain"
                for p in msg.walk()
                if not p.is_multipart() and p.get_content_disposition() != "attachment"
            )
            if parent_has_plain and part.get_content_disposition() != "attachment":
                continue
        try:
            content = part.get_content()  # type: ignore[attr-defined]
        except (LookupError, UnicodeDecodeError):
            payload = part.get_payload(decode=True)
            content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        if not isinstance(content, str):
            continue
        content = content.lstrip("\ufeff")
        if ctype == "text/html":
            content = BeautifulSoup(content, "html.parser").get_text("\n")
        texts.append(content)
    return "\n\n".join(texts)


def _factory(fh: object) -> EmailMessage:
    return email.message_from_binary_file(fh, policy=email.policy.default)  # type: ignore[arg-type,return-value]


def read_messages(mailboxes: Path, extractor: str = "scope") -> dict[str, str]:
    out: dict[str, str] = {}
    if extractor == "scope":
        from dwelltime.scope.content import message_text as scope_text

        for path in sorted(mailboxes.rglob("*.mbox")):
            for msg in mailbox.mbox(path, create=False):
                mid = str(msg.get("Message-ID", "")).strip()
                if mid and mid not in out:
                    out[mid] = scope_text(msg).text
        return out
    for path in sorted(mailboxes.rglob("*.mbox")):
        for msg in mailbox.mbox(path, factory=_factory, create=False):
            mid = str(msg.get("Message-ID", "")).strip()
            if mid and mid not in out:
                out[mid] = message_text(msg)
    return out


_MONTH_NAMES = "january february march april may june july august september october november december"
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES.split(" "), start=1)}
_ERA = {"令和": 2018, "平成": 1988, "昭和": 1925}


def truth_dob(value: str) -> str:
    """The simulator's date-of-birth forms (pii.format_dob) -> ISO 8601."""
    if m := re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", value):
        y, mo, d = map(int, m.groups())
    elif m := re.fullmatch(r"(令和|平成|昭和)(元|\d+)年(\d{1,2})月(\d{1,2})日", value):
        y = _ERA[m.group(1)] + (1 if m.group(2) == "元" else int(m.group(2)))
        mo, d = int(m.group(3)), int(m.group(4))
    elif m := re.fullmatch(r"(\d{4})[/-](\d{2})[/-](\d{2})", value):
        y, mo, d = map(int, m.groups())
    elif m := re.fullmatch(r"(\d{1,2}) ([A-Za-z]+) (\d{4})", value):
        d, mo, y = int(m.group(1)), _MONTHS[m.group(2).lower()], int(m.group(3))
    elif m := re.fullmatch(r"([A-Za-z]+) (\d{1,2}), (\d{4})", value):
        mo, d, y = _MONTHS[m.group(1).lower()], int(m.group(2)), int(m.group(3))
    else:
        raise ValueError(f"unknown date form {value!r}")
    return date(y, mo, d).isoformat()


def canonical_truth(category: str, value: str) -> str:
    if category == "phone":
        return phonenumbers.format_number(phonenumbers.parse(value, "JP"), phonenumbers.PhoneNumberFormat.E164)
    if category == "date_of_birth":
        return truth_dob(value)
    if category in ("my_number", "payment_card"):
        return re.sub(r"\D", "", value)
    if category == "email":
        return value.lower()
    return " ".join(unicodedata.normalize("NFKC", value).split())


def load_truth(path: Path) -> dict[str, tuple[str, set[tuple[str, str]]]]:
    out: dict[str, tuple[str, set[tuple[str, str]]]] = {}
    for line in gzip.decompress(path.read_bytes()).splitlines():
        row = json.loads(line)
        values = {(cat, canonical_truth(cat, v)) for cat, v in row["values"]}
        out[row["message_id"]] = (row["lang"], values)
    return out


def score(
    messages: dict[str, str], truth: dict[str, tuple[str, set[tuple[str, str]]]], examples: int = 3
) -> tuple[dict[str, dict[str, dict[str, float]]], float, list[dict[str, str]]]:
    tp: dict[tuple[str, str], int] = defaultdict(int)
    fp: dict[tuple[str, str], int] = defaultdict(int)
    fn: dict[tuple[str, str], int] = defaultdict(int)
    misses: list[dict[str, str]] = []
    shown: dict[tuple[str, str, str], int] = defaultdict(int)
    ner_persons("田中 宏 様")  # load the model before the clock starts
    elapsed = 0.0
    for mid, text in messages.items():
        if mid not in truth:
            continue
        lang, want = truth[mid]
        t0 = time.perf_counter()
        found = find_pii(text)
        elapsed += time.perf_counter() - t0
        got = {(f.category, f.value) for f in found}
        for cat in PII_CATEGORIES:
            w = {v for c, v in want if c == cat}
            g = {v for c, v in got if c == cat}
            for key in (lang, "all"):
                tp[(key, cat)] += len(w & g)
                fp[(key, cat)] += len(g - w)
                fn[(key, cat)] += len(w - g)
            for kind, vals in (("missed", w - g), ("spurious", g - w)):
                for v in sorted(vals):
                    k = (lang, cat, kind)
                    if shown[k] < examples:
                        shown[k] += 1
                        misses.append({"lang": lang, "category": cat, "kind": kind, "value": v, "message_id": mid})
    table: dict[str, dict[str, dict[str, float]]] = {}
    for key in ("ja", "en", "all"):
        table[key] = {}
        for cat in PII_CATEGORIES:
            t, p, n = tp[(key, cat)], fp[(key, cat)], fn[(key, cat)]
            table[key][cat] = {
                "truth": t + n,
                "found": t + p,
                "tp": t,
                "precision": round(t / (t + p), 4) if t + p else 1.0,
                "recall": round(t / (t + n), 4) if t + n else 1.0,
            }
    return table, elapsed, misses


HANDWRITTEN = ROOT.parent / "tests" / "scope" / "data" / "pii_handwritten.json"


def score_handwritten(path: Path = HANDWRITTEN) -> dict[str, dict[str, float]]:
    """P/R per category on the hand-written mail of the tests (the only truth with health terms).

    These messages were written to look like real mail, not like the simulator's; sets 2-4
    were scored once before any fix they prompted (see the report), so this is not held out.
    """
    docs = json.loads(path.read_text(encoding="utf-8"))
    tp: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    for doc in docs:
        got = {(f.category, f.value) for f in find_pii(doc["text"])}
        want = {(c, v) for c, v in doc["expect"]}
        for cat in PII_CATEGORIES:
            g = {v for c, v in got if c == cat}
            w = {v for c, v in want if c == cat}
            tp[cat] += len(g & w)
            fp[cat] += len(g - w)
            fn[cat] += len(w - g)
    return {
        cat: {
            "truth": tp[cat] + fn[cat],
            "precision": round(tp[cat] / (tp[cat] + fp[cat]), 4) if tp[cat] + fp[cat] else 1.0,
            "recall": round(tp[cat] / (tp[cat] + fn[cat]), 4) if tp[cat] + fn[cat] else 1.0,
        }
        for cat in PII_CATEGORIES
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=60)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--dir", type=Path, default=None, help="an existing simulation, or where to write one")
    ap.add_argument("--limit", type=int, default=0, help="score only the first N messages")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "pii.json")
    ap.add_argument("--extractor", choices=("scope", "bench"), default="scope", help="text extraction (see above)")
    args = ap.parse_args()
    sim = args.dir or Path(f"/tmp/dwelltime-bench-pii-{args.users}-{args.days}-{args.seed}")
    if not (sim / "pii_truth.jsonl.gz").exists():
        exe = Path(sys.executable).with_name("dwelltime")
        cmd = [str(exe), "simulate", "--org", "hybrid", "--users", str(args.users), "--days", str(args.days)]
        cmd += ["--seed", str(args.seed), "--scenarios", "apt-cloud", "--out", str(sim)]
        subprocess.run(cmd, check=True, capture_output=True)
    t0 = time.perf_counter()
    messages = read_messages(sim / "mailboxes", args.extractor)
    read_s = time.perf_counter() - t0
    if args.limit:
        messages = dict(list(messages.items())[: args.limit])
    truth = load_truth(sim / "pii_truth.jsonl.gz")
    t1 = time.perf_counter()
    table, elapsed, misses = score(messages, truth)
    total_s = time.perf_counter() - t1
    n = sum(1 for m in messages if m in truth)
    langs = {lang: sum(1 for m in messages if m in truth and truth[m][0] == lang) for lang in ("ja", "en")}
    print(f"{n} messages ({langs['ja']} ja, {langs['en']} en); read+extract {read_s:.1f} s")
    print(f"find_pii: {elapsed:.2f} s, {elapsed / max(n, 1) * 1000:.2f} ms/message (model load excluded)")
    print(f"{'category':<16}" + "".join(f"{k + ' P':>9}{k + ' R':>8}{'n':>7}" for k in ("ja", "en")))
    ok = True
    for cat in PII_CATEGORIES:
        row = f"{cat:<16}"
        for key in ("ja", "en"):
            c = table[key][cat]
            row += f"{c['precision']:>9.3f}{c['recall']:>8.3f}{int(c['truth']):>7}"
            if cat != "health" and c["truth"] and (c["precision"] < TARGET or c["recall"] < TARGET):
                ok = False
        print(row)
    h = table["all"]["health"]
    print(f"health: no truth planted by the simulator; {int(h['found'])} values found (false positives)")
    hand = score_handwritten() if HANDWRITTEN.exists() else {}
    if hand:
        print("hand-written mail (tests/scope/data/pii_handwritten.json):")
        for cat, c in hand.items():
            print(f"  {cat:<16}P {c['precision']:.3f}  R {c['recall']:.3f}  n {int(c['truth'])}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "simulation": {"org": "hybrid", "users": args.users, "days": args.days, "seed": args.seed},
        "extractor": args.extractor,
        "messages": n,
        "messages_by_language": langs,
        "find_pii_seconds": round(elapsed, 3),
        "ms_per_message": round(elapsed / max(n, 1) * 1000, 3),
        "score_seconds": round(total_s, 3),
        "target": TARGET,
        "meets_target": ok,
        "by_language": table,
        "handwritten": hand,
        "examples": misses,
    }
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(
        f"wrote {args.out}; target P,R >= {TARGET} for every planted category and language: "
        + ("met" if ok else "NOT met")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
