"""Personal data generators for the mailbox corpus (Japanese and English formats).

The mailbox corpus plants personal data in message bodies and attachments so that breach
scoping (issue 6) can be measured against known truth.  The values must look like the
real thing to a detector (a My Number with the right check digit, a card number that
passes Luhn, a Japanese passport number's two letters and seven digits, a 〒 postal
code) without belonging to anyone:

- names are drawn from common-name tables, so any one of them is shared by many people;
- card numbers use well-known *test* issuer prefixes (the ones payment processors publish
  for testing) with random digits and a Luhn check digit;
- phone numbers in the US and UK use the ranges those regulators reserve for fiction
  (555-01xx, 020 7946 0xxx); Japanese numbers are random within real area codes;
- e-mail addresses outside the simulated organisation and its partners use reserved
  example domains (example.com, example.jp, ...).

Every generator takes a ``random.Random`` so the corpus stays deterministic.

:class:`PiiLog` records what a message plants.  The counting rule (what scoping is measured
against): per category, the number of *distinct values* written into the message's text
parts and attachments (headers are not counted).  Values are recorded as written, except
``my_number`` and ``payment_card`` (digits only, whatever separators the text uses) and
``bank_account`` (canonical "bank branch type number", because forms and CSV files spread
the parts over separate fields; the 7-digit number itself always appears literally).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

CATEGORIES: tuple[str, ...] = (
    "person_name",
    "email",
    "phone",
    "postal_address",
    "my_number",
    "passport",
    "bank_account",
    "payment_card",
    "date_of_birth",
)
"""The personal-data categories of the exposure contract (DESIGN.md), in a fixed order."""

CATEGORY_INDEX: dict[str, int] = {name: i for i, name in enumerate(CATEGORIES)}


class PiiLog:
    """The personal data one message plants: category -> set of distinct values.

    Generators call :meth:`add` with the value they are about to write and write what it
    returns, so the log cannot drift from the text.
    """

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: dict[str, set[str]] = {}

    def add(self, category: str, value: str, canonical: str | None = None) -> str:
        """Record ``canonical`` (default: ``value``) under ``category``; return ``value`` to write."""
        if category not in CATEGORY_INDEX:
            raise ValueError(f"unknown personal-data category {category!r}")
        self.values.setdefault(category, set()).add(value if canonical is None else canonical)
        return value

    def counts(self) -> tuple[int, ...]:
        """Distinct values per category, in :data:`CATEGORIES` order."""
        return tuple(len(self.values.get(name, ())) for name in CATEGORIES)

    def items(self) -> list[tuple[str, str]]:
        """(category, value) pairs, sorted, for truth files and tests."""
        return sorted((cat, v) for cat, vals in self.values.items() for v in vals)


# --- check digits ---------------------------------------------------------------------


def my_number_check_digit(first11: str) -> int:
    """Check digit of a Japanese Individual Number (個人番号) from its first 11 digits.

    The official rule: with P(n) the n-th digit counting from the right of the 11 digits
    (n = 1..11) and Q(n) = n + 1 for n <= 6, n - 5 for n >= 7, let r = sum(P(n) Q(n)) mod 11;
    the check digit is 0 when r <= 1, else 11 - r.
    """
    if len(first11) != 11 or not first11.isdigit():
        raise ValueError("need exactly 11 digits")
    total = 0
    for n, ch in enumerate(reversed(first11), start=1):
        q = n + 1 if n <= 6 else n - 5
        total += int(ch) * q
    r = total % 11
    return 0 if r <= 1 else 11 - r


def is_valid_my_number(text: str) -> bool:
    """True for 12 digits whose last digit is the check digit of the first 11."""
    digits = text.replace(" ", "").replace("-", "")
    return len(digits) == 12 and digits.isdigit() and my_number_check_digit(digits[:11]) == int(digits[11])


def luhn_check_digit(partial: str) -> int:
    """The digit that makes ``partial + digit`` pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # these get doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def luhn_valid(number: str) -> bool:
    digits = number.replace(" ", "").replace("-", "")
    if not digits.isdigit() or len(digits) < 2:
        return False
    return luhn_check_digit(digits[:-1]) == int(digits[-1])


# --- name tables (common names, so no value identifies a real person) ------------------

