"""STIX 2.1 bundle (validated by stix2, parsed back with custom content refused) and MISP event (reloaded by PyMISP)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import stix2
from notify_fixtures import INCIDENT, NASTY_UA, exposure, hostile
from notify_helpers import run
from pymisp import MISPEvent

from dwelltime.notify.indicators import gather
from dwelltime.notify.stix import UA_PATH, build_bundle, pattern_string, quote

NOW = datetime(2024, 4, 10, 12, 0, tzinfo=UTC)


def _bundle(tmp_path: Path, **options: Any) -> Any:
    run(tmp_path, **options)
    text = (tmp_path / "out" / "stix-bundle.json").read_text(encoding="utf-8")
    return stix2.parse(text, allow_custom=False)


def _of(bundle: Any, kind: str) -> list[Any]:
    return [o for o in bundle.objects if o.type == kind]


def test_bundle_parses_back_with_the_expected_objects(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, attacker_domains=["evil-login.example.net"])
    (identity,) = _of(bundle, "identity")
    assert identity.name == "Example株式会社" and identity.identity_class == "organization"
    patterns = {i.pattern for i in _of(bundle, "indicator")}
    assert "[ipv4-addr:value = '203.0.113.45']" in patterns
    assert "[ipv6-addr:value = '2001:db8::7']" in patterns
    assert f"[{UA_PATH} = 'python-requests/2.31.0']" in patterns
    assert "[domain-name:value = 'evil-login.example.net']" in patterns
    assert any("00000002-0000-0ff1-ce00-000000000000" in p for p in patterns)
    assert "198.51.100.10" not in json.dumps(json.loads(bundle.serialize()))  # the legitimate session is not shared
    refs = {
        ap.external_references[0].external_id: ap.external_references[0].source_name
        for ap in _of(bundle, "attack-pattern")
    }
    assert refs == {"T1078.004": "mitre-attack", "T1114.002": "mitre-attack", "T1564.008": "mitre-attack"}
    indicates = _of(bundle, "relationship")
    assert indicates and all(r.relationship_type == "indicates" for r in indicates)
    assert all(
        r.source_ref.startswith("indicator--") and r.target_ref.startswith("attack-pattern--") for r in indicates
    )
    (observed,) = _of(bundle, "observed-data")
    assert observed.number_observed == 2
    sightings = _of(bundle, "sighting")
    assert len(sightings) == len(_of(bundle, "indicator"))
    assert all(s.where_sighted_refs == [identity.id] and s.observed_data_refs == [observed.id] for s in sightings)
    for obj in bundle.objects:
        if obj.type != "marking-definition":
            assert obj.object_marking_refs == [stix2.TLP_AMBER.id], obj.type
    assert stix2.TLP_AMBER.id in {o.id for o in _of(bundle, "marking-definition")}


def test_no_victim_data_in_the_bundle_or_the_event(tmp_path: Path) -> None:
    run(tmp_path)
    for name in ("stix-bundle.json", "misp-event.json"):
        text = (tmp_path / "out" / name).read_text(encoding="utf-8")
        for secret in ("taro.yamada", "supplier.co.jp", "見積書", "jane@customer.com"):
            assert secret not in text, (name, secret)


@pytest.mark.parametrize("level", ["white", "green", "amber", "red"])
def test_tlp_levels_use_the_stix2_marking_definitions(tmp_path: Path, level: str) -> None:
    bundle = _bundle(tmp_path, tlp=level)
    marking = getattr(stix2, f"TLP_{level.upper()}")
    assert {o.id for o in _of(bundle, "marking-definition")} == {marking.id}
    event = MISPEvent()
    event.load_file(str(tmp_path / "out" / "misp-event.json"))
    assert f"tlp:{level}" in {t.name for t in event.tags}


def test_user_agent_with_quote_and_backslash_is_a_valid_pattern(tmp_path: Path) -> None:
    assert quote("it's \\ x") == "'it\\'s \\\\ x'"
    indicators = gather(hostile(), INCIDENT)
    bundle = build_bundle(indicators, org_name="Us", tlp="amber", now=NOW)  # validated as built
    expected = pattern_string(UA_PATH, NASTY_UA)
    assert expected in {o.pattern for o in bundle.objects if o.type == "indicator"}
    reparsed = stix2.parse(bundle.serialize(), allow_custom=False)
    assert expected in {o.pattern for o in reparsed.objects if o.type == "indicator"}


def test_ids_are_stable_across_runs(tmp_path: Path) -> None:
    first = build_bundle(gather(exposure(), INCIDENT), org_name="Us", tlp="amber", now=NOW)
    second = build_bundle(gather(exposure(), INCIDENT), org_name="Us", tlp="amber", now=NOW)
    assert [o.id for o in first.objects] == [o.id for o in second.objects]


def test_malformed_values_are_skipped_not_shared() -> None:
    doc = exposure()
    doc["attacker"]["ips"].append("not-an-ip")
    indicators = gather(doc, INCIDENT, extra_domains=["bad domain!"])
    assert {ip.address for ip in indicators.ips} == {"203.0.113.45", "2001:db8::7"}
    assert any("not-an-ip" in s for s in indicators.skipped) and any("bad domain" in s for s in indicators.skipped)


def test_misp_event_loads_back_with_its_attributes(tmp_path: Path) -> None:
    run(tmp_path, attacker_domains=["evil-login.example.net"])
    event = MISPEvent()
    event.load_file(str(tmp_path / "out" / "misp-event.json"))
    assert "INC-0a1b2c3d4e5f" in event.info
    assert (event.distribution, event.threat_level_id, event.analysis) == (1, 1, 1)
    by_type: dict[str, set[str]] = {}
    for attribute in event.attributes:
        by_type.setdefault(attribute.type, set()).add(attribute.value)
    assert by_type["user-agent"] == {"python-requests/2.31.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}
    assert by_type["domain"] == {"evil-login.example.net"}
    assert "00000002-0000-0ff1-ce00-000000000000" in by_type["text"]
    assert by_type["AS"] == {"64500"}
    ips = {a.value for o in event.objects if o.name == "ip-port" for a in o.attributes if a.object_relation == "ip-src"}
    assert ips == {"203.0.113.45", "2001:db8::7"}
    tags = {t.name for t in event.tags}
    assert 'misp-galaxy:mitre-attack-pattern="Remote Email Collection - T1114.002"' in tags
    assert "tlp:amber" in tags


def test_hostile_user_agent_survives_misp_round_trip(tmp_path: Path) -> None:
    run(tmp_path, hostile())
    event = MISPEvent()
    event.load_file(str(tmp_path / "out" / "misp-event.json"))
    assert NASTY_UA in {a.value for a in event.attributes if a.type == "user-agent"}
