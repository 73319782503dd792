"""The SQL that normalizes Microsoft 365 unified audit records, generated from one field spec.

Why generated SQL: the audit log is the highest-volume source dwelltime reads
(hundreds of thousands of records per hour in a mid-size tenant), so no Python
runs per record.  DuckDB parses each record once with ``json_transform`` into a
struct and every normalization is a column expression.

Why three copies of one query: exports arrive with PascalCase keys (the Management
Activity API, Purview), camelCase (some SIEM / Graph exports) or lowercase (some
SIEM pipelines), and DuckDB's JSON key matching is case-sensitive.  Each record is
classified by a cheap substring test, and one query per key style runs over its
records (``UNION ALL``).  The keys are written once, in PascalCase, in :data:`SPEC`
and in the ``«Key»`` placeholders of the extraction templates; :func:`styled_key`
derives the other spellings.  The style-specific part only *extracts* (to
canonical column names); the normalization that follows is written once.
"""

from __future__ import annotations

import json
import re
from typing import Literal

from dwelltime.sources.base import uid_sql

Style = Literal["pascal", "camel", "lower"]
STYLES: tuple[Style, ...] = ("pascal", "camel", "lower")
UID_NAMESPACE = "m365-audit"

_V = "VARCHAR"
_NAME_VALUE = [{"Name": _V, "Value": _V}]

#: Every field the parser reads, PascalCase, as a ``json_transform`` structure.
#: Lists of objects whose shape may vary by record type (Parameters is a list of
#: {Name, Value} for Exchange cmdlets but one command-line string for Security &
#: Compliance cmdlets) are read as JSON and decoded only for the records that use them.
SPEC: dict[str, object] = {
    "CreationTime": _V,
    "Id": _V,
    "Operation": _V,
    "RecordType": _V,
    "UserId": _V,
    "UserType": _V,
    "Workload": _V,
    "ResultStatus": _V,
    "ClientIP": _V,
    "ClientIPAddress": _V,
    "ActorIpAddress": _V,
    "OrganizationId": _V,
    "ObjectId": _V,
    "LogonError": _V,
    "ErrorNumber": _V,
    "ApplicationId": _V,
    "AppId": _V,
    "ClientAppId": _V,
    "ClientInfoString": _V,
    "SessionId": _V,
    "InterSystemsId": _V,
    "MailboxOwnerUPN": _V,
    "MailboxGuid": _V,
    "LogonType": _V,
    "ExternalAccess": _V,
    "OperationCount": _V,
    "SendAsUserSmtp": _V,
    "SendOnBehalfOfUserSmtp": _V,
    "Query": _V,
    "UserAgent": _V,
    "Item": {"Subject": _V, "InternetMessageId": _V, "ParentFolder": {"Path": _V}},
    "Folder": {"Path": _V},
    "Folders": [{"Path": _V, "FolderItems": [{"InternetMessageId": _V, "SizeInBytes": "BIGINT"}]}],
    "AffectedItems": [{"InternetMessageId": _V, "Subject": _V}],
    "ExtendedProperties": _NAME_VALUE,
    "DeviceProperties": _NAME_VALUE,
    "OperationProperties": _NAME_VALUE,
    "ModifiedProperties": [{"Name": _V, "NewValue": _V}],
    "Target": [{"ID": _V}],
    "Parameters": "JSON",
}


def styled_key(key: str, style: Style) -> str:
    """``key`` (PascalCase) as a record of ``style`` spells it.

    camelCase follows the common serializer rule (Json.NET, System.Text.Json): lower
    the leading run of capitals, but leave the last one of a run that starts a word
    (``ClientIPAddress`` -> ``clientIPAddress``, ``ID`` -> ``id``, ``UPN`` -> ``upn``).
    """
    if style == "pascal":
        return key
    if style == "lower":
        return key.lower()
    run = 0
    while run < len(key) and key[run].isupper():
        run += 1
    if run <= 1 or run == len(key):
        return key[:run].lower() + key[run:]
    return key[: run - 1].lower() + key[run - 1 :]


