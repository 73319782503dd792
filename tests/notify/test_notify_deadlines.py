"""The regulators' clocks: GDPR 72 h as an instant, PPC days counted in JST from the day after discovery."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from notify_fixtures import exposure
from notify_helpers import run

from dwelltime.notify.deadlines import JST, compute_deadlines

DISCOVERED = datetime(2024, 4, 10, 9, 0, tzinfo=UTC)  # 18:00 JST


def test_gdpr_72_hours_from_awareness() -> None:
    d = compute_deadlines(DISCOVERED, "option")
    assert d.gdpr_due == datetime(2024, 4, 13, 9, 0, tzinfo=UTC)


def test_ppc_preliminary_3_and_5_days_target_3() -> None:
    d = compute_deadlines(DISCOVERED, "option")
    early, late = d.ppc_preliminary
    assert (early.days, early.day) == (3, date(2024, 4, 13))
    assert (late.days, late.day) == (5, date(2024, 4, 15))
    assert d.ppc_preliminary_target is early
    assert early.due == datetime(2024, 4, 13, 23, 59, 59, tzinfo=JST)
    assert early.weekend  # 2024-04-13 is a Saturday: flagged, not moved


def test_ppc_final_60_days_for_unauthorised_access_else_30() -> None:
    d = compute_deadlines(DISCOVERED, "option", improper_purpose=True)
    assert (d.ppc_final.days, d.ppc_final.day) == (60, date(2024, 6, 9))
    assert (d.ppc_final_standard.days, d.ppc_final_standard.day) == (30, date(2024, 5, 10))
    plain = compute_deadlines(DISCOVERED, "option", improper_purpose=False)
    assert (plain.ppc_final.days, plain.ppc_final.day) == (30, date(2024, 5, 10))


def test_ppc_days_are_counted_on_the_japanese_calendar() -> None:
    # 2024-04-10T16:00Z is already 2024-04-11 01:00 in Tokyo: the count starts a day later than in UTC.
    d = compute_deadlines(datetime(2024, 4, 10, 16, 0, tzinfo=UTC), "option")
    assert d.ppc_preliminary[0].day == date(2024, 4, 14)
    assert d.gdpr_due == datetime(2024, 4, 13, 16, 0, tzinfo=UTC)
    # An offset given on the command line means the same instant.
    same = compute_deadlines(datetime(2024, 4, 11, 1, 0, tzinfo=timezone(timedelta(hours=9))), "option")
    assert same.ppc_preliminary[0].day == date(2024, 4, 14)


def test_deadlines_json_and_the_drafts_show_the_clock(tmp_path: Path) -> None:
    run(tmp_path, discovered_at=DISCOVERED)
    out = tmp_path / "out"
    doc = json.loads((out / "deadlines.json").read_text(encoding="utf-8"))
    assert doc["discovered_at"] == "2024-04-10T09:00:00Z"
    assert doc["discovered_at_source"] == "option"
    assert doc["gdpr_art33"]["due"] == "2024-04-13T09:00:00Z"
    assert doc["ppc_preliminary"]["earliest"]["date_jst"] == "2024-04-13"
    assert doc["ppc_preliminary"]["latest"]["date_jst"] == "2024-04-15"
    assert doc["ppc_preliminary"]["target"]["days"] == 3
    assert doc["ppc_final"]["days"] == 60 and doc["ppc_final"]["date_jst"] == "2024-06-09"
    assert doc["ppc_final"]["standard_30_days"]["date_jst"] == "2024-05-10"
    ppc = (out / "regulators" / "ppc_ja.md").read_text(encoding="utf-8")
    assert "2024-04-10（水）18:00 JST" in ppc  # discovery shown in Japanese time
    assert "2024-04-13（土）" in ppc and "2024-04-15（月）" in ppc and "2024-06-09（日）" in ppc
    gdpr = (out / "regulators" / "gdpr_art33_en.md").read_text(encoding="utf-8")
    assert "2024-04-13 09:00 UTC" in gdpr


def test_discovery_defaults_to_the_exposure_then_the_incident_then_now(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert run(tmp_path / "a").deadlines.discovered_source == "exposure"
    doc = exposure()
    doc["discovered_at"] = None
    result = run(tmp_path / "b", doc)
    assert result.deadlines.discovered_source == "incident"
    assert result.deadlines.discovered_at == datetime(2024, 4, 9, 4, 30, tzinfo=UTC)
