"""Pattern detectors: e-mail, phone, postal address, My Number, passport, bank account,
payment card, date of birth, health terms.

Each detector is ``(text, ctx) -> list[Finding]``.  They prefer evidence that holds in real
mail over the shape of any one generator's output: a number's check digit, an issuer
prefix, the label written before a value ("生年月日", "Passport No."), the header of the
table column it sits in.  Numbers that have the right shape but a label saying they are
something else (受付番号, Invoice No., Order #) are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher

from dwelltime.scope.pii_base import HY, SP, Context, D, Finding, clean, digits, nfkc

Detector = Callable[[str, Context], list[Finding]]

# Labels that say a number is an identifier of something other than a person.
_OTHER_NUMBER = re.compile(
    r"(請求|受付|注文|管理|伝票|問い?合わ?せ|問合せ|文書|会員|顧客|契約|整理|申込|予約|お客様|社員|職員|口座|証券|"
    r"案件|見積|発注|納品|領収書?|登録|製造|シリアル|商品|品|型)(番号|no|ｎｏ|#|コード|id)|"
    r"invoice|order|ref\b|reference|tracking|ticket|serial|account|customer|member|booking|reservation|"
    r"confirmation|case|claim|policy|po\b|inv-|#\s*$|no\.?\s*$|id\s*[:：]?\s*$"
)


def _other_label(prefix: str) -> bool:
    return _OTHER_NUMBER.search(prefix[-24:]) is not None


# --- e-mail -----------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)


def find_emails(text: str, ctx: Context) -> list[Finding]:
    return [Finding("email", m.group().lower(), m.start(), m.end()) for m in _EMAIL.finditer(text)]


# --- phone numbers ----------------------------------------------------------------------

# Cheap pre-filter: runs that could be a phone number; PhoneNumberMatcher then judges each
# (running it over whole messages costs several ms per KB).
_PHONE_CANDIDATE = re.compile(rf"(?:[+＋]{SP}?)?[(（]?{D}(?:[0-9０-９()（）. \u3000]|{HY}){{6,22}}{D}")
_PHONE_LABEL = re.compile(
    r"(tel|電話(?!会議)|でんわ|携帯|fax|ファックス|ファクス|phone|mobile|cell|直通|代表|連絡先|contact|☎|📞|内線|call|reach)"
)


_ID_LABEL = re.compile(r"(?:\bid|\bpin|passcode|パスコード|暗証番号)\s*[:：]?\s*$")
_DATE_LIKE = re.compile(r"(?:19|20)[0-9]{2}[./\-][0-9]{1,2}[./\-][0-9]{1,2}")
_NANP = re.compile(r"(?:1[ .\-])?\(?[2-9][0-9]{2}\)?[ .\-]?[2-9][0-9]{2}[ .\-][0-9]{4}")


def find_phones(text: str, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    ja_script = re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text) is not None
    for cand in _PHONE_CANDIDATE.finditer(text):
        base = cand.start()
        if base > 0 and (text[base - 1].isalnum() and text[base - 1].isascii()):
            continue  # inside a word or a longer code (INV-2024-...)
        for m in PhoneNumberMatcher(cand.group(), "JP", leniency=Leniency.POSSIBLE):
            start, end = base + m.start, base + m.end
            raw = m.raw_string
            n_digits = len(digits(raw))
            if n_digits < 9 or n_digits > 15:
                continue
            plus = raw.lstrip()[:1] in "+＋"
            separated = re.search(rf"{HY}|{SP}|[()（）.]", raw) is not None
            if _DATE_LIKE.match(raw.strip()):
                continue
            domestic = digits(raw)[:1] == "0"
            prefix = ctx.prefix(start, 30)
            label = _PHONE_LABEL.search(prefix) is not None or (
                (lab := ctx.column_label(start)) is not None and _PHONE_LABEL.search(lab) is not None
            )
            if not plus and not domestic and not label and not _NANP.fullmatch(raw.strip()):
                # written nationally, a number starts with its trunk prefix 0 (Japan, UK, ...);
                # a spreadsheet's phone column may have lost it, and the label says so
                continue
            number = m.number
            valid = phonenumbers.is_valid_number(number)
            if domestic and not plus and not ja_script and not re.search(HY, raw):
                # "07700 900456" in English mail: spaced the British way, not hyphenated the
                # Japanese way; read it as a UK number when it is one
                gb = phonenumbers.parse(raw, "GB")
                if phonenumbers.is_valid_number(gb) or (not valid and phonenumbers.is_possible_number(gb)):
                    number, valid = gb, phonenumbers.is_valid_number(gb)
            if not plus and not domestic and _NANP.fullmatch(raw.strip()):
                # "(415) 555-0132", "1-800-555-0199": a North American number written nationally
                # (a Japanese one written nationally starts with 0)
                us = phonenumbers.parse(raw, "US")
                if phonenumbers.is_valid_number(us):
                    number, valid = us, True
            if _other_label(prefix) and (not label or _ID_LABEL.search(prefix)):
                continue  # "電話会議 ID: 123 456 789": the nearest label wins
            if not (label or (separated and (valid or plus))):
                continue
            if not valid and not plus and not label:
                continue
            value = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            out.append(Finding("phone", value, start, end))
    return out


# --- My Number, payment cards -------------------------------------------------------------

_MY_NUMBER = re.compile(
    rf"(?<![0-9０-９])(?<![0-9０-９][ \-－])({D}{{4}})([ \-－]?)({D}{{4}})\2({D}{{4}})(?![ \-－]?[0-9０-９])"
)
_MY_NUMBER_WORD = re.compile(r"個人番号|マイナンバー|my ?number|individual number|番号法")


def my_number_check_digit(first11: str) -> int:
    """The check digit of an Individual Number (個人番号) from its first 11 digits.

    With P(n) the n-th of the 11 digits counted from the right and Q(n) = n + 1 for n <= 6,
    n - 5 for n >= 7: r = sum(P(n) * Q(n)) mod 11, and the check digit is 0 if r <= 1,
    else 11 - r (the rule of the ordinance implementing the My Number Act).
    """
    total = sum(int(ch) * (n + 1 if n <= 6 else n - 5) for n, ch in enumerate(reversed(first11), start=1))
    r = total % 11
    return 0 if r <= 1 else 11 - r


def valid_my_number(number: str) -> bool:
    return len(number) == 12 and number.isdigit() and my_number_check_digit(number[:11]) == int(number[11])


def _labelled(ctx: Context, pos: int, word: re.Pattern[str]) -> bool:
    if word.search(ctx.prefix(pos, 60)):
        return True
    label = ctx.column_label(pos)
    return label is not None and word.search(label) is not None


def find_my_numbers(text: str, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for m in _MY_NUMBER.finditer(text):
        number = digits(m.group())
        if not valid_my_number(number):
            continue
        if not _labelled(ctx, m.start(), _MY_NUMBER_WORD) and _other_label(ctx.prefix(m.start())):
            continue
        out.append(Finding("my_number", number, m.start(), m.end()))
    return out


_CARD = re.compile(rf"(?<![0-9０-９*＊•xX])(?<![0-9０-９][ \-－])({D}(?:[ \-－]?{D}){{12,18}})(?![ \-－]?[0-9０-９])")
_CARD_WORD = re.compile(r"カード|card|visa|master|amex|american express|jcb|diners|クレジット|credit|決済|支払")


def luhn_valid(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_issuer(number: str) -> str | None:
    """The card scheme a number's prefix (IIN) and length belong to, or None."""
    n = len(number)
    p2, p3, p4, p6 = int(number[:2]), int(number[:3]), int(number[:4]), int(number[:6])
    if number[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 222100 <= p6 <= 272099) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= p3 <= 305 or p2 in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if (p4 == 6011 or p2 == 65 or 644 <= p3 <= 649) and 16 <= n <= 19:
        return "discover"
    if p2 == 62 and 16 <= n <= 19:
        return "unionpay"
    return None