def styled_structure(spec: object, style: Style) -> object:
    """A ``json_transform`` structure with its keys spelled in ``style``."""
    if isinstance(spec, dict):
        return {styled_key(k, style): styled_structure(v, style) for k, v in spec.items()}
    if isinstance(spec, list):
        return [styled_structure(v, style) for v in spec]
    return spec


def _literal(text: str) -> str:
    """A SQL string literal of one of *our* constants (never record data)."""
    return "'" + text.replace("'", "''") + "'"


_PLACEHOLDER = re.compile(r"«(\w+)»")


def _render(template: str, style: Style) -> str:
    """Replace each ``«Key»`` with the quoted identifier of that key in ``style``."""
    return _PLACEHOLDER.sub(lambda m: '"' + styled_key(m.group(1), style) + '"', template)


#: Substring tests that classify a record's key style without parsing it.  A key
#: is followed by a quote, so ``"Operation"`` cannot come from inside a string value
#: (where the quote would be escaped).  PascalCase is the most common, so it is tried first.
_PASCAL = "(contains(raw, '\"Operation\"') OR contains(raw, '\"CreationTime\"'))"
_CAMEL = "contains(raw, '\"creationTime\"')"
STYLE_CONDITIONS: dict[Style, str] = {
    "pascal": _PASCAL,
    "camel": f"NOT {_PASCAL} AND {_CAMEL}",
    "lower": f"NOT {_PASCAL} AND NOT {_CAMEL}",
}

_PARAMS_LIST = json.dumps([{"Name": _V, "Value": _V}])

#: Style-specific extraction: canonical column name -> expression over ``j`` (the
#: transformed record) with ``«Key»`` placeholders.
_SCALARS = [
    ("op", "Operation"),
    ("ctime", "CreationTime"),
    ("rid", "Id"),
    ("record_type", "RecordType"),
    ("user_raw", "UserId"),
    ("user_type_raw", "UserType"),
    ("workload", "Workload"),
    ("result_status", "ResultStatus"),
    ("org", "OrganizationId"),
    ("object_id", "ObjectId"),
    ("logon_error", "LogonError"),
    ("error_number", "ErrorNumber"),
    ("application_id", "ApplicationId"),
    ("app_id_raw", "AppId"),
    ("client_app_id", "ClientAppId"),
    ("client_info", "ClientInfoString"),
    ("session_raw", "SessionId"),
    ("inter_systems_id", "InterSystemsId"),
    ("mailbox_upn", "MailboxOwnerUPN"),
    ("mailbox_guid", "MailboxGuid"),
    ("logon_type", "LogonType"),
    ("external_access", "ExternalAccess"),
    ("operation_count", "OperationCount"),
    ("send_as", "SendAsUserSmtp"),
    ("send_obo", "SendOnBehalfOfUserSmtp"),
    ("query", "Query"),
    ("top_user_agent", "UserAgent"),
]


def _kv_list(field: str, value: str = "Value") -> str:
    return f"list_transform(j.«{field}», lambda e: {{'k': e.«Name», 'v': e.«{value}»}})"


def _params_expr(style: Style) -> str:
    """Parameters as a list of {k, v}: decoded from the list form or the cmdlet-line form."""
    structure = _literal(json.dumps(styled_structure(json.loads(_PARAMS_LIST), style)))
    pattern = _literal(r"""-(\w+)(?:\s+("[^"]*"|'[^']*'|[^-\s]\S*))?""")
    line = "(j.«Parameters» ->> '$')"
    return f"""CASE
        WHEN j.«Parameters» IS NULL THEN NULL
        WHEN json_type(j.«Parameters») = 'ARRAY' THEN
            list_transform(from_json(j.«Parameters», {structure}), lambda e: {{'k': e.«Name», 'v': e.«Value»}})
        WHEN json_type(j.«Parameters») = 'VARCHAR' THEN
            list_concat([{{'k': 'Parameters', 'v': {line}}}],
                list_transform(
                    list_zip(regexp_extract_all({line}, {pattern}, 1), regexp_extract_all({line}, {pattern}, 2)),
                    lambda e: {{'k': e[1], 'v': trim(e[2], '"''')}}))
        END"""


