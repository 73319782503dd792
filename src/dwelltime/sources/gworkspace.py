"""Google Workspace Reports API activities (login, token, admin, user_accounts, others).

An *activity* (``kind: admin#reports#activity``) is one actor doing something at
one time; it holds one or more *events* (``events[]``, each a type, a name and
typed ``parameters``).  We write **one row per event**, so ``Chunk.parsed`` counts
activities while the table may hold more rows.  Every row of an activity shares its
raw text and ``source_line``.

Accepted shapes (all through :mod:`dwelltime.sources.jsonrecords`): the API's own
page (``{"items": [...]}``), arrays of activities, one activity per line, the
flattened copies some SIEM connectors write (the API record with each parameter
repeated as a top-level field; we read the API part and ignore the copies), and
activities whose ``events`` is a single object instead of a list (as collectors
that split activities per event write them).

Normalization:

* ``login`` — ``login_success`` / ``login_failure`` are ``auth``/``login`` with the
  outcome; ``logout`` is ``auth``/``logout``; challenges, verifications and the
  account warnings (``suspicious_login``, ``account_disabled_*``...) stay ``auth``
  with their own name as action.  ``auth_method`` is the challenge methods used
  (``password+google_prompt``), else the ``login_type``.
* ``token`` — ``authorize`` is an OAuth grant: ``app_consent``/``consent`` with
  ``app_name``, ``app_id`` (client id) and ``scopes``; ``revoke`` likewise; API
  ``activity`` by an app against Gmail is ``mailbox_access`` (reading mail through a
  consented app is how token thieves read mailboxes).
* ``admin`` / ``user_accounts`` — ``admin``/``admin_change`` with every parameter in
  ``params``; mail interception set up by an admin (email monitors, forwarding,
  Gmail delegation) is recognised by name and becomes ``mailbox_change`` with
  ``forwarding`` / ``mailbox_permission``, ``mailbox`` = the user concerned and
  ``target`` = where mail goes.  Names are matched by pattern (``EMAIL_MONITOR``,
  ``FORWARD``, ``DELEGAT`` within mail settings) because Google adds and renames
  setting events more often than parsers are updated.
* anything else (drive, calendar, mobile, ...) — ``other`` with the event name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from dwelltime.schema import Action, EventClass, Outcome
from dwelltime.sources.base import Chunk, EventRows, ParseContext, Rejected, Source, uid_of
from dwelltime.sources.jsonrecords import (
    canonical_ip,
    iter_json_records,
    parse_time,
    sniff_json,
    unwrap_export,
)

SOURCE_ID = "gws-reports"
UID_NAMESPACE = "gws"
ACTIVITY_KIND = "admin#reports#activity"

_PASSED = ("passed", "challenge passed", "success")
_FAILED = ("failed", "challenge failed", "failure")


def sniff(head: bytes, name: str) -> float:
    """Confident on Reports API activities; 0 on anything else."""
    for record in sniff_json(head, limit=3):
        record = unwrap_export(record)
        if record.get("kind") == ACTIVITY_KIND:
            return 0.95
        ident = record.get("id")
        if isinstance(ident, dict) and "applicationName" in ident and "events" in record:
            return 0.9
    return 0.0


def parse(path: Path, ctx: ParseContext) -> Iterator[Chunk]:
    rows = EventRows(SOURCE_ID, ctx.source_file)
    activities = 0
    for line, raw, record in iter_json_records(path):
        if isinstance(record, Rejected):
            rows.reject(record.line, record.reason, record.raw)
        else:
            problem = _add_activity(rows, line, raw, unwrap_export(record))
            if problem:
                rows.reject(line, problem, raw)
            else:
                activities += 1
        if len(rows) >= ctx.chunk_rows:
            yield rows.take(parsed=activities)
            activities = 0
    if len(rows):
        yield rows.take(parsed=activities)


def _add_activity(rows: EventRows, line: int, raw: str, activity: dict[str, Any]) -> str | None:
    ident = activity.get("id")
    if not isinstance(ident, dict):
        return "not a Workspace activity (no id object)"
    when = parse_time(ident.get("time"))
    if when is None:
        return f"Workspace activity without a valid id.time ({ident.get('time')!r})"
    events = activity.get("events")
    if isinstance(events, dict):
        events = [events]
    if events is None:
        events = []
    if not isinstance(events, list):
        return f"Workspace activity events is a {type(events).__name__}, not a list"
    for event in events:
        if not isinstance(event, dict):
            return f"Workspace event is a {type(event).__name__}, not an object"
    actor = activity.get("actor")
    if not isinstance(actor, dict):
        actor = {}
    app = str(ident.get("applicationName") or "")
    ip_text = activity.get("ipAddress")
    src_ip = canonical_ip(ip_text)
    email = actor.get("email")
    common: dict[str, Any] = {
        "time": when,
        "user": email.lower() if isinstance(email, str) and email else None,
        "user_type": _text(actor.get("callerType")),
        "src_ip": src_ip,
        "tenant": _text(ident.get("customerId")),
    }
    base_params: dict[str, Any] = {
        "applicationName": app or None,
        "uniqueQualifier": _text(ident.get("uniqueQualifier")),
        "actor.profileId": _text(actor.get("profileId")),
        "actor.key": _text(actor.get("key")),
        "ownerDomain": _text(activity.get("ownerDomain")),
    }
    if ip_text and src_ip is None:
        base_params["src_ip_raw"] = ip_text
    seen: Counter[str] = Counter()
    activity_key = f"{app}|{ident.get('time')}|{ident.get('uniqueQualifier')}|{actor.get('profileId') or email}"
    # An activity without events still happened: it becomes one "other" row.
    for event in events or [{}]:
        params = dict(base_params)
        params["event_type"] = _text(event.get("type"))
        values = event_parameters(event)
        params.update(values)
        fields = _classify(app, str(event.get("name") or ""), values)
        fingerprint = orjson.dumps(event, option=orjson.OPT_SORT_KEYS).decode()
        seen[fingerprint] += 1
        key = f"{activity_key}|{fingerprint}|{seen[fingerprint]}"
        rows.add(
            line,
            raw,
            event_uid=uid_of(UID_NAMESPACE, key),
            operation=_text(event.get("name")),
            params=params,
            **common,
            **fields,
        )
    return None


def event_parameters(event: dict[str, Any]) -> dict[str, Any]:
    """An event's ``parameters`` as name -> Python value, whichever typed slot holds it."""
    found: dict[str, Any] = {}
    parameters = event.get("parameters")
    if isinstance(parameters, list):
        for parameter in parameters:
            if isinstance(parameter, dict) and isinstance(parameter.get("name"), str):
                found[parameter["name"]] = _parameter_value(parameter)
    return found


