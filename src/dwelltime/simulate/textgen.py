"""Message text for the mailbox corpus: subjects, bodies, signatures and attachments.

Business mail as a Japanese agency and its partners write it (and its foreign partners in
English): greetings, the matter at hand, a signature with name, phone, address and e-mail;
replies quote the header of the message they answer, Outlook style.  A minority of the
matters carry sensitive personal data the way it really travels by mail: staff sending
their My Number and dependants to HR for the year-end adjustment, salary account changes,
travel requests with passport numbers, hotel bookings with a card number, event
participant lists, citizens' inquiries with addresses, invoices with bank details.

Every personal-data value goes through :class:`~dwelltime.simulate.pii.PiiLog.add` as it
is written, so the corpus knows exactly what each message contains.  Distractors that are
*not* personal data (document numbers, amounts, reception numbers whose 12 digits fail
the My Number check, masked card numbers) are written too: a detector is measured on
precision as well as recall.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dwelltime.simulate import pii
from dwelltime.simulate.pii import PersonName, PiiLog

# Message kinds (stored as small ints in the corpus index).
(
    MEETING,
    STATUS,
    REVIEW,
    BUDGET,
    INQUIRY,
    EVENT,
    HR_MYNUMBER,
    HR_BANK,
    TRAVEL,
    INVOICE,
    EXPENSE,
    CITIZEN,
    NEWS,
    NOTICE,
) = range(14)
KIND_NAMES = (
    "meeting", "status", "review", "budget", "inquiry", "event", "hr_mynumber", "hr_bank", "travel",
    "invoice", "expense", "citizen", "newsletter", "notice",
)  # fmt: skip

PROJECTS: tuple[tuple[str, str], ...] = (
    ("防災情報システム更改", "disaster information system renewal"),
    ("国際会議準備", "international conference preparations"),
    ("予算要求", "budget request"),
    ("サイバーセキュリティ演習", "cyber security exercise"),
    ("データ連携基盤", "data exchange platform"),
    ("広報キャンペーン", "public awareness campaign"),
    ("調達仕様書作成", "procurement specification"),
    ("共同研究", "joint research programme"),
    ("日米協議", "Japan-US consultations"),
    ("庁舎移転", "office relocation"),
    ("統計調査", "statistical survey"),
    ("制度改正", "regulatory reform"),
)
_WEEKDAY_JA = "月火水木金土日"
_PLACES_JA = ("本庁舎5階 第3会議室", "本庁舎8階 大会議室", "Web会議（Teams）", "Web会議（Zoom）", "別館2階 会議室B")
_PLACES_EN = ("Conference Room 3, 5th floor", "Microsoft Teams", "Zoom", "our office in Tokyo", "your office")
_DOCS_JA = ("仕様書（案）", "議事録", "実施計画書", "報告書（素案）", "説明資料", "契約書（案）", "作業工程表")
_DOCS_EN = ("draft specification", "meeting minutes", "implementation plan", "draft report", "briefing slides",
            "draft contract", "work schedule")  # fmt: skip
_CITIES_JA = ("大阪", "福岡", "札幌", "名古屋", "仙台", "ワシントンD.C.", "ロンドン", "シンガポール", "ジュネーブ")
_CITIES_EN = ("Osaka", "Fukuoka", "Sapporo", "Nagoya", "Sendai", "Washington, D.C.", "London", "Singapore", "Geneva")
_TOPICS_JA = (
    "申請手続き",
    "補助金の交付",
    "証明書の発行",
    "個人情報の取扱い",
    "マイナンバーカードの更新",
    "窓口の受付時間",
)


@dataclass(frozen=True, slots=True)
class Persona:
    """Someone who writes or receives mail in the corpus, with the details a signature shows."""

    email: str
    name: PersonName
    org_ja: str
    org_en: str
    dept: str
    country: str
    lang: str  # language this person writes in
    internal: bool  # a user of the simulated organisation
    office_phone: str
    office_phone_intl: str
    mobile: str  # "" when the signature shows none
    office_address: str  # "" when the signature shows none
    utc_offset: int  # hours, for the Date header and working hours


@dataclass(frozen=True, slots=True)
class Private:
    """A person's own sensitive data, stable across every message that mentions it."""

    born: date
    my_number: str  # "" for people without one (foreigners)
    passport: str
    home: str
    bank: pii.BankAccount
    card: str
    mobile: str