def _extract_sql(style: Style) -> str:
    structure = _literal(json.dumps(styled_structure(SPEC, style)))
    cols = [f"j.«{key}» AS {name}" for name, key in _SCALARS]
    cols += [
        "coalesce(nullif(j.«ClientIP», ''), nullif(j.«ClientIPAddress», ''),"
        " nullif(j.«ActorIpAddress», '')) AS ip_text",
        "j.«Item».«Subject» AS item_subject",
        "j.«Item».«InternetMessageId» AS item_message_id",
        "j.«Item».«ParentFolder».«Path» AS item_folder",
        "j.«Folder».«Path» AS folder_path",
        "list_transform(j.«Folders», lambda f: f.«Path») AS folder_paths",
        "flatten(list_transform(j.«Folders», lambda f:"
        " list_transform(f.«FolderItems», lambda x: x.«InternetMessageId»))) AS folder_message_ids",
        "flatten(list_transform(j.«Folders», lambda f: list_transform(f.«FolderItems», lambda x: x.«SizeInBytes»)))"
        " AS folder_sizes",
        "list_transform(j.«AffectedItems», lambda x: x.«InternetMessageId») AS affected_message_ids",
        "list_transform(j.«AffectedItems», lambda x: x.«Subject») AS affected_subjects",
        f"{_kv_list('ExtendedProperties')} AS ext_props",
        f"{_kv_list('DeviceProperties')} AS dev_props",
        f"{_kv_list('OperationProperties')} AS op_props",
        f"{_kv_list('ModifiedProperties', 'NewValue')} AS mod_props",
        "list_transform(j.«Target», lambda t: t.«ID») AS target_ids",
        f"{_params_expr(style)} AS cmd_params",
    ]
    uid_key = (
        "CASE WHEN coalesce(j.«Id», '') <> '' THEN j.«Id» || '|' || j.«CreationTime» || '|' || j.«Operation»"
        " ELSE raw END"
    )
    cols.append(f"{uid_sql(UID_NAMESPACE, uid_key)} AS event_uid")
    body = ",\n        ".join(cols)
    sql = f"""SELECT i, {body}
    FROM (SELECT i, raw, json_transform(raw, {structure}) AS j FROM src WHERE {STYLE_CONDITIONS[style]})"""
    return _render(sql, style)


def _get(kv_list: str, name: str) -> str:
    """Value of the first {k, v} entry named ``name`` (a constant of ours)."""
    return f"list_filter({kv_list}, lambda e: e.k = {_literal(name)})[1].v"


def _kv(name: str, value: str) -> str:
    return f"{{'k': {_literal(name)}, 'v': {value}}}"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_literal(v.lower()) for v in values) + ")"


_SEND = ("Send", "SendAs", "SendOnBehalf")
_RULE = ("New-InboxRule", "Set-InboxRule", "Enable-InboxRule")
_CONSENT = ("Consent to application.", "Add app role assignment grant to user.", "Add delegated permission grant.")
_COMPLIANCE = (
    "New-ComplianceSearch",
    "Start-ComplianceSearch",
    "Set-ComplianceSearch",
    "New-ComplianceSearchAction",
    "SearchCreated",
    "SearchStarted",
    "SearchExported",
    "SearchExportDownloaded",
    "SearchPreviewed",
    "SearchResultsPurged",
)
_TRANSPORT = ("New-TransportRule", "Set-TransportRule", "Enable-TransportRule")
_DELETE = {"harddelete": "hard_delete", "softdelete": "soft_delete", "movetodeleteditems": "move_to_deleted"}
_PERMISSION = {
    "mailbox": "mailbox_permission",
    "recipient": "recipient_permission",
    "mailboxfolder": "folder_permission",
}

#: Record kind, from the lower-cased operation (cmdlet names are case-insensitive).
_KIND = f"""CASE
    WHEN opl IN ('userloggedin', 'userloginfailed') THEN 'login'
    WHEN opl = 'mailitemsaccessed' THEN 'read'
    WHEN opl IN {_in(_SEND)} THEN 'send'
    WHEN opl IN {_in(_RULE)} THEN 'rule'
    WHEN opl = 'updateinboxrules' THEN 'rule_update'
    WHEN opl = 'set-mailbox' THEN 'set_mailbox'
    WHEN regexp_full_match(opl, '(add|set|remove)-(mailbox|recipient|mailboxfolder)permission') THEN 'permission'
    WHEN opl IN {_in(_CONSENT)} THEN 'consent'
    WHEN opl IN {_in(_COMPLIANCE)} THEN 'compliance'
    WHEN opl = 'new-mailboxexportrequest' THEN 'export'
    WHEN opl IN {_in(_TRANSPORT)} THEN 'transport'
    WHEN opl IN {_in(tuple(_DELETE))} THEN 'delete'
    ELSE 'other' END"""

