"""insider-export: a privileged user exports other people's mailboxes.

An administrator with eDiscovery rights -- or one who grants themselves the Mailbox Import
Export role first -- searches the mailboxes of executives and colleagues for a topic,
exports the results, and exports whole mailboxes to PST files on a share, late in the evening
or at the weekend, from the office or from home over the remote-access path.  Everything is
done with the admin's own valid account and from the organisation's own networks: nothing
about the network is strange; what is strange is who does it, to whom, and when.  Some
insiders remove the search and the export requests afterwards.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dwelltime.errors import ConfigError
from dwelltime.simulate.activity import Activity, AdminAction, Network
from dwelltime.simulate.model import Org, User
from dwelltime.simulate.scenarios._common import (
    TOKYO,
    CorpusView,
    at_local,
    attack_start_day,
    eligible_users,
    find_user,
    office_network,
    period,
    resolve_params,
    split_avoid,
    within,
)

NAME = "insider-export"
ORG_KINDS = ("cloud", "hybrid")

_QUERIES = (
    "subject:人事 OR subject:評価",
    "(給与 OR 賞与) AND received>=2023-01-01",
    "subject:契約 OR subject:入札",
    "merger OR acquisition OR 合併",
    "from:{target}",
    "hasattachment:true AND (見積 OR estimate)",
)

_SHARES = ("share", "it", "backup", "work")
_DIRS = ("tmp", "pst", "export", "old")


@dataclass(frozen=True, slots=True)
class Params:
    """Parameters of insider-export (defaults drawn from the scenario's rng).

    actor: UPN of the administrator (one of org.admins, else a user with role "admin").
    day, hour: when it happens (Tokyo time): a weekday evening 19-23 h or a weekend afternoon.
    location: "office" (working late) or "home".
    targets: mailboxes searched (executives and managers first), 2-8.
    pst_targets: how many of them are also exported whole to PST, 1-3.
    query: the compliance search query.
    search_name: name given to the search.
    share: UNC directory the PST files are written to.
    grant_role: the actor first assigns themselves the Mailbox Import Export role.
    cleanup: the actor removes the search and export requests the next day.
    """

    actor: str
    day: date
    hour: float
    location: str
    targets: tuple[str, ...]
    pst_targets: int
    query: str
    search_name: str
    share: str
    grant_role: bool
    cleanup: bool


def admins(org: Org) -> list[User]:
    by_upn = {u.upn: u for u in org.users}
    listed = [by_upn[a] for a in org.admins if a in by_upn]
    return listed or [u for u in org.users if u.role == "admin"]


def defaults(org: Org, start: date, days: int, rng: random.Random, avoid: frozenset[str] = frozenset()) -> Params:
    day = attack_start_day(start, days, rng, min_length=min(2, days))
    weekend = rng.random() < 0.35
    while (day.weekday() >= 5) != weekend and day > start:
        day -= timedelta(days=1)
    candidates = [u for u in admins(org) if u.upn not in avoid] or admins(org)
    if not candidates:
        raise ConfigError("insider-export needs an administrator (org.admins or a user with role admin)")
    actor = rng.choice(candidates)
    others = [u for u in eligible_users(org, day) if u.upn != actor.upn]
    weights = [{"executive": 6.0, "manager": 3.0}.get(u.role, 1.0) for u in others]
    targets: list[str] = []
    for _ in range(min(len(others), rng.randint(2, 8))):
        pick = rng.choices(others, weights)[0]
        if pick.upn not in targets:
            targets.append(pick.upn)
    query = rng.choice(_QUERIES)
    return Params(
        actor=actor.upn,
        day=day,
        hour=round(rng.uniform(13, 18) if weekend else rng.uniform(19, 23.2), 2),
        location=rng.choice(("office", "home")),
        targets=tuple(targets),
        pst_targets=rng.randint(1, 3),
        query=query.format(target=targets[0] if targets else actor.upn),
        search_name=rng.choice(("確認", "audit", "review", "調査", "tmp", "search")) + f"-{rng.randint(1, 99):02d}",
        share=rf"\\fs{rng.randint(1, 3):02d}\{rng.choice(_SHARES)}\{rng.choice(_DIRS)}",
        grant_role=rng.random() < 0.6,
        cleanup=rng.random() < 0.5,
    )


def generate(
    org: Org, corpus: CorpusView, start: date, days: int, rng: random.Random, **params: object
) -> list[Activity]:
    avoid, rest = split_avoid(params)
    p = resolve_params(defaults(org, start, days, rng, avoid), rest)
    if p.location not in ("office", "home"):
        raise ConfigError(f"insider-export location must be office or home, not {p.location!r}")
    if not p.targets:
        raise ConfigError("insider-export needs at least one target mailbox")
    actor = find_user(org, p.actor)
    for target in p.targets:
        find_user(org, target)
    _, period_end = period(start, days)
    t = at_local(p.day, p.hour, TOKYO)
    net = office_network(org, t, rng, actor) if p.location == "office" else actor.home

    def act(when: datetime, op: str, params: dict[str, str]) -> AdminAction:
        return AdminAction(when, actor.upn, net, NAME, operation=op, parameters=params)

    out: list[Activity] = []
    if p.grant_role:
        out.append(act(t, "New-ManagementRoleAssignment", {"Role": "Mailbox Import Export", "User": actor.upn}))
        t += timedelta(minutes=rng.uniform(2, 15))
    search = {"Name": p.search_name, "ExchangeLocation": ",".join(p.targets), "ContentMatchQuery": p.query}
    out.append(act(t, "New-ComplianceSearch", search))
    t += timedelta(seconds=rng.randint(20, 120))
    out.append(act(t, "Start-ComplianceSearch", {"Identity": p.search_name}))
    t += timedelta(minutes=rng.uniform(3, 30))
    out.append(
        act(
            t,
            "New-ComplianceSearchAction",
            {"SearchName": p.search_name, "Export": "True", "Format": "FxStream", "Scope": "IndexedItemsOnly"},
        )
    )
    exports = _pst_exports(p, t, rng, act)
    out.extend(exports)
    if p.cleanup:
        tc = at_local(p.day + timedelta(days=1), rng.uniform(8, 10), TOKYO)
        cnet: Network = office_network(org, tc, rng, actor)
        out.append(
            AdminAction(
                tc, actor.upn, cnet, NAME, operation="Remove-ComplianceSearch", parameters={"Identity": p.search_name}
            )
        )
        for e in exports:
            ident = f"{e.parameters['Mailbox']}\\MailboxExport"
            tc += timedelta(seconds=rng.randint(10, 60))
            out.append(
                AdminAction(
                    tc, actor.upn, cnet, NAME, operation="Remove-MailboxExportRequest", parameters={"Identity": ident}
                )
            )
    return within(out, period_end)


def _pst_exports(
    p: Params, t: datetime, rng: random.Random, act: Callable[[datetime, str, dict[str, str]], AdminAction]
) -> list[AdminAction]:
    out: list[AdminAction] = []
    for target in p.targets[: max(1, p.pst_targets)]:
        t += timedelta(minutes=rng.uniform(1, 8))
        path = f"{p.share}\\{target.split('@', 1)[0]}.pst"
        out.append(act(t, "New-MailboxExportRequest", {"Mailbox": target, "FilePath": path}))
    return out
