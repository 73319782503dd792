"""One person, one entity: resolving on-prem login names to the principal they belong to.

Dovecot and Postfix log a login name (``ito-s``); Microsoft 365 and Entra log the
principal (``s.ito@agency.go.jp``).  Detections must see one person, or an attacker
using the on-prem name of someone whose history lives in the cloud logs looks like a
stranger with no history.  The evidence, strongest first, all from the logs themselves:

1. an analyst's table, ``identities.csv`` in the workspace (``login,principal``), when given;
2. Postfix SASL submissions: the address a login sends as, most often;
3. local delivery: Dovecot's LMTP ``lmtp(login) ... msgid=<m>: saved mail`` joined with the
   Postfix delivery of the same message to a single recipient address;
4. a login equal to the local part of exactly one principal.

The mapping is identity, not behaviour, so it is computed over all stored data.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pyarrow as pa

IDENTITY_SQL = r"""
WITH
sasl AS (
    SELECT lower(user) AS login, lower(sender) AS principal, count(*) AS n, 2 AS rank
    FROM events_raw
    WHERE source_format = 'postfix' AND event_class = 'mail_flow'
      AND user IS NOT NULL AND user NOT LIKE '%@%' AND sender LIKE '%@%'
    GROUP BY ALL
),
lmtp AS (
    SELECT lower(regexp_extract(raw, 'lmtp\(([^)@]+)\)', 1)) AS login,
        regexp_extract(raw, 'msgid=(<[^>]+>)', 1) AS msgid
    FROM events_raw
    WHERE source_format = 'dovecot' AND raw LIKE '%lmtp(%' AND raw LIKE '%saved mail%'
),
delivered AS (
    SELECT unnest(message_ids) AS msgid, lower(recipients[1]) AS principal
    FROM events_raw
    WHERE source_format = 'postfix' AND event_class = 'mail_flow' AND len(recipients) = 1
),
local_delivery AS (
    SELECT l.login, d.principal, count(*) AS n, 3 AS rank
    FROM lmtp l JOIN delivered d ON l.msgid = d.msgid
    WHERE l.login <> '' AND d.principal LIKE '%@%'
    GROUP BY ALL
),
principals AS (SELECT DISTINCT lower(user) AS principal FROM events_raw WHERE user LIKE '%@%'),
local_part AS (
    SELECT split_part(principal, '@', 1) AS login, min(principal) AS principal, 1 AS n, 4 AS rank
    FROM principals GROUP BY 1 HAVING count(*) = 1
),
evidence AS (
    SELECT login, principal, n, rank FROM sasl
    UNION ALL SELECT login, principal, n, rank FROM local_delivery
    UNION ALL SELECT login, principal, n, rank FROM local_part
)
SELECT login, arg_min(principal, rank * 1000000 - n) AS principal
FROM evidence
WHERE login IS NOT NULL AND login <> principal
GROUP BY login
"""


def build_identities(con: duckdb.DuckDBPyConnection, analyst_table: Path | None = None) -> dict[str, str]:
    """login -> principal, from ``events_raw`` (and the analyst's table, which wins)."""
    mapping = {str(login): str(principal) for login, principal in con.execute(IDENTITY_SQL).fetchall()}
    if analyst_table is not None and analyst_table.exists():
        with analyst_table.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                if len(row) >= 2 and row[0].strip() and not row[0].startswith("#") and row[0].strip() != "login":
                    mapping[row[0].strip().lower()] = row[1].strip().lower()
    return mapping


def resolve_events_view(con: duckdb.DuckDBPyConnection, identities: dict[str, str]) -> None:
    """Replace the ``events`` view by one whose ``user`` is the resolved person (``events_raw`` keeps the original)."""
    # One Arrow table in one statement: executemany costs a statement per login (0.5 s for 1,000 people).
    pairs = sorted(identities.items())
    mapping = pa.table(
        {
            "login": pa.array([p[0] for p in pairs], pa.string()),
            "principal": pa.array([p[1] for p in pairs], pa.string()),
        }
    )
    con.register("_identities_arrow", mapping)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE identities AS SELECT login, principal FROM _identities_arrow")
    finally:
        con.unregister("_identities_arrow")
    con.execute(
        "CREATE OR REPLACE VIEW events AS SELECT e.* REPLACE (coalesce(i.principal, e.user) AS user) "
        "FROM events_raw e LEFT JOIN identities i ON lower(e.user) = i.login"
    )