def private_data(seed: int, person: Persona, today: date) -> Private:
    """Derived from (seed, address) alone, so the same person has the same numbers everywhere."""
    rng = random.Random(f"{seed}|private|{person.email}")
    japanese = bool(person.name.ja)
    return Private(
        born=pii.date_of_birth(rng, today),
        my_number=pii.my_number(rng) if japanese else "",
        passport=pii.passport_jp(rng) if japanese else pii.passport_us(rng),
        home=pii.address_for(rng, person.country if not japanese else "JP"),
        bank=pii.bank_account_jp(rng),
        card=pii.payment_card(rng),
        mobile=person.mobile or pii.phone_jp_mobile(rng),
    )


@dataclass(frozen=True, slots=True)
class Reply:
    """The message being answered (its header is quoted in the reply)."""

    sender: Persona
    to: tuple[Persona, ...]
    when: datetime  # local time of the original's sender
    subject: str


@dataclass(slots=True)
class Attachment:
    filename: str
    subtype: str  # "csv" or "plain"
    text: str
    charset: str  # "utf-8", "shift_jis"


@dataclass(slots=True)
class Content:
    subject: str
    body: str
    html: bool  # also send an HTML alternative
    attachments: list[Attachment] = field(default_factory=list)
    pii: PiiLog = field(default_factory=PiiLog)


@dataclass(frozen=True, slots=True)
class Context:
    """What the text generator needs to know about the world beyond one message."""

    seed: int
    today: date  # "now" for ages (the corpus end)
    people: tuple[Persona, ...]  # staff (HR lists, travellers)
    partner_domains: tuple[str, ...]


class Writer:
    """Builds one message's text; every personal-data value passes through ``self.log``."""

    def __init__(self, rng: random.Random, ctx: Context, lang: str, when: datetime) -> None:
        self.rng = rng
        self.ctx = ctx
        self.lang = lang
        self.when = when
        self.log = PiiLog()
        self.private_cache: dict[str, Private] = {}

    # personal data, logged as written
    def name(self, p: Persona | PersonName, form: str = "auto") -> str:
        n = p.name if isinstance(p, Persona) else p
        if form == "auto":
            form = "ja" if self.lang == "ja" and n.ja else "en"
        value = {"ja": n.ja, "en": n.en, "kana": n.kana, "passport": n.passport_form}[form]
        return self.log.add("person_name", value)

    def email(self, address: str) -> str:
        return self.log.add("email", address.lower())

    def phone(self, number: str) -> str:
        return self.log.add("phone", number)

    def address(self, text: str) -> str:
        return self.log.add("postal_address", text)

    def my_number(self, number: str) -> str:
        return self.log.add("my_number", pii.format_my_number(number, self.rng.randrange(3)), number)

    def passport(self, number: str) -> str:
        return self.log.add("passport", number)

    def card(self, number: str) -> str:
        return self.log.add("payment_card", pii.format_card(number, self.rng.random() < 0.7), number)

    def dob(self, born: date) -> str:
        return self.log.add("date_of_birth", pii.format_dob(born, self.lang, self.rng.randrange(3)))

    def bank(self, acct: pii.BankAccount) -> str:
        self.log.add("bank_account", acct.number, acct.canonical)
        if self.lang == "ja":
            return f"{acct.bank} {acct.branch}（店番{acct.branch_no}） {acct.kind} {acct.number}"
        kind = "Ordinary" if acct.kind == "普通" else "Current"
        return f"{acct.bank} {acct.branch} (branch {acct.branch_no}), {kind} account {acct.number}"

    def private(self, p: Persona) -> Private:
        got = self.private_cache.get(p.email)
        if got is None:
            got = private_data(self.ctx.seed, p, self.ctx.today)
            self.private_cache[p.email] = got
        return got

    def stranger(self, japanese: bool) -> tuple[PersonName, str]:
        """Someone outside the correspondents (participant, citizen): name and e-mail address."""
        n = pii.ja_name(self.rng) if japanese else pii.en_name(self.rng)
        domains = self.ctx.partner_domains or pii.RESERVED_DOMAINS
        domain = self.rng.choice(domains) if self.rng.random() < 0.7 else self.rng.choice(pii.RESERVED_DOMAINS)
        return n, pii.email_for(self.rng, n, domain)

    # dates and times in text
    def day_text(self, d: datetime) -> str:
        if self.lang == "ja":
            return f"{d.month}月{d.day}日（{_WEEKDAY_JA[d.weekday()]}）"
        return d.strftime("%A, %B ") + str(d.day)

    def future(self, lo: int, hi: int) -> datetime:
        d = self.when + timedelta(days=self.rng.randint(lo, hi))
        while d.weekday() >= 5:
            d += timedelta(days=1)
        return d.replace(hour=self.rng.choice((10, 11, 13, 14, 15, 16)), minute=self.rng.choice((0, 0, 30)))