# (kanji, katakana, romaji)
JA_FAMILY: tuple[tuple[str, str, str], ...] = (
    ("佐藤", "サトウ", "Sato"), ("鈴木", "スズキ", "Suzuki"), ("高橋", "タカハシ", "Takahashi"),
    ("田中", "タナカ", "Tanaka"), ("伊藤", "イトウ", "Ito"), ("渡辺", "ワタナベ", "Watanabe"),
    ("山本", "ヤマモト", "Yamamoto"), ("中村", "ナカムラ", "Nakamura"), ("小林", "コバヤシ", "Kobayashi"),
    ("加藤", "カトウ", "Kato"), ("吉田", "ヨシダ", "Yoshida"), ("山田", "ヤマダ", "Yamada"),
    ("佐々木", "ササキ", "Sasaki"), ("山口", "ヤマグチ", "Yamaguchi"), ("松本", "マツモト", "Matsumoto"),
    ("井上", "イノウエ", "Inoue"), ("木村", "キムラ", "Kimura"), ("林", "ハヤシ", "Hayashi"),
    ("斎藤", "サイトウ", "Saito"), ("清水", "シミズ", "Shimizu"), ("山崎", "ヤマザキ", "Yamazaki"),
    ("森", "モリ", "Mori"), ("池田", "イケダ", "Ikeda"), ("橋本", "ハシモト", "Hashimoto"),
    ("阿部", "アベ", "Abe"), ("石川", "イシカワ", "Ishikawa"), ("山下", "ヤマシタ", "Yamashita"),
    ("中島", "ナカジマ", "Nakajima"), ("石井", "イシイ", "Ishii"), ("小川", "オガワ", "Ogawa"),
    ("前田", "マエダ", "Maeda"), ("岡田", "オカダ", "Okada"), ("長谷川", "ハセガワ", "Hasegawa"),
    ("藤田", "フジタ", "Fujita"), ("後藤", "ゴトウ", "Goto"), ("近藤", "コンドウ", "Kondo"),
    ("村上", "ムラカミ", "Murakami"), ("遠藤", "エンドウ", "Endo"), ("青木", "アオキ", "Aoki"),
    ("坂本", "サカモト", "Sakamoto"), ("福田", "フクダ", "Fukuda"), ("太田", "オオタ", "Ota"),
    ("西村", "ニシムラ", "Nishimura"), ("藤井", "フジイ", "Fujii"), ("金子", "カネコ", "Kaneko"),
    ("岡本", "オカモト", "Okamoto"), ("藤原", "フジワラ", "Fujiwara"), ("中野", "ナカノ", "Nakano"),
    ("三浦", "ミウラ", "Miura"), ("原田", "ハラダ", "Harada"), ("中川", "ナカガワ", "Nakagawa"),
    ("松田", "マツダ", "Matsuda"), ("竹内", "タケウチ", "Takeuchi"), ("小野", "オノ", "Ono"),
    ("田村", "タムラ", "Tamura"), ("中山", "ナカヤマ", "Nakayama"), ("和田", "ワダ", "Wada"),
    ("石田", "イシダ", "Ishida"), ("上田", "ウエダ", "Ueda"), ("森田", "モリタ", "Morita"),
)  # fmt: skip
JA_GIVEN: tuple[tuple[str, str, str], ...] = (
    ("宏", "ヒロシ", "Hiroshi"), ("健太", "ケンタ", "Kenta"), ("翔太", "ショウタ", "Shota"),
    ("大輔", "ダイスケ", "Daisuke"), ("誠", "マコト", "Makoto"), ("直樹", "ナオキ", "Naoki"),
    ("拓也", "タクヤ", "Takuya"), ("和也", "カズヤ", "Kazuya"), ("隆", "タカシ", "Takashi"),
    ("浩二", "コウジ", "Koji"), ("健一", "ケンイチ", "Kenichi"), ("達也", "タツヤ", "Tatsuya"),
    ("雄一", "ユウイチ", "Yuichi"), ("亮", "リョウ", "Ryo"), ("剛", "ツヨシ", "Tsuyoshi"),
    ("聡", "サトシ", "Satoshi"), ("修", "オサム", "Osamu"), ("大樹", "ダイキ", "Daiki"),
    ("悠斗", "ユウト", "Yuto"), ("蓮", "レン", "Ren"), ("陽介", "ヨウスケ", "Yosuke"),
    ("一郎", "イチロウ", "Ichiro"), ("秀樹", "ヒデキ", "Hideki"), ("正人", "マサト", "Masato"),
    ("陽子", "ヨウコ", "Yoko"), ("恵子", "ケイコ", "Keiko"), ("美咲", "ミサキ", "Misaki"),
    ("由美", "ユミ", "Yumi"), ("直美", "ナオミ", "Naomi"), ("智子", "トモコ", "Tomoko"),
    ("裕子", "ユウコ", "Yuko"), ("真由美", "マユミ", "Mayumi"), ("愛", "アイ", "Ai"),
    ("彩", "アヤ", "Aya"), ("麻衣", "マイ", "Mai"), ("久美子", "クミコ", "Kumiko"),
    ("明美", "アケミ", "Akemi"), ("沙織", "サオリ", "Saori"), ("千尋", "チヒロ", "Chihiro"),
    ("結衣", "ユイ", "Yui"), ("葵", "アオイ", "Aoi"), ("香織", "カオリ", "Kaori"),
    ("紀子", "ノリコ", "Noriko"), ("亜希子", "アキコ", "Akiko"),
)  # fmt: skip
EN_GIVEN: tuple[str, ...] = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
    "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Emily", "Mark", "Emma", "Paul", "Olivia",
    "Steven", "Sophie", "Andrew", "Charlotte", "Peter", "Hannah", "Oliver", "Grace", "George", "Amelia",
)  # fmt: skip
EN_FAMILY: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
    "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
    "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Parker", "Collins",
    "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Bailey", "Reed",
    "Kelly", "Howard", "Ward", "Richardson", "Watson", "Brooks", "Wood", "Hughes", "Foster", "Gray",
)  # fmt: skip