def _parameter_value(parameter: dict[str, Any]) -> Any:
    for slot in ("value", "boolValue", "multiValue"):
        if slot in parameter:
            return parameter[slot]
    if "intValue" in parameter:  # int64 travels as a string in the API's JSON
        return _int(parameter["intValue"])
    if "multiIntValue" in parameter and isinstance(parameter["multiIntValue"], list):
        return [_int(v) for v in parameter["multiIntValue"]]
    if "messageValue" in parameter:
        return _message(parameter["messageValue"])
    if "multiMessageValue" in parameter and isinstance(parameter["multiMessageValue"], list):
        return [_message(m) for m in parameter["multiMessageValue"]]
    return None


def _message(message: Any) -> Any:
    if isinstance(message, dict) and isinstance(message.get("parameter"), list):
        return {p["name"]: _parameter_value(p) for p in message["parameter"] if isinstance(p, dict) and "name" in p}
    return message


def _classify(app: str, name: str, values: dict[str, Any]) -> dict[str, Any]:
    """Event class, action, outcome and the columns specific to the application."""
    if app == "login":
        return _login(name, values)
    if app == "token":
        return _token(name, values)
    if app in ("admin", "user_accounts"):
        return _admin(name, values)
    return {"event_class": EventClass.OTHER.value, "action": name or None, "outcome": Outcome.UNKNOWN.value}