# --- greeting, signature, quote ------------------------------------------------------


def _greeting(w: Writer, sender: Persona, to: tuple[Persona, ...]) -> str:
    rng = w.rng
    if w.lang == "ja":
        if len(to) > 2 or not to:
            head = "関係者各位"
        elif to[0].internal:
            head = f"{w.name(to[0])} さん" if sender.internal else f"{to[0].org_ja}\n{w.name(to[0])} 様"
        else:
            head = f"{to[0].org_ja}\n{to[0].dept}\n{w.name(to[0])} 様"
        if sender.internal and to and all(t.internal for t in to):
            intro = f"お疲れ様です。{sender.dept}の{w.name(sender)}です。"
        else:
            intro = f"いつもお世話になっております。\n{sender.org_ja}の{w.name(sender)}です。"
        return f"{head}\n\n{intro}\n"
    if len(to) > 2 or not to:
        head = rng.choice(("Dear all,", "Hello everyone,", "Dear colleagues,"))
    else:
        head = f"{rng.choice(('Dear', 'Hello', 'Hi'))} {w.name(to[0], 'en')},"
    return (
        f"{head}\n\n{rng.choice(('I hope this finds you well.', 'Thank you for your email.', 'Quick note below.'))}\n"
    )


def _closing(w: Writer) -> str:
    if w.lang == "ja":
        return w.rng.choice(
            (
                "以上、よろしくお願いいたします。",
                "引き続きよろしくお願いいたします。",
                "ご確認のほど、よろしくお願いいたします。",
            )
        )
    return w.rng.choice(("Best regards,", "Kind regards,", "Many thanks,", "Sincerely,"))


def _signature(w: Writer, p: Persona) -> str:
    rng = w.rng
    lines = ["", "--"]
    if w.lang == "ja" and p.name.ja:
        lines.append(f"{p.org_ja} {p.dept}")
        lines.append(f"{w.name(p, 'ja')}（{w.name(p, 'en')}）" if rng.random() < 0.5 else w.name(p, "ja"))
        if p.office_address and rng.random() < 0.6:
            lines.append(w.address(p.office_address))
        tel = f"TEL: {w.phone(p.office_phone)}"
        if p.internal and rng.random() < 0.4:
            tel += f"（内線 {rng.randrange(2000, 8000)}）"
        if p.mobile and rng.random() < 0.3:
            tel += f" / 携帯: {w.phone(p.mobile)}"
        lines.append(tel)
        lines.append(f"E-mail: {w.email(p.email)}")
    else:
        lines.append(w.name(p, "en"))
        lines.append(f"{p.dept}, {p.org_en}")
        if p.office_address and rng.random() < 0.4:
            lines.append(w.address(p.office_address))
        lines.append(f"Tel: {w.phone(p.office_phone_intl)}")
        if p.mobile and rng.random() < 0.2:
            lines.append(f"Mobile: {w.phone(p.mobile)}")
        lines.append(f"Email: {w.email(p.email)}")
    return "\n".join(lines) + "\n"