_FORWARDING = (
    "list_has_any(list_transform(cmd_params, lambda e: lower(e.k)),"
    " ['forwardingsmtpaddress', 'forwardingaddress', 'delivertomailboxandforward'])"
)

_EVENT_CLASS = """CASE kind
    WHEN 'login' THEN 'auth' WHEN 'read' THEN 'mailbox_access' WHEN 'send' THEN 'mail_send'
    WHEN 'rule' THEN 'mailbox_change' WHEN 'rule_update' THEN 'mailbox_change'
    WHEN 'set_mailbox' THEN 'mailbox_change' WHEN 'permission' THEN 'mailbox_change'
    WHEN 'delete' THEN 'mailbox_change' WHEN 'consent' THEN 'app_consent'
    WHEN 'compliance' THEN 'admin' WHEN 'export' THEN 'admin' WHEN 'transport' THEN 'admin'
    ELSE 'other' END"""

_ACTION = f"""CASE kind
    WHEN 'login' THEN 'login'
    WHEN 'read' THEN CASE WHEN {_get("op_props", "MailAccessType")} = 'Sync' THEN 'mail_sync' ELSE 'mail_read' END
    WHEN 'send' THEN CASE opl WHEN 'sendas' THEN 'send_as' WHEN 'sendonbehalf' THEN 'send_on_behalf' ELSE 'send' END
    WHEN 'rule' THEN 'inbox_rule' WHEN 'rule_update' THEN 'inbox_rule'
    WHEN 'set_mailbox' THEN CASE WHEN {_FORWARDING} THEN 'forwarding' ELSE 'admin_change' END
    WHEN 'permission' THEN CASE regexp_extract(opl, '-(\\w+)permission', 1)
        {" ".join(f"WHEN {_literal(k)} THEN {_literal(v)}" for k, v in _PERMISSION.items())} END
    WHEN 'consent' THEN 'consent' WHEN 'compliance' THEN 'compliance_search'
    WHEN 'export' THEN 'mailbox_export' WHEN 'transport' THEN 'transport_rule'
    WHEN 'delete' THEN CASE opl {" ".join(f"WHEN {_literal(k)} THEN {_literal(v)}" for k, v in _DELETE.items())} END
    ELSE op END"""

_OUTCOME = """CASE
    WHEN opl = 'userloggedin' THEN 'success'
    WHEN opl = 'userloginfailed' THEN 'failure'
    WHEN lower(result_status) IN ('succeeded', 'success', 'true') THEN 'success'
    WHEN lower(result_status) IN ('failed', 'failure', 'false') THEN 'failure'
    ELSE 'unknown' END"""

#: Management Activity API UserType enum (numbers in the API, names in some exports).
_USER_TYPES = (
    "Regular",
    "Reserved",
    "Admin",
    "DcAdmin",
    "System",
    "Application",
    "ServicePrincipal",
    "CustomPolicy",
    "SystemPolicy",
)
_USER_TYPE = (
    "CASE user_type_raw "
    + " ".join(f"WHEN '{n}' THEN {_literal(name)}" for n, name in enumerate(_USER_TYPES))
    + " ELSE user_type_raw END"
)

#: Access protocol from ClientInfoString ("Client=OWA;Action=ViaProxy", "Client=MSExchangeRPC", ...).
_PROTOCOL = """CASE
    WHEN client_info IS NULL OR client_info = '' THEN NULL
    WHEN regexp_matches(client_info, 'Client=(OWA|OutlookWebApp)', 'i') THEN 'owa'
    WHEN regexp_matches(client_info, 'Client=(Exchange ActiveSync|AirSync)|ActiveSync', 'i') THEN 'activesync'
    WHEN regexp_matches(client_info, 'Client=IMAP', 'i') THEN 'imap'
    WHEN regexp_matches(client_info, 'Client=POP', 'i') THEN 'pop3'
    WHEN regexp_matches(client_info, 'Client=(WebServices|EWS)|ExchangeWebServices', 'i') THEN 'ews'
    WHEN regexp_matches(client_info, 'Client=(REST|OutlookService)', 'i') THEN 'rest'
    WHEN regexp_matches(client_info, 'Client=(MSExchangeRPC|Microsoft Outlook|Outlook)|MAPI', 'i') THEN 'mapi'
    ELSE NULL END"""

