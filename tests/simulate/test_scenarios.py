"""Attack scenarios: registry, determinism, parameters, networks, and each attack's shape."""

from __future__ import annotations

import ipaddress
import itertools
import random
import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dwelltime.enrich import Enricher
from dwelltime.errors import ConfigError
from dwelltime.simulate.activity import (
    Activity,
    AdminAction,
    Connection,
    Consent,
    MailboxChange,
    MailboxRead,
    MailSend,
    SignIn,
)
from dwelltime.simulate.scenarios import SCENARIOS, attack_entity, attacker_ips
from dwelltime.simulate.scenarios import apt_imap as apt_imap_mod
from dwelltime.simulate.scenarios._clients import AZURE_PS, GRAPH_CLI, MS_OFFICE
from dwelltime.simulate.scenarios._common import SHANGHAI, TOKYO, cn_workday, period
from dwelltime.simulate.scenarios._networks import ALL_PREFIXES, JP_HOSTING, SPRAY_HOSTING

sys.path.insert(0, str(Path(__file__).parent))
from _fakes import DAYS, OFFICE, OFFICE_AFTER, START, FakeCorpus, make_org

EXPECTED = {
    "apt-imap",
    "gateway-implant",
    "apt-cloud",
    "bec",
    "spray",
    "oauth-consent",
    "token-replay",
    "insider-export",
}


def run(
    name: str, seed: int = 1, kind: str = "hybrid", days: int = DAYS, **params: object
) -> tuple[list[Activity], FakeCorpus]:
    org = make_org(kind)
    corpus = FakeCorpus(org)
    acts = SCENARIOS[name](org, corpus, START, days, random.Random(f"{seed}:{name}"), **params)
    return acts, corpus


def malicious(acts: list[Activity]) -> list[Activity]:
    return [a for a in acts if a.scenario is not None]


# ------------------------------------------------------------------------------------ registry


def test_registry_lists_every_scenario_with_docs() -> None:
    assert set(SCENARIOS) == EXPECTED
    for name, sc in SCENARIOS.items():
        assert sc.name == name
        assert sc.summary and sc.doc
        assert sc.parameters(), name
        for param in sc.parameters():
            assert f"{param}" in sc.doc, f"{name}: parameter {param} undocumented"
        assert set(sc.org_kinds) <= {"cloud", "onprem", "hybrid"} and sc.org_kinds
        assert sc.entity_type in ("user", "host")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_deterministic_tagged_and_inside_the_period(name: str) -> None:
    a, _ = run(name, seed=7)
    b, _ = run(name, seed=7)
    c, _ = run(name, seed=8)
    assert a == b
    assert a != c
    begin, end = period(START, DAYS)
    assert malicious(a), name
    assert [x.time for x in a] == sorted(x.time for x in a)
    for x in a:
        assert x.time.tzinfo is not None and x.time.utcoffset() == timedelta(0)
        assert begin <= x.time < end
        assert x.scenario in (name, None)
    assert len(malicious(a)) >= len(a) - 1  # only token-replay returns one benign activity


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("kind", ["cloud", "onprem", "hybrid"])
def test_many_seeds_and_short_periods(name: str, kind: str) -> None:
    for seed in range(6):
        for days in (1, 7, 30):
            acts, _ = run(name, seed=seed, kind=kind, days=days)
            _, end = period(START, days)
            assert all(a.time < end for a in acts)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_message_read_was_in_the_mailbox_then(name: str) -> None:
    acts, corpus = run(name, seed=3)
    for a in acts:
        if isinstance(a, MailboxRead):
            box = corpus.mailbox(a.user)
            for m in a.messages:
                assert box.arrival(m.message_id) <= a.time, (name, m.message_id)
                assert m in box.messages_in(m.folder, a.time)


def test_overriding_a_parameter_keeps_the_others() -> None:
    org = make_org()
    base = apt_imap_mod.defaults(org, START, DAYS, random.Random("p"))
    other = next(u.upn for u in org.users if u.upn != base.victim and u.role != "service")
    acts, _ = run("apt-imap", seed=1, victim=other, duration_days="25")
    assert {a.user for a in acts} == {other}
    acts_default, _ = run("apt-imap", seed=1)
    assert acts[0].network == acts_default[0].network  # the VPS did not change with the victim
    assert acts[0].time == acts_default[0].time  # nor the start
    days = {a.time.astimezone(SHANGHAI).date() for a in acts}
    assert (max(days) - min(days)).days < 25