def _quote(w: Writer, r: Reply) -> str:
    def who(p: Persona) -> str:
        return f"{w.name(p)} <{w.email(p.email)}>"

    if w.lang == "ja":
        sent = f"{r.when.year}年{r.when.month}月{r.when.day}日 {r.when.hour}:{r.when.minute:02d}"
        head = ("-----Original Message-----", f"From: {who(r.sender)}", f"Sent: {sent}")
    else:
        sent = r.when.strftime("%A, %B ") + f"{r.when.day}, {r.when.year} {r.when.strftime('%I:%M %p')}"
        head = ("-----Original Message-----", f"From: {who(r.sender)}", f"Sent: {sent}")
    to = "; ".join(who(p) for p in r.to[:3])
    return "\n".join((*head, f"To: {to}", f"Subject: {r.subject}", "")) + "\n"


# --- the matters ----------------------------------------------------------------------


def _meeting(w: Writer, project: int) -> tuple[str, str]:
    d = w.future(2, 12)
    pj, pe = PROJECTS[project]
    if w.lang == "ja":
        place = w.rng.choice(_PLACES_JA)
        subject = w.rng.choice((f"【日程調整】{pj}打ち合わせの件", f"{pj} 定例会議（{d.month}/{d.day}）のご案内"))
        body = (
            f"{pj}の打ち合わせについて、下記のとおり開催したくご連絡いたします。\n\n"
            f"　日時：{w.day_text(d)} {d.hour}:{d.minute:02d}〜{d.hour + 1}:{d.minute:02d}\n"
            f"　場所：{place}\n"
            f"　議題：{w.rng.choice(_DOCS_JA)}について、今後のスケジュール\n\n"
            "ご都合が悪い場合は、候補日をいくつかお知らせください。\n"
        )
    else:
        subject = w.rng.choice((f"Meeting on the {pe}", f"{pe.capitalize()}: next meeting ({d.month}/{d.day})"))
        body = (
            f"I would like to propose a meeting on the {pe} on {w.day_text(d)} at "
            f"{d.strftime('%I:%M %p').lstrip('0')} (JST), {w.rng.choice(_PLACES_EN)}.\n"
            f"We would like to go through the {w.rng.choice(_DOCS_EN)} and agree the next steps.\n\n"
            "Please let me know if this time does not suit you.\n"
        )
    return subject, body


def _status(w: Writer, project: int) -> tuple[str, str]:
    pj, pe = PROJECTS[project]
    pct = w.rng.randrange(10, 95, 5)
    if w.lang == "ja":
        subject = w.rng.choice((f"{pj} 進捗報告（第{w.rng.randint(1, 40)}週）", f"{pj}の状況について"))
        body = (
            f"{pj}の進捗をご報告します。\n\n"
            f"・全体の進捗率は約{pct}%です。\n"
            f"・{w.rng.choice(_DOCS_JA)}は{w.future(3, 14).month}月中に取りまとめる予定です。\n"
            f"・課題管理表（文書番号 第{w.rng.randrange(100, 2000)}号）を更新しました。\n"
        )
    else:
        due = w.future(5, 20)
        subject = f"{pe.capitalize()} - status update"
        body = (
            f"Here is a short update on the {pe}.\n\n"
            f"- Overall progress is about {pct}%.\n"
            f"- The {w.rng.choice(_DOCS_EN)} should be ready by {due.strftime('%B')} {due.day}.\n"
            f"- Open issues are tracked in ticket #{w.rng.randrange(1000, 9999)}.\n"
        )
    return subject, body


def _review(w: Writer, project: int) -> tuple[str, str]:
    pj, pe = PROJECTS[project]
    d = w.future(3, 10)
    if w.lang == "ja":
        doc = w.rng.choice(_DOCS_JA)
        subject = w.rng.choice((f"【ご確認依頼】{pj} {doc}", f"{doc}のご確認のお願い"))
        body = (
            f"{pj}の{doc}を作成しました。\n"
            f"お手数ですが、{w.day_text(d)}までにご確認いただき、修正点があればお知らせください。\n"
        )
    else:
        doc = w.rng.choice(_DOCS_EN)
        subject = f"For review: {doc} ({pe})"
        body = f"Please find the {doc} for the {pe}. Could you send any comments by {w.day_text(d)}?\n"
    return subject, body


