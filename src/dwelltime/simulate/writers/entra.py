"""Entra ID sign-ins in the Microsoft Graph ``signIn`` resource shape, one JSON object per line.

What ``GET /auditLogs/signIns`` (beta, which carries ``signInEventTypes``, ``sessionId``
and ``riskEventTypes_v2``) returns, written one record per line into
``entra/signins-YYYY-MM-DD.json`` by the UTC day of ``createdDateTime``.  Interactive and
non-interactive sign-ins (token refreshes of a polling phone, a script's refresh token)
go into the same file, told apart by ``isInteractive`` and ``signInEventTypes`` as the
beta API returns them with an ``signInEventTypes/any`` filter.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import orjson

from dwelltime.simulate.activity import Activity, SignIn
from dwelltime.simulate.model import Org
from dwelltime.simulate.writers._base import LineFiles, RecordRef, component_rng, random_guid, utc_day
from dwelltime.simulate.writers._cloud import (
    DEFAULT_UA,
    FAILURE_REASONS,
    Identities,
    app_of,
    device_of,
    location_of,
    resource_of,
)

FORMAT = "entra"


class EntraWriter:
    """Writes :class:`SignIn` activities; other activities produce nothing here."""

    format = FORMAT

    def __init__(self, out_dir: Path, org: Org, seed: int = 0) -> None:
        self.org = org
        self._files = LineFiles.acquire(out_dir)
        self._rng = component_rng(org, seed, "writer:entra")
        self._ids = Identities(org)

    def write(self, activity: Activity) -> list[RecordRef]:
        if not isinstance(activity, SignIn):
            return []
        record_id = random_guid(self._rng)
        record = self.record(activity, record_id)
        rel = f"entra/signins-{utc_day(activity.time)}.json"
        line = self._files.append(rel, [orjson.dumps(record).decode()])
        return [RecordRef(FORMAT, rel, line, record_id)]

    def record(self, s: SignIn, record_id: str) -> dict[str, object]:
        rng = self._rng
        ident = self._ids.of(s.user)
        app_id, app_name = app_of(s.client)
        resource_id, resource_name = resource_of(s.client)
        ua = s.client.user_agent if s.client is not None else DEFAULT_UA
        client_app = s.client.client_app_used if s.client is not None else "Browser"
        os_name, browser = device_of(ua)
        created = s.time.strftime("%Y-%m-%dT%H:%M:%SZ")
        error = s.error_code if not s.success else 0
        if not s.success and error == 0:
            error = 50126 if self._ids.known(s.user) else 50034
        reason = s.failure_reason or FAILURE_REASONS.get(error, "Other.") if error else None
        mfa = bool(s.mfa) and s.success and s.interactive
        steps: list[dict[str, object]]
        if not s.interactive:
            steps = [
                _step(
                    s.time, "Previously satisfied", "", True, "First factor requirement satisfied by claim in the token"
                )
            ]
        else:
            steps = [
                _step(
                    s.time,
                    "Password",
                    "Password Hash Sync",
                    error not in (50126, 50034, 50053),
                    "Correct password" if error not in (50126, 50034, 50053) else "Invalid username or password",
                )
            ]
            if mfa:
                second = s.time + timedelta(seconds=rng.randint(4, 40))
                steps.append(_step(second, s.mfa, "", True, "MFA successfully completed", "Secondary authentication"))
        risky = s.risk_level not in ("", "none")
        ca_status = "failure" if error == 53003 else ("success" if mfa else "notApplied")
        return {
            "id": record_id,
            "createdDateTime": created,
            "userDisplayName": ident.display_name,
            "userPrincipalName": s.user,
            "userId": ident.object_id,
            "appId": app_id,
            "appDisplayName": app_name,
            "ipAddress": s.network.ip,
            "ipAddressFromResourceProvider": None,
            "clientAppUsed": client_app,
            "userAgent": ua,
            "correlationId": random_guid(rng),
            "conditionalAccessStatus": ca_status,
            "originalRequestId": random_guid(rng),
            "isInteractive": s.interactive,
            "tokenIssuerName": "",
            "tokenIssuerType": "AzureAD",
            "clientCredentialType": "none",
            "processingTimeInMilliseconds": rng.randint(40, 400) if s.interactive else rng.randint(10, 120),
            "riskDetail": "none",
            "riskLevelAggregated": s.risk_level if risky else "none",
            "riskLevelDuringSignIn": s.risk_level if risky else "none",
            "riskState": "atRisk" if risky else "none",
            "riskEventTypes": ["unfamiliarFeatures"] if risky else [],
            "riskEventTypes_v2": ["unfamiliarFeatures"] if risky else [],
            "resourceDisplayName": resource_name,
            "resourceId": resource_id,
            "resourceTenantId": self.org.tenant_id,
            "homeTenantId": self.org.tenant_id,
            "userType": "member",
            "authenticationRequirement": "multiFactorAuthentication" if mfa else "singleFactorAuthentication",
            "signInIdentifier": "",
            "signInIdentifierType": None,
            "signInEventTypes": ["interactiveUser" if s.interactive else "nonInteractiveUser"],
            "servicePrincipalId": "",
            "sessionId": s.session_id,
            "uniqueTokenIdentifier": random_guid(rng).replace("-", "")[:22],
            "incomingTokenType": "none" if s.interactive else "refreshToken",
            "authenticationProtocol": "none",
            "status": {
                "errorCode": error,
                "failureReason": reason,
                "additionalDetails": "MFA completed in Azure AD" if mfa else None,
            },
            "deviceDetail": {
                "deviceId": "",
                "displayName": "",
                "operatingSystem": os_name,
                "browser": browser,
                "isCompliant": False,
                "isManaged": False,
                "trustType": "",
            },
            "location": location_of(s.network.city, s.network.country),
            "appliedConditionalAccessPolicies": [],
            "authenticationContextClassReferences": [],
            "authenticationDetails": steps,
            "authenticationMethodsUsed": [],
            "authenticationProcessingDetails": [],
            "networkLocationDetails": [],
            "sessionLifetimePolicies": [],
        }

    def close(self) -> None:
        self._files.release()


def _step(
    when: datetime,
    method: str,
    detail: str,
    ok: bool,
    result: str,
    requirement: str = "Primary authentication",
) -> dict[str, object]:
    return {
        "authenticationStepDateTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "authenticationMethod": method,
        "authenticationMethodDetail": detail,
        "succeeded": ok,
        "authenticationStepResultDetail": result,
        "authenticationStepRequirement": requirement,
    }
