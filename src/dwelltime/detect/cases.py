"""Building test events for detection cases, compactly and in the event schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa

from dwelltime.schema import EVENT_SCHEMA
from dwelltime.sources.base import uid_of


def ev(time: str, **fields: Any) -> dict[str, Any]:
    """One event: ISO time (UTC if no offset) plus any event fields; uid and provenance filled in."""
    moment = datetime.fromisoformat(time.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.now().astimezone().tzinfo).astimezone()
    record = {"time": moment, "outcome": "success", **fields}
    key = "|".join(f"{k}={record[k]}" for k in sorted(record))
    record.setdefault("event_uid", uid_of("case", key))
    record.setdefault("source_format", "case")
    record.setdefault("source_file", "case")
    record.setdefault("source_line", 0)
    record.setdefault("raw", key)
    if isinstance(record.get("params"), dict):
        record["params"] = list(record["params"].items())
    return record


def signin(
    time: str, user: str, ip: str, asn: int, as_org: str, net_class: str, country: str = "JP", **fields: Any
) -> dict[str, Any]:
    """A successful sign-in from an enriched address (the networks the sign-in and model cases vary)."""
    return ev(
        time,
        event_class="auth",
        action="login",
        user=user,
        src_ip=ip,
        src_asn=asn,
        src_as_org=as_org,
        src_net_class=net_class,
        src_country=country,
        **fields,
    )


def events_table(events: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(list(events), schema=EVENT_SCHEMA)