def test_bad_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown scenario parameter"):
        run("apt-imap", colour="red")
    with pytest.raises(ConfigError, match="not a int"):
        run("apt-imap", duration_days="many")
    with pytest.raises(ConfigError, match="no user"):
        run("bec", victim="nobody@example.go.jp")
    with pytest.raises(ConfigError, match="none of the networks"):
        run("apt-imap", ip="8.8.8.8")
    with pytest.raises(ConfigError, match="schedule"):
        run("apt-cloud", schedule="sometimes")


# ------------------------------------------------------------------------------------ networks


def test_every_attacker_prefix_resolves_as_claimed() -> None:
    """Each address of each /24 must enrich to the country and AS the scenario claims."""
    enricher = Enricher()
    for p in ALL_PREFIXES:
        for host in ipaddress.ip_network(p.cidr).hosts():
            country, city, _, _, asn, as_org, net_class = enricher.lookup(str(host))
            assert (country, as_org) == (p.country, p.as_org), (p.cidr, str(host))
            assert asn in (None, p.asn), p.cidr
            assert net_class in ("unknown", p.net_class), p.cidr
            if p.city:
                assert city == p.city, p.cidr


# ---------------------------------------------------------------------------- attack by attack


def test_apt_imap_office_hours_domestic_vps_no_failures() -> None:
    acts, _ = run("apt-imap", seed=2, kind="onprem")
    signins = [a for a in acts if isinstance(a, SignIn)]
    reads = [a for a in acts if isinstance(a, MailboxRead)]
    assert len(signins) == len(reads) >= 10
    jp = {str(ipaddress.ip_network(p.cidr)) for p in JP_HOSTING}
    for s in signins:
        assert s.success and s.client is not None and s.client.protocol == "imap" and s.client.kind == "script"
        assert s.network.country == "JP" and s.network.net_class == "hosting"
        assert any(ipaddress.ip_address(s.network.ip) in ipaddress.ip_network(c) for c in jp)
        local = s.time.astimezone(SHANGHAI)
        assert cn_workday(local.date())
        assert 9 <= local.hour + local.minute / 60 < 18 and not 12 <= local.hour + local.minute / 60 < 13.5
    days = {s.time.astimezone(SHANGHAI).date() for s in signins}
    assert (max(days) - min(days)).days >= 14  # weeks, not one burst
    ids = [m.message_id for r in reads for m in r.messages]
    assert len(ids) == len(set(ids))  # the script remembers what it fetched
    assert max(len(r.messages) for r in reads) <= 150  # modest per session
    assert any(m.folder == "Archive/2023" for r in reads for m in r.messages)  # the crawl reaches old folders
    sessions = [r.session_id for r in reads]
    assert sessions == [s.session_id for s in signins] and len(set(sessions)) == len(sessions)


def test_apt_imap_mimic_hides_in_the_victims_habits() -> None:
    org = make_org("onprem")
    acts = SCENARIOS["apt-imap"](org, FakeCorpus(org), START, DAYS, random.Random("2:apt-imap"), mimic="true")
    signins = [a for a in acts if isinstance(a, SignIn)]
    assert len(signins) >= 10
    victim = org.user(signins[0].user)
    start, end = victim.work_hours
    for s in signins:
        assert s.network.asn == victim.home.asn and s.network.net_class == victim.home.net_class
        assert any(ipaddress.ip_address(s.network.ip) in ipaddress.ip_network(c) for c in victim.home_pool)
        local = s.time.astimezone(TOKYO)
        assert local.weekday() < 5 and start <= local.hour + local.minute / 60 < end
        own = [c for c in victim.clients if c.protocol == "imap"]
        assert s.client is not None and (s.client == own[0] if own else s.client.user_agent != "")
    # Without mimic, the same seed draws the same campaign from a VPS (other values untouched).
    plain = [a for a in run("apt-imap", seed=2, kind="onprem")[0] if isinstance(a, SignIn)]
    assert plain[0].network.net_class == "hosting"