def _budget(w: Writer, project: int) -> tuple[str, str, list[Attachment]]:
    pj, _ = PROJECTS[project]
    m = w.when.month
    rows = ["費目,予算額（円）,執行額（円）,執行率"]
    for item in ("旅費", "委託費", "備品費", "会議費", "印刷製本費"):
        b = w.rng.randrange(1, 500) * 100_000
        e = int(b * w.rng.random())
        rows.append(f"{item},{b},{e},{e * 100 // b}%")
    reiwa = w.when.year - 2018
    subject = w.rng.choice((f"【予算】令和{reiwa}年度 予算要求資料について", f"予算執行状況の確認（{m}月分）"))
    total = w.rng.randrange(10, 900) * 1_000_000
    body = f"{pj}に係る予算執行状況を添付のとおり取りまとめました。\n"
    body += f"総額 {total:,}円 のうち、執行済み額をご確認ください。\n"
    att = Attachment(f"予算執行状況_{m}月.csv", "csv", "\n".join(rows) + "\n", "shift_jis")
    return subject, body, [att]


def _inquiry(w: Writer, project: int) -> tuple[str, str]:
    pj, pe = PROJECTS[project]
    if w.lang == "ja":
        subject = w.rng.choice((f"{pj}に関するお問い合わせ", f"お見積りのご依頼（{pj}）"))
        body = (
            f"{pj}について、以下の点をご教示いただけますでしょうか。\n\n"
            "1. 作業範囲と体制\n2. 概算費用（税込）\n3. 納期の見込み\n\n"
            f"お手数ですが、{w.day_text(w.future(5, 14))}頃までにご回答いただけますと幸いです。\n"
        )
    else:
        subject = f"Question about the {pe}"
        body = (
            f"We have a few questions about the {pe}:\n\n"
            "1. the scope of work and staffing\n2. an estimate of the cost\n3. the expected schedule\n\n"
            f"A reply by {w.day_text(w.future(5, 14))} would be much appreciated.\n"
        )
    return subject, body


def _event(w: Writer, project: int) -> tuple[str, str, list[Attachment]]:
    d = w.future(7, 30)
    n = w.rng.randint(8, 30)
    japanese = w.lang == "ja"
    rows = ["氏名,所属,メールアドレス,電話番号"] if japanese else ["Name,Organisation,Email,Phone"]
    for _ in range(n):
        jp = japanese and w.rng.random() < 0.85
        person, mail = w.stranger(jp)
        affil = mail.split("@", 1)[1]
        phone = pii.phone_jp_landline(w.rng) if jp else pii.phone_intl(w.rng, w.rng.choice(("US", "GB", "SG")))
        nm = w.log.add("person_name", person.ja if jp else person.en)
        rows.append(f"{nm},{affil},{w.email(mail)},{w.phone(phone)}")
    if japanese:
        subject = w.rng.choice((f"【参加登録】{d.month}月{d.day}日開催 説明会のご案内", "説明会 参加者名簿の送付"))
        body = f"{w.day_text(d)}に開催する説明会の参加者名簿（{n}名）を送付します。\n取扱いには十分ご注意ください。\n"
        name = w.rng.choice(("参加者名簿.csv", f"参加者名簿_{d.month:02d}{d.day:02d}.csv", "出席者一覧.csv"))
        charset = "shift_jis" if w.rng.random() < 0.6 else "utf-8"
    else:
        subject = f"Participant list - workshop on {d.strftime('%B')} {d.day}"
        body = f"Attached is the list of the {n} registered participants for the workshop on {w.day_text(d)}.\n"
        name, charset = "participants.csv", "utf-8"
    text = "\n".join(rows) + "\n"
    if charset == "shift_jis" and not _encodable(text, "shift_jis"):
        charset = "utf-8"
    return subject, body, [Attachment(name, "csv", text, charset)]


