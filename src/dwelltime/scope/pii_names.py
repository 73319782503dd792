"""Person names in Japanese and English mail.

How mail writes names: after a label (氏名：, 担当：, From:, Name:), before an honorific or
a title (様, さん, 課長; Mr./Dear before), in a signature block, in the 氏名/Name column of
a list, and as "田中 宏（Hiroshi Tanaka）".  Candidates come from those anchors (cheap
regular expressions); an anchor that is strong on its own (a label, a column, an
honorific) is enough, a weak one (a line that is only a name, "…の田中です") needs the name
to be confirmed: by the surname and given-name tables of :mod:`pii_nametables`, or, for a
Japanese name the tables do not know, by GiNZA's named-entity recogniser ("Person") on
that one line.

GiNZA is loaded once per process, on first need, and its answers are cached per line: the
model costs milliseconds per short line, and the lines it is asked about (signatures,
greetings) repeat across a mailbox.  Nothing is downloaded at run time; if GiNZA is not
installed, Japanese names rest on the tables and the strong anchors alone.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from dwelltime.scope.pii_base import SP, Context, Finding, clean
from dwelltime.scope.pii_nametables import (
    FAMILY_NAMES,
    GIVEN_NAMES,
    JA_SURNAMES_KANJI,
    MAX_SURNAME_LEN,
)


def _words(text: str) -> list[str]:
    return text.split()


_K = "[\u4e00-\u9fff々〆ヵヶ]"
_KATA = "[ァ-ヶー]"
_JA_NAME = rf"{_K}{{1,8}}(?:[ \u3000]{_K}{{1,3}}|[ \u3000][ぁ-ゖ]{{2,4}}(?![ぁ-ゖ]))?"
_KANA_NAME = rf"{_KATA}{{2,10}}(?:[ \u3000・=＝]{_KATA}{{1,10}}){{1,2}}"
_KANA_SPACED = re.compile(rf"{_KATA}{{2,10}}(?:[ \u3000・]{_KATA}{{2,10}}){{1,2}}")
_ANY_JA = rf"(?:{_KANA_NAME}|{_JA_NAME})"
_BEFORE_JA = r"(?<![\u4e00-\u9fff々〆ヵヶァ-ヶー])"

_TITLES = (
    r"課長補佐|部長|課長|係長|室長|局長|次長|主任|主査|主幹|参事官|審議官|社長|副社長|専務|常務|取締役|理事長|理事|所長|"
    r"教授|准教授|博士|弁護士|医師|会長|委員長|委員|座長|議長|補佐|専門官|調査官|参与|顧問|監査役|係員"
)
_HONORIFIC = rf"様|さま|さん|殿|氏|君|くん|先生|{_TITLES}"
_TITLE_END = re.compile(rf"(?:{_TITLES}|様|殿|氏)$")
_JA_HONORIFIC = re.compile(rf"{_BEFORE_JA}(?P<n>{_ANY_JA}){SP}*(?:{_HONORIFIC})(?![\u4e00-\u9fff々])")
# kanji that make 様 part of a word (仕様, 同様, 模様, 皆様 ...), not an honorific
_NOT_BEFORE_SAMA = frozenset("仕同模多異各皆奥王神仏殿有")
_LABELS_JA = (
    r"氏名|名前|お名前|担当者?|名義人?|口座名義|差出人|送信者|申請者|申込者|代表者|責任者|連絡者|受取人|宛先|作成者|"
    r"配偶者|長男|長女|次男|次女|三男|三女|妻|夫|子|父|母|本人|参加者|出席者|フリガナ|ふりがな|カナ|氏名（カナ）|氏名\(カナ\)|"
    r"From|To|Cc|CC"
)
_JA_LABEL = re.compile(
    rf"(?:(?:{_LABELS_JA})(?:[（(][^）)\n]{{1,8}}[）)])?(?:{SP}*[:：]|\t+)|(?:配偶者|長男|長女|次男|次女|三男|三女){SP}+)"
    rf"{SP}*(?P<n>{_ANY_JA})(?![\u4e00-\u9fff々ァ-ヶー])"
)
# "…の田中です", and how one names one's own colleague to outsiders: "弊社の佐藤が伺います"
_JA_INTRO = re.compile(
    rf"(?:の|、|。|^|\n){SP}*(?P<n>{_ANY_JA}){SP}*(?:です|と申します|でございます|が担当|が伺|が参|より|から(?:連絡|ご連絡)|"
    r"が(?:対応|出席|参加|説明|ご説明|回答|ご案内|確認))"
)
# "担当である上野より回答いたします": the verb after it says a person is meant
_JA_ACTOR = re.compile(
    rf"{_BEFORE_JA}(?P<n>{_JA_NAME}){SP}*(?:より|から)(?:ご?回答|ご?連絡|ご?説明|ご?報告|ご?案内|お送り|送付)"
)
_JA_LINE = re.compile(
    r"^[ \u3000\t・●■◆\-]*(?:[0-9０-９]{1,3}[.．)）、]|[①-⑳]|[(（][0-9０-９]{1,3}[)）])?[ \u3000]*"
    r"(?:[\u4e00-\u9fff々ァ-ヶー・]{1,15}(?:部|課|室|局|係|班|長|役|担当|センター|グループ|チーム)[ \u3000]+)?"
    rf"(?P<n>{_ANY_JA})(?:{SP}*[（(](?:[A-Za-z .'\-]+|[^（()）\n]{{1,12}})[）)])?"
    r"(?:[ \u3000\t]{2,}|\t|\u3000|[ \u3000]*$|[ \u3000]*/)",
    re.MULTILINE,
)
_JA_BEFORE_ADDR = re.compile(rf"{_BEFORE_JA}(?P<n>{_ANY_JA}){SP}*<[^>\s]+@")

_CAP = r"(?:Mc[A-Z][a-z]+|O'[A-Z][a-z]+|[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?)"
_EN_NAME = rf"{_CAP}(?:[ ][A-Z]\.)?(?:[ ]{_CAP}){{1,2}}"
_UP_NAME = r"[A-Z]{2,}(?:[ ][A-Z]{2,}){1,2}"
_EN_SALUTE = re.compile(
    r"(?:\b(?:Dear|Hi|Hello|Attn\.?|Attention|Thanks|Thank you|Congratulations)[ ,]+"
    r"(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?[ ])?"
    rf"|\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?[ ])(?P<n>{_EN_NAME}|{_CAP})(?![A-Za-z])"
)
_EN_LABEL = re.compile(
    r"\b(?:Name|Full name|Contact(?: person)?|Traveller|Traveler|Passenger|Guest|Applicant|Employee|"
    r"Account (?:holder|name)|"
    r"Card ?holder|From|To|Cc|CC|Sent by|Prepared by|Signed|Attendee|Participant|Requester|Approver|Author|Speaker|"
    r"Presenter|Chair|Interviewee|Patient|Holder|Beneficiary|Recipient|Delegation|Delegate|Member|Visitor|"
    r"Team members?|Our delegation)s?(?:[ \t]*:|\t)[ \t]*"
    rf"(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?[ ])?(?P<n>{_EN_NAME}|{_UP_NAME})(?![A-Za-z])"
)
# "Hiroshi-san", "Tanaka-sama": Japanese honorifics in English mail
_EN_SAN = re.compile(rf"(?<![A-Za-z])(?P<n>{_EN_NAME}|{_CAP})-(?:san|sama|sensei|kun|chan|shi)\b")
# a name followed by its own data in brackets: "Ngozi Eze (passport A01234567)"
_EN_BEFORE_PII = re.compile(
    rf"(?<![A-Za-z])(?P<n>{_EN_NAME})[ ]?[(（](?=(?i:passport|dob|d\.o\.b|born|age[ ]|tel|phone|mobile|[^()\n]*@))"
)
_EN_MORE_SALUTE = re.compile(rf"(?:,|,? and|[ ]&)[ ]+(?P<n>{_EN_NAME}|{_CAP})(?=[ ]*[,:\n!])")
_EN_MORE = re.compile(rf"(?:,|;|,? and)[ ]+(?P<n>{_EN_NAME})(?![A-Za-z])")
_EN_BEFORE_ADDR = re.compile(rf"(?<![A-Za-z])(?P<n>{_EN_NAME})[ ]*<[^>\s]+@")
# Outlook's "Family, Given <address>" (and "TANAKA, Hiroshi"): reordered to "Given Family"
_EN_LAST_FIRST = re.compile(rf"(?<![A-Za-z])(?P<f>{_CAP}|[A-Z]{{2,}}),[ ](?P<g>{_CAP})[ ]*<[^>\s]+@")
_EN_PAREN = re.compile(rf"[（(](?P<n>{_EN_NAME})[）)]")
_EN_LINE = re.compile(rf"^[ \t・\-*•]*(?P<n>{_EN_NAME}|{_UP_NAME}),?(?=[ \t]*$|[ \t]{{2,}}|\t|,[ ])", re.MULTILINE)
_EN_SIGN_OFF = re.compile(
    r"^[ \t]*(?:thanks|thank you|cheers|best|regards|best regards|kind regards|many thanks|br)[ \t]*[,!.]?[ \t]*\n"
    rf"[ \t]*(?P<n>{_CAP})[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
# endings of English words that sign mail but are not first names ("Management", "Accounting")
_WORDISH = re.compile(r"(?:ment|tion|sion|ing|ity|ness|ship|ance|ence|ics|ers|ists?|ory|ary|ive|al|ry)$")
_EN_ANY = re.compile(rf"(?<![A-Za-z])(?P<n>{_EN_NAME})(?![A-Za-z])")
_CLOSING = re.compile(
    r"^\s*(?:--+|—+|(?:best|kind|warm|warmest|many|with)?\s*(?:regards|wishes|thanks)|sincerely|"
    r"yours (?:sincerely|faithfully|truly)|"
    r"cheers|best|respectfully|thank you|以上.*|敬具)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_PASSPORT_NEAR = re.compile(r"passport|旅券|パスポート", re.IGNORECASE)
_EN_STOP = frozenset(
    _words(
        """
    the this that these those please thank thanks best kind regards dear hello hi team department dept division
    office ministry agency bureau section group services service systems system project projects inc ltd corp
    corporation company co llc plc university institute center centre council committee association foundation
    bank street road avenue lane drive monday tuesday wednesday thursday friday saturday sunday january february
    march april may june july august september october november december japan tokyo osaka conference room meeting
    microsoft teams zoom google sales engineering international affairs operations policy public relations
    information security general human resources finance accounting support customer admin administration all
    staff everyone colleagues sir madam attached regarding re fw fwd subject sent from to cc date note notice
    update status report draft plan schedule budget invoice order payment account card passport name address phone
    email mobile tel fax contact director manager officer head chief president secretary minister senior junior
    assistant lead executive board partner partners client example sample test digital cyber data network platform
    global national federal state city county prefecture north south east west new old great united kingdom states
    america tower building floor suite hall ordinary current savings branch amount due pay total
    tax and or for with of in on at by our your their my its his her we you they it is are was be will can could
    should would may might please see also just only here there what when where which who why how yes no ok okay
    good great happy welcome hope sure quick short brief next last first second third final annual weekly daily
    monthly open closed free safe secure urgent important confidential internal external official personal private
    participants participant list workshop seminar event events session agenda minutes slides briefing renewal
    preparations request consultations reform survey relocation exercise campaign specification research programme
    program platform exchange disaster awareness statistical cyber joint us uk eu jp jst utc am pm dob no ref tbd
    fyi asap world there folks guys everybody valued member members user users friends hiring customers
    """
    )
)


def _en_ok(name: str) -> bool:
    tokens = [t.rstrip(".").lower() for t in name.split()]
    return all(t not in _EN_STOP for t in tokens if len(t) > 1)


def _en_in_tables(name: str) -> bool:
    tokens = [t.lower() for t in name.split() if not t.endswith(".")]
    if len(tokens) < 2:
        return False
    first, last = tokens[0], tokens[-1]
    return (first in GIVEN_NAMES and last in FAMILY_NAMES) or (first in FAMILY_NAMES and last in GIVEN_NAMES)


# Given names that are also everyday English words: not enough on their own to make a name.
_GIVEN_WORDS = frozenset(
    _words(
        """
    will mark grace may bill pat rose ray ed jack frank art sue rob hope faith joy summer dawn april june august
    august jun ken sean max miles chase hunter victoria penny holly ivy iris lily daisy poppy ruby amber crystal
    destiny harmony heather jasmine olive pearl violet hazel autumn skye sky sunny rich young gene guy lance
    austin virginia georgia charlotte florence madison savannah regina adelaide eugene lincoln jackson
    """
    )
)


def _en_known_given(name: str) -> bool:
    """A known given name that is not also a common word, then a capitalised family name."""
    tokens = name.split()
    return len(tokens) >= 2 and tokens[0].lower() in GIVEN_NAMES and tokens[0].lower() not in _GIVEN_WORDS


def _en_half_in_tables(name: str) -> bool:
    tokens = [t.lower() for t in name.split() if not t.endswith(".")]
    return any(t in GIVEN_NAMES or t in FAMILY_NAMES for t in tokens)


# --- Japanese confirmation ----------------------------------------------------------------


def _surname_split(name: str) -> tuple[str, str] | None:
    """(family, given) when ``name`` starts with a known surname and the rest fits a given name."""
    compact = name.replace(" ", "").replace("\u3000", "")
    for n in range(min(MAX_SURNAME_LEN, len(compact)), 0, -1):
        family = compact[:n]
        if family in JA_SURNAMES_KANJI and len(compact) - n <= 3:
            if n == 1 and len(compact) == 1:
                return None  # 森, 林, 原 alone are as often words as names
            return family, compact[n:]
    return None


_ORG_SUFFIX = frozenset("部課室局係班庁省社会所団院校店")


def _trim_run(name: str) -> str | None:
    """The name at the end of a kanji run ("営業部山田太郎" -> "山田太郎"), via the surname table."""
    head, sep, tail = name.partition(" ") if " " in name else name.partition("\u3000")
    if sep and head[-1] in _ORG_SUFFIX and head not in JA_SURNAMES_KANJI:
        return _trim_run(tail)  # "営業部　山田" -> "山田"
    if sep and len(head) <= 4:
        return name
    run = head
    for i in range(len(run)):
        rest = run[i:]
        for n in range(min(MAX_SURNAME_LEN, len(rest)), 1 if i else 0, -1):
            if rest[:n] in JA_SURNAMES_KANJI and (len(rest) - n <= 3 if not sep else len(rest) == n):
                return rest + (sep + tail if sep else "")
    return name if len(run) <= 4 else None


_NLP_LOCK = threading.Lock()
_NLP: list[Any] = []


def _nlp() -> Any | None:
    """GiNZA's pipeline with only what NER needs, loaded once per process (None if absent)."""
    with _NLP_LOCK:
        if not _NLP:
            try:
                import spacy

                _NLP.append(
                    spacy.load(
                        "ja_ginza", exclude=["parser", "morphologizer", "compound_splitter", "bunsetu_recognizer"]
                    )
                )
            except (ImportError, OSError):
                _NLP.append(None)
        return _NLP[0]