def test_apt_cloud_mimic_hides_in_the_victims_habits() -> None:
    org = make_org("cloud")
    acts = SCENARIOS["apt-cloud"](org, FakeCorpus(org), START, DAYS, random.Random("2:apt-cloud"), mimic="true")
    signins = [a for a in acts if isinstance(a, SignIn)]
    reads = [a for a in acts if isinstance(a, MailboxRead)]
    assert signins and reads
    victim = org.user(signins[0].user)
    start, end = victim.work_hours
    own = [c for c in victim.clients if c.protocol != "imap"]
    for a in (*signins, *reads):
        assert a.network.asn == victim.home.asn and a.network.net_class == victim.home.net_class
        assert any(ipaddress.ip_address(a.network.ip) in ipaddress.ip_network(c) for c in victim.home_pool)
        assert a.client in own
    for s in signins:
        local = s.time.astimezone(TOKYO)
        assert local.weekday() < 5 and start <= local.hour + local.minute / 60 < end
    plain = [a for a in run("apt-cloud", seed=2, kind="cloud")[0] if isinstance(a, SignIn)]
    assert plain[0].network.net_class == "hosting"


def test_apt_imap_sessions_every_few_hours() -> None:
    acts, _ = run("apt-imap", seed=4, interval_hours=3.0, jitter_minutes=20.0)
    times = [a.time for a in acts if isinstance(a, SignIn)]
    same_day = [
        (b - a).total_seconds() / 3600
        for a, b in itertools.pairwise(times)
        if a.astimezone(SHANGHAI).date() == b.astimezone(SHANGHAI).date()
    ]
    # 3 h +- 20 min; a gap ending in the lunch break waits until after it (up to 1.5 h + 36 min more)
    assert same_day and all(2.6 <= g <= 5.5 for g in same_day)
    assert 2.6 <= statistics.median(same_day) <= 3.5


def test_gateway_implant_beacons_and_uploads() -> None:
    acts, _ = run("gateway-implant", seed=5, interval_minutes=10.0, jitter_fraction=0.1)
    conns = [a for a in acts if isinstance(a, Connection)]
    assert len(conns) == len(acts) and conns
    assert {c.user for c in conns} == {"mx1"}
    assert len({c.dst_ip for c in conns}) == 1 and {c.dst_port for c in conns} == {443}
    assert conns[0].network.ip == "192.0.2.25"
    beacons = [c for c in conns if c.bytes_orig < 2000]
    uploads = [c for c in conns if c.bytes_orig >= 1_000_000]
    assert len(beacons) + len(uploads) == len(conns) and uploads
    gaps = [(b.time - a.time).total_seconds() / 60 for a, b in itertools.pairwise(beacons)]
    assert 9.5 <= statistics.median(gaps) <= 10.5
    assert min(gaps) >= 9.0
    ips = attacker_ips(make_org(), acts)
    assert ips == [conns[0].dst_ip]
    assert not ipaddress.ip_address(ips[0]).is_private


def test_apt_cloud_token_then_periodic_binds_and_syncs() -> None:
    acts, corpus = run("apt-cloud", seed=6, kind="cloud")
    signins = [a for a in acts if isinstance(a, SignIn)]
    reads = [a for a in acts if isinstance(a, MailboxRead)]
    assert signins[0].interactive and all(not s.interactive for s in signins[1:])
    assert len({s.session_id for s in signins} | {r.session_id for r in reads}) == 1
    apps = {MS_OFFICE[0], GRAPH_CLI[0], AZURE_PS[0]}
    assert all(s.client is not None and s.client.app_id in apps and s.client.kind == "script" for s in signins)
    assert {s.network.net_class for s in signins} == {"hosting"}
    assert {r.access_type for r in reads} == {"Bind", "Sync"}
    box = corpus.mailbox(signins[0].user)
    for r in reads:
        if r.access_type == "Sync":  # a Sync reads every message in the synced folder at that time
            assert len(r.folders) == 1
            assert r.messages == box.messages_in(r.folders[0], r.time)
    span = reads[-1].time - reads[0].time
    assert span >= timedelta(days=10)