_KANJI_TO_KANA: dict[str, str] = {k: kana for k, kana, _ in JA_FAMILY + JA_GIVEN}

RESERVED_DOMAINS: tuple[str, ...] = ("example.jp", "example.co.jp", "example.ne.jp", "example.com", "example.org")


@dataclass(frozen=True, slots=True)
class PersonName:
    """A person's name in the forms mail uses: kanji (Japanese only), katakana reading, romaji/English."""

    ja: str  # "田中 宏", or "" for a non-Japanese name
    kana: str  # "タナカ ヒロシ", or ""
    en: str  # "Hiroshi Tanaka"
    family_en: str
    given_en: str

    @property
    def passport_form(self) -> str:
        """As printed in a passport's machine-readable zone: FAMILY GIVEN, upper case."""
        return f"{self.family_en.upper()} {self.given_en.upper()}"


def ja_name(rng: random.Random) -> PersonName:
    fam = rng.choice(JA_FAMILY)
    giv = rng.choice(JA_GIVEN)
    return PersonName(f"{fam[0]} {giv[0]}", f"{fam[1]} {giv[1]}", f"{giv[2]} {fam[2]}", fam[2], giv[2])


def en_name(rng: random.Random) -> PersonName:
    giv = rng.choice(EN_GIVEN)
    fam = rng.choice(EN_FAMILY)
    return PersonName("", "", f"{giv} {fam}", fam, giv)


def name_from_parts(name_ja: str, name_en: str) -> PersonName:
    """A PersonName for someone whose names come from elsewhere (the org model)."""
    parts = name_en.split()
    given, family = (parts[0], parts[-1]) if len(parts) >= 2 else (name_en, name_en)
    kana = ""
    ja_parts = name_ja.split()
    if len(ja_parts) == 2 and all(p in _KANJI_TO_KANA for p in ja_parts):
        kana = f"{_KANJI_TO_KANA[ja_parts[0]]} {_KANJI_TO_KANA[ja_parts[1]]}"
    return PersonName(name_ja, kana, name_en, family, given)


def email_for(rng: random.Random, name: PersonName, domain: str) -> str:
    g, f = name.given_en.lower(), name.family_en.lower()
    style = rng.randrange(4)
    local = (f"{g}.{f}", f"{g[0]}.{f}", f"{f}.{g}", f"{f}-{g[0]}")[style]
    return f"{local}@{domain}"


# --- phones ---------------------------------------------------------------------------

_JP_AREA = ("03", "03", "03", "06", "045", "052", "092", "011", "022", "048", "043", "075")


def phone_jp_landline(rng: random.Random, area: str | None = None) -> str:
    area = area or rng.choice(_JP_AREA)
    if len(area) == 2:
        return f"{area}-{rng.randrange(1000, 10000)}-{rng.randrange(10000):04d}"
    return f"{area}-{rng.randrange(100, 1000)}-{rng.randrange(10000):04d}"