_GUID = "'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'"
_CONSENT_APP_ID = (
    f"list_filter(string_split(coalesce({_get('mod_props', 'TargetId.ServicePrincipalNames')}, ''), ';'),"
    f" lambda s: regexp_full_match(trim(s), {_GUID}))[1]"
)
_CONSENT_APP_NAME = (
    f"list_filter(target_ids, lambda t: NOT regexp_full_match(t, {_GUID})"
    " AND NOT starts_with(t, 'ServicePrincipal_'))[1]"
)
#: Scopes: "... => [[Id: ..., Scope: Mail.Read offline_access, CreatedDateTime: ...]]" (after "=>" is the
#: new value), or a bare space-separated list in DelegatedPermissionGrant.Scope.
_SCOPE_TEXT = (
    f"coalesce({_get('mod_props', 'ConsentAction.Permissions')}, {_get('mod_props', 'DelegatedPermissionGrant.Scope')})"
)
_SCOPES = """list_distinct(list_filter(flatten(list_transform(
    CASE WHEN contains(st, 'Scope:')
        THEN regexp_extract_all(CASE WHEN contains(st, '=>') THEN split_part(st, '=>', -1) ELSE st END,
                                'Scope:\\s*([^,\\]]*)', 1)
        ELSE [st] END,
    lambda s: regexp_split_to_array(trim(s), '\\s+'))), lambda s: s <> ''))"""

_PARAM_MAILBOX = _get("cmd_params", "Mailbox")
_PARAM_IDENTITY = _get("cmd_params", "Identity")

_TARGET = f"""CASE kind
    WHEN 'send' THEN coalesce(nullif(send_as, ''), nullif(send_obo, ''))
    WHEN 'rule' THEN coalesce({_get("cmd_params", "Name")}, {_PARAM_IDENTITY}, object_id)
    WHEN 'rule_update' THEN coalesce({_get("op_props", "RuleName")}, object_id)
    WHEN 'set_mailbox' THEN CASE WHEN {_FORWARDING}
        THEN coalesce(regexp_replace({_get("cmd_params", "ForwardingSmtpAddress")}, '^smtp:', '', 'i'),
                      {_get("cmd_params", "ForwardingAddress")}, {_PARAM_IDENTITY}, object_id)
        ELSE coalesce({_PARAM_IDENTITY}, object_id) END
    WHEN 'permission' THEN coalesce({_get("cmd_params", "User")}, {_get("cmd_params", "Trustee")}, object_id)
    WHEN 'consent' THEN coalesce({_CONSENT_APP_NAME}, {_CONSENT_APP_ID}, object_id)
    WHEN 'compliance' THEN coalesce({_get("cmd_params", "Name")}, {_get("cmd_params", "SearchName")},
                                    {_PARAM_IDENTITY}, object_id)
    WHEN 'export' THEN coalesce({_PARAM_MAILBOX}, {_PARAM_IDENTITY}, object_id)
    WHEN 'transport' THEN coalesce({_get("cmd_params", "Name")}, {_PARAM_IDENTITY}, object_id)
    ELSE object_id END"""

_MAILBOX = f"""lower(CASE kind
    WHEN 'rule' THEN coalesce({_PARAM_MAILBOX}, mailbox_upn, user_raw)
    WHEN 'rule_update' THEN coalesce(mailbox_upn, object_id)
    WHEN 'set_mailbox' THEN coalesce({_PARAM_IDENTITY}, object_id)
    WHEN 'permission' THEN split_part(coalesce({_PARAM_IDENTITY}, object_id), ':\\', 1)
    WHEN 'export' THEN coalesce({_PARAM_MAILBOX}, {_PARAM_IDENTITY})
    ELSE mailbox_upn END)"""