@lru_cache(maxsize=65536)
def ner_persons(line: str) -> tuple[tuple[int, int], ...]:
    """Character spans GiNZA tags "Person" in one line (cached: signature lines repeat)."""
    nlp = _nlp()
    if nlp is None or not line.strip():
        return ()
    doc = nlp(line[:400])
    return tuple((e.start_char, e.end_char) for e in doc.ents if e.label_ == "Person")


def _ner_confirms(ctx: Context, start: int, end: int) -> bool:
    line_start, _ = ctx.line_bounds(start)
    line = ctx.line(start)
    a, b = start - line_start, end - line_start
    # the model must see (nearly) the whole candidate as one person, not just a part of it
    return any(min(b, e) - max(a, s) >= 0.8 * (b - a) for s, e in ner_persons(line))


_JA_STOP = frozenset(
    _words(
        """
    以上 各位 皆様 関係者 担当者 利用者 会員 顧客 参加者 申込者 受講者 保護者 事業者 御社
    貴社 弊社 当社 先方 本人 本件 下記 上記 別紙 資料 添付 件名 宛先 日時 場所 議題 内容
    備考 連絡先 住所 電話 氏名 所属 合計 金額 予算 執行 進捗 報告 確認 お客 担当 事務局
    窓口 総務 人事 経理 会計 営業 技術 広報 情報 全職員 職員 社員 代表 取締役 部長 課長
    室長 局長 係長 主任 各位殿 御中 先生方 皆さま 皆さん みなさま 管理者 責任者 作成者
    申請者 提出者 回答者 出席者 欠席者 同行者 配偶者 扶養 長男 長女 次男 次女 新口座
    口座名義 変更希望月 合計額 支払方法 領収書番号 受付番号 個人番号 生年月日
    """
    )
)


