"""Entra ID (Azure AD) sign-in logs, in both shapes they are exported in.

* **Graph shape** — what ``/auditLogs/signIns`` returns and the portal downloads as
  JSON: camelCase records (``createdDateTime``, ``userPrincipalName``, ``status``...),
  usually inside ``{"value": [...]}`` or one per line.
* **Azure diagnostic shape** — what diagnostic settings write to storage accounts
  and Event Hubs: an envelope (``time``, ``category``, ``resultType``,
  ``callerIpAddress``, ``tenantId``) around ``properties`` holding the Graph fields.
  Categories: SignInLogs, NonInteractiveUserSignInLogs, ServicePrincipalSignInLogs,
  ManagedIdentitySignInLogs (and Microsoft's own MicrosoftServicePrincipalSignInLogs).

Both become one ``auth`` / ``login`` row per sign-in.  ``operation`` is the
diagnostic category, derived from ``signInEventTypes`` / ``isInteractive`` for the
Graph shape, so both shapes of the same sign-in agree (and dedupe: the event uid
is the sign-in id + its second + that category).

Entra's own geolocation (``location``) is kept in ``params`` only: the ``src_*``
enrichment columns are filled by our offline enrichment, one source of truth for
every log format.  ``session_id`` is the ``sessionId`` Entra gives newer records;
``uniqueTokenIdentifier`` identifies a token, not a session, and stays in params.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dwelltime.schema import Action, EventClass, Outcome
from dwelltime.sources.base import Chunk, EventRows, ParseContext, Rejected, Source, uid_of
from dwelltime.sources.jsonrecords import (
    canonical_ip,
    iter_json_records,
    parse_time,
    sniff_json,
    unwrap_export,
)

SOURCE_ID = "entra-signin"
#: uid namespace: the family of Entra sign-in records, whatever file shape carried them.
UID_NAMESPACE = "entra"

SIGNIN_CATEGORIES = frozenset(
    {
        "SignInLogs",
        "NonInteractiveUserSignInLogs",
        "ServicePrincipalSignInLogs",
        "ManagedIdentitySignInLogs",
        "MicrosoftServicePrincipalSignInLogs",
    }
)

_EVENT_TYPE_CATEGORY = {
    "interactiveuser": "SignInLogs",
    "noninteractiveuser": "NonInteractiveUserSignInLogs",
    "serviceprincipal": "ServicePrincipalSignInLogs",
    "managedidentity": "ManagedIdentitySignInLogs",
}

#: clientAppUsed -> our protocol vocabulary.  "Mobile Apps and Desktop clients" means
#: modern authentication (OAuth) from a rich client; "Other clients" is Entra's
#: bucket for legacy protocols it could not name.
CLIENT_APP_PROTOCOL = {
    "browser": "browser",
    "mobile apps and desktop clients": "modern",
    "exchange activesync": "activesync",
    "imap4": "imap",
    "imap": "imap",
    "pop3": "pop3",
    "pop": "pop3",
    "authenticated smtp": "smtp",
    "exchange web services": "ews",
    "mapi over http": "mapi",
    "outlook anywhere (rpc over http)": "rpc",
    "offline address book": "oab",
    "autodiscover": "autodiscover",
    "exchange online powershell": "powershell",
    "reporting web services": "rws",
    "universal outlook": "rest",
    "other clients": "legacy",
}

#: Sign-in fields kept verbatim in params (vendor names; nested ones dotted).
_PARAM_FIELDS = (
    "conditionalAccessStatus",
    "authenticationRequirement",
    "isInteractive",
    "riskLevelDuringSignIn",
    "riskLevelAggregated",
    "riskState",
    "riskDetail",
    "riskEventTypes",
    "riskEventTypes_v2",
    "resourceDisplayName",
    "resourceId",
    "resourceTenantId",
    "homeTenantId",
    "signInEventTypes",
    "userId",
    "userDisplayName",
    "servicePrincipalId",
    "servicePrincipalName",
    "uniqueTokenIdentifier",
    "originalRequestId",
    "tokenIssuerType",
    "tokenIssuerName",
    "crossTenantAccessType",
    "incomingTokenType",
    "authenticationProtocol",
    "clientCredentialType",
    "signInIdentifier",
    "signInIdentifierType",
    "flaggedForReview",
    "isTenantRestricted",
    "autonomousSystemNumber",
    "authenticationMethodsUsed",
)
_NESTED_PARAMS = (
    ("location", ("city", "state", "countryOrRegion")),
    ("deviceDetail", ("displayName", "operatingSystem", "browser", "isCompliant", "isManaged", "trustType")),
    ("status", ("additionalDetails",)),
)


def sniff(head: bytes, name: str) -> float:
    """Confident on sign-in records (either shape); 0 on anything else."""
    for record in sniff_json(head, limit=3):
        record = unwrap_export(record)
        if record.get("category") in SIGNIN_CATEGORIES:
            return 0.95
        props = record.get("properties")
        fields = props if isinstance(props, dict) else record
        named = "userPrincipalName" in fields or "appId" in fields
        signin_like = isinstance(fields.get("status"), dict) or "ipAddress" in fields
        if "createdDateTime" in fields and named and signin_like:
            return 0.9
    return 0.0


def parse(path: Path, ctx: ParseContext) -> Iterator[Chunk]:
    rows = EventRows(SOURCE_ID, ctx.source_file)
    for line, raw, record in iter_json_records(path):
        if isinstance(record, Rejected):
            rows.reject(record.line, record.reason, record.raw)
        else:
            problem = _add_signin(rows, line, raw, unwrap_export(record))
            if problem:
                rows.reject(line, problem, raw)
        if len(rows) >= ctx.chunk_rows:
            yield rows.take()
    if len(rows):
        yield rows.take()


def _add_signin(rows: EventRows, line: int, raw: str, record: dict[str, Any]) -> str | None:
    """Add one sign-in row; return a rejection reason instead when it is not one."""
    props = record.get("properties")
    diagnostic = isinstance(props, dict)
    fields: dict[str, Any] = props if isinstance(props, dict) else record
    category = record.get("category") if diagnostic else None
    if diagnostic and category not in SIGNIN_CATEGORIES and "createdDateTime" not in fields:
        return f"not a sign-in record (category {category!r})"
    if not diagnostic and "createdDateTime" not in fields:
        return "not a sign-in record (no createdDateTime)"
    when = parse_time(fields.get("createdDateTime")) or parse_time(record.get("time"))
    if when is None:
        return f"sign-in without a valid time (createdDateTime {fields.get('createdDateTime')!r})"
    operation = category if isinstance(category, str) else _category_of(fields)

    status = _dict(fields.get("status"))
    error_code = _text(status.get("errorCode"))
    if error_code is None and diagnostic:
        error_code = _text(record.get("resultType"))
    outcome = Outcome.UNKNOWN if error_code is None else Outcome.SUCCESS if error_code == "0" else Outcome.FAILURE
    failure_reason = _text(status.get("failureReason"))
    if failure_reason is None and diagnostic:
        failure_reason = _text(record.get("resultDescription"))

    ip_text = fields.get("ipAddress") or (record.get("callerIpAddress") if diagnostic else None)
    src_ip = canonical_ip(ip_text)
    client_app = _text(fields.get("clientAppUsed"))
    device = _dict(fields.get("deviceDetail"))

    params = _params(fields)
    if operation:
        params["category"] = operation
    if ip_text and src_ip is None:
        params["src_ip_raw"] = ip_text

    principal = fields.get("userPrincipalName") or fields.get("servicePrincipalId") or None
    sign_in_id = _text(fields.get("id"))
    key = f"{sign_in_id}|{when.replace(microsecond=0).isoformat()}|{operation}" if sign_in_id else raw
    rows.add(
        line,
        raw,
        event_uid=uid_of(UID_NAMESPACE, key),
        time=when,
        event_class=EventClass.AUTH.value,
        action=Action.LOGIN.value,
        outcome=outcome.value,
        operation=operation,
        user=principal.lower() if isinstance(principal, str) else None,
        user_type=_text(fields.get("userType")) or _principal_kind(operation),
        src_ip=src_ip,
        user_agent=_text(fields.get("userAgent")),
        client_app=client_app,
        protocol=CLIENT_APP_PROTOCOL.get(client_app.lower()) if client_app else None,
        session_id=_text(fields.get("sessionId")),
        correlation_id=_text(fields.get("correlationId")) or _text(record.get("correlationId")),
        device_id=_text(device.get("deviceId")),
        auth_method=_auth_method(fields),
        error_code=error_code,
        status_detail=failure_reason,
        params=params,
        app_id=_text(fields.get("appId")),
        app_name=_text(fields.get("appDisplayName")),
        tenant=_text(record.get("tenantId")) or _text(fields.get("tenantId")) or _text(fields.get("homeTenantId")),
        target=_text(fields.get("resourceDisplayName")),
    )
    return None


def _category_of(fields: dict[str, Any]) -> str:
    """The diagnostic category a Graph-shape record would have been exported under."""
    types = fields.get("signInEventTypes")
    if isinstance(types, list):
        for kind in types:
            category = _EVENT_TYPE_CATEGORY.get(str(kind).lower())
            if category:
                return category
    if fields.get("isInteractive") is False:
        return "NonInteractiveUserSignInLogs"
    return "SignInLogs"


def _principal_kind(operation: str | None) -> str | None:
    if operation in ("ServicePrincipalSignInLogs", "MicrosoftServicePrincipalSignInLogs"):
        return "ServicePrincipal"
    if operation == "ManagedIdentitySignInLogs":
        return "ManagedIdentity"
    return None


def _auth_method(fields: dict[str, Any]) -> str | None:
    """Methods that satisfied the sign-in, joined with '+', e.g. ``Password+Mobile app notification``.

    From ``authenticationDetails`` (succeeded steps; all steps when none succeeded),
    else the older ``authenticationMethodsUsed``, else ``authenticationRequirement``
    (single- or multiFactorAuthentication) so the column is never blank when Entra
    said anything at all.
    """
    details = fields.get("authenticationDetails")
    if isinstance(details, list):
        steps = [d for d in details if isinstance(d, dict) and d.get("authenticationMethod")]
        chosen = [d for d in steps if d.get("succeeded") is True] or steps
        methods = list(dict.fromkeys(str(d["authenticationMethod"]) for d in chosen))
        if methods:
            return "+".join(methods)
    used = fields.get("authenticationMethodsUsed")
    if isinstance(used, list) and used:
        return "+".join(str(m) for m in used)
    return _text(fields.get("authenticationRequirement"))


def _params(fields: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name in _PARAM_FIELDS:
        value = fields.get(name)
        if value not in (None, "", []):
            params[name] = value
    for parent, names in _NESTED_PARAMS:
        holder = fields.get(parent)
        if isinstance(holder, dict):
            for name in names:
                value = holder.get(name)
                if value not in (None, ""):
                    params[f"{parent}.{name}"] = value
    location = fields.get("location")
    coordinates = location.get("geoCoordinates") if isinstance(location, dict) else None
    if isinstance(coordinates, dict):
        for name in ("latitude", "longitude"):
            if coordinates.get(name) is not None:
                params[f"location.{name}"] = coordinates[name]
    policies = fields.get("appliedConditionalAccessPolicies")
    if isinstance(policies, list):
        applied = [
            f"{p.get('displayName')}={p.get('result')}"
            for p in policies
            if isinstance(p, dict) and p.get("result") not in (None, "notEnabled", "notApplied")
        ]
        if applied:
            params["appliedConditionalAccessPolicies"] = applied
    return params


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    """Vendor value as text; empty strings are absent (Entra writes "" for unknown)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


SOURCE = Source(
    id=SOURCE_ID,
    title="Entra ID sign-in logs (Graph or Azure diagnostic export)",
    sniff=sniff,
    parse=parse,
)
