"""Build the simulated organisation: a Japanese public agency, its people, networks and partners.

Everything is drawn from one ``random.Random`` seeded from (seed, "org"), so the same
arguments give the same organisation.  The proportions (≈2 % administrators, ≈60 % with a
phone mail client, ≈5 % IMAP, ≈5 % commercial-VPN users, ≈3 % travellers, ≈2 % joining
mid-period) are what the benign behaviour and the statistical tests rely on; they are
module constants so a test can read them instead of repeating them.

Names are ordinary Japanese names (kanji and Hepburn romanisation); domains use the
"example-" prefix so no real organisation is impersonated.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from dwelltime.simulate.activity import Client, Network
from dwelltime.simulate.calendar import is_working_day
from dwelltime.simulate.model import MailHost, Org, Partner, User
from dwelltime.simulate.netdata import EOP_MX_IPS, GOOGLE_MX_IPS, Prefix, group, network_at, random_ip

__all__ = [
    "ADMIN_SHARE",
    "APP_IDS",
    "IMAP_SHARE",
    "MOBILE_SHARE",
    "NEW_STAFF_SHARE",
    "TRAVELLER_SHARE",
    "VPN_SHARE",
    "build_org",
    "partner_mx",
]

ADMIN_SHARE = 0.02
MOBILE_SHARE = 0.60
IMAP_SHARE = 0.05  # cloud and hybrid; an on-prem org reads all mail over IMAP
VPN_SHARE = 0.05
TRAVELLER_SHARE = 0.03
NEW_STAFF_SHARE = 0.02
MAC_SHARE = 0.04

# Well-known first-party application ids (Entra appId) and their display names.
APP_IDS: dict[str, str] = {
    "Office 365 Exchange Online": "00000002-0000-0ff1-ce00-000000000000",
    "Microsoft Office": "d3590ed6-52b3-4102-aeff-aad2292ab01c",
    "Outlook Mobile": "27922004-5251-4030-b22d-91ecd9a37ea4",
    "One Outlook Web": "9199bf20-a13f-4107-85dc-02114787ef48",
    "Apple Internet Accounts": "f8d98a96-0999-43f5-8af3-69971c7bb423",
}

_SURNAMES = (
    ("佐藤", "Sato"),
    ("鈴木", "Suzuki"),
    ("高橋", "Takahashi"),
    ("田中", "Tanaka"),
    ("伊藤", "Ito"),
    ("渡辺", "Watanabe"),
    ("山本", "Yamamoto"),
    ("中村", "Nakamura"),
    ("小林", "Kobayashi"),
    ("加藤", "Kato"),
    ("吉田", "Yoshida"),
    ("山田", "Yamada"),
    ("佐々木", "Sasaki"),
    ("山口", "Yamaguchi"),
    ("松本", "Matsumoto"),
    ("井上", "Inoue"),
    ("木村", "Kimura"),
    ("林", "Hayashi"),
    ("斎藤", "Saito"),
    ("清水", "Shimizu"),
    ("山崎", "Yamazaki"),
    ("森", "Mori"),
    ("池田", "Ikeda"),
    ("橋本", "Hashimoto"),
    ("阿部", "Abe"),
    ("石川", "Ishikawa"),
    ("山下", "Yamashita"),
    ("中島", "Nakajima"),
    ("石井", "Ishii"),
    ("小川", "Ogawa"),
    ("前田", "Maeda"),
    ("岡田", "Okada"),
    ("長谷川", "Hasegawa"),
    ("藤田", "Fujita"),
    ("後藤", "Goto"),
    ("近藤", "Kondo"),
    ("村上", "Murakami"),
    ("遠藤", "Endo"),
    ("青木", "Aoki"),
    ("坂本", "Sakamoto"),
    ("斉藤", "Saito"),
    ("福田", "Fukuda"),
    ("太田", "Ota"),
    ("西村", "Nishimura"),
    ("藤井", "Fujii"),
    ("金子", "Kaneko"),
    ("岡本", "Okamoto"),
    ("藤原", "Fujiwara"),
    ("中野", "Nakano"),
    ("三浦", "Miura"),
)
_GIVEN = (
    ("太郎", "Taro"),
    ("健太", "Kenta"),
    ("大輔", "Daisuke"),
    ("翔太", "Shota"),
    ("拓也", "Takuya"),
    ("直樹", "Naoki"),
    ("誠", "Makoto"),
    ("浩二", "Koji"),
    ("隆", "Takashi"),
    ("哲也", "Tetsuya"),
    ("一郎", "Ichiro"),
    ("修", "Osamu"),
    ("和也", "Kazuya"),
    ("亮", "Ryo"),
    ("悠人", "Yuto"),
    ("蓮", "Ren"),
    ("大樹", "Daiki"),
    ("剛", "Tsuyoshi"),
    ("聡", "Satoshi"),
    ("淳", "Jun"),
    ("花子", "Hanako"),
    ("陽子", "Yoko"),
    ("恵子", "Keiko"),
    ("由美", "Yumi"),
    ("美穂", "Miho"),
    ("裕子", "Yuko"),
    ("真由美", "Mayumi"),
    ("智子", "Tomoko"),
    ("麻衣", "Mai"),
    ("彩", "Aya"),
    ("愛", "Ai"),
    ("さくら", "Sakura"),
    ("美咲", "Misaki"),
    ("葵", "Aoi"),
    ("結衣", "Yui"),
    ("千尋", "Chihiro"),
    ("直美", "Naomi"),
    ("久美子", "Kumiko"),
    ("明美", "Akemi"),
    ("京子", "Kyoko"),
)
_FOREIGN = (
    ("スミス ジョン", "John Smith"),
    ("ブラウン エミリー", "Emily Brown"),
    ("キム ミンジュン", "Minjun Kim"),
    ("リー ウェイ", "Wei Li"),
    ("ミュラー アンナ", "Anna Muller"),
    ("グエン ラン", "Lan Nguyen"),
)
_DEPARTMENTS = (
    ("General Affairs", 0.14),
    ("Personnel", 0.08),
    ("Accounting", 0.10),
    ("Policy Planning", 0.16),
    ("International Affairs", 0.10),
    ("Legal", 0.06),
    ("Public Relations", 0.06),
    ("Research", 0.14),
    ("Regional Cooperation", 0.10),
    ("Information Systems", 0.06),
)
_HOME_ISPS = (
    ("home-ocn", 24),
    ("home-kddi", 17),
    ("home-softbank", 17),
    ("home-sonet", 10),
    ("home-jcom", 10),
    ("home-biglobe", 8),
    ("home-asahinet", 7),
    ("home-iij", 7),
)
_CARRIERS = (("mobile-docomo", 36), ("mobile-au", 28), ("mobile-softbank", 24), ("mobile-rakuten", 12))

_PARTNER_WORDS = (
    "trading",
    "shoji",
    "sangyo",
    "kensetsu",
    "denki",
    "systems",
    "consulting",
    "research",
    "logistics",
    "medical",
    "bank",
    "insurance",
    "foods",
    "marine",
    "energy",
    "software",
    "media",
    "printing",
    "kogyo",
    "holdings",
    "design",
    "engineering",
    "pharma",
    "transport",
    "press",
    "labs",
    "partners",
    "networks",
)
_JP_PARTNER_KINDS = (
    ("co.jp", "{w} Co., Ltd.", 55),
    ("go.jp", "{w} Agency", 15),
    ("ac.jp", "{w} University", 10),
    ("or.jp", "{w} Association", 10),
    ("lg.jp", "{w} Prefecture", 10),
)
_FOREIGN_PARTNER_KINDS = (
    ("com", "US", "{w} Inc.", 30),
    ("gov", "US", "{w} Office", 8),
    ("de", "DE", "{w} GmbH", 12),
    ("sg", "SG", "{w} Pte. Ltd.", 12),
    ("co.uk", "GB", "{w} Ltd", 12),
    ("co.kr", "KR", "{w} Co., Ltd.", 10),
    ("com.tw", "TW", "{w} Corp.", 8),
    ("co.th", "TH", "{w} Co., Ltd.", 8),
)

_OUTLOOK_BUILDS = ("16.0.17231.20236", "16.0.17328.20184", "16.0.17425.20176", "16.0.17531.20140")
_CHROME = ("120.0.0.0", "121.0.0.0", "122.0.0.0", "123.0.0.0", "124.0.0.0")
_IOS = (("17_3", "21D50", "2102.21.1"), ("17_4", "21E219", "2103.101.2"), ("17_5", "21F79", "2104.120.1"))
_IPHONES = ("iPhone14C2", "iPhone14C5", "iPhone15C2", "iPhone15C4", "iPhone16C1")
_ANDROID = ("Pixel 7", "SO-51D", "SC-51D", "SH-53D", "A302SH")


def _rng(key: str) -> random.Random:
    """A generator seeded from a string key: reproducible across runs and platforms."""
    return random.Random(key)


def _weighted(rng: random.Random, items: tuple[tuple[str, int], ...]) -> str:
    names = [n for n, _ in items]
    weights = [w for _, w in items]
    return rng.choices(names, weights)[0]


def _outlook_desktop(rng: random.Random, kind: str, mac: bool) -> Client:
    build = rng.choice(_OUTLOOK_BUILDS)
    if kind == "onprem":  # Outlook or Thunderbird speaking IMAP to Dovecot
        if rng.random() < 0.7:
            ua = f"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook {build}; Pro)"
            return Client("imap", ua, "", "", "", "Outlook (IMAP)", "imap")
        return Client("imap", "Thunderbird 115.8.1", "", "", "", "Thunderbird", "imap")
    if mac:
        ua = "MacOutlook/16.80.23121017 (Intelx64 Mac OS X 14.2.1 (Build 23C71))"
        return Client(
            "outlook",
            ua,
            "Client=REST;Client=RESTSystem;;",
            "Mobile Apps and Desktop clients",
            APP_IDS["Microsoft Office"],
            "Microsoft Office",
            "rest",
        )
    ua = f"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook {build}; Pro)"
    return Client(
        "outlook",
        ua,
        "Client=MSExchangeRPC",
        "Mobile Apps and Desktop clients",
        APP_IDS["Microsoft Office"],
        "Microsoft Office",
        "mapi",
    )


def _owa(rng: random.Random, mac: bool, linux: bool) -> Client:
    chrome = rng.choice(_CHROME)
    if mac:
        platform = "Macintosh; Intel Mac OS X 10_15_7"
    elif linux:
        platform = "X11; Linux x86_64"
    else:
        platform = "Windows NT 10.0; Win64; x64"
    ua = f"Mozilla/5.0 ({platform}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome} Safari/537.36"
    if not mac and not linux and rng.random() < 0.5:
        ua += f" Edg/{chrome}"
    return Client(
        "owa",
        ua,
        f"Client=OWA;Action=ViaProxy;{ua};",
        "Browser",
        APP_IDS["One Outlook Web"],
        "One Outlook Web",
        "owa",
    )


def _mobile_client(rng: random.Random, kind: str) -> Client:
    ios = rng.choice(_IOS)
    phone = rng.choice(_IPHONES)
    if kind == "onprem":  # iOS Mail fetching over IMAP
        return Client("mobile", f"iPhone Mail ({ios[1]})", "", "", "", "iOS Mail (IMAP)", "imap")
    if rng.random() < 0.55:
        if rng.random() < 0.6:
            ua = "Outlook-iOS/709.2189947.prod.iphone (4.2405.0)"
            info = "Client=OutlookService;Outlook-iOS/2.0;"
        else:
            model = rng.choice(_ANDROID)
            ua = f"Outlook-Android/2.0 ({model}; Android 14)"
            info = "Client=OutlookService;Outlook-Android/2.0;"
        return Client(
            "mobile",
            ua,
            info,
            "Mobile Apps and Desktop clients",
            APP_IDS["Outlook Mobile"],
            "Outlook Mobile",
            "rest",
        )
    ua = f"Apple-{phone}/{ios[2]}"
    return Client(
        "mobile",
        ua,
        f"Client=ActiveSync;UserAgent={ua};Action=/Microsoft-Server-ActiveSync/default.eas",
        "Exchange ActiveSync",
        APP_IDS["Apple Internet Accounts"],
        "Apple Internet Accounts",
        "activesync",
    )


def _imap_client(rng: random.Random) -> Client:
    if rng.random() < 0.6:
        return Client("imap", "Thunderbird 115.8.1", "", "", "", "Thunderbird", "imap")
    return Client("imap", "Apple Mail (3774.400.31)", "", "", "", "Apple Mail", "imap")


def _pick_prefixes(rng: random.Random, pool: str, n: int) -> tuple[Prefix, ...]:
    choices = list(group(pool))
    rng.shuffle(choices)
    return tuple(choices[: max(1, min(n, len(choices)))])


def _net(rng: random.Random, prefixes: tuple[Prefix, ...], cls: str | None = None) -> Network:
    p = prefixes[0]
    return network_at(p, random_ip(p.cidr, rng), cls)


def _unique(local: str, taken: set[str]) -> str:
    candidate, n = local, 1
    while candidate in taken:
        n += 1
        candidate = f"{local}{n}"
    taken.add(candidate)
    return candidate


def _partners(rng: random.Random) -> tuple[Partner, ...]:
    count = rng.randint(20, 40)
    words = list(_PARTNER_WORDS)
    rng.shuffle(words)
    out: list[Partner] = []
    used: set[str] = set()
    for i in range(count):
        word = words[i % len(words)] + ("" if i < len(words) else str(i))
        if rng.random() < 0.7:
            names = [k for k, _, _ in _JP_PARTNER_KINDS]
            weights = [w for _, _, w in _JP_PARTNER_KINDS]
            tld = rng.choices(names, weights)[0]
            fmt = next(f for k, f, _ in _JP_PARTNER_KINDS if k == tld)
            country, lang = "JP", "ja"
        else:
            idx = rng.choices(range(len(_FOREIGN_PARTNER_KINDS)), [k[3] for k in _FOREIGN_PARTNER_KINDS])[0]
            tld, country, fmt, _ = _FOREIGN_PARTNER_KINDS[idx]
            lang = "en"
        domain = f"example-{word}.{tld}"
        if domain in used:
            continue
        used.add(domain)
        name = fmt.format(w="Example " + word.capitalize())
        contacts: set[str] = set()
        for _ in range(rng.randint(2, 8)):
            if lang == "ja":
                sur = rng.choice(_SURNAMES)[1].lower()
                given = rng.choice(_GIVEN)[1].lower()
                contacts.add(f"{given[0]}.{sur}@{domain}" if rng.random() < 0.6 else f"{sur}-{given[0]}@{domain}")
            else:
                first = rng.choice(
                    (
                        "james",
                        "mary",
                        "david",
                        "linda",
                        "michael",
                        "sarah",
                        "thomas",
                        "julia",
                        "daniel",
                        "laura",
                        "minho",
                        "jiwoo",
                        "weiting",
                        "somchai",
                        "ananya",
                    )
                )
                last = rng.choice(
                    (
                        "smith",
                        "jones",
                        "miller",
                        "wilson",
                        "taylor",
                        "brown",
                        "schmidt",
                        "tan",
                        "lim",
                        "park",
                        "chen",
                        "wong",
                        "evans",
                        "fischer",
                        "suwan",
                    )
                )
                contacts.add(f"{first}.{last}@{domain}")
        out.append(Partner(name, domain, country, lang, tuple(sorted(contacts))))
    return tuple(out)


def partner_mx(partner: Partner) -> tuple[tuple[str, str], ...]:
    """(host name, address) of a partner's mail exchangers, stable per domain.

    About 40 % of partners use Exchange Online, 20 % Google, the rest run their own MX at a
    hosting provider or ISP in their own country.
    """
    rng = _rng(f"mx:{partner.domain}")
    roll = rng.random()
    if roll < 0.4:
        host = partner.domain.replace(".", "-") + ".mail.protection.outlook.com"
        return tuple((host, ip) for ip in rng.sample(EOP_MX_IPS, 2))
    if roll < 0.6:
        return (
            ("aspmx.l.google.com", rng.choice(GOOGLE_MX_IPS)),
            ("alt1.aspmx.l.google.com", rng.choice(GOOGLE_MX_IPS)),
        )
    pools = {
        "JP": ("hosting-jp-sakura", "hosting-jp-gmo", "hosting-jp-idcf", "home-iij", "home-ocn"),
        "US": ("hosting-aws", "hosting-do"),
        "DE": ("hosting-hetzner",),
        "SG": ("hosting-aws", "hosting-do"),
    }.get(partner.country, ("hosting-ovh", "hosting-aws"))
    prefixes = [p for name in pools for p in group(name) if p.country in (partner.country, "US", "FR")]
    p = rng.choice(prefixes)
    return ((f"mx.{partner.domain}", random_ip(p.cidr, rng)),)


def _hosts(kind: str) -> tuple[MailHost, ...]:
    if kind == "cloud":
        return ()
    return (
        MailHost("mail01", "10.10.1.10", "mailstore"),
        MailHost("mta01", "10.10.1.20", "mta"),
        MailHost("mgw01", "10.10.2.10", "gateway"),
    )


def _change_day(rng: random.Random, start: date, days: int) -> date | None:
    if days < 14:
        return None
    d = start + timedelta(days=int(days * rng.uniform(0.35, 0.65)))
    while not is_working_day(d):
        d += timedelta(days=1)
    return d if d < start + timedelta(days=days) else None


def build_org(kind: str, users: int, seed: int, start: date, days: int) -> Org:
    """The organisation for (kind, users, seed): people, their networks and clients, partners, hosts."""
    if kind not in ("cloud", "onprem", "hybrid"):
        raise ValueError(f"kind must be cloud, onprem or hybrid, not {kind!r}")
    if users < 1:
        raise ValueError("an organisation needs at least one user")
    rng = _rng(f"{seed}:org")
    domain = "example-agency.go.jp"
    office_rng = _rng(f"{seed}:office")
    office_a, office_b = group("office-a")[0], group("office-b")[0]
    office = tuple(network_at(office_a, random_ip(office_a.cidr, office_rng), "office") for _ in range(2))
    office_after = tuple(network_at(office_b, random_ip(office_b.cidr, office_rng), "office") for _ in range(2))

    n_service = 2 if users >= 20 else 0
    n_people = max(1, users - n_service)
    n_admin = max(1, round(n_people * ADMIN_SHARE))
    taken_upn: set[str] = set()
    taken_login: set[str] = set()
    people: list[User] = []
    dept_names = [d for d, _ in _DEPARTMENTS]
    dept_weights = [w for _, w in _DEPARTMENTS]
    # exact counts (at least one each in an organisation of some size), so every run has its confounders
    pick_rng = _rng(f"{seed}:roles")
    others = list(range(n_admin, n_people))
    pick_rng.shuffle(others)

    def quota(share: float) -> int:
        return max(1, round(n_people * share)) if n_people >= 20 else 0

    n_new = quota(NEW_STAFF_SHARE) if days > 10 else 0
    newcomers = set(others[:n_new])
    travellers = set(others[n_new : n_new + (quota(TRAVELLER_SHARE) if days >= 7 else 0)])
    vpn_users = set(pick_rng.sample(range(n_people), quota(VPN_SHARE)))
    for i in range(n_people):
        if rng.random() < 0.02:
            ja, en = rng.choice(_FOREIGN)
            given_en, sur_en = en.split(" ")
        else:
            sur_ja, sur_en = rng.choice(_SURNAMES)
            given_ja, given_en = rng.choice(_GIVEN)
            ja, en = f"{sur_ja} {given_ja}", f"{given_en} {sur_en}"
        local = _unique(f"{given_en[0].lower()}.{sur_en.lower()}", taken_upn)
        login = _unique(f"{sur_en.lower()}-{given_en[0].lower()}", taken_login)
        admin = i < n_admin
        department = "Information Systems" if admin else rng.choices(dept_names, dept_weights)[0]
        role = (
            "admin" if admin else ("executive" if rng.random() < 0.01 else "manager" if rng.random() < 0.1 else "staff")
        )
        home_pool = _pick_prefixes(rng, _weighted(rng, _HOME_ISPS), rng.choice((1, 1, 2)))
        has_phone = rng.random() < 0.8
        mobile_pool = _pick_prefixes(rng, _weighted(rng, _CARRIERS), 2) if has_phone else ()
        mac = rng.random() < MAC_SHARE
        linux = not mac and rng.random() < 0.01
        clients: list[Client] = [_outlook_desktop(rng, kind, mac)]
        if kind != "onprem":
            clients.append(_owa(rng, mac, linux))
        mobile_mail = has_phone and rng.random() < MOBILE_SHARE / 0.8
        if mobile_mail:
            clients.append(_mobile_client(rng, kind))
        imap_user = kind == "onprem" or (kind == "hybrid" and rng.random() < IMAP_SHARE)
        if imap_user and kind == "hybrid":
            clients = [_imap_client(rng)] + ([c for c in clients if c.kind == "mobile"] if mobile_mail else [])
            if mobile_mail:  # the phone of an on-prem mailbox fetches over IMAP too
                clients = [clients[0], _mobile_client(rng, "onprem")]
        poll: tuple[int, int] | None = None
        if mobile_mail:
            lo = rng.choice((15, 15, 20, 30, 30, 60))
            poll = (lo, lo + rng.choice((5, 10, 15)))
        new_staff = i in newcomers
        first_day = (
            start + timedelta(days=rng.randrange(5, days - 3))
            if new_staff
            else start - timedelta(days=rng.randrange(60, 4000))
        )
        if new_staff:
            while not is_working_day(first_day):
                first_day += timedelta(days=1)
        people.append(
            User(
                upn=f"{local}@{domain}",
                login=login,
                name_ja=ja,
                name_en=en,
                department=department,
                role=role,
                home=_net(rng, home_pool),
                home_pool=tuple(p.cidr for p in home_pool),
                mobile=_net(rng, mobile_pool) if mobile_pool else None,
                mobile_pool=tuple(p.cidr for p in mobile_pool),
                clients=tuple(clients),
                mobile_poll_minutes=poll,
                imap_user=imap_user,
                vpn_user=i in vpn_users,
                traveller=i in travellers,
                start=first_day,
                work_hours=(
                    rng.choices((7, 8, 9, 10), (10, 55, 30, 5))[0],
                    rng.choices((17, 18, 19, 20), (35, 40, 18, 7))[0],
                ),
            )
        )
    for name, dept in (("svc-scan", "Information Systems"), ("svc-notify", "Information Systems"))[:n_service]:
        desk = Client("script", "", "", "Authenticated SMTP", "", "SMTP relay", "smtp")
        people.append(
            User(
                upn=f"{name}@{domain}",
                login=name,
                name_ja=name,
                name_en=name,
                department=dept,
                role="service",
                home=office[0],
                home_pool=(),
                mobile=None,
                mobile_pool=(),
                clients=(desk,),
                mobile_poll_minutes=None,
                imap_user=False,
                vpn_user=False,
                traveller=False,
                start=start - timedelta(days=900),
                work_hours=(0, 24),
            )
        )
    return Org(
        kind=kind,
        name="Example Agency",
        domain=domain,
        tenant_id=str(uuid.UUID(int=rng.getrandbits(128))),
        timezone="Asia/Tokyo",
        users=tuple(people),
        office=office,
        office_after_change=office_after,
        isp_change_day=_change_day(rng, start, days),
        partners=_partners(rng),
        hosts=_hosts(kind),
        admins=tuple(u.upn for u in people if u.role == "admin"),
    )