def test_bec_playbook() -> None:
    acts, _ = run("bec", seed=9, kind="cloud", forward_method="mailbox", delete_sent=True)
    victim = attack_entity("bec", acts)
    first = next(a for a in acts if isinstance(a, SignIn) and a.success)
    assert first.network.country != "JP"
    rules = [a for a in acts if isinstance(a, MailboxChange) and a.operation == "New-InboxRule"]
    assert rules and rules[0].parameters["MoveToFolder"] in ("RSS Subscriptions", "Conversation History", "RSS Feeds")
    assert rules[0].parameters["SubjectOrBodyContainsWords"]
    fwd = [a for a in acts if isinstance(a, MailboxChange) and a.operation == "Set-Mailbox"]
    assert fwd and fwd[0].parameters["ForwardingSmtpAddress"].startswith("smtp:")
    assert not fwd[0].parameters["ForwardingSmtpAddress"].endswith("example.go.jp")
    sends = [a for a in acts if isinstance(a, MailSend)]
    recipients = {r for s in sends for r in s.recipients}
    assert any(r.endswith("@partner.example.co.jp") for r in recipients)
    assert any(r.endswith("@example.go.jp") for r in recipients)
    assert victim not in recipients
    assert all(s.sender == victim and s.message_id.startswith("<") for s in sends)
    deletes = [a for a in acts if isinstance(a, MailboxChange) and a.operation in ("SoftDelete", "HardDelete")]
    assert {d.messages[0].message_id for d in deletes} == {s.message_id for s in sends}
    assert rules[0].time < sends[0].time


def test_bec_forwarding_rule_variant() -> None:
    acts, _ = run("bec", seed=9, forward_method="rule", forward_to="pay77@gmail.com")
    rules = [a for a in acts if isinstance(a, MailboxChange) and a.operation == "New-InboxRule"]
    assert [r.parameters.get("ForwardTo") for r in rules].count("pay77@gmail.com") == 1
    assert not any(isinstance(a, MailboxChange) and a.operation == "Set-Mailbox" for a in acts)


def test_spray_many_accounts_one_range_one_success() -> None:
    org = make_org("cloud")
    acts, _ = run("spray", seed=11, kind="cloud", rounds=3, target_fraction=0.9, invalid_fraction=0.05)
    signins = [a for a in acts if isinstance(a, SignIn)]
    failures = [s for s in signins if not s.success]
    users = {u.upn for u in org.users}
    sprayed = {s.user for s in failures if s.user in users}
    assert len(sprayed) >= 0.8 * len(users)
    per_user: dict[str, int] = {}
    for s in failures:
        per_user[s.user] = per_user.get(s.user, 0) + 1
    assert max(per_user.values()) <= 3  # few attempts per account
    assert any(s.error_code == 50034 and s.user not in users for s in failures)  # guessed addresses
    nets = {ipaddress.ip_network(p.cidr) for p in SPRAY_HOSTING}
    owner = {n for n in nets if any(ipaddress.ip_address(s.network.ip) in n for s in signins)}
    assert len(owner) == 1 and len({s.network.ip for s in signins}) >= 3
    victim = attack_entity("spray", acts)
    successes = [s for s in signins if s.success]
    assert {s.user for s in successes} == {victim}
    hit = successes[0]
    reads = [a for a in acts if isinstance(a, MailboxRead)]
    assert reads and all(r.user == victim and r.network.ip == hit.network.ip and r.time > hit.time for r in reads)
    assert set(attacker_ips(org, acts)) == {s.network.ip for s in signins}


def test_spray_on_prem_uses_imap_or_smtp() -> None:
    acts, _ = run("spray", seed=12, kind="onprem")
    protocols = {a.client.protocol for a in acts if isinstance(a, SignIn) and not a.success and a.client}
    assert protocols in ({"imap"}, {"smtp"})
    assert all(a.error_code == 0 for a in acts if isinstance(a, SignIn))


def test_oauth_consent_then_app_reads() -> None:
    org = make_org("cloud")
    acts, _ = run("oauth-consent", seed=13, kind="cloud")
    consent = next(a for a in acts if isinstance(a, Consent))
    assert {"Mail.Read", "offline_access", "User.Read"} <= set(consent.scopes)
    assert consent.network in OFFICE + OFFICE_AFTER  # the victim consents from work
    reads = [a for a in acts if isinstance(a, MailboxRead)]
    assert reads and all(r.client is not None and r.client.app_id == consent.app_id for r in reads)
    assert {r.network.net_class for r in reads} == {"hosting"}
    assert reads[0].access_type == "Sync" and reads[-1].time - reads[0].time >= timedelta(days=2)
    assert all(r.time > consent.time for r in reads)
    assert consent.network.ip not in attacker_ips(org, acts)
    assert attacker_ips(org, acts) == sorted({r.network.ip for r in reads})


