"""Lateral phishing: the takeover sign-in before a burst is found, named, and raises the score."""

from __future__ import annotations

from dwelltime import duck
from dwelltime.detect.base import Case
from dwelltime.detect.cases import events_table
from dwelltime.detect.rules.mail_lateral_phishing_burst import DETECTION
from dwelltime.detect.runner import run_detections


def _rows(case: Case) -> list[dict[str, object]]:
    con = duck.connect()
    con.register("case_events", events_table(list(case.events)))
    con.execute("CREATE TABLE events AS SELECT * FROM case_events")
    return run_detections(con, [DETECTION]).to_pylist()


def _case(name: str) -> Case:
    return next(c for c in DETECTION.positives if name in c.name)


def test_burst_after_a_sign_in_from_a_new_network_names_it() -> None:
    (alert,) = _rows(_case("after the account's first sign-in"))
    assert "137 min after the account's first sign-in from AS14061 (DigitalOcean, hosting, JP)" in str(
        alert["explanation"]
    )
    assert "198.51.100.9" in alert["src_ips"]  # type: ignore[operator]
    assert len(alert["event_uids"]) == 2  # type: ignore[arg-type]
    (plain,) = _rows(_case("never written to"))
    assert float(alert["score"]) > float(plain["score"])  # type: ignore[arg-type]
    assert "sign-in" not in str(plain["explanation"])


def test_sign_in_from_a_usual_network_is_not_a_takeover() -> None:
    case = _case("after the account's first sign-in")
    usual = tuple(e for e in case.events if e.get("src_asn") != 14061)
    (alert,) = _rows(Case("no VPS", usual, 1))
    assert "sign-in" not in str(alert["explanation"])