def phone_jp_mobile(rng: random.Random, international: bool = False) -> str:
    prefix = rng.choice(("090", "080", "070"))
    a, b = rng.randrange(1000, 10000), rng.randrange(10000)
    if international:
        return f"+81-{prefix[1:]}-{a}-{b:04d}"
    return f"{prefix}-{a}-{b:04d}"


def phone_intl(rng: random.Random, country: str) -> str:
    """A number in the national format of ``country`` (fictional ranges where they exist)."""
    if country == "US":
        return f"+1 {rng.choice(('202', '212', '415', '617', '703'))}-555-01{rng.randrange(100):02d}"
    if country == "GB":
        return f"+44 20 7946 0{rng.randrange(1000):03d}"
    if country == "JP":
        return "+81 " + phone_jp_landline(rng).lstrip("0").replace("-", " ")
    codes = {"SG": "+65", "KR": "+82", "DE": "+49", "FR": "+33", "AU": "+61", "CN": "+86", "TW": "+886"}
    return (
        f"{codes.get(country, '+1')} {rng.randrange(10, 100)} {rng.randrange(1000, 10000)} {rng.randrange(10000):04d}"
    )


# --- postal addresses -----------------------------------------------------------------

_JP_PLACES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("東京都", "千代田区", ("永田町", "霞が関", "丸の内", "大手町", "神田錦町"), "100"),
    ("東京都", "港区", ("虎ノ門", "芝公園", "赤坂", "六本木"), "105"),
    ("東京都", "新宿区", ("西新宿", "四谷", "高田馬場"), "160"),
    ("東京都", "世田谷区", ("三軒茶屋", "太子堂", "用賀"), "154"),
    ("神奈川県", "横浜市中区", ("山下町", "本町", "日本大通"), "231"),
    ("大阪府", "大阪市北区", ("梅田", "中之島", "天満"), "530"),
    ("愛知県", "名古屋市中区", ("栄", "丸の内", "錦"), "460"),
    ("福岡県", "福岡市博多区", ("博多駅前", "祇園町"), "812"),
    ("北海道", "札幌市中央区", ("大通西", "北一条西"), "060"),
    ("埼玉県", "さいたま市浦和区", ("高砂", "常盤"), "330"),
    ("千葉県", "千葉市中央区", ("中央", "富士見"), "260"),
    ("京都府", "京都市中京区", ("烏丸通", "河原町"), "604"),
    ("宮城県", "仙台市青葉区", ("一番町", "本町"), "980"),
)
_JP_BUILDINGS = ("ビル", "タワー", "センタービル", "ハイツ", "マンション", "コーポ")
_US_PLACES = (
    ("Springfield", "IL", "627"), ("Portland", "OR", "972"), ("Austin", "TX", "787"), ("Columbus", "OH", "432"),
    ("Arlington", "VA", "222"), ("Seattle", "WA", "981"), ("Boston", "MA", "021"), ("San Jose", "CA", "951"),
)  # fmt: skip
_STREETS = ("Oak", "Maple", "Cedar", "Elm", "Pine", "Main", "Washington", "Lake", "Hill", "Park", "High", "Church")
_UK_TOWNS = (("London", "SW1"), ("London", "EC2"), ("Manchester", "M1"), ("Leeds", "LS1"), ("Bristol", "BS1"))


def address_jp(rng: random.Random, residential: bool = True) -> str:
    pref, city, towns, zip3 = rng.choice(_JP_PLACES)
    town = rng.choice(towns)
    block = f"{rng.randint(1, 5)}-{rng.randint(1, 20)}-{rng.randint(1, 30)}"
    line = f"〒{zip3}-{rng.randrange(10000):04d} {pref}{city}{town}{block}"
    if residential and rng.random() < 0.5:
        line += f" {rng.choice(JA_FAMILY)[0]}{rng.choice(_JP_BUILDINGS)}{rng.randint(1, 9)}0{rng.randint(1, 9)}号室"
    elif not residential:
        line += f" {rng.choice(JA_FAMILY)[0]}{rng.choice(_JP_BUILDINGS[:3])}{rng.randint(2, 20)}階"
    return line


def address_us(rng: random.Random) -> str:
    city, state, zip3 = rng.choice(_US_PLACES)
    kind = rng.choice(("Street", "Avenue", "Road", "Drive"))
    return f"{rng.randint(10, 9999)} {rng.choice(_STREETS)} {kind}, {city}, {state} {zip3}{rng.randrange(100):02d}"