def test_token_replay_same_session_distant_network() -> None:
    acts, _ = run("token-replay", seed=14, kind="cloud", delay_minutes=12.0)
    legit = [a for a in acts if a.scenario is None]
    assert len(legit) == 1 and isinstance(legit[0], SignIn) and legit[0].interactive
    replay = [a for a in acts if isinstance(a, SignIn) and a.scenario]
    assert replay and all(not s.interactive and s.session_id == legit[0].session_id for s in replay)
    assert replay[0].time - legit[0].time == timedelta(minutes=12)
    assert all(s.network.country not in ("JP", "") and s.network.net_class == "hosting" for s in replay)
    reads = [a for a in acts if isinstance(a, MailboxRead)]
    assert reads and all(r.session_id == legit[0].session_id for r in reads)


def test_insider_export_by_an_admin_after_hours() -> None:
    org = make_org("cloud")
    acts, _ = run("insider-export", seed=15, kind="cloud", grant_role=True)
    assert all(isinstance(a, AdminAction) for a in acts)
    actor = attack_entity("insider-export", acts)
    assert actor in org.admins
    ops = [a.operation for a in acts if isinstance(a, AdminAction)]
    for op in (
        "New-ComplianceSearch",
        "Start-ComplianceSearch",
        "New-ComplianceSearchAction",
        "New-MailboxExportRequest",
    ):
        assert op in ops
    assert ops[0] == "New-ManagementRoleAssignment"
    search = next(a for a in acts if isinstance(a, AdminAction) and a.operation == "New-ComplianceSearch")
    targets = search.parameters["ExchangeLocation"].split(",")
    assert targets and actor not in targets
    export = next(a for a in acts if isinstance(a, AdminAction) and a.operation == "New-MailboxExportRequest")
    assert export.parameters["FilePath"].endswith(".pst") and export.parameters["Mailbox"] in targets
    local = acts[0].time.astimezone(TOKYO)
    assert local.weekday() >= 5 or local.hour >= 19
    assert attacker_ips(org, acts) == []  # the insider's own networks are not attacker addresses


def test_utc_period_is_tokyo_days() -> None:
    begin, end = period(START, 2)
    assert begin == datetime(2024, 3, 31, 15, 0, tzinfo=UTC)
    assert end - begin == timedelta(days=2)


def test_avoid_steers_the_victim_only() -> None:
    org = make_org()
    for name in sorted(EXPECTED - {"gateway-implant", "insider-export"}):
        first, _ = run(name, seed=21)
        taken = attack_entity(name, first)
        again, _ = run(name, seed=21, avoid=[taken, "someone@else.example"])
        assert attack_entity(name, again) != taken, name
        assert attacker_ips(org, again) == attacker_ips(org, first), name


def test_against_the_real_org_and_corpus(tmp_path: Path) -> None:
    """The scenarios against build_org + build_corpus: the Corpus API they were written to."""
    try:
        from dwelltime.simulate.corpus import build_corpus
        from dwelltime.simulate.org import build_org
    except ImportError:  # pragma: no cover - written by another component
        pytest.skip("org / corpus builders not available")
    org = build_org("hybrid", 25, 5, START, 30)
    corpus = build_corpus(org, START, 30, 5, tmp_path)
    used: list[str] = []
    for name, sc in sorted(SCENARIOS.items()):
        acts = sc(org, corpus, START, 30, random.Random(f"5:{name}"), avoid=used)
        assert malicious(acts), name
        entity = attack_entity(name, acts)
        if sc.entity_type == "user" and name != "insider-export":
            assert entity not in used, name
            used.append(entity)
        for a in acts:
            if isinstance(a, MailboxRead):
                box = corpus.mailbox(a.user)
                for m in a.messages:
                    assert m in box.messages_in(m.folder, a.time), (name, m.message_id)
    reads = sum(
        len(a.messages)
        for a in SCENARIOS["apt-imap"](org, corpus, START, 30, random.Random("5:apt-imap"))
        if isinstance(a, MailboxRead)
    )
    assert reads > 20
