"""Microsoft 365 unified audit records as the Office 365 Management Activity API returns them.

One JSON object per line in ``m365/audit-YYYY-MM-DD.json`` (UTC day of ``CreationTime``),
keys in the order the API emits them, times ``YYYY-MM-DDTHH:MM:SS`` UTC without zone as
the API writes them.  What each activity becomes:

* SignIn (interactive) -> ``UserLoggedIn`` / ``UserLoginFailed`` (RecordType 15,
  AzureActiveDirectoryStsLogon).  Non-interactive token refreshes are left to the Entra
  sign-in log: the audit log carries the interactive logons, and writing every phone
  poll twice would double the biggest stream for no evidence.
* MailboxRead -> ``MailItemsAccessed`` (RecordType 50, ExchangeItemAggregated).  Bind
  records are split the way Exchange aggregates them: at most ``bind_items`` items per
  record, the records spread over the access's duration.  Sync -> one record per folder
  set, folders without items.
* MailSend -> ``Send`` / ``SendAs`` / ``SendOnBehalf`` (RecordType 2, ExchangeItem).
* MailboxChange -> cmdlets (``New-InboxRule``, ``Set-Mailbox``, ``Add-MailboxPermission``
  ...: RecordType 1, ExchangeAdmin, ``Parameters`` list, ``ClientIP`` with the client port
  as Exchange writes it); item groups (``HardDelete``, ``SoftDelete``,
  ``MoveToDeletedItems``, ``Move``: RecordType 3 with ``AffectedItems``, one record per
  source folder); ``UpdateInboxRules`` (an Outlook client's rule edit, RecordType 2).
* Consent -> ``Consent to application.`` (RecordType 8, AzureActiveDirectory) with the
  ``ConsentAction.Permissions`` text holding the granted scopes.
* AdminAction -> compliance cmdlets (RecordType 18, SecurityComplianceCenterEOPCmdlet,
  ``Parameters`` as the command-line text the Security & Compliance Center records),
  eDiscovery events such as ``SearchExported`` (RecordType 24, Discovery), other Exchange
  cmdlets such as ``New-MailboxExportRequest`` (RecordType 1).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

import orjson

from dwelltime.simulate.activity import (
    Activity,
    AdminAction,
    Client,
    Consent,
    MailboxChange,
    MailboxRead,
    MailSend,
    MessageRef,
    SignIn,
)
from dwelltime.simulate.model import Org
from dwelltime.simulate.writers._base import LineFiles, RecordRef, component_rng, random_guid
from dwelltime.simulate.writers._cloud import (
    DEFAULT_UA,
    LOGON_ERRORS,
    Identities,
    Identity,
    app_of,
    device_of,
    resource_of,
)

FORMAT = "m365"
#: Items per aggregated Bind record.  Exchange folds the binds of a session into records
#: of bounded size; 100 keeps records in the tens of kilobytes as observed exports do.
BIND_ITEMS = 100
#: Operations recorded as item groups (RecordType 3, ExchangeItemGroup).
ITEM_GROUP_OPS = frozenset({"HardDelete", "SoftDelete", "MoveToDeletedItems", "Move", "Copy"})
#: eDiscovery events (RecordType 24, Discovery) rather than cmdlets.
DISCOVERY_OPS = frozenset(
    {"SearchCreated", "SearchStarted", "SearchExported", "SearchExportDownloaded", "SearchPreviewed", "SearchRemoved"}
)
_GRAPH_SP_PREFIX = "ServicePrincipal_"


def folder_path(folder: str) -> str:
    """Corpus folder name ("Archive/2023") -> Exchange audit path ("\\Archive\\2023")."""
    return "\\" + folder.strip("/").replace("/", "\\")


def bracketed(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def _ms_id(prefix: bytes, size: int, *parts: str) -> str:
    """An Exchange-style base64 store id, fixed by ``parts`` (same item, same id, every run)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    body = (digest * (size // len(digest) + 1))[: size - len(prefix)]
    return base64.b64encode(prefix + body).decode()


class M365Writer:
    format = FORMAT

    def __init__(self, out_dir: Path, org: Org, seed: int = 0, bind_items: int = BIND_ITEMS) -> None:
        self.org = org
        self.bind_items = max(1, bind_items)
        self._files = LineFiles.acquire(out_dir)
        self._rng = component_rng(org, seed, "writer:m365")
        self._ids = Identities(org)
        self._org_name = f"{org.domain.split('.')[0]}.onmicrosoft.com"
        rng = self._rng
        self._servers = tuple(
            f"{rng.choice(('TYCPR01MB', 'OS3PR01MB', 'TYWPR01MB', 'OSZPR01MB'))}{rng.randint(1000, 13999)} "
            f"(15.20.{rng.randint(7400, 8100)}.{rng.randint(10, 40):03d})"
            for _ in range(6)
        )

    # -- dispatch ---------------------------------------------------------------------

    def write(self, activity: Activity) -> list[RecordRef]:
        records: list[dict[str, object]]
        if isinstance(activity, SignIn):
            records = [self._logon(activity)] if activity.interactive else []
        elif isinstance(activity, MailboxRead):
            records = self._mail_items_accessed(activity)
        elif isinstance(activity, MailSend):
            records = [self._send(activity)]
        elif isinstance(activity, MailboxChange):
            records = self._change(activity)
        elif isinstance(activity, Consent):
            records = [self._consent(activity)]
        elif isinstance(activity, AdminAction):
            records = [self._admin(activity)]
        else:
            records = []
        return self._emit(records)

    def close(self) -> None:
        self._files.release()

    def _emit(self, records: list[dict[str, object]]) -> list[RecordRef]:
        refs: list[RecordRef] = []
        for record in records:
            stamp = str(record["CreationTime"])
            rel = f"m365/audit-{stamp[:10]}.json"
            line = self._files.append(rel, [orjson.dumps(record).decode()])
            refs.append(RecordRef(FORMAT, rel, line, str(record["Id"])))
        return refs

    # -- common parts -----------------------------------------------------------------

    def _head(
        self,
        when: datetime,
        operation: str,
        record_type: int,
        workload: str,
        result: str,
        user: str,
        user_key: str,
        client_ip: str,
        user_type: int = 0,
    ) -> dict[str, object]:
        return {
            "CreationTime": when.strftime("%Y-%m-%dT%H:%M:%S"),
            "Id": random_guid(self._rng),
            "Operation": operation,
            "OrganizationId": self.org.tenant_id,
            "RecordType": record_type,
            "ResultStatus": result,
            "UserKey": user_key,
            "UserType": user_type,
            "Version": 1,
            "Workload": workload,
            "ClientIP": client_ip,
            "UserId": user,
        }

    def _mailbox_fields(
        self, ident: Identity, owner: Identity, ip: str, client: Client | None, session: str
    ) -> dict[str, object]:
        """The Exchange mailbox-audit fields shared by item records."""
        fields: dict[str, object] = {
            "AppId": client.app_id if client is not None else "",
            "ClientAppId": client.app_id if client is not None and client.kind == "script" else "",
            "ClientIPAddress": ip,
            "ClientInfoString": client.client_info if client is not None else "",
            "ExternalAccess": False,
            "InternalLogonType": 0,
            "LogonType": 0 if ident.upn == owner.upn else 2,
            "LogonUserSid": ident.sid,
            "MailboxGuid": owner.mailbox_guid,
            "MailboxOwnerSid": owner.sid,
            "MailboxOwnerUPN": owner.upn,
            "OrganizationName": self._org_name,
            "OriginatingServer": self._server(owner.upn),
            "SessionId": session,
        }
        if session:
            fields["AppAccessContext"] = {"AADSessionId": session}
        return fields

    def _server(self, upn: str) -> str:
        # A mailbox lives on one server for the run: pick by a stable digest, not hash().
        digest = hashlib.sha256(upn.encode()).digest()
        return self._servers[digest[0] % len(self._servers)]

    def _folder(self, owner: str, folder: str) -> dict[str, object]:
        return {"Id": _ms_id(b"\x2e\x00\x00\x00\x00", 46, owner, folder), "Path": folder_path(folder)}

    def _item_id(self, owner: str, message_id: str) -> str:
        return _ms_id(b"\x46\x00\x00\x00\x00", 70, owner, message_id)

    # -- sign-ins ---------------------------------------------------------------------

    def _logon(self, s: SignIn) -> dict[str, object]:
        rng = self._rng
        ident = self._ids.of(s.user)
        ok = s.success
        error = 0 if ok else (s.error_code or (50126 if self._ids.known(s.user) else 50034))
        app_id, _ = app_of(s.client)
        resource_id, _ = resource_of(s.client)
        ua = s.client.user_agent if s.client is not None else DEFAULT_UA
        os_name, browser = device_of(ua)
        user_key = ident.object_id if self._ids.known(s.user) else "Not Available"
        rec = self._head(
            s.time,
            "UserLoggedIn" if ok else "UserLoginFailed",
            15,
            "AzureActiveDirectory",
            "Success" if ok else "Failed",
            s.user,
            user_key,
            s.network.ip,
        )
        rec["ObjectId"] = resource_id
        rec["AzureActiveDirectoryEventType"] = 1
        kind = s.client.kind if s.client is not None else "browser"
        request = "OAuth2:Token" if kind in ("mobile", "script") else "OAuth2:Authorize"
        rec["ExtendedProperties"] = [
            {
                "Name": "ResultStatusDetail",
                "Value": ("Redirect" if kind in ("owa", "browser") else "Success") if ok else "UserError",
            },
            {"Name": "UserAgent", "Value": ua},
            {"Name": "RequestType", "Value": request if ok else "Login:login"},
        ]
        rec["ModifiedProperties"] = []
        rec["Actor"] = [{"ID": user_key, "Type": 0}, {"ID": s.user, "Type": 5}]
        rec["ActorContextId"] = self.org.tenant_id
        rec["ActorIpAddress"] = s.network.ip
        rec["InterSystemsId"] = random_guid(rng)
        rec["IntraSystemId"] = random_guid(rng)
        rec["SupportTicketId"] = ""
        rec["Target"] = [{"ID": resource_id, "Type": 0}]
        rec["TargetContextId"] = self.org.tenant_id
        rec["ApplicationId"] = app_id
        device: list[dict[str, str]] = [
            {"Name": "OS", "Value": os_name},
            {"Name": "BrowserType", "Value": browser.split(" ", 1)[0]},
            {"Name": "IsCompliantAndManaged", "Value": "False"},
        ]
        if s.session_id:
            device.append({"Name": "SessionId", "Value": s.session_id})
        rec["DeviceProperties"] = device
        rec["ErrorNumber"] = str(error)
        if not ok:
            rec["LogonError"] = LOGON_ERRORS.get(error, "InvalidUserNameOrPassword")
        return rec

    # -- mailbox reads ----------------------------------------------------------------

    def _mail_items_accessed(self, r: MailboxRead) -> list[dict[str, object]]:
        ident = self._ids.of(r.user)
        if r.access_type == "Sync":
            folders = r.folders or _unique(m.folder for m in r.messages) or ["Inbox"]
            rec = self._mia_head(r.time, r, ident, "Sync", len(folders))
            rec["Folders"] = [self._folder(r.user, f) for f in folders]
            return [rec]
        items = r.messages
        if not items:
            return []
        chunks = [items[i : i + self.bind_items] for i in range(0, len(items), self.bind_items)]
        step = r.duration_s / len(chunks) if len(chunks) > 1 else 0.0
        out: list[dict[str, object]] = []
        for k, chunk in enumerate(chunks):
            when = r.time + timedelta(seconds=int(k * step))
            rec = self._mia_head(when, r, ident, "Bind", len(chunk))
            rec["Folders"] = self._bind_folders(r.user, chunk)
            out.append(rec)
        return out

    def _mia_head(self, when: datetime, r: MailboxRead, ident: Identity, access: str, count: int) -> dict[str, object]:
        rec = self._head(when, "MailItemsAccessed", 50, "Exchange", "Succeeded", r.user, ident.puid, r.network.ip)
        rec.update(self._mailbox_fields(ident, ident, r.network.ip, r.client, r.session_id))
        rec["OperationCount"] = count
        rec["OperationProperties"] = [
            {"Name": "MailAccessType", "Value": access},
            {"Name": "IsThrottled", "Value": "False"},
        ]
        return rec

    def _bind_folders(self, owner: str, messages: list[MessageRef]) -> list[dict[str, object]]:
        by_folder: dict[str, list[dict[str, object]]] = {}
        for m in messages:
            by_folder.setdefault(m.folder, []).append(
                {
                    "Id": self._item_id(owner, m.message_id),
                    "InternetMessageId": bracketed(m.message_id),
                    "SizeInBytes": m.size,
                }
            )
        folders: list[dict[str, object]] = []
        for name, items in by_folder.items():
            entry = self._folder(owner, name)
            folders.append({"FolderItems": items, "Id": entry["Id"], "Path": entry["Path"]})
        return folders

    # -- sending ----------------------------------------------------------------------

    def _send(self, s: MailSend) -> dict[str, object]:
        ident = self._ids.of(s.user)
        rec = self._head(s.time, s.operation, 2, "Exchange", "Succeeded", s.user, ident.puid, s.network.ip)
        rec.update(self._mailbox_fields(ident, ident, s.network.ip, s.client, s.session_id))
        message_id = bracketed(s.message_id) if s.message_id else ""
        rec["Item"] = {
            "Id": self._item_id(s.user, message_id or str(rec["Id"])),
            "InternetMessageId": message_id,
            "ParentFolder": self._folder(s.user, "Sent Items"),
            "SizeInBytes": s.size,
            "Subject": s.subject,
        }
        sender = s.sender or s.user
        if s.operation == "SendAs":
            other = self._ids.of(sender)
            rec["SendAsUserMailboxGuid"] = other.mailbox_guid
            rec["SendAsUserSmtp"] = sender
        elif s.operation == "SendOnBehalf":
            other = self._ids.of(sender)
            rec["SendOnBehalfOfUserMailboxGuid"] = other.mailbox_guid
            rec["SendOnBehalfOfUserSmtp"] = sender
        return rec

    # -- mailbox changes --------------------------------------------------------------

    def _change(self, c: MailboxChange) -> list[dict[str, object]]:
        ident = self._ids.of(c.user)
        owner = self._ids.of(c.target_mailbox or c.user)
        if c.operation in ITEM_GROUP_OPS:
            return self._item_group(c, ident, owner)
        if c.operation == "UpdateInboxRules":
            rec = self._head(c.time, c.operation, 2, "Exchange", "Succeeded", c.user, ident.puid, c.network.ip)
            rec.update(self._mailbox_fields(ident, owner, c.network.ip, c.client, c.session_id))
            rec["OperationProperties"] = [{"Name": k, "Value": v} for k, v in c.parameters.items()]
            return [rec]
        return [self._cmdlet(c.time, c.operation, c.user, c.network.ip, c.parameters, c.target_mailbox, c.session_id)]

    def _item_group(self, c: MailboxChange, ident: Identity, owner: Identity) -> list[dict[str, object]]:
        by_folder: dict[str, list[MessageRef]] = {}
        for m in c.messages:
            by_folder.setdefault(m.folder, []).append(m)
        out: list[dict[str, object]] = []
        for folder, messages in by_folder.items():
            rec = self._head(c.time, c.operation, 3, "Exchange", "Succeeded", c.user, ident.puid, c.network.ip)
            rec.update(self._mailbox_fields(ident, owner, c.network.ip, c.client, c.session_id))
            parent = self._folder(owner.upn, folder)
            rec["AffectedItems"] = [
                {
                    "Id": self._item_id(owner.upn, m.message_id),
                    "InternetMessageId": bracketed(m.message_id),
                    "ParentFolder": parent,
                }
                for m in messages
            ]
            rec["CrossMailboxOperation"] = ident.upn != owner.upn
            if c.operation in ("MoveToDeletedItems", "Move", "Copy"):
                dest = c.parameters.get("DestFolder", "Deleted Items")
                rec["DestFolder"] = self._folder(owner.upn, dest)
                rec["DestMailboxId"] = owner.mailbox_guid
                rec["DestMailboxOwnerUPN"] = owner.upn
            rec["Folder"] = parent
            out.append(rec)
        return out

    def _cmdlet(
        self,
        when: datetime,
        operation: str,
        user: str,
        ip: str,
        parameters: dict[str, str],
        target: str,
        session: str,
    ) -> dict[str, object]:
        """An Exchange admin cmdlet record (RecordType 1), as run from OWA, Outlook or PowerShell."""
        ident = self._ids.of(user)
        admin = user in self.org.admins
        rec = self._head(
            when,
            operation,
            1,
            "Exchange",
            "True",
            user,
            ident.puid,
            self._with_port(ip),
            user_type=2 if admin else 0,
        )
        name = parameters.get("Name") or parameters.get("Identity", "")
        mailbox = target or parameters.get("Mailbox") or parameters.get("Identity") or user
        rec["ObjectId"] = f"{mailbox}\\{name}" if "InboxRule" in operation and name else mailbox
        rec["AppId"] = ""
        rec["ClientAppId"] = ""
        rec["ExternalAccess"] = False
        rec["OrganizationName"] = self._org_name
        rec["OriginatingServer"] = self._server(mailbox)
        rec["Parameters"] = [{"Name": k, "Value": v} for k, v in parameters.items()]
        rec["RequestId"] = random_guid(self._rng)
        rec["SessionId"] = session
        return rec

    def _with_port(self, ip: str) -> str:
        port = self._rng.randint(1024, 65535)
        return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"

    # -- consent and administration ---------------------------------------------------

    def _consent(self, c: Consent) -> dict[str, object]:
        rng = self._rng
        ident = self._ids.of(c.user)
        sp_id = random_guid(rng)
        rec = self._head(
            c.time,
            "Consent to application.",
            8,
            "AzureActiveDirectory",
            "Success",
            c.user,
            ident.object_id,
            c.network.ip,
        )
        rec["ObjectId"] = sp_id
        rec["AzureActiveDirectoryEventType"] = 1
        rec["ExtendedProperties"] = [
            {"Name": "additionalDetails", "Value": '{"User-Agent":"' + DEFAULT_UA.replace('"', "") + '"}'},
            {"Name": "extendedAuditEventCategory", "Value": "ServicePrincipal"},
        ]
        grant = random_guid(rng).replace("-", "")
        scope = " ".join(c.scopes)
        permissions = (
            f"[] => [[Id: {grant}, ClientId: {sp_id}, PrincipalId: {ident.object_id}, "
            f"ResourceId: {random_guid(rng)}, ConsentType: Principal, Scope:  {scope}, "
            f"CreatedDateTime: , LastModifiedDateTime ]]; "
        )
        rec["ModifiedProperties"] = [
            {"Name": "ConsentContext.IsAdminConsent", "NewValue": "False", "OldValue": ""},
            {"Name": "ConsentContext.IsAppOnly", "NewValue": "False", "OldValue": ""},
            {"Name": "ConsentContext.OnBehalfOfAll", "NewValue": "False", "OldValue": ""},
            {"Name": "ConsentContext.Tags", "NewValue": "WindowsAzureActiveDirectoryIntegratedApp", "OldValue": ""},
            {"Name": "ConsentAction.Permissions", "NewValue": permissions, "OldValue": ""},
            {"Name": "TargetId.ServicePrincipalNames", "NewValue": c.app_id, "OldValue": ""},
        ]
        rec["Actor"] = [
            {"ID": c.user, "Type": 5},
            {"ID": f"User_{ident.object_id}", "Type": 2},
            {"ID": ident.object_id, "Type": 2},
            {"ID": "User", "Type": 2},
        ]
        rec["ActorContextId"] = self.org.tenant_id
        rec["InterSystemsId"] = random_guid(rng)
        rec["IntraSystemId"] = random_guid(rng)
        rec["SupportTicketId"] = ""
        rec["Target"] = [
            {"ID": f"{_GRAPH_SP_PREFIX}{sp_id}", "Type": 2},
            {"ID": sp_id, "Type": 2},
            {"ID": "ServicePrincipal", "Type": 2},
            {"ID": c.app_name, "Type": 1},
            {"ID": c.app_id, "Type": 2},
            {"ID": c.app_id, "Type": 4},
        ]
        rec["TargetContextId"] = self.org.tenant_id
        return rec

    def _admin(self, a: AdminAction) -> dict[str, object]:
        ident = self._ids.of(a.user)
        if a.operation in DISCOVERY_OPS:
            rec = self._head(
                a.time, a.operation, 24, "SecurityComplianceCenter", "Success", a.user, ident.puid, a.network.ip, 2
            )
            name = a.parameters.get("Name", a.parameters.get("SearchName", ""))
            rec["ObjectId"] = name
            rec["Case"] = a.parameters.get("Case", "")
            rec["ObjectType"] = "SearchExport" if "Export" in a.operation else "Search"
            if "ContentMatchQuery" in a.parameters:
                rec["Query"] = a.parameters["ContentMatchQuery"]
            if "ExchangeLocation" in a.parameters:
                rec["ExchangeLocations"] = _split(a.parameters["ExchangeLocation"])
            rec["ExtendedProperties"] = [{"Name": k, "Value": v} for k, v in a.parameters.items()]
            return rec
        if "Compliance" in a.operation:
            rec = self._head(
                a.time, a.operation, 18, "SecurityComplianceCenter", "True", a.user, ident.puid, a.network.ip, 2
            )
            text = " ".join(f'-{k} "{v}"' for k, v in a.parameters.items())
            rec["ObjectId"] = a.parameters.get("Name", a.parameters.get("Identity", ""))
            rec["ClientApplication"] = ""
            rec["CmdletVersion"] = ""
            rec["EffectiveOrganization"] = self._org_name
            rec["NonPiiParameters"] = " ".join(f"-{k} ***" for k in a.parameters)
            rec["Parameters"] = text
            rec["SessionId"] = random_guid(self._rng)
            rec["StartTime"] = a.time.strftime("%Y-%m-%dT%H:%M:%S")
            return rec
        return self._cmdlet(
            a.time, a.operation, a.user, a.network.ip, a.parameters, a.parameters.get("Mailbox", ""), ""
        )


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