def find_cards(text: str, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for m in _CARD.finditer(text):
        raw = m.group()
        seps = {ch for ch in raw if not ch.isdigit()}
        if len(seps) > 1:
            continue
        number = digits(raw)
        if not luhn_valid(number) or card_issuer(number) is None:
            continue
        if not _labelled(ctx, m.start(), _CARD_WORD) and _other_label(ctx.prefix(m.start())):
            continue
        out.append(Finding("payment_card", number, m.start(), m.end()))
    return out


# --- passports ----------------------------------------------------------------------------

# ASCII or full-width (forms filled in Japanese often write ＴＫ１２３４５６７)
_PASSPORT = re.compile(
    rf"(?<![A-Za-z0-9Ａ-Ｚａ-ｚ０-９])([A-ZＡ-Ｚ]{{2}}{D}{{7}}|[A-ZＡ-Ｚ]{D}{{8}}|[A-ZＡ-Ｚ]{{1,2}}{D}{{6,7}}|{D}{{9}})"
    r"(?![A-Za-z0-9Ａ-Ｚａ-ｚ０-９])"
)
_PASSPORT_WORD = re.compile(r"passport|パスポート|旅券")


def find_passports(text: str, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    if not _PASSPORT_WORD.search(text.lower()):
        return out
    for m in _PASSPORT.finditer(text):
        pos = m.start()
        near = ctx.prefix(pos, 50)
        ok = _PASSPORT_WORD.search(near) is not None
        if not ok:
            label = ctx.column_label(pos)
            ok = label is not None and _PASSPORT_WORD.search(label) is not None
        if not ok and not near.strip():
            ok = _PASSPORT_WORD.search(nfkc(ctx.previous_line(pos)).lower()[-40:]) is not None
        if not ok:
            continue
        value = nfkc(m.group())
        if value.isdigit() and "passport" not in near[-20:] and "旅券" not in near and "パスポート" not in near:
            continue
        out.append(Finding("passport", value, m.start(), m.end()))
    return out


# --- bank accounts ------------------------------------------------------------------------

_NAME_CH = r"[A-Za-z0-9一-龥々ァ-ヶー・&＆Ａ-Ｚａ-ｚ]"
_BANK = (
    rf"(?:みずほ|ゆうちょ|りそな|あおぞら|きらぼし|じぶん|ソニー|ＰａｙＰａｙ|PayPay|{_NAME_CH})"
    r"{1,16}?(?:銀行|信用金庫|信用組合|労働金庫|信金|信組|農業協同組合|農協)"
)
_BRANCH = rf"(?:{_NAME_CH}|[ぁ-ん]){{1,14}}?(?:支店|営業部|出張所|支所|本店)|本店|[〇一二三四五六七八九]{{3}}店"
_KIND = r"普通預金|当座預金|貯蓄預金|普通|当座|貯蓄|総合|Ordinary|Savings|Current|Checking"
_BANK_FULL = re.compile(
    rf"(?P<bank>{_BANK}){SP}*(?P<branch>{_BRANCH})"
    rf"(?:{SP}*[（(](?:店番|支店番号|支店コード|店番号|branch(?: no\.?| code)?)?{SP}*[:：]?{SP}*{D}{{3}}[）)])?"
    rf"[ \u3000\t,、，/]*(?:\n[ \u3000\t]*)?(?:口座{SP}*)?(?P<kind>{_KIND})(?:預金|口座|{SP}*account)?"
    rf"[ \u3000\t:：,、]*(?:口座番号|No\.?|番号|number)?[ \u3000\t:：]*(?P<num>{D}{{7}})(?![0-9０-９])",
    re.IGNORECASE,
)
_ACCOUNT_LABEL = re.compile(
    rf"(?:口座番号|口座No\.?|account (?:no\.?|number)|a/c(?: no\.?)?){SP}*[:：]?{SP}*(?P<num>{D}{{7}})(?![0-9０-９])",
    re.IGNORECASE,
)
_BANK_FIELD = re.compile(
    rf"(?:銀行名|金融機関名?|bank(?: name)?){SP}*[:：]{SP}*(?P<v>{_BANK}|[^\n,]{{1,30}})", re.IGNORECASE
)
_BRANCH_FIELD = re.compile(
    rf"(?:支店名?|branch(?: name)?){SP}*[:：]{SP}*(?P<v>{_BRANCH}|[^\n,（(]{{1,30}})", re.IGNORECASE
)
_KIND_FIELD = re.compile(
    rf"(?:預金種目|預金種別|口座種別|口座種目|種別|種目|account type){SP}*[:：]{SP}*(?P<v>{_KIND})", re.IGNORECASE
)
_KIND_CSV = re.compile(rf"^(?:{_KIND})(?:預金|口座)?$", re.IGNORECASE)


def _kind(text: str) -> str:
    t = nfkc(text).lower()
    if t.startswith(("当座", "current", "checking")):
        return "当座"
    if t.startswith("貯蓄"):
        return "貯蓄"
    return "普通"


def _account(bank: str | None, branch: str | None, kind: str | None, number: str) -> str:
    """Canonical "bank branch type number": the form forms and letters use, parts that are known."""
    parts = [clean(p) for p in (bank, branch) if p]
    parts.append(_kind(kind) if kind else "普通")
    parts.append(digits(number))
    return " ".join(parts)


_BANK_HINTS = ("銀行", "信用", "金庫", "信金", "信組", "農", "口座", "bank", "account", "a/c")


def find_bank_accounts(text: str, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    low = text.lower()
    if not any(h in low for h in _BANK_HINTS):
        return out
    taken: list[tuple[int, int]] = []
    for m in _BANK_FULL.finditer(text):
        value = _account(m.group("bank"), m.group("branch"), m.group("kind"), m.group("num"))
        out.append(Finding("bank_account", value, m.start(), m.end()))
        taken.append((m.start(), m.end()))
    # forms: "口座番号：1234567" with the bank, branch and type on nearby lines
    for m in _ACCOUNT_LABEL.finditer(text):
        if any(s <= m.start("num") < e for s, e in taken):
            continue
        lo = text.rfind("\n", 0, max(0, m.start() - 200))
        window = text[lo + 1 : m.end() + 120]
        bank = _first(_BANK_FIELD, window)
        branch = _first(_BRANCH_FIELD, window)
        kind = _first(_KIND_FIELD, window)
        value = _account(bank, branch, kind, m.group("num"))
        out.append(Finding("bank_account", value, m.start("num"), m.end("num")))
        taken.append((m.start("num"), m.end("num")))
    # tables: a 7-digit cell under an account-number column, bank and branch in the same row
    if "," in text or "\t" in text:
        for m in re.finditer(rf"(?<![0-9０-９]){D}{{7}}(?![0-9０-９])", text):
            if any(s <= m.start() < e for s, e in taken):
                continue
            label = ctx.column_label(m.start())
            if label is None or not re.search(r"口座番号|account", label):
                continue
            row = ctx.row_cells(m.start())
            bank = next((v for lab, v in row if re.search(r"銀行|金融機関|bank", lab) and "支店" not in lab), None)
            branch = next((v for lab, v in row if re.search(r"支店|branch", lab)), None)
            kind = next((v for lab, v in row if re.search(r"種別|種目|type", lab) and _KIND_CSV.match(v.strip())), None)
            out.append(Finding("bank_account", _account(bank, branch, kind, m.group()), m.start(), m.end()))
    return out


def _first(rx: re.Pattern[str], window: str) -> str | None:
    m = rx.search(window)
    return m.group("v").strip() if m else None


# --- dates of birth -----------------------------------------------------------------------

_MONTHS = {
    name: i
    for i, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MON = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ERAS = {
    "明治": 1867,
    "大正": 1911,
    "昭和": 1925,
    "平成": 1988,
    "令和": 2018,
    "m": 1867,
    "t": 1911,
    "s": 1925,
    "h": 1988,
    "r": 2018,
}
_DATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "era",
        re.compile(
            rf"(?P<era>明治|大正|昭和|平成|令和){SP}*(?P<y>元|{D}{{1,2}}){SP}*年{SP}*(?P<m>{D}{{1,2}}){SP}*月{SP}*(?P<d>{D}{{1,2}}){SP}*日"
        ),
    ),
    (
        "era",
        re.compile(
            rf"(?<![A-Za-z])(?P<era>[MTSHRmtshr])\.?{SP}?(?P<y>{D}{{1,2}})[./\-](?P<m>{D}{{1,2}})[./\-](?P<d>{D}{{1,2}})(?![0-9０-９])"
        ),
    ),
    (
        "ymd",
        re.compile(
            rf"(?<![0-9０-９])(?P<y>(?:19|20|１９|２０){D}{{2}}){SP}*年{SP}*(?P<m>{D}{{1,2}}){SP}*月{SP}*(?P<d>{D}{{1,2}}){SP}*日"
        ),
    ),
    (
        "ymd",
        re.compile(
            rf"(?<![0-9０-９])(?P<y>(?:19|20|１９|２０){D}{{2}})(?P<s>[/.\-－／]){SP}?(?P<m>{D}{{1,2}})(?P=s){SP}?(?P<d>{D}{{1,2}})(?![0-9０-９])"
        ),
    ),
    (
        "xy",
        re.compile(
            rf"(?<![0-9０-９])(?P<a>{D}{{1,2}})(?P<s>[/.\-])(?P<b>{D}{{1,2}})(?P=s)(?P<y>(?:19|20){D}{{2}})(?![0-9０-９])"
        ),
    ),
    (
        "dmy",
        re.compile(
            rf"(?<![0-9A-Za-z])(?P<d>\d{{1,2}})(?:st|nd|rd|th)?{SP}+(?:of{SP}+)?(?P<mon>{_MON})\.?,?{SP}+(?P<y>(?:19|20)\d\d)(?![0-9])",
            re.IGNORECASE,
        ),
    ),
    (
        "mdy",
        re.compile(
            rf"(?<![A-Za-z])(?P<mon>{_MON})\.?{SP}+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?{SP}+(?P<y>(?:19|20)\d\d)(?![0-9])",
            re.IGNORECASE,
        ),
    ),
)
_DOB_WORD = re.compile(r"生年月日|誕生日|生誕|出生|birth|dob\b|d\.o\.b|born|b\.\s*$")
_DOB_AFTER = re.compile(rf"{SP}*[（(]?{SP}*(?:生まれ|生れ|生(?![産活徒命涯成地])|born)")
_RELATION = re.compile(
    r"(配偶者|妻|夫|長男|長女|次男|次女|三男|三女|四男|四女|子供?|父|母|祖父|祖母|兄|弟|姉|妹|扶養|被扶養者|本人|"
    r"spouse|wife|husband|son|daughter|child|dependa[nt]t)\s*[:：]"
)
_NOT_DOB = re.compile(
    r"日時|開催|期限|期日|締切|送信|sent|date\s*:|予定|発行|作成|受付|更新|有効|expir|issue|due|meeting|会議"
)


def _to_date(kind: str, m: re.Match[str]) -> date | None:
    g = m.groupdict()
    try:
        if kind == "era":
            y = 1 if g["y"] == "元" else int(nfkc(g["y"]))
            year = _ERAS[nfkc(g["era"]).lower()] + y
            return date(year, int(nfkc(g["m"])), int(nfkc(g["d"])))
        if kind == "ymd":
            return date(int(nfkc(g["y"])), int(nfkc(g["m"])), int(nfkc(g["d"])))
        if kind == "xy":
            a, b, year = int(nfkc(g["a"])), int(nfkc(g["b"])), int(nfkc(g["y"]))
            # 04/03/1980: day first, as most of the world (and Japan's foreign partners in
            # Europe, Asia and Oceania) writes it; month first (US) only when the day-first
            # reading is impossible (03/15/1979); an ambiguous date is read day first.
            day_first = a > 12 or b <= 12
            return date(year, b, a) if day_first else date(year, a, b)
        month = _MONTHS[g["mon"].lower()]
        return date(int(g["y"]), month, int(g["d"]))
    except (ValueError, KeyError):
        return None


_DOB_HINTS = ("生", "誕", "birth", "dob", "d.o.b", "born")


def find_dates_of_birth(text: str, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    low = text.lower()
    if not any(h in low for h in _DOB_HINTS) and _RELATION.search(low) is None:
        return out  # every rule below needs one of these
    seen = bytearray(len(text))  # characters already part of a date (the patterns overlap)
    today = date.today()
    for kind, rx in _DATE_PATTERNS:
        for m in rx.finditer(text):
            if any(seen[m.start() : m.end()]):
                continue
            born = _to_date(kind, m)
            if born is None or not (1900 <= born.year <= today.year) or born > today:
                continue
            prefix = ctx.prefix(m.start(), 40)
            label = ctx.column_label(m.start())
            dob = (
                _DOB_WORD.search(prefix) is not None
                or _DOB_AFTER.match(text, m.end()) is not None
                or (label is not None and _DOB_WORD.search(label) is not None)
                or _RELATION.search(prefix) is not None
            )
            if not dob:
                continue
            if _NOT_DOB.search(prefix[-12:]) and not _DOB_WORD.search(prefix[-16:]):
                continue
            seen[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
            out.append(Finding("date_of_birth", born.isoformat(), m.start(), m.end()))
    return out


# --- postal addresses ---------------------------------------------------------------------

_PREF = (
    r"(?:北海道|東京都|京都府|大阪府|(?:青森|岩手|宮城|秋田|山形|福島|茨城|栃木|群馬|埼玉|千葉|神奈川|新潟|富山|石川|福井|山梨|"
    r"長野|岐阜|静岡|愛知|三重|滋賀|兵庫|奈良|和歌山|鳥取|島根|岡山|広島|山口|徳島|香川|愛媛|高知|福岡|佐賀|長崎|熊本|大分|"
    r"宮崎|鹿児島|沖縄)県)"
)
# Tokyo's 23 wards and the designated cities: addresses often start there, without the prefecture.
_CITY = (
    r"(?:(?:千代田|中央|港|新宿|文京|台東|墨田|江東|品川|目黒|大田|世田谷|渋谷|中野|杉並|豊島|北|荒川|板橋|練馬|足立|葛飾|"
    r"江戸川)区|(?:札幌|仙台|さいたま|千葉|横浜|川崎|相模原|新潟|静岡|浜松|名古屋|京都|大阪|堺|神戸|岡山|広島|北九州|福岡|"
    r"熊本)市)"
)
_JBLOCK = rf"{D}{{1,4}}(?:丁目|番地|番|号|{HY}|ー)(?:{D}{{1,4}}(?:番地|番|号|{HY}|ー)?){{0,3}}"
_LOCALITY = (
    rf"[^\s,，、。()（）\t〒:：]{{1,30}}?{_JBLOCK}"
    r"(?:(?!付近|周辺|辺り)[^\s,，、。\t\u3040-\u309f()（）「」\[\]])*"
)
_BUILDING = (
    r"(?:ビル|階|号室|タワー|マンション|ハイツ|コーポ|荘|館|棟|レジデンス|アパート|センター|プラザ|"
    r"ハウス|ヒルズ|Ｆ|[0-9]F\b|#)"
)
# Without a postcode, an address must name its municipality (市区町村郡) before the block
# number: "東京都の2-3月" is a prefecture and a date range, not an address.
_MUNICIPAL = r"[^\s,，、。()（）\t〒:：\u3040-\u309f]{0,12}?[市区町村郡]"
_JP_TAIL = rf"(?:{SP}+[^\s,，、。\t]*{_BUILDING}[^\s,，、。\t]*)?"
_JP_ADDRESS = re.compile(
    rf"〒{SP}*{D}{{3}}{HY}{D}{{4}}[ \u3000\t]*\n?[ \u3000\t]*(?:{_PREF}{SP}*)?{_LOCALITY}{_JP_TAIL}"
    rf"|(?:(?<![0-9０-９]){D}{{3}}{HY}{D}{{4}}{SP}+)?{_PREF}{SP}*{_MUNICIPAL}{_LOCALITY}{_JP_TAIL}"
    rf"|(?<![\u4e00-\u9fff]){_CITY}{_LOCALITY}{_JP_TAIL}"
)
_ADDRESS_WORD = re.compile(r"(?:住所|所在地|送付先|お届け先|address|mail to)\s*[:：]\s*$")
_ADDRESS_STOP = re.compile(r"[\t,，、]|\s(?:tel|電話|fax|e-?mail|携帯|mobile|phone)", re.IGNORECASE)
_ADDRESS_LABEL = re.compile(
    rf"(?:住所|現住所|所在地|送付先|お届け先|address|mail to){SP}*[:：]{SP}*(?P<a>[^\n\t]{{4,80}})", re.IGNORECASE
)
_STREET_KIND = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Drive|Dr|Lane|Ln|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Terrace|Parkway|Pkwy|"
    r"Highway|Hwy|Square|Sq|Crescent|Close|Row|Circle|Gardens|Hill|Walk|Mews|Grove|Green|Rise|Vale|View|Park|"
    r"Quay|Wharf|Yard|Parade|Broadway|Embankment|Approach|Plaza|Trail|Alley|Pike)"
)
_UK_POST = r"[A-Z]{1,2}[0-9][A-Z0-9]?\s?[0-9][A-Z]{2}"
_EN_ADDRESS = re.compile(
    rf"(?<![A-Za-z0-9])[0-9]{{1,5}}[A-Za-z]?(?:[ ][A-Z][A-Za-z.'\-]*){{1,4}}[ ]{_STREET_KIND}\.?"
    r"(?:[ ](?:N|S|E|W|NE|NW|SE|SW)\b)?"
    rf"(?:,?[ ](?:Suite|Ste\.?|Apt\.?|Apartment|Unit|Floor|Fl\.?|\#)[ ]?[A-Za-z0-9\-]+)?"
    rf"(?:,[ ]?|\n[ \t]*|[ ])(?:[A-Z][A-Za-z.'\-]*(?:[ ][A-Z][A-Za-z.'\-]*){{0,2}})"
    rf"(?:,?[ ](?:[A-Z]{{2}}[ ][0-9]{{5}}(?:-[0-9]{{4}})?|{_UK_POST})|,[ ]?{_UK_POST}|[ ][0-9]{{4,6}})"
    r"(?:,?[ ](?:USA|U\.S\.A\.|United States|UK|United Kingdom|Australia|Canada|Singapore|Germany|France))?"
    r"(?![A-Za-z0-9])"
)


# A Japanese address written in English, as Japanese organisations sign English mail:
# "1-2-3 Kasumigaseki, Chiyoda-ku, Tokyo 100-8901, Japan"
_JP_ADDRESS_EN = re.compile(
    r"(?<![\w\-])[0-9]{1,4}(?:-[0-9]{1,4}){1,3},?[ ][A-Z][A-Za-z\-]+(?:[ ][A-Z0-9][A-Za-z0-9\-]+){0,2},[ ]"
    r"(?:[A-Z][A-Za-z\-]*(?:-ku|-shi|-cho|-machi|-gun|[ ]City|[ ]Ward|[ ]Ku)\b,?[ ]){0,2}"
    r"[A-Z][A-Za-z\-]*(?:[ ]Prefecture)?,?[ ][0-9]{3}-[0-9]{4}(?:,?[ ]Japan)?(?![0-9])"
)


def find_addresses(text: str, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for rx in (_JP_ADDRESS, _EN_ADDRESS, _JP_ADDRESS_EN):
        for m in rx.finditer(text):
            end = m.end()
            if _ADDRESS_WORD.search(ctx.prefix(m.start(), 20)):
                # after "住所：" the rest of the value is the address (building names included)
                _, line_end = ctx.line_bounds(m.start())
                stop = _ADDRESS_STOP.search(text, end, line_end)
                end = max(end, len(text[: stop.start() if stop else line_end].rstrip()))
            out.append(Finding("postal_address", clean(text[m.start() : end]), m.start(), end))
    # "住所：千代田区永田町1-2-3" without prefecture or postcode: the label says what it is
    for m in _ADDRESS_LABEL.finditer(text):
        start = m.start("a")
        if any(f.start <= start < f.end for f in out):
            continue
        value = m.group("a").rstrip()
        if re.search(rf"{D}", value) and (re.search(_JBLOCK, value) or re.search(_STREET_KIND, value)):
            out.append(Finding("postal_address", clean(value), start, start + len(value)))
    return out


# --- health terms -------------------------------------------------------------------------

# canonical term -> pattern; canonical terms are what count as distinct.
_HEALTH_TERMS: dict[str, str] = {
    "病名": r"病名",
    # not セキュリティ診断, 脆弱性診断, 経営診断 ... (assessments, common in business mail)
    "診断": r"(?<!セキュリティ)(?<!脆弱性)(?<!経営)(?<!システム)(?<!ネットワーク)(?<!自己)"
    r"(?<!簡易)(?<!無料)(?<!省エネ)(?<!耐震)診断(?:書|名|結果)?(?!士)",
    "通院": r"通院",
    "入院": r"入院",
    "退院": r"退院",
    "手術": r"手術",
    "治療": r"治療",
    "服薬": r"服薬|服用",
    "処方": r"処方(?:箋|せん|薬)?",
    "既往歴": r"既往歴|既往症",
    "持病": r"持病",
    "うつ病": r"うつ病|鬱病|抑うつ",
    "適応障害": r"適応障害",
    "精神疾患": r"精神疾患|精神科|心療内科",
    "糖尿病": r"糖尿病",
    "高血圧": r"高血圧",
    "がん": r"癌|(?:肺|胃|乳|大腸|肝|膵|前立腺|子宮)がん|がん(?:検診|治療|患者)",
    "妊娠": r"妊娠|妊婦|出産予定",
    "障害者手帳": r"障害者手帳|身体障害|障害等級|療育手帳",
    "療養": r"療養|病気休暇|病休|傷病",
    "感染症": r"感染症|陽性(?:反応|判定)|コロナに感染",
    "アレルギー": r"アレルギー",
    "diagnosis": r"(?<!fault )(?<!system )(?<!network )\bdiagnos(?:is|ed|es)\b",
    "medication": r"\bmedications?\b|\bprescriptions?\b|\bprescribed\b",
    "hospital admission": r"\bhospitali[sz](?:ed|ation)\b|\badmitted to hospital\b|\bin hospital\b",
    # lower case only: a British GP's practice is a "Surgery" ("Riverside Surgery")
    "surgery": r"(?-i:\bsurgery\b|\bsurgical\b)|\boperation on (?:his|her|my)\b",
    "medical condition": r"\bmedical (?:condition|history|certificate|leave|records?)\b"
    r"|\bchronic (?:illness|condition|pain)\b",
    "sick leave": r"\bsick leave\b|\bon sick\b",
    "depression": r"\bdepression\b|\banxiety disorder\b|\bmental health\b",
    "diabetes": r"\bdiabet(?:es|ic)\b",
    "cancer": r"\bcancer\b|\bchemotherapy\b|\boncolog",
    "pregnancy": r"\bpregnan(?:t|cy)\b|\bmaternity leave\b",
    "disability": r"\bdisabilit(?:y|ies)\b",
    "allergy": r"\ballerg(?:y|ies|ic)\b",
    "hiv": r"\bHIV\b",
}
_HEALTH = re.compile("|".join(f"(?P<h{i}>{p})" for i, p in enumerate(_HEALTH_TERMS.values())), re.IGNORECASE)
_HEALTH_NAMES = list(_HEALTH_TERMS)


# Substrings one of which every health pattern contains: a quick test before the big regex.
_HEALTH_HINTS = (
    "病", "診断", "院", "手術", "治療", "服", "処方", "既往", "うつ", "鬱", "障害", "糖尿", "血圧", "癌", "がん",
    "妊", "出産", "手帳", "療", "傷", "感染", "陽性", "アレルギー", "diagnos", "medica", "prescri", "hospital",
    "surg", "operation on", "chronic", "sick", "depress", "anxiety", "mental", "diabet", "cancer", "chemo", "oncolog",
    "pregnan", "maternity", "disabilit", "allerg", "hiv",
)  # fmt: skip


def find_health(text: str, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    low = text.lower()
    if not any(h in low for h in _HEALTH_HINTS):
        return out
    for m in _HEALTH.finditer(text):
        assert m.lastgroup is not None
        term = _HEALTH_NAMES[int(m.lastgroup[1:])]
        out.append(Finding("health", term, m.start(), m.end()))
    return out