# Endings of company and place names that start with a surname (田中工業, 小林製薬, 松本市).
_COMPANY_WORDS = _words(
    """
    工業 商事 産業 建設 製作所 電機 電気 物産 商会 興業 技研 化学 製薬 運輸 不動産 組 工務店 商店 通商 精機 製作 電工
    設計 事務所 法律 特許 会計 税理 病院 医院 歯科 薬局 書店 食品 水産 鉄工 印刷 交通 観光 旅館 ホテル 銀行 証券 保険
    市 区 町 村 県 駅 線 川 山 橋 通り 公園 大学 高校 学園 財団 協会 機構 研究所 株式会社 有限会社
    """
)


def _untitled(name: str) -> str:
    """The name without a title written onto it: "松井座長" -> "松井", "河合 課長" stays as found."""
    cut = _TITLE_END.sub("", name).rstrip(" \u3000")
    return cut if cut else name


_EN_SUFFIX = re.compile(r"-(?:san|sama|sensei|kun|chan|shi)$")


def _ja_plausible(name: str) -> bool:
    compact = name.replace(" ", "").replace("\u3000", "")
    if compact in _JA_STOP or len(compact) < 2 or len(compact) > 10:
        return False
    if compact in JA_SURNAMES_KANJI:
        return True  # 阿部, 岡部: surnames that end like a department
    if compact[-1] in "様殿" or any(compact.endswith(w) for w in _COMPANY_WORDS):
        return False
    return not any(
        compact.endswith(s) for s in ("部", "課", "室", "局", "係", "庁", "省", "社", "会", "所", "団", "院")
    )