def _encodable(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def _hr_mynumber(w: Writer, sender: Persona, to: tuple[Persona, ...]) -> tuple[str, str, list[Attachment]]:
    year = w.when.year
    if sender.internal and to and to[0].internal and to[0].dept == sender.dept and w.rng.random() < 0.5:
        # HR passing the collected numbers around: a list of staff.
        staff = w.rng.sample(w.ctx.people, k=min(len(w.ctx.people), w.rng.randint(4, 15)))
        rows = ["社員番号,氏名,生年月日,個人番号,住所"]
        for person in staff:
            pv = w.private(person)
            if not pv.my_number:
                continue
            rows.append(
                f"E{w.rng.randrange(100000, 999999)},{w.name(person, 'ja' if person.name.ja else 'en')},"
                f"{w.dob(pv.born)},{w.my_number(pv.my_number)},{w.address(pv.home)}"
            )
        subject = f"【取扱注意】年末調整 個人番号一覧（{year}年）"
        body = (
            "年末調整用に回収した個人番号の一覧です。\n"
            "パスワード付きで共有すべきところ、急ぎのため本メールで送付します。\n"
        )
        return (
            subject,
            body,
            [Attachment(f"マイナンバー提出一覧_{year}{w.when.month:02d}.csv", "csv", "\n".join(rows) + "\n", "utf-8")],
        )
    pv = w.private(sender)
    lines = [
        "年末調整に必要な個人番号等を以下のとおり提出します。\n",
        f"　氏名：{w.name(sender, 'ja')}" if sender.name.ja else f"　氏名：{w.name(sender, 'en')}",
        f"　生年月日：{w.dob(pv.born)}",
    ]
    if pv.my_number:
        lines.append(f"　個人番号：{w.my_number(pv.my_number)}")
    lines.append(f"　住所：{w.address(pv.home)}")
    if w.rng.random() < 0.6 and sender.name.ja:
        lines.append("\n【扶養親族】")
        family = sender.name.ja.split()[0]
        fam_row = next((f for f in pii.JA_FAMILY if f[0] == family), None)
        for rel in w.rng.sample(("配偶者", "長男", "長女", "次男"), k=w.rng.randint(1, 3)):
            giv = w.rng.choice(pii.JA_GIVEN)
            kin = PersonName(f"{family} {giv[0]}", "", f"{giv[2]} {fam_row[2] if fam_row else ''}".strip(), "", "")
            born = pii.date_of_birth(w.rng, w.ctx.today)
            lines.append(
                f"　{rel}：{w.log.add('person_name', kin.ja)}　{w.dob(born)}"
                f"　個人番号 {w.my_number(pii.my_number(w.rng))}"
            )
    subject = w.rng.choice(
        ("年末調整書類の提出", f"マイナンバー提出（{sender.dept}）", "Re: 【人事】年末調整に伴う個人番号の提出について")
    )
    return subject, "\n".join(lines) + "\n", []


def _hr_bank(w: Writer, sender: Persona) -> tuple[str, str]:
    pv = w.private(sender)
    holder = sender.name.kana
    lines = ["給与振込口座を下記のとおり変更したく、届け出ます。\n", f"　新口座：{w.bank(pv.bank)}"]
    if holder:
        lines.append(f"　口座名義：{w.name(sender, 'kana')}")
    lines.append(f"　変更希望月：{(w.when + timedelta(days=40)).month}月支給分から")
    if w.rng.random() < 0.4:
        lines.append(f"　連絡先（携帯）：{w.phone(pv.mobile)}")
    return "給与振込口座の変更届", "\n".join(lines) + "\n"


def _travel(w: Writer, sender: Persona) -> tuple[str, str, list[Attachment]]:
    i = w.rng.randrange(len(_CITIES_JA))
    d = w.future(10, 40)
    back = d + timedelta(days=w.rng.randint(1, 5))
    abroad = i >= 5
    travellers = [sender, *w.rng.sample(w.ctx.people, k=min(len(w.ctx.people), w.rng.randint(0, 2)))]
    seen: set[str] = set()
    lines: list[str] = []
    if w.lang == "ja":
        subject = f"【出張申請】{_CITIES_JA[i]}出張（{d.month}/{d.day}〜{back.month}/{back.day}）"
        lines.append(f"{_CITIES_JA[i]}出張の航空券・宿泊の手配をお願いします。\n")
    else:
        subject = f"Travel request: {_CITIES_EN[i]} ({d.month}/{d.day}-{back.month}/{back.day})"
        lines.append(f"Please arrange flights and a hotel for the trip to {_CITIES_EN[i]}.\n")
    for t in travellers:
        if t.email in seen:
            continue
        seen.add(t.email)
        pv = w.private(t)
        if abroad:
            lines.append(f"・{w.name(t, 'passport')}  Passport No. {w.passport(pv.passport)}  DOB {w.dob(pv.born)}")
        else:
            lines.append(f"・{w.name(t)}  {w.phone(pv.mobile)}")
    if w.rng.random() < 0.25:
        pv = w.private(sender)
        label = "宿泊保証用カード番号" if w.lang == "ja" else "Card for the hotel guarantee"
        lines.append(f"\n{label}: {w.card(pv.card)} (exp {w.rng.randint(1, 12):02d}/{w.when.year % 100 + 3})")
    body = "\n".join(lines) + "\n"
    atts: list[Attachment] = []
    if w.rng.random() < 0.3:
        atts.append(Attachment(f"出張申請書_{d.year}{d.month:02d}{d.day:02d}.txt", "plain", body, "utf-8"))
    return subject, body, atts


def _invoice(w: Writer, sender: Persona) -> tuple[str, str, list[Attachment]]:
    # The partner's own corporate account: stable per organisation.
    corp_rng = random.Random(f"{w.ctx.seed}|corp-bank|{sender.email.split('@')[1]}")
    acct = pii.bank_account_jp(corp_rng, corporate=True)
    y, m = w.when.year, w.when.month
    amount = w.rng.randrange(50, 5000) * 1000
    if w.lang == "ja":
        subject = f"請求書送付のご案内（{y}年{m}月分）"
        body = "標記の件、請求書を添付にてお送りいたします。\n期日までにお振込みくださいますようお願い申し上げます。\n"
        text = (
            f"請求書\n請求番号: INV-{y}-{m:02d}{w.rng.randrange(100):02d}\n請求金額: {amount:,}円（税込）\n"
            f"お支払期限: {y}年{m}月末日\n振込先: {w.bank(acct)}\n"
            f"担当: {w.name(sender)} {w.phone(sender.office_phone)}\n"
        )
        name = w.rng.choice((f"請求書_{y}年{m}月.txt", f"invoice_{y}-{m:02d}.txt"))
    else:
        subject = f"Invoice for {datetime(y, m, 1).strftime('%B %Y')}"
        body = "Please find attached our invoice for this month.\n"
        text = (
            f"INVOICE INV-{y}-{m:02d}{w.rng.randrange(100):02d}\nAmount due: JPY {amount:,}\n"
            f"Pay to: {w.bank(acct)}\nContact: {w.name(sender, 'en')}, {w.email(sender.email)}\n"
        )
        name = f"invoice_{y}-{m:02d}.txt"
    return subject, body, [Attachment(name, "plain", text, "utf-8")]


def _expense(w: Writer, sender: Persona) -> tuple[str, str]:
    pv = w.private(sender)
    m = w.when.month
    total = w.rng.randrange(3, 300) * 100
    # half the time masked, as it should be (then it is not a card number any more)
    card = w.card(pv.card) if w.rng.random() < 0.5 else "************" + pv.card[-4:]
    body = (
        f"{m}月分の立替経費の精算をお願いします。\n\n　合計：{total:,}円\n　支払方法：法人カード（{card}）\n"
        f"　領収書番号：R{w.rng.randrange(10**5, 10**6)}\n"
    )
    return f"立替経費精算の件（{m}月分）", body


def _citizen(w: Writer, sender: Persona) -> tuple[str, str]:
    """A member of the public writing in: their own name, address, phone, sometimes more."""
    rng = w.rng
    pv = w.private(sender)
    topic = rng.choice(_TOPICS_JA)
    reception = rng.randrange(10**10, 10**11)
    check = pii.my_number_check_digit(str(reception))
    lines = [
        f"{topic}について問い合わせます。\n",
        f"氏名：{w.name(sender, 'ja')}",
        f"住所：{w.address(pv.home)}",
        f"電話：{w.phone(pv.mobile)}",
    ]
    if rng.random() < 0.4:
        lines.append(f"生年月日：{w.dob(pv.born)}")
    if rng.random() < 0.15 and pv.my_number:
        lines.append(f"個人番号：{w.my_number(pv.my_number)}")
    # A 12-digit reception number that is NOT a My Number (wrong check digit on purpose).
    lines.append(f"受付番号：{reception}{(check + 1) % 10}")
    lines.append(f"\nメール：{w.email(sender.email)}")
    lines.append("お手数ですが、ご回答をお願いいたします。")
    return f"【お問い合わせ】{topic}について", "\n".join(lines) + "\n"


def _news(w: Writer, org_ja: str) -> tuple[str, str]:
    n = w.rng.randint(10, 300)
    if w.lang == "ja":
        subject = w.rng.choice(
            (f"【メールマガジン】{org_ja}通信 第{n}号", "【お知らせ】情報セキュリティ研修の受講について")
        )
        body = (
            "今月の主なお知らせです。\n\n・情報セキュリティ研修（e-ラーニング）の受講期限が近づいています。\n"
            "・庁内ポータルの更新情報\n\n※本メールは配信専用です。\n"
        )
    else:
        subject = f"Newsletter No. {n}"
        body = (
            "This month: upcoming events, new publications and staff announcements.\n\nThis is an automated message.\n"
        )
    return subject, body


def _notice(w: Writer) -> tuple[str, str]:
    d = w.future(2, 14)
    subject = w.rng.choice(
        (f"【システム】定期メンテナンスのお知らせ（{d.month}/{d.day}）", "【自動通知】パスワード有効期限のお知らせ")
    )
    body = (
        f"{w.day_text(d)} 20:00〜24:00 の間、メールシステムの定期メンテナンスを実施します。\n"
        "作業中はメールの送受信が遅延する場合があります。\n"
    )
    return subject, body


def compose(
    w: Writer,
    kind: int,
    sender: Persona,
    to: tuple[Persona, ...],
    project: int,
    reply: Reply | None,
) -> Content:
    """The subject, body and attachments of one message, with its planted personal data."""
    atts: list[Attachment] = []
    signed = True
    if kind == MEETING:
        subject, main = _meeting(w, project)
    elif kind == STATUS:
        subject, main = _status(w, project)
    elif kind == REVIEW:
        subject, main = _review(w, project)
    elif kind == BUDGET:
        subject, main, atts = _budget(w, project)
    elif kind == INQUIRY:
        subject, main = _inquiry(w, project)
    elif kind == EVENT:
        subject, main, atts = _event(w, project)
    elif kind == HR_MYNUMBER:
        subject, main, atts = _hr_mynumber(w, sender, to)
    elif kind == HR_BANK:
        subject, main = _hr_bank(w, sender)
    elif kind == TRAVEL:
        subject, main, atts = _travel(w, sender)
    elif kind == INVOICE:
        subject, main, atts = _invoice(w, sender)
    elif kind == EXPENSE:
        subject, main = _expense(w, sender)
    elif kind == CITIZEN:
        subject, main = _citizen(w, sender)
        signed = False
    elif kind == NEWS:
        subject, main = _news(w, sender.org_ja)
        signed = False
    else:
        subject, main = _notice(w)
        signed = False
    if reply is not None:
        subject = "RE: " + reply.subject.removeprefix("RE: ")
    parts: list[str] = []
    if signed:
        parts.append(_greeting(w, sender, to))
    parts.append(main)
    if signed:
        parts.append(_closing(w))
        parts.append(_signature(w, sender))
    if reply is not None:
        parts.append("\n" + _quote(w, reply))
    html = signed and w.rng.random() < 0.4
    return Content(subject, "\n".join(parts), html, atts, w.log)