def _login(name: str, values: dict[str, Any]) -> dict[str, Any]:
    action: str = name
    outcome = Outcome.UNKNOWN
    if name == "login_success":
        action, outcome = Action.LOGIN.value, Outcome.SUCCESS
    elif name == "login_failure":
        action, outcome = Action.LOGIN.value, Outcome.FAILURE
    elif name == "logout":
        action, outcome = Action.LOGOUT.value, Outcome.SUCCESS
    elif "login_challenge_status" in values:
        status = str(values["login_challenge_status"]).strip(" .").lower()
        outcome = Outcome.SUCCESS if status in _PASSED else Outcome.FAILURE if status in _FAILED else Outcome.UNKNOWN
    methods = values.get("login_challenge_method")
    if isinstance(methods, str):
        methods = [methods]
    auth_method = "+".join(str(m) for m in methods) if isinstance(methods, list) and methods else None
    failure = _text(values.get("login_failure_type"))
    affected = values.get("affected_email_address")
    return {
        "event_class": EventClass.AUTH.value,
        "action": action or None,
        "outcome": outcome.value,
        "auth_method": auth_method or _text(values.get("login_type")),
        "error_code": failure,
        "status_detail": failure,
        "target": affected.lower() if isinstance(affected, str) else None,
    }


def _token(name: str, values: dict[str, Any]) -> dict[str, Any]:
    app_fields: dict[str, Any] = {
        "app_id": _text(values.get("client_id")),
        "app_name": _text(values.get("app_name")),
    }
    if name in ("authorize", "revoke"):
        return {
            "event_class": EventClass.APP_CONSENT.value,
            "action": Action.CONSENT.value if name == "authorize" else "revoke",
            "outcome": Outcome.SUCCESS.value,
            "scopes": _scopes(values),
            **app_fields,
        }
    api = str(values.get("api_name") or "").lower()
    method = _text(values.get("method_name"))
    if api == "gmail":
        reads = method is not None and method.lower().endswith(("messages.get", "threads.get", "attachments.get"))
        return {
            "event_class": EventClass.MAILBOX_ACCESS.value,
            "action": Action.MAIL_READ.value if reads else method or name,
            "outcome": Outcome.UNKNOWN.value,
            "protocol": "gmail_api",
            "bytes_out": _int(values.get("num_response_bytes")),
            **app_fields,
        }
    return {
        "event_class": EventClass.OTHER.value,
        "action": name or None,
        "outcome": Outcome.UNKNOWN.value,
        **app_fields,
    }


def _scopes(values: dict[str, Any]) -> list[str] | None:
    scope = values.get("scope")
    if isinstance(scope, list) and scope:
        return [str(s) for s in scope]
    if isinstance(scope, str) and scope:
        return scope.split()
    data = values.get("scope_data")
    if isinstance(data, list):
        names = [str(d["scope_name"]) for d in data if isinstance(d, dict) and d.get("scope_name")]
        return names or None
    return None


def _admin(name: str, values: dict[str, Any]) -> dict[str, Any]:
    upper = name.upper()
    setting = str(values.get("SETTING_NAME") or "").upper()
    user_email = _lower(values.get("USER_EMAIL"))
    mail_related = any(word in upper or word in setting for word in ("MAIL", "GMAIL"))
    if "EMAIL_MONITOR" in upper or "FORWARD" in upper or (mail_related and "FORWARD" in setting):
        destination = (
            values.get("EMAIL_MONITOR_DEST_EMAIL")
            or values.get("EMAIL_FORWARDING_DESTINATION")
            or values.get("FORWARDING_ADDRESS")
            or values.get("NEW_VALUE")
        )
        return _mailbox_change(Action.FORWARDING, user_email, destination)
    if "DELEGAT" in upper and "ADMIN" not in upper and (mail_related or "DELEGAT" in setting):
        grantee = values.get("DELEGATE") or values.get("DELEGATE_EMAIL") or values.get("NEW_VALUE")
        return _mailbox_change(Action.MAILBOX_PERMISSION, user_email, grantee)
    target = values.get("USER_EMAIL") or values.get("GROUP_EMAIL") or values.get("DOMAIN_NAME")
    return {
        "event_class": EventClass.ADMIN.value,
        "action": Action.ADMIN_CHANGE.value,
        "outcome": Outcome.SUCCESS.value,
        "target": target.lower() if isinstance(target, str) else None,
    }


def _mailbox_change(action: Action, mailbox: str | None, target: Any) -> dict[str, Any]:
    return {
        "event_class": EventClass.MAILBOX_CHANGE.value,
        "action": action.value,
        "outcome": Outcome.SUCCESS.value,
        "mailbox": mailbox,
        "target": _lower(target),
    }


def _lower(value: Any) -> str | None:
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


SOURCE = Source(id=SOURCE_ID, title="Google Workspace Reports API activities", sniff=sniff, parse=parse)
