"""Identity resolution from the logs themselves: SASL sender, LMTP delivery, unique local part, analyst table."""

from __future__ import annotations

from pathlib import Path

from dwelltime import duck
from dwelltime.detect.cases import ev, events_table
from dwelltime.detect.identity import build_identities, resolve_events_view

EVENTS = [
    ev("2024-04-01T00:00:00Z", event_class="auth", action="login", user="s.ito@agency.example.jp"),
    ev("2024-04-01T00:00:00Z", event_class="auth", action="login", user="t.kato@agency.example.jp"),
    ev("2024-04-01T00:00:00Z", event_class="auth", action="login", user="m.ueda@agency.example.jp"),
    # Postfix: SASL login kato-t submits as t.kato@...
    ev(
        "2024-04-01T01:00:00Z",
        event_class="mail_flow",
        action="deliver",
        source_format="postfix",
        user="kato-t",
        sender="t.kato@agency.example.jp",
        recipients=["x@partner.example.com"],
    ),
    # Local delivery: Postfix delivers <m1> to s.ito@..., Dovecot's LMTP saves <m1> for login ito-s.
    ev(
        "2024-04-01T02:00:00Z",
        event_class="mail_flow",
        action="deliver",
        source_format="postfix",
        sender="x@partner.example.com",
        recipients=["s.ito@agency.example.jp"],
        message_ids=["<m1@p>"],
    ),
    ev(
        "2024-04-01T02:00:01Z",
        event_class="other",
        action="dovecot",
        source_format="dovecot",
        raw="2024-04-01T11:00:01+09:00 mta dovecot: lmtp(ito-s)<1><abc>: msgid=<m1@p>: saved mail to INBOX",
    ),
    ev(
        "2024-04-02T02:00:00Z",
        event_class="auth",
        action="login",
        source_format="dovecot",
        user="ito-s",
        protocol="imap",
    ),
    ev(
        "2024-04-02T02:00:00Z",
        event_class="auth",
        action="login",
        source_format="dovecot",
        user="m.ueda",
        protocol="imap",
    ),
]


def _con() -> object:
    con = duck.connect()
    con.register("case_events", events_table(EVENTS))
    con.execute("CREATE TABLE events_raw AS SELECT * FROM case_events")
    return con


def test_logins_resolve_to_the_person(tmp_path: Path) -> None:
    con = _con()
    identities = build_identities(con)  # type: ignore[arg-type]
    assert identities["kato-t"] == "t.kato@agency.example.jp"  # SASL sender
    assert identities["ito-s"] == "s.ito@agency.example.jp"  # LMTP delivery of the same message
    assert identities["m.ueda"] == "m.ueda@agency.example.jp"  # unique local part
    resolve_events_view(con, identities)  # type: ignore[arg-type]
    users = {r[0] for r in con.execute("SELECT user FROM events WHERE protocol = 'imap'").fetchall()}  # type: ignore[attr-defined]
    assert users == {"s.ito@agency.example.jp", "m.ueda@agency.example.jp"}


def test_the_analysts_table_wins(tmp_path: Path) -> None:
    table = tmp_path / "identities.csv"
    table.write_text("login,principal\nito-s,someone.else@agency.example.jp\n")
    assert build_identities(_con(), table)["ito-s"] == "someone.else@agency.example.jp"  # type: ignore[arg-type]