_EXCHANGE_DETAIL = [
    _kv("LogonType", "logon_type"),
    _kv("ExternalAccess", "external_access"),
    _kv("MailboxGuid", "mailbox_guid"),
]
_PARAMS = f"""list_filter(list_concat(
    [{_kv("RecordType", "record_type")}, {_kv("Workload", "workload")}],
    CASE kind
    WHEN 'login' THEN list_concat(
        [{_kv("RequestType", _get("ext_props", "RequestType"))},
         {_kv("ResultStatusDetail", _get("ext_props", "ResultStatusDetail"))},
         {_kv("UserAuthenticationMethod", _get("ext_props", "UserAuthenticationMethod"))},
         {_kv("ResultStatus", "result_status")}],
        list_transform(dev_props, lambda e: {{'k': 'DeviceProperties.' || e.k, 'v': e.v}}))
    WHEN 'read' THEN [
        {_kv("IsThrottled", _get("op_props", "IsThrottled"))},
        {_kv("MailAccessType", _get("op_props", "MailAccessType"))},
        {_kv("OperationCount", "operation_count")},
        {", ".join(_EXCHANGE_DETAIL)},
        {_kv("ClientAppId", "nullif(client_app_id, '')")}]
    WHEN 'send' THEN [{", ".join(_EXCHANGE_DETAIL)}]
    WHEN 'delete' THEN [{", ".join(_EXCHANGE_DETAIL)}]
    WHEN 'rule_update' THEN op_props
    WHEN 'consent' THEN mod_props
    WHEN 'compliance' THEN list_concat(cmd_params, [{_kv("Query", "query")}])
    ELSE cmd_params END),
    lambda e: e.k IS NOT NULL AND e.v IS NOT NULL)"""

_MESSAGE_IDS = """CASE kind
    WHEN 'read' THEN list_filter(folder_message_ids, lambda x: x IS NOT NULL)
    WHEN 'send' THEN CASE WHEN item_message_id IS NOT NULL THEN [item_message_id] END
    WHEN 'delete' THEN list_filter(affected_message_ids, lambda x: x IS NOT NULL)
    END"""

_ITEM_COUNT = """CASE kind
    WHEN 'read' THEN CASE WHEN len(folder_sizes) > 0 THEN len(folder_sizes) ELSE TRY_CAST(operation_count AS BIGINT) END
    WHEN 'delete' THEN len(affected_message_ids)
    END"""

_FINAL_COLUMNS: list[tuple[str, str]] = [
    ("event_uid", "event_uid"),
    ("time", "time"),
    ("event_class", _EVENT_CLASS),
    ("action", _ACTION),
    ("outcome", _OUTCOME),
    ("operation", "op"),
    ("user", "lower(nullif(user_raw, ''))"),
    ("user_type", _USER_TYPE),
    (
        "user_agent",
        f"CASE kind WHEN 'login' THEN {_get('ext_props', 'UserAgent')}"
        " ELSE coalesce(nullif(client_info, ''), top_user_agent) END",
    ),
    ("client_app", "nullif(client_info, '')"),
    ("protocol", _PROTOCOL),
    ("session_id", f"coalesce(nullif(session_raw, ''), {_get('dev_props', 'SessionId')})"),
    ("correlation_id", "nullif(inter_systems_id, '')"),
    ("device_id", f"CASE kind WHEN 'login' THEN {_get('dev_props', 'Id')} END"),
    ("error_code", "CASE kind WHEN 'login' THEN error_number END"),
    (
        "status_detail",
        f"CASE kind WHEN 'login' THEN coalesce(nullif(logon_error, ''), {_get('ext_props', 'ResultStatusDetail')}) END",
    ),
    ("mailbox", _MAILBOX),
    (
        "folder",
        "CASE kind WHEN 'read' THEN folder_paths[1] WHEN 'send' THEN item_folder WHEN 'delete' THEN folder_path END",
    ),
    (
        "folders",
        "CASE kind WHEN 'read' THEN list_filter(folder_paths, lambda x: x IS NOT NULL)"
        " WHEN 'send' THEN CASE WHEN item_folder IS NOT NULL THEN [item_folder] END"
        " WHEN 'delete' THEN CASE WHEN folder_path IS NOT NULL THEN [folder_path] END END",
    ),
    ("message_ids", _MESSAGE_IDS),
    ("item_count", _ITEM_COUNT),
    ("bytes_out", "CASE kind WHEN 'read' THEN CASE WHEN len(folder_sizes) > 0 THEN list_sum(folder_sizes) END END"),
    ("subject", "CASE kind WHEN 'send' THEN item_subject WHEN 'delete' THEN affected_subjects[1] END"),
    ("target", _TARGET),
    ("params", _PARAMS),
    (
        "app_id",
        f"""CASE kind WHEN 'login' THEN nullif(application_id, '')
        WHEN 'consent' THEN {_CONSENT_APP_ID}
        ELSE coalesce(nullif(app_id_raw, ''), nullif(client_app_id, ''), nullif(application_id, '')) END""",
    ),
    ("app_name", f"CASE kind WHEN 'consent' THEN {_CONSENT_APP_NAME} END"),
    ("scopes", f"CASE WHEN st IS NOT NULL THEN {_SCOPES} END"),
    ("tenant", "nullif(org, '')"),
]

