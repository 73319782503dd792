"""Login risk: how much likelier is this sign-in under "an attacker" than under "this user"?

After Freeman et al., "Who Are You? A Statistical Approach to Measuring User
Authenticity" (NDSS 2016).  Each sign-in is described by feature *families*, each a chain
of levels from coarse to fine:

=========  =====================================  ======================================
family     levels (coarse -> fine)                why the hierarchy
=========  =====================================  ======================================
network    country -> AS -> address               a new address in the user's own ISP is
                                                  ordinary (ISPs renumber); a new AS is not
agent      OS -> browser -> user-agent string     a browser update changes the string only
client     protocol / client app                  IMAP from a web-only user is news
hour       hour of the week (UTC)                 people keep hours; scripts do not
=========  =====================================  ======================================

Each level ``j`` present in the record contributes its log10 likelihood ratio, summed per
family; the score adds the families, except that the two describing the device (user agent
and client) count once, the larger of them (:func:`combine`)::

    family_f = sum_{j in f}  log10 P_att(v_j | v_{j-1})  -  log10 P_user(v_j | v_{j-1})
    score = network + hour + max(agent, client)

**The user's model** is a Witten–Bell estimate that backs off to the organisation's: with
``c`` sign-ins of the user at value ``v`` under parent ``p``, ``N`` under ``p`` in all and
``T`` distinct values under ``p``,
``P_user(v|p) = (c + T * P_org(v|p)) / (N + T)`` (``P_org`` when the user has none under
``p``).  The organisation's backs off to a uniform base over ``K`` values per level:
``P_org(v|p) = (c_o + T_o / K) / (N_o + T_o)`` (``1/K`` before it has any).  Witten–Bell
gives unseen values the mass the data says new values have: a user who roams over many
addresses of one ISP has a large ``T / N`` there, so a further new address is cheap.

**The attacker's model** is, for the country and the AS, a mixture: half the
organisation's distribution (attackers phish from wherever), half a uniform draw over the
level's ``K`` values, weighted at the AS level by the network's class (rented servers, VPN
exits and Tor are where scripts run: :data:`CLASS_WEIGHT`).  Elsewhere it is the
organisation's distribution (:data:`UNIFORM_SHARE`).  So a value common in the organisation
but new to the user scores a little (``log10((N + T) / T)``-ish), and a hosting AS nobody
in the organisation ever used scores a lot.

**Score, then learn** (the streaming contract of ../shared/DESIGN.md): each sign-in is
judged against what was learned strictly before its time (events of one instant do not see
each other, so order within ties does not matter), and a sign-in scoring at or above
``learn_below`` is *not* learned: an attacker's repeated sign-ins stay strange instead of
becoming the baseline.

>>> model = LoginRisk()
>>> usual = {"user": "ito", "country": "JP", "asn": 2516, "ip": "203.0.113.7", "net_class": "isp",
...          "agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/126.0", "client": "browser", "time_s": 0}
>>> for day in range(30):
...     for colleague in ("ito", "sato", "abe"):
...         model.learn_one({**usual, "user": colleague, "time_s": day * 86_400 + 9 * 3600})
>>> round(model.score_one({**usual, "time_s": 31 * 86_400 + 9 * 3600}), 1)
-1.4
>>> vps = {**usual, "asn": 14061, "ip": "198.51.100.9", "net_class": "hosting",
...        "agent": "python-requests/2.31", "client": "imap", "time_s": 31 * 86_400 + 3 * 3600}
>>> round(model.score_one(vps), 1)        # x 10^4.3: a new AS (hosting), device and hour
4.3
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: How much likelier an attacker is to sign in from a network of this class than from a
#: random network (the uniform half of the attacker model at the AS level).
CLASS_WEIGHT: dict[str, float] = {
    "hosting": 8.0,
    "vpn": 8.0,
    "tor": 16.0,
    "isp": 1.0,
    "business": 1.0,
    "mobile": 0.5,
    "unknown": 1.0,
    "private": 0.05,
}

#: Share of the attacker model that is a (class-weighted) uniform draw, per level; the rest is
#: the organisation's own distribution.  Only where *you* pick it does an attacker's choice
#: differ from the population's: the network.  Their user agent, client and hours are
#: whatever their tools and the population make them, so there the attacker model is the
#: organisation's and a value new to the whole organisation weighs no more than one new to
#: the user (the organisation's rarity cancels).
UNIFORM_SHARE: dict[str, float] = {"country": 0.5, "asn": 0.5}
#: Sign-ins scoring at or above this are not learned (10^4: ten thousand times likelier an
#: attacker's).  Lower, and more of people's own genuinely new networks and devices (a new
#: home ISP, a first Mac) are never learned and stay strange for good.  Measured on the
#: simulator (hybrid, 1,000 users, 90 days, first alert per user and network): at 10^4, 33
#: benign alerts over 26 people and every attack's sign-ins; at 10^5, 7 benign.
LEARN_BELOW = 4.0
#: The uniform base of each level: about how many values it can take under one parent.
LEVEL_SIZE: dict[str, float] = {
    "country": 250.0,
    "asn": 2_000.0,
    "ip": 65_536.0,
    "os": 20.0,
    "browser": 40.0,
    "agent": 5_000.0,
    "client": 20.0,
    "hour": 168.0,
}
#: The most a familiar value vouches for a sign-in, per level (log10): features an intruder can
#: copy (the victim's agent string, their hours) must not outweigh one they cannot (the network).
MOST_FAMILIAR = -1.0
#: (family, levels) in the order contributions are listed.
FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("network", ("country", "asn", "ip")),
    ("agent", ("os", "browser", "agent")),
    ("client", ("client",)),
    ("hour", ("hour",)),
)
LEVELS: tuple[str, ...] = tuple(level for _family, levels in FAMILIES for level in levels)
FAMILY_OF: dict[str, str] = {level: family for family, levels in FAMILIES for level in levels}
#: Families that describe the *device*: a person's new laptop or phone changes its client and
#: its user agent together, so these two count as one piece of evidence (the larger).
DEVICE_FAMILIES: tuple[str, ...] = ("agent", "client")


def combine(family_scores: Mapping[str, float]) -> float:
    """The score from each family's summed log ratios: the device families' larger, plus the others.

    >>> combine({"network": 3.0, "agent": 1.5, "client": 2.0, "hour": 0.5})
    5.5
    """
    device = max((family_scores.get(f, 0.0) for f in DEVICE_FAMILIES), default=0.0)
    return device + sum(v for f, v in family_scores.items() if f not in DEVICE_FAMILIES)


_OS = (
    ("iOS", re.compile(r"iPhone|iPad|iOS", re.I)),
    ("Android", re.compile(r"Android", re.I)),
    ("Windows", re.compile(r"Windows", re.I)),
    ("macOS", re.compile(r"Mac OS X|Macintosh|Darwin", re.I)),
    ("ChromeOS", re.compile(r"CrOS", re.I)),
    ("Linux", re.compile(r"Linux|X11", re.I)),
)
_BROWSER = (
    ("Outlook", re.compile(r"Outlook|Microsoft Office|MSOffice|OneOutlook", re.I)),
    ("Edge", re.compile(r"Edg(e|A|iOS)?/", re.I)),
    ("Firefox", re.compile(r"Firefox/|FxiOS", re.I)),
    ("Chrome", re.compile(r"Chrome/|CriOS", re.I)),
    ("Safari", re.compile(r"Safari/|AppleWebKit", re.I)),
    ("script", re.compile(r"python|curl|wget|go-http|okhttp|java/|powershell|libwww|axios|node", re.I)),
)


def agent_levels(agent: str | None) -> tuple[str | None, str | None, str | None]:
    """(OS family, browser family, the string) of a user agent; families by well-known tokens.

    >>> agent_levels("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36")
    ('Windows', 'Chrome', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36')
    >>> agent_levels("python-requests/2.31.0")
    ('other', 'script', 'python-requests/2.31.0')
    """
    if not agent:
        return None, None, None
    os_family = next((name for name, pattern in _OS if pattern.search(agent)), "other")
    browser = next((name for name, pattern in _BROWSER if pattern.search(agent)), "other")
    return os_family, browser, agent


def hour_of_week(time_s: float) -> int:
    """0..167, Monday 00:00 UTC = 0 (the epoch was a Thursday)."""
    return int((time_s // 3600 + 72) % 168)


def record_levels(record: Mapping[str, Any]) -> dict[str, tuple[str, ...] | None]:
    """The path (values from the family's top level down) of each level; None where a value is missing."""
    asn = record.get("asn")
    os_family, browser, agent = agent_levels(record.get("agent"))
    values: dict[str, Any] = {
        "country": record.get("country"),
        "asn": None if asn is None else f"AS{asn}",
        "ip": record.get("ip"),
        "os": os_family,
        "browser": browser,
        "agent": agent,
        "client": record.get("client"),
        "hour": None if record.get("time_s") is None else str(hour_of_week(float(record["time_s"]))),
    }
    paths: dict[str, tuple[str, ...] | None] = {}
    for _family, levels in FAMILIES:
        path: tuple[str, ...] | None = ()
        for level in levels:
            value = values[level]
            path = None if path is None or value is None else (*path, str(value))
            paths[level] = path
    return paths


@dataclass(frozen=True)
class Contribution:
    """One level's share of a score, with the counts behind it (for the explanation)."""

    level: str
    value: str
    log_ratio: float
    user_count: int  # the user's sign-ins at this value (under its parent)
    user_total: int  # the user's sign-ins under the parent
    org_count: int  # other people who had used the value
    org_total: int  # (other person, value) pairs under the parent

    def text(self) -> str:
        return (
            f"{self.level} {self.value}: {self.user_count} of the user's {self.user_total:,} sign-ins, "
            f"used by {self.org_count:,} other people (x{10**self.log_ratio:,.0f})"
        )


def level_log_ratio(
    level: str,
    counts: tuple[float, float, float, float, float, float],
    class_weight: float = 1.0,
) -> float:
    """log10 P_att / P_user for one level, from (c_user, N_user, T_user, c_org, N_org, T_org).

    >>> round(level_log_ratio("country", (0, 0, 0, 0, 0, 0)), 3)  # nothing known: no evidence
    0.0
    >>> round(level_log_ratio("country", (30, 30, 1, 300, 300, 1)), 2)  # the user's and org's only country
    -0.3
    >>> level_log_ratio("agent", (30, 30, 1, 0, 300, 9))  # the user's own rare string: at most x10 for the user
    -1.0
    """
    c_u, n_u, t_u, c_o, n_o, t_o = counts
    size = LEVEL_SIZE[level]
    p_org = 1.0 / size if n_o <= 0 else (c_o + t_o / size) / (n_o + t_o)
    p_user = p_org if n_u <= 0 else (c_u + t_u * p_org) / (n_u + t_u)
    uniform = UNIFORM_SHARE.get(level, 0.0)
    p_att = uniform * class_weight / size + (1.0 - uniform) * p_org
    return max(MOST_FAMILIAR, math.log10(p_att) - math.log10(p_user))


class LoginRisk:
    """The streaming scorer: ``score_one``, then ``learn_one`` (or only ``observe_one`` when flagged).

    The user's counts are of their sign-ins; the organisation's are of *other people*: a
    value's organisation count, for a user, is how many other users had used it, so no
    account (a service account's thousands of sign-ins, or an intruder's in the victim's
    name) makes a network "the organisation's", least of all for itself.  The distinct
    values the organisation had seen (Witten-Bell's ``T``) are everyone's.  The
    organisation's counts take every sign-in, flagged or not; the user's take only the
    sign-ins the filter lets through.

    The reference implementation: :func:`dwelltime.detect.models.login_replay.replay` computes the
    same scores for a whole history at once, and a property test holds the two equal.
    """

    def __init__(self) -> None:
        # (level, user, parent path) -> Counter of values, and its total.
        self._user: dict[tuple[str, str, tuple[str, ...]], Counter[str]] = defaultdict(Counter)
        self._user_total: Counter[tuple[str, str, tuple[str, ...]]] = Counter()
        # (level, parent path) -> Counter of values by distinct users, its total; users seen per value.
        self._org: dict[tuple[str, tuple[str, ...]], Counter[str]] = defaultdict(Counter)
        self._org_total: Counter[tuple[str, tuple[str, ...]]] = Counter()
        self._org_users: set[tuple[str, tuple[str, ...], str]] = set()
        # (level, user, parent path) -> distinct values the user had used (flagged or not).
        self._own_values: Counter[tuple[str, str, tuple[str, ...]]] = Counter()

    def contributions(self, record: Mapping[str, Any]) -> list[Contribution]:
        user = str(record["user"])
        weight = CLASS_WEIGHT.get(str(record.get("net_class") or "unknown"), 1.0)
        found = []
        empty: Counter[str] = Counter()
        for level, path in record_levels(record).items():
            if path is None:
                continue
            parent, value = path[:-1], path[-1]
            mine = self._user.get((level, user, parent), empty)
            org = self._org.get((level, parent), empty)
            n_u = self._user_total[(level, user, parent)]
            c_o = org[value] - (1 if (level, path, user) in self._org_users else 0)
            n_o = self._org_total[(level, parent)] - self._own_values[(level, user, parent)]
            counts = (float(mine[value]), float(n_u), float(len(mine)), float(c_o), float(n_o), float(len(org)))
            ratio = level_log_ratio(level, counts, weight if level == "asn" else 1.0)
            found.append(Contribution(level, value, ratio, mine[value], n_u, c_o, n_o))
        return found

    def score_one(self, record: Mapping[str, Any]) -> float:
        families: dict[str, float] = {}
        for part in self.contributions(record):
            family = FAMILY_OF[part.level]
            families[family] = families.get(family, 0.0) + part.log_ratio
        return combine(families)

    def observe_one(self, record: Mapping[str, Any]) -> None:
        """Count the sign-in's user in the organisation's model (every sign-in, flagged or not)."""
        user = str(record["user"])
        for level, path in record_levels(record).items():
            if path is None:
                continue
            key = (level, path[:-1], path[-1])
            if (level, path, user) in self._org_users:
                continue
            self._org_users.add((level, path, user))
            self._org[key[:2]][key[2]] += 1
            self._org_total[key[:2]] += 1
            self._own_values[(level, user, path[:-1])] += 1

    def learn_one(self, record: Mapping[str, Any]) -> None:
        """Learn an unflagged sign-in: the user's model and the organisation's."""
        self.observe_one(record)
        user = str(record["user"])
        for level, path in record_levels(record).items():
            if path is None:
                continue
            self._user[(level, user, path[:-1])][path[-1]] += 1
            self._user_total[(level, user, path[:-1])] += 1


def replay_stream(records: Iterable[Mapping[str, Any]], learn_below: float = LEARN_BELOW) -> list[float]:
    """Scores of time-ordered records, each judged before it is learned; instants judged together.

    Records of one ``time_s`` are all scored before any of them is learned; a record is
    learned into its user's model only if it scored below ``learn_below`` (the
    organisation's model counts it either way).  Slow (Python per record): the reference
    the vectorised replay is tested against, and the way to score one live sign-in.
    """
    model = LoginRisk()
    scores: list[float] = []
    block: list[Mapping[str, Any]] = []

    def close_block() -> None:
        block_scores = [model.score_one(r) for r in block]
        for record, score in zip(block, block_scores, strict=True):
            if score < learn_below:
                model.learn_one(record)
            else:
                model.observe_one(record)
        scores.extend(block_scores)
        block.clear()

    for record in records:
        if block and record["time_s"] != block[0]["time_s"]:
            close_block()
        block.append(record)
    if block:
        close_block()
    return scores
