"""The two open-rule-set baselines issue 5 compares against, as those rule sets write them.

* ``two countries in 15 minutes``: a user's successful sign-ins from two or more countries
  within 15 minutes (Elastic's "impossible travel" shape);
* ``new ASN in 7 days``: a successful sign-in from an AS the user did not sign in from in
  the previous 7 days (given some sign-in in those 7 days).

Each hit is an incident, as those rules page directly; hits of one user within 24 hours are
one incident.  Scored with the same ``score`` as ``dwelltime eval``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from dwelltime.detect.identity import build_identities, resolve_events_view
from dwelltime.detect.runner import build_shared
from dwelltime.evaluate import Incident, load_truth, score
from dwelltime.store.engine import connect
from dwelltime.workspace import Workspace

BASELINES: dict[str, str] = {
    "two countries in 15 minutes": """
        SELECT l.user, l.time, l.src_ip
        FROM logins l
        WHERE l.outcome = 'success' AND l.country IS NOT NULL AND EXISTS (
            SELECT 1 FROM logins p
            WHERE p.user = l.user AND p.outcome = 'success' AND p.country IS NOT NULL AND p.country <> l.country
              AND p.time < l.time AND p.time >= l.time - INTERVAL 15 MINUTE)
    """,
    "new ASN in 7 days": """
        SELECT l.user, l.time, l.src_ip
        FROM logins l
        WHERE l.outcome = 'success' AND l.asn IS NOT NULL
          AND EXISTS (SELECT 1 FROM logins p WHERE p.user = l.user AND p.outcome = 'success'
                      AND p.time < l.time AND p.time >= l.time - INTERVAL 7 DAY)
          AND NOT EXISTS (SELECT 1 FROM logins p WHERE p.user = l.user AND p.outcome = 'success' AND p.asn = l.asn
                          AND p.time < l.time AND p.time >= l.time - INTERVAL 7 DAY)
    """,
}


def run_baselines(workspace: Path, truth_path: Path) -> dict[str, dict[str, object]]:
    con = connect(Workspace(workspace))
    con.execute("ALTER VIEW events RENAME TO events_raw")
    resolve_events_view(con, build_identities(con, workspace / "identities.csv"))
    build_shared(con)
    truth = load_truth(truth_path)
    out: dict[str, dict[str, object]] = {}
    for name, query in BASELINES.items():
        hits = sorted(con.execute(query).fetchall(), key=lambda r: (r[1], r[0]))
        incidents: list[Incident] = []
        last_open: dict[str, Incident] = {}
        for user, when, ip in hits:
            current = last_open.get(user)
            if current is not None and when - current.opened_at <= timedelta(hours=24):
                continue
            incident = Incident(
                id=f"BASE-{len(incidents)}",
                entity=str(user),
                opened_at=when,
                first_event_at=when,
                last_event_at=when,
                src_ips=(str(ip),) if ip else (),
            )
            incidents.append(incident)
            last_open[user] = incident
        report = score(truth, incidents)
        out[name] = {
            "incidents": len(incidents),
            "detected": report.detected,
            "attacks": len(report.attacks),
            "missed": sorted(a.scenario for a in report.attacks if not a.detected),
            "median_ttd_seconds": report.median_ttd_seconds,
            "false_incidents": len(report.false_incidents),
            "false_per_1000_users_week": round(report.false_per_1000_users_week, 2),
        }
    con.close()
    return out