def find_names(text: str, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    japanese = re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text) is not None

    def add(m: re.Match[str], value: str | None = None) -> None:
        raw = value if value is not None else m.group("n")
        start = m.start("n") + (len(m.group("n")) - len(raw))
        raw = _EN_SUFFIX.sub("", raw)
        out.append(Finding("person_name", clean(raw), start, start + len(raw)))

    def add_ja(m: re.Match[str], name: str) -> None:
        # name is m's candidate with a run-in title cut off its end ("松井座長" -> "松井")
        start = m.start("n")
        out.append(Finding("person_name", clean(name), start, start + len(name)))

    if japanese:
        for m in _JA_LABEL.finditer(text):
            name = _untitled(m.group("n"))
            if _ja_plausible(name):
                add_ja(m, name)
        for m in _JA_HONORIFIC.finditer(text):
            name = m.group("n")
            trimmed = _trim_run(name) if name[0] not in "ァヶー" and re.match(_K, name) else name
            if trimmed is not None and len(trimmed) == 1 and trimmed in JA_SURNAMES_KANJI:
                add(m, trimmed)  # 堤補佐, 林課長: a one-kanji surname with a title is a name
                continue
            if trimmed is None or not _ja_plausible(trimmed) or trimmed[-1] in _NOT_BEFORE_SAMA:
                continue
            if (
                re.match(_KATA, trimmed)
                or _surname_split(trimmed)
                or _ner_confirms(ctx, m.end("n") - len(trimmed), m.end("n"))
            ):
                add(m, trimmed)
        for rx in (_JA_INTRO, _JA_LINE, _JA_BEFORE_ADDR, _JA_ACTOR):
            for m in rx.finditer(text):
                name = _untitled(m.group("n"))
                if not _ja_plausible(name):
                    continue
                # a foreign name in katakana, its parts spaced ("リー ウェイ"), before です or
                # <address>, or beside its romaji, is a name; bare lines need confirming
                kana = _KANA_SPACED.fullmatch(name) is not None and (
                    rx is not _JA_LINE or "(" in m.group() or "（" in m.group()
                )
                if kana or _surname_split(name) or _ner_confirms(ctx, m.start("n"), m.start("n") + len(name)):
                    add_ja(m, name)
        for m in _EN_PAREN.finditer(text):
            if _en_ok(m.group("n")):
                add(m)
    for m in _EN_SALUTE.finditer(text):
        if _en_ok(m.group("n")):
            add(m)
            pos = m.end("n")  # "Hi Olivia and Marcus,"
            while (more := _EN_MORE_SALUTE.match(text, pos)) is not None and _en_ok(more.group("n")):
                add(more)
                pos = more.end("n")
    for m in _EN_LABEL.finditer(text):
        name = m.group("n")
        if _en_ok(name) and (
            not name.isupper() or _en_half_in_tables(name) or _PASSPORT_NEAR.search(ctx.line(m.start()))
        ):
            add(m)
            # "Attendees: Tom Baker, Sue Ellis and Raj Patel": the list goes on
            pos = m.end("n")
            while (more := _EN_MORE.match(text, pos)) is not None and _en_ok(more.group("n")):
                add(more)
                pos = more.end("n")
    for rx in (_EN_SAN, _EN_BEFORE_PII):
        for m in rx.finditer(text):
            if _en_ok(m.group("n")):
                add(m)
    for m in _EN_BEFORE_ADDR.finditer(text):
        if _en_ok(m.group("n")):
            add(m)
    for m in _EN_LAST_FIRST.finditer(text):
        name = f"{m.group('g')} {m.group('f').title()}"
        if _en_ok(name):
            out.append(Finding("person_name", name, m.start("f"), m.end("g")))
    for m in _EN_LINE.finditer(text):
        name = m.group("n")
        if not _en_ok(name):
            continue
        line = ctx.line(m.start("n"))
        prev = _previous_nonblank(text, m.start("n"))
        after_closing = _CLOSING.match(prev) is not None
        if name.isupper():
            if _PASSPORT_NEAR.search(line) or _en_in_tables(name.title()):
                add(m)
        elif after_closing or _en_half_in_tables(name):
            add(m)
    # "Thanks,\nRachel": a first name signing off
    for m in _EN_SIGN_OFF.finditer(text):
        name = m.group("n")
        if _en_ok(name) and (name.lower() in GIVEN_NAMES or _WORDISH.search(name.lower()) is None):
            add(m)
    for m in _EN_ANY.finditer(text):
        name = m.group("n")
        if _en_ok(name) and (_en_in_tables(name) or _en_known_given(name)):
            add(m)
    # names in the name column of a table
    if "," in text or "\t" in text:
        for m in re.finditer(r"[^,\t\n]+", text):
            label = ctx.column_label(m.start())
            if label is None or not re.fullmatch(
                r"(?:お?名前|氏名|氏名[（(].*[)）]|参加者名?|担当者名?|full ?name|name|participant|attendee)", label
            ):
                continue
            cell = m.group().strip().strip('"')
            if (re.fullmatch(_ANY_JA, cell) and _ja_plausible(cell)) or (
                re.fullmatch(_EN_NAME + "|" + _UP_NAME, cell) and _en_ok(cell)
            ):
                s = m.start() + m.group().index(cell)
                out.append(Finding("person_name", clean(cell), s, s + len(cell)))
    return out


def _previous_nonblank(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos)
    while start > 0:
        prev_start = text.rfind("\n", 0, start)
        line = text[prev_start + 1 : start]
        if line.strip():
            return line
        start = prev_start
    return ""