#: Client address split into host and port ("1.2.3.4:5678", "[2001:db8::1]:443"); the
#: host is canonicalized in Python, once per distinct value, unless it is plain IPv4.
_IP_HOST = """CASE
    WHEN starts_with(ip_text, '[') THEN regexp_extract(ip_text, '^\\[([^\\]%]*)', 1)
    WHEN length(ip_text) - length(replace(ip_text, ':', '')) = 1 THEN split_part(ip_text, ':', 1)
    ELSE ip_text END"""
_IP_PORT = """CASE
    WHEN starts_with(ip_text, '[') THEN TRY_CAST(regexp_extract(ip_text, '\\]:(\\d{1,5})$', 1) AS INTEGER)
    WHEN length(ip_text) - length(replace(ip_text, ':', '')) = 1 THEN TRY_CAST(split_part(ip_text, ':', 2) AS INTEGER)
    END"""
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = _literal(rf"{_OCTET}(\.{_OCTET}){{3}}")

#: Columns that are not event fields: what the assembly step needs.
_AUX_COLUMNS: list[tuple[str, str]] = [
    ("i", "i"),
    ("ip_text", "ip_text"),
    ("ip_host", "ip_host"),
    ("src_port", "CASE WHEN ip_port IS NOT NULL AND ip_port <= 65535 THEN ip_port END"),
    ("ip_plain", f"coalesce(regexp_full_match(ip_host, {_IPV4}), false)"),
    ("reject", "CASE WHEN op IS NULL OR op = '' OR ctime IS NULL OR time IS NULL THEN true ELSE false END"),
    (
        "params_dup",
        "CASE WHEN kind IN ('other', 'rule', 'rule_update', 'set_mailbox', 'permission', 'consent', 'compliance',"
        " 'export', 'transport', 'login') THEN len(list_distinct(list_transform(params, lambda e: e.k))) < len(params)"
        " ELSE false END",
    ),
]


def normalize_sql() -> str:
    """The whole query over the relation ``src(i INTEGER, raw VARCHAR)``."""
    union = "\n    UNION ALL BY NAME\n    ".join(_extract_sql(s) for s in STYLES)
    inner = ",\n    ".join(f"{expr} AS {name}" for name, expr in _FINAL_COLUMNS if name != "params")
    aux = ",\n    ".join(f"{expr} AS {name}" for name, expr in _AUX_COLUMNS)
    return f"""WITH extracted AS (
    {union}
), typed AS (
    SELECT *, lower(op) AS opl, TRY_CAST(ctime AS TIMESTAMPTZ) AS time,
        {_IP_HOST} AS ip_host, {_IP_PORT} AS ip_port
    FROM extracted
), kinded AS (
    SELECT *, {_KIND} AS kind FROM typed
), withparams AS (
    SELECT *, {_PARAMS} AS params, CASE kind WHEN 'consent' THEN {_SCOPE_TEXT} END AS st FROM kinded
)
SELECT {inner},
    params,
    {aux}
FROM withparams"""