def address_uk(rng: random.Random) -> str:
    town, area = rng.choice(_UK_TOWNS)
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    post = f"{area}{rng.choice('ABCDEFGHJK')} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
    return f"{rng.randint(1, 250)} {rng.choice(_STREETS)} {rng.choice(('Street', 'Road', 'Lane'))}, {town} {post}"


def address_for(rng: random.Random, country: str, residential: bool = True) -> str:
    if country == "US":
        return address_us(rng)
    if country == "GB":
        return address_uk(rng)
    return address_jp(rng, residential)


# --- identifiers ----------------------------------------------------------------------


def my_number(rng: random.Random) -> str:
    """12 digits (first digit never 0, as issued) with the official check digit."""
    first = str(rng.randint(1, 9)) + f"{rng.randrange(10**10):010d}"
    return first + str(my_number_check_digit(first))


def format_my_number(number: str, style: int) -> str:
    """As people write it: run together, grouped 4-4-4 with spaces, or with hyphens."""
    if style == 0:
        return number
    sep = " " if style == 1 else "-"
    return sep.join((number[:4], number[4:8], number[8:]))


_JP_PASSPORT_PREFIX = ("TK", "TR", "TZ", "MU", "MZ", "TH", "RH", "ME", "TS")


def passport_jp(rng: random.Random) -> str:
    """Japanese passport number: two letters and seven digits."""
    return f"{rng.choice(_JP_PASSPORT_PREFIX)}{rng.randrange(10**7):07d}"


def passport_us(rng: random.Random) -> str:
    """US passport book number in the current format: one letter and eight digits."""
    return f"{rng.choice('ACEFGHJK')}{rng.randrange(10**8):08d}"


_TEST_CARD_PREFIXES = (("411111", 16), ("424242", 16), ("400005", 16), ("555555", 16), ("520082", 16),
                       ("353011", 16), ("378282", 15))  # fmt: skip


def payment_card(rng: random.Random) -> str:
    """A Luhn-valid number in a published test issuer range (never a live card)."""
    prefix, length = rng.choice(_TEST_CARD_PREFIXES)
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    return body + str(luhn_check_digit(body))


def format_card(number: str, spaced: bool) -> str:
    if not spaced:
        return number
    if len(number) == 15:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


@dataclass(frozen=True, slots=True)
class BankAccount:
    bank: str
    branch: str
    branch_no: str
    kind: str  # 普通 or 当座
    number: str  # 7 digits

    @property
    def canonical(self) -> str:
        return f"{self.bank} {self.branch} {self.kind} {self.number}"


_BANKS = ("三菱UFJ銀行", "三井住友銀行", "みずほ銀行", "りそな銀行", "横浜銀行", "千葉銀行", "福岡銀行", "静岡銀行")
_BRANCHES = ("本店", "丸の内支店", "新宿支店", "渋谷支店", "横浜支店", "梅田支店", "霞が関支店", "池袋支店", "上野支店")


def bank_account_jp(rng: random.Random, corporate: bool = False) -> BankAccount:
    kind = "当座" if corporate and rng.random() < 0.4 else "普通"
    return BankAccount(
        rng.choice(_BANKS), rng.choice(_BRANCHES), f"{rng.randrange(1, 1000):03d}", kind, f"{rng.randrange(10**7):07d}"
    )


def date_of_birth(rng: random.Random, today: date) -> date:
    """Someone of working age (22-65) or a dependant (0-20) at ``today``."""
    years = rng.randint(22, 65) if rng.random() < 0.8 else rng.randint(0, 20)
    return today - timedelta(days=years * 365 + rng.randrange(365))


def format_dob(born: date, lang: str, style: int) -> str:
    """Japanese forms (西暦, 和暦) or English forms of a date of birth."""
    if lang == "ja":
        if style == 0:
            return f"{born.year}年{born.month}月{born.day}日"
        if style == 1:
            return wareki(born)
        return f"{born.year}/{born.month:02d}/{born.day:02d}"
    if style == 0:
        return f"{born.day} {born.strftime('%B')} {born.year}"
    if style == 1:
        return born.strftime("%B ") + f"{born.day}, {born.year}"
    return born.isoformat()


def wareki(d: date) -> str:
    """Japanese era date, as HR forms print it (昭和60年4月12日)."""
    if d >= date(2019, 5, 1):
        era, y = "令和", d.year - 2018
    elif d >= date(1989, 1, 8):
        era, y = "平成", d.year - 1988
    else:
        era, y = "昭和", d.year - 1925
    return f"{era}{'元' if y == 1 else y}年{d.month}月{d.day}日"
