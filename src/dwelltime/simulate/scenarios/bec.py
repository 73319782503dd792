"""bec: business e-mail compromise after a credential phish.

The victim typed their password into a phishing page; within a day or two the actor signs in
to Outlook on the web from abroad (a Nigerian mobile carrier, a US VPS, or a US residential
proxy that rotates its exit address).  The playbook is the well-documented one: read recent
mail looking for invoices; create an inbox rule with a throw-away name that moves mail about
invoices and payments (in English and Japanese) into a folder nobody opens (RSS Subscriptions,
Conversation History) and marks it read; forward mail to an outside address (mailbox
forwarding or a forwarding rule); send a burst of phishing mail with a link to colleagues and
partners from the victim's account, and delete the sent copies.  The actor checks back daily
for a week or so.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dwelltime.errors import ConfigError
from dwelltime.simulate.activity import (
    Activity,
    Client,
    MailboxChange,
    MailboxRead,
    MailSend,
    MessageRef,
    Network,
    SignIn,
)
from dwelltime.simulate.model import Org, User
from dwelltime.simulate.scenarios import _clients
from dwelltime.simulate.scenarios._common import (
    CorpusView,
    at_local,
    attack_start_day,
    find_user,
    folder_messages,
    message_id,
    network_for,
    new_uuid,
    period,
    pick_victim,
    resolve_params,
    split_avoid,
    within,
)
from dwelltime.simulate.scenarios._networks import NG_MOBILE, US_HOSTING, US_RESIDENTIAL, Prefix

NAME = "bec"
ORG_KINDS = ("cloud", "hybrid")

ORIGINS: dict[str, tuple[tuple[Prefix, ...], str]] = {
    "ng-mobile": (NG_MOBILE, "Africa/Lagos"),
    "us-hosting": (US_HOSTING, "America/New_York"),
    "us-residential": (US_RESIDENTIAL, "America/Chicago"),
}
_RULE_NAMES = (".", "..", "...", "a", "x", ",", "RSS", "Sync", "..,")
_KEYWORDS = ("invoice", "payment", "振込", "請求書", "wire", "bank", "remittance", "支払", "口座")
_HIDE_FOLDERS = ("RSS Subscriptions", "Conversation History", "RSS Feeds")
_FREEMAIL = ("gmail.com", "outlook.com", "proton.me", "yahoo.com", "mail.com")
_LOCAL_PARTS = ("accounts", "finance", "billing", "payables", "office", "admin", "docs", "pay")
_SUBJECTS = (
    "【至急】請求書の確認をお願いします",
    "共有ファイルのお知らせ",
    "Shared document: updated payment schedule",
    "Re: Invoice for review",
    "支払い口座変更のご案内",
    "Document shared with you via OneDrive",
)


@dataclass(frozen=True, slots=True)
class Params:
    """Parameters of bec (defaults drawn from the scenario's rng).

    victim: UPN of the phished user.
    first_day: day of the first foreign sign-in.
    origin: "ng-mobile", "us-hosting" or "us-residential" (exit rotates on every visit).
    ip: the first sign-in address (in the origin's prefixes).
    user_agent: the actor's browser.
    typo_first: the actor mistypes the password once before the first success.
    rule_name: name of the hiding rule (throw-away names like "." are the norm).
    keywords: words the hiding rule filters on.
    hide_folder: where the rule moves matching mail.
    forward_to: outside address mail is forwarded to.
    forward_method: "mailbox" (Set-Mailbox ForwardingSmtpAddress) or "rule" (inbox rule ForwardTo).
    phish_messages: messages in the lateral phishing burst, 1-5.
    phish_recipients: recipients in total, 10-60 (colleagues and partner contacts).
    delete_sent: the actor deletes the phishing messages from Sent Items.
    revisit_days: days after the first on which the actor checks back, 2-10.
    """

    victim: str
    first_day: date
    origin: str
    ip: str
    user_agent: str
    typo_first: bool
    rule_name: str
    keywords: tuple[str, ...]
    hide_folder: str
    forward_to: str
    forward_method: str
    phish_messages: int
    phish_recipients: int
    delete_sent: bool
    revisit_days: int


def defaults(org: Org, start: date, days: int, rng: random.Random, avoid: frozenset[str] = frozenset()) -> Params:
    first_day = attack_start_day(start, days, rng, min_length=min(3, days))
    victim = pick_victim(org, first_day, rng, weighted=False, avoid=avoid)
    origin = rng.choice(sorted(ORIGINS))
    net = rng.choice(ORIGINS[origin][0]).draw(rng)
    return Params(
        victim=victim.upn,
        first_day=first_day,
        origin=origin,
        ip=net.ip,
        user_agent=_clients.browser_ua(rng),
        typo_first=rng.random() < 0.25,
        rule_name=rng.choice(_RULE_NAMES),
        keywords=tuple(rng.sample(_KEYWORDS, rng.randint(3, 6))),
        hide_folder=rng.choice(_HIDE_FOLDERS),
        forward_to=f"{rng.choice(_LOCAL_PARTS)}{rng.randint(10, 9999)}@{rng.choice(_FREEMAIL)}",
        forward_method=rng.choice(("mailbox", "rule")),
        phish_messages=rng.randint(1, 5),
        phish_recipients=rng.randint(10, 60),
        delete_sent=rng.random() < 0.6,
        revisit_days=rng.randint(2, 10),
    )


def generate(
    org: Org, corpus: CorpusView, start: date, days: int, rng: random.Random, **params: object
) -> list[Activity]:
    avoid, rest = split_avoid(params)
    p = resolve_params(defaults(org, start, days, rng, avoid), rest)
    if p.origin not in ORIGINS:
        raise ConfigError(f"bec origin must be one of {sorted(ORIGINS)}, not {p.origin!r}")
    if p.forward_method not in ("mailbox", "rule"):
        raise ConfigError(f"bec forward_method must be mailbox or rule, not {p.forward_method!r}")
    prefixes, tz_name = ORIGINS[p.origin]
    tz = ZoneInfo(tz_name)
    user = find_user(org, p.victim)
    _, period_end = period(start, days)
    client = _clients.owa(p.user_agent)
    session = new_uuid(rng)
    net = network_for(p.ip, prefixes)
    upn = user.upn
    mailbox = corpus.mailbox(upn)

    out: list[Activity] = []
    t = at_local(p.first_day, rng.uniform(9, 20), tz)
    if p.typo_first:
        out.append(_signin(upn, net, client, t - timedelta(seconds=rng.randint(20, 90)), session, ok=False))
    out.append(_signin(upn, net, client, t, session))
    t += timedelta(minutes=rng.uniform(1, 3))
    recent = folder_messages(mailbox, "Inbox", t)[-rng.randint(10, 40) :]
    out.append(MailboxRead(t, upn, net, NAME, client=client, session_id=session, access_type="Bind", messages=recent))

    t += timedelta(minutes=rng.uniform(4, 20))
    rule = {
        "Name": p.rule_name,
        "SubjectOrBodyContainsWords": ";".join(p.keywords),
        "MoveToFolder": p.hide_folder,
        "MarkAsRead": "True",
        "StopProcessingRules": "True",
    }
    out.append(_change(upn, net, client, session, t, "New-InboxRule", rule))
    t += timedelta(minutes=rng.uniform(1, 10))
    if p.forward_method == "mailbox":
        fwd = {"Identity": upn, "ForwardingSmtpAddress": f"smtp:{p.forward_to}", "DeliverToMailboxAndForward": "True"}
        out.append(_change(upn, net, client, session, t, "Set-Mailbox", fwd))
    else:
        fwd = {"Name": p.rule_name * 2, "ForwardTo": p.forward_to, "StopProcessingRules": "False"}
        out.append(_change(upn, net, client, session, t, "New-InboxRule", fwd))

    t += timedelta(minutes=rng.uniform(20, 120))
    out.extend(_phish(org, corpus, user, net, client, session, t, p, rng))

    for day in range(1, p.revisit_days + 1):
        if rng.random() < 0.2:
            continue
        tv = at_local(p.first_day + timedelta(days=day), rng.uniform(8, 22), tz)
        visit_net = rng.choice(prefixes).draw(rng) if p.origin == "us-residential" else net
        visit_session = new_uuid(rng)
        out.append(_signin(upn, visit_net, client, tv, visit_session))
        tv += timedelta(minutes=rng.uniform(0.5, 3))
        hidden = folder_messages(mailbox, p.hide_folder, tv)
        inbox = folder_messages(mailbox, "Inbox", tv)[-rng.randint(3, 15) :]
        read = hidden + [m for m in inbox if m not in hidden]
        out.append(
            MailboxRead(
                tv, upn, visit_net, NAME, client=client, session_id=visit_session, access_type="Bind", messages=read
            )
        )
    return within(out, period_end)


def _signin(upn: str, net: Network, client: Client, t: datetime, session: str, *, ok: bool = True) -> SignIn:
    if ok:
        return SignIn(t, upn, net, NAME, client=client, session_id=session, interactive=True)
    return SignIn(
        t,
        upn,
        net,
        NAME,
        client=client,
        success=False,
        error_code=50126,
        failure_reason="Error validating credentials due to invalid username or password.",
        session_id="",
        interactive=True,
    )


def _change(
    upn: str, net: Network, client: Client, session: str, t: datetime, op: str, params: dict[str, str]
) -> MailboxChange:
    return MailboxChange(
        t, upn, net, NAME, operation=op, parameters=params, target_mailbox=upn, client=client, session_id=session
    )


def _recipients(org: Org, corpus: CorpusView, user: User, count: int, rng: random.Random) -> list[str]:
    """People the victim writes to first (that is what makes lateral phishing work), then
    colleagues in the same department, then anyone in the org."""
    known = list(dict.fromkeys(a.lower() for a in corpus.correspondents(user.upn) if a.lower() != user.upn))
    colleagues = [u.upn for u in org.users if u.department == user.department and u.upn != user.upn]
    others = [u.upn for u in org.users if u.upn != user.upn]
    pool = rng.sample(known, min(len(known), count * 2 // 3))
    for extra in (colleagues, others):
        rest = [a for a in extra if a not in pool]
        pool.extend(rng.sample(rest, min(len(rest), count - len(pool))))
        if len(pool) >= count:
            break
    return pool[:count]


def _phish(
    org: Org,
    corpus: CorpusView,
    user: User,
    net: Network,
    client: Client,
    session: str,
    t: datetime,
    p: Params,
    rng: random.Random,
) -> list[Activity]:
    recipients = _recipients(org, corpus, user, p.phish_recipients, rng)
    n = max(1, min(p.phish_messages, len(recipients)))
    subject = rng.choice(_SUBJECTS)
    out: list[Activity] = []
    for i in range(n):
        batch = recipients[i::n]
        if not batch:
            continue
        mid = message_id(rng, org, t)
        size = rng.randint(18_000, 60_000)
        out.append(
            MailSend(
                t,
                user.upn,
                net,
                NAME,
                client=client,
                session_id=session,
                message_id=mid,
                subject=subject,
                sender=user.upn,
                recipients=batch,
                size=size,
            )
        )
        if p.delete_sent:
            td = t + timedelta(seconds=rng.randint(20, 180))
            ref = MessageRef(mid, "Sent Items", size)
            out.append(
                MailboxChange(
                    td,
                    user.upn,
                    net,
                    NAME,
                    operation=rng.choice(("SoftDelete", "HardDelete")),
                    target_mailbox=user.upn,
                    messages=[ref],
                    client=client,
                    session_id=session,
                )
            )
        t += timedelta(minutes=rng.uniform(1, 6))
    return out
