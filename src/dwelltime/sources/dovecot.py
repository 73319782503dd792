"""Dovecot (IMAP/POP3/submission/ManageSieve server) log lines -> normalized events, in SQL.

Dovecot is the highest-volume mail log dwelltime reads and the one where a stolen
password shows first (logins from new places, bursts of failures, mass fetches), so
normalization is one DuckDB query per block over the header-split rows of
:mod:`dwelltime.sources.syslog`: RE2 regexes (linear time on hostile input, e.g. the
``Disconnected: a: a: a: ...`` lines crafted against backtracking engines) and string
functions, no Python per line.

The common shapes (login, failed or abandoned login, ``Logged out`` with counters,
``mail_log`` events in Dovecot's default formats) are taken before all this by
:mod:`dwelltime.sources.dovecot_fast`, one strict regex per form, which must and is
tested to give exactly what the query below gives; this query is the reference and
handles everything else.  Event ids are the MD5 of namespace, line and line number
(:mod:`dwelltime.sources.lineuid`) on both paths.

What comes out (event_class / action / outcome):

* ``imap-login: Login: user=<u>, method=, rip=, lip=, mpid=, TLS, session=<>`` ->
  auth / login / success with user, src_ip (rip), dst_ip (lip), auth_method, session_id,
  protocol and params (tls, mpid, rport/lport);
* every pre-login failure wording of Dovecot 1.x-2.4 (``Aborted login (auth failed, N
  attempts in S secs)``, ``Disconnected: <anything> (auth failed, ...)``, ``Login aborted:
  ... (auth_failed)``, ``(tried to use disabled/disallowed plaintext auth)``, ``(proxy dest
  auth failed)``), auth-process failures (``pam(user,ip): pam_authenticate() failed``,
  ``passwd-file/sql/ldap(user,ip[,<session>]): unknown user / Password mismatch /
  invalid credentials``, 2.4 ``auth(user,ip,sasl:mech)<session>: sql: Password mismatch``)
  and ``pam_unix(dovecot:auth): authentication failure; ... rhost=`` -> auth / login /
  failure with error_code, status_detail and item_count = attempts;
* disconnects with no auth attempt -> auth / connect / unknown (a probe is not a failed
  login); TLS handshake failures -> network / tls / failure;
* session ends (``Logged out in= out= ...``, ``Disconnected: Logged out``, ``Connection
  closed``, POP3 ``top=, retr=, del=, size=``) -> auth / session_end with bytes and counters;
* mail_log plugin events -> mailbox_access (fetch) or mailbox_change (delete, expunge,
  copy, save, flag_change, mailbox create/delete/rename ...) with folder, message_ids,
  size, subject, sender;
* anything else Dovecot logs -> other / dovecot / unknown (kept, never dropped).

The client address of a ``pam_unix`` line is the ``rhost=`` that ends the line or is
followed by ``user=`` (an ``rhost=`` smuggled into ``ruser=`` comes earlier), and in
login lines the user field is read greedily up to the last ``>, rip=`` so an address
typed into the user name cannot stand in for ``rip``.  Logged passwords (``given
password: ...``) are cut from status_detail; they stay only in ``raw``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa

from dwelltime.schema import EVENT_SCHEMA, Action, EventClass, Outcome
from dwelltime.sources.base import Chunk, ParseContext, Rejected, Source
from dwelltime.sources.dovecot_fast import FastSplit
from dwelltime.sources.lineuid import line_uid_sql
from dwelltime.sources.syslog import (
    Family,
    event_select,
    in_batches,
    ip_sql,
    parse_syslog,
    sniff_lines,
    sql_str,
    syslog_share,
    to_events,
    with_params,
)

SOURCE_ID = "dovecot"
NAMESPACE = "dovecot"

_LEVEL = r"(?:Info|Warn|Warning|Error|Fatal|Panic|Debug)"

#: Programs that are Dovecot wherever they appear.
_OWN_PROGRAMS = (
    "dovecot",
    "dovecot-auth",
    "dovecot-lda",
    "imap-login",
    "pop3-login",
    "submission-login",
    "managesieve-login",
    "lmtp-login",
    "auth-worker",
    "doveadm",
    "indexer-worker",
)
#: Generic names that are Dovecot only in its own log file (no hostname) or with Dovecot's ``(args)``.
_SHARED_PROGRAMS = (
    "imap",
    "pop3",
    "lmtp",
    "submission",
    "managesieve",
    "IMAP",
    "POP3",
    "auth",
    "master",
    "config",
    "log",
    "anvil",
    "stats",
    "dict",
    "indexer",
    "lda",
    "deliver",
    "quota-status",
    "replicator",
    "aggregator",
    "director",
)


def _in_list(names: tuple[str, ...]) -> str:
    return "(" + ", ".join(sql_str(n) for n in names) + ")"


CLAIM_SQL = (
    f"program IN {_in_list(_OWN_PROGRAMS)} "
    f"OR (program IN {_in_list(_SHARED_PROGRAMS)} AND (program_args IS NOT NULL OR observer IS NULL)) "
    "OR starts_with(message, 'pam_unix(dovecot')"
)

#: Dovecot's own prefix inside the message: [dovecot: ][Level: ]service[[pid]][(args)][<ids>]: [Level: ]
PREFIX_RE = (
    rf"^((?:dovecot: )?(?:{_LEVEL}: )?(?:([A-Za-z][\w.-]*)(?:\[\d+\])?(?:\(([^)]*)\))?((?:<[^>]*>)*): )?"
    rf"(?:{_LEVEL}: )?)"
)
#: The usual prefix, ``service[(args)][<ids>...]: [Level: ]`` with a lower-case service, as
#: one-pass RE2 (about a third of :data:`PREFIX_RE`'s cost).  Wherever it matches a text
#: that does not start with ``dovecot: ``, :data:`PREFIX_RE` takes the same groups: the
#: service run is maximal either way (it can only be followed by ``(``, ``<`` or ``:``)
#: and the rest is deterministic.  Other texts fall back to :data:`PREFIX_RE`.
FAST_PREFIX_RE = rf"^(([a-z][\w.-]*)(?:\(([^)]*)\))?((?:<[^>]*>)*): (?:{_LEVEL}: )?)"
#: Auth-process passdb lines: db(user,ip[,extra]): reason.
PASSDB_RE = r"^(.*?(?:^|: )([a-z][\w-]*)\(([^,()]*),([^,()]*)(?:,([^()]*))?\): )"
PASSDB_TEST = r"(?:^|: )[a-z][\w-]*\([^,()]*,[^,()]*(?:,[^()]*)?\): "
#: pam_unix: the real rhost is the one followed by "user=" or the end of the line.
PAM_RE = r"\srhost=(\S*)(?:\s+user=(.*))?$"
_MAIL_EVENTS = (
    "copy|move|delete|undelete|expunge|autoexpunge|save|append|flag_change|fetch|"
    "mailbox_create|mailbox_delete|mailbox_rename|mailbox_subscribe|mailbox_unsubscribe"
)
MAILLOG_TEST = rf"^(?:{_MAIL_EVENTS})(?: from [^:]*)?: |^Mailbox (?:created|deleted|renamed): "

#: A password Dovecot logged (auth_verbose_passwords): cut from status_detail, kept only in raw.
_LOGGED_SECRET_RE = r" \((?:SHA1 of )?given password: [^)]*\)"  # noqa: S105 - a pattern, not a secret
_FAILURE_WORDS = (
    "unknown user",
    "password mismatch",
    "pam_authenticate() failed",
    "invalid credentials",
    "authentication failure",
    "user not known",
    "permission denied",
)
_LOGIN_KINDS = "('login_ok', 'login_fail', 'tls_fail', 'connect')"
#: Kinds whose events are auth events.
_AUTH_KINDS = ("login_ok", "login_fail", "connect", "logout", "pam_unix")
#: Services of Dovecot's mail processes (the protocol of their lines and of ``<svc>-login``).
_MAIL_SERVICES = ("imap", "pop3", "lmtp", "submission", "managesieve")


def _any_contains(expr: str, words: tuple[str, ...]) -> str:
    return "(" + " OR ".join(f"contains({expr}, {sql_str(w)})" for w in words) + ")"


def _one_of(expr: str, words: tuple[str, ...]) -> str:
    """SQL: ``expr IN (words)`` spelled as ORs (NULL for a NULL ``expr``, like IN).

    Why: DuckDB plans an IN list of five or more constants as a mark join, which costs
    more than a few comparisons and lets rows leave the query out of file order.
    """
    return "(" + " OR ".join(f"{expr} = {sql_str(w)}" for w in words) + ")"


def _after(expr: str, marker: str, end: str) -> str:
    """SQL: text after the first ``marker`` in ``expr`` up to ``end`` (NULL when no marker)."""
    m = sql_str(marker)
    return f"CASE WHEN contains({expr}, {m}) THEN split_part(split_part({expr}, {m}, 2), {sql_str(end)}, 1) END"


def _field(expr: str, key: str, end: str = ",") -> str:
    """SQL: value of ``key=`` in a ``k=v, k=v`` list (first occurrence), NULL when absent."""
    first = sql_str(f"{key}=")
    later = sql_str(f", {key}=")
    e = sql_str(end)
    return (
        f"CASE WHEN starts_with({expr}, {first}) THEN split_part(substr({expr}, {len(key) + 2}), {e}, 1) "
        f"WHEN contains({expr}, {later}) THEN split_part(split_part({expr}, {later}, 2), {e}, 1) END"
    )


@cache
def _query() -> str:
    """The normalization query over relation ``dv`` (header-split rows Dovecot claimed)."""
    return _stages() + f"SELECT {event_select(_columns(), _param_columns())} FROM i"


def _kind_sql() -> str:
    """Which kind of Dovecot line a row is, from cheap string tests (regexes only where unavoidable)."""
    s = sql_str
    return rf"""CASE
        WHEN is_login AND starts_with(body, 'Login: ') THEN 'login_ok'
        WHEN is_login AND (contains(body, 'auth failed') OR contains(body, '(tried to use ')
             OR contains(body, ' authentication attempts)') OR contains(body, '(auth_failed)')) THEN 'login_fail'
        WHEN is_login AND (contains(body, 'TLS handshak') OR contains(body, '(tls_handshake')) THEN 'tls_fail'
        WHEN is_login AND (starts_with(body, 'Disconnected') OR starts_with(body, 'Aborted login')
             OR starts_with(body, 'Login aborted') OR contains(body, 'no auth attempts')
             OR contains(body, '(no_auth_attempts)') OR contains(body, 'before auth was ready')
             OR contains(body, 'finish SASL auth') OR starts_with(body, 'Client has quit')
             OR starts_with(body, 'Remote closed') OR starts_with(body, 'Connection closed')) THEN 'connect'
        WHEN starts_with(body, 'pam_unix(dovecot') AND contains(body, 'authentication failure') THEN 'pam_unix'
        WHEN NOT is_login AND NOT is_mail AND contains(body, ',') AND regexp_matches(body, {s(PASSDB_TEST)})
          THEN 'passdb'
        WHEN svc = 'auth' AND contains(args, ',') AND regexp_matches(body, '^[a-z][\w-]*: ') THEN 'passdb24'
        WHEN is_mail AND regexp_matches(body, {s(MAILLOG_TEST)}) THEN 'mail_log'
        WHEN is_mail AND (contains(body, 'in=') OR contains(body, 'retr=') OR contains(body, 'bytes=')
             OR starts_with(body, 'Logged out') OR starts_with(body, 'Disconnected')
             OR starts_with(body, 'Connection closed')) THEN 'logout'
        ELSE 'other' END"""


@cache
def _stages() -> str:
    """CTEs a..i over ``dv``: Dovecot prefix, kind, then per-kind fields with string functions.

    Why string functions rather than one capturing regex per kind: RE2's capture engine
    costs microseconds on a 150-byte line with lazy/greedy groups, ``split_part`` and
    ``position`` cost tens of nanoseconds.  Where the attacker controls a field that
    precedes a server-written one (the user name before ``rip=``), the server field is
    taken from its *last* occurrence.
    """
    s = sql_str
    lk = _LOGIN_KINDS
    names = "['pre', 'svc', 'args', 'ids']"
    return rf"""
WITH a AS (
  SELECT *, CASE WHEN program = 'dovecot' THEN message
                 ELSE program || coalesce(program_args, '') || ': ' || message END AS dtext
  FROM dv
), b0 AS (
  SELECT *, CASE WHEN NOT starts_with(dtext, 'dovecot: ')
    THEN regexp_extract(dtext, {s(FAST_PREFIX_RE)}, {names}) END AS fp FROM a
), b AS (
  SELECT * EXCLUDE (fp),
    CASE WHEN fp.pre <> '' THEN fp ELSE regexp_extract(dtext, {s(PREFIX_RE)}, {names}) END AS p FROM b0
), c AS (
  SELECT source_line, raw, time, observer, lower(p.svc) AS svc, nullif(p.args, '') AS args,
    nullif(p.ids, '') AS ids, substr(dtext, length(p.pre) + 1) AS body
  FROM b
), d AS (
  SELECT *, ends_with(svc, '-login') AS is_login,
    {_one_of("svc", _MAIL_SERVICES)} AS is_mail
  FROM c
), e AS (
  SELECT *, {_kind_sql()} AS kind FROM d
), f AS (
  SELECT *,
    CASE WHEN kind IN {lk} THEN CASE
        WHEN contains(body, ': user=<') THEN position(': user=<' IN body)
        WHEN contains(body, ': method=') THEN position(': method=' IN body)
        WHEN contains(body, ': rip=') THEN position(': rip=' IN body) ELSE 0 END END AS kvpos,
    CASE WHEN kind = 'passdb' THEN regexp_extract(body, {s(PASSDB_RE)}, ['all', 'db', 'usr', 'ip', 'extra']) END AS pd,
    CASE WHEN kind = 'pam_unix' THEN regexp_extract(body, {s(PAM_RE)}, ['rhost', 'usr']) END AS pm,
    CASE WHEN kind = 'logout' THEN CASE
        WHEN contains(body, ' in=') THEN position(' in=' IN body)
        WHEN contains(body, ' top=') THEN position(' top=' IN body)
        WHEN contains(body, ' bytes=') THEN position(' bytes=' IN body) ELSE 0 END END AS cpos,
    CASE WHEN kind = 'mail_log' THEN split_part(body, ': ', 1) END AS mhead,
    CASE WHEN starts_with(ids, '<') AND contains(ids, '><') THEN split_part(substr(ids, 2), '>', 1) END AS id_pid,
    CASE WHEN starts_with(ids, '<') THEN split_part(split_part(ids, '<', -1), '>', 1) END AS id_session
  FROM e
), g AS (
  SELECT *,
    CASE WHEN kind IN {lk} THEN CASE WHEN kvpos > 0 THEN left(body, kvpos - 1) ELSE body END
         WHEN kind = 'passdb' THEN substr(body, length(pd.all) + 1)
         WHEN kind = 'passdb24' THEN substr(body, position(': ' IN body) + 2)
         WHEN kind = 'logout' THEN CASE WHEN cpos > 0 THEN left(body, cpos - 1) ELSE body END
    END AS reason,
    CASE WHEN kvpos > 0 THEN substr(body, kvpos + 2) END AS kv,
    CASE WHEN cpos > 0 THEN substr(body, cpos + 1) END AS counters,
    CASE WHEN kind = 'mail_log' THEN CASE WHEN starts_with(body, 'Mailbox ')
           THEN 'mailbox_' || rtrim(split_part(mhead, ' ', 2), 'd')
           ELSE split_part(mhead, ' ', 1) END END AS mevent,
    CASE WHEN kind = 'mail_log' AND NOT starts_with(body, 'Mailbox ') AND contains(mhead, ' from ')
      THEN substr(mhead, position(' from ' IN mhead) + 6) END AS msrc,
    CASE WHEN kind = 'mail_log' THEN substr(body, length(mhead) + 3) END AS mfields
  FROM f
), h AS (
  SELECT *,
    CASE WHEN contains(kv, 'rip=') THEN split_part(kv, 'rip=', -1) END AS after_rip,
    CASE WHEN starts_with(kv, 'method=') THEN split_part(substr(kv, 8), ',', 1)
         WHEN contains(kv, '>, method=') THEN split_part(split_part(kv, '>, method=', -1), ',', 1) END AS kv_method,
    CASE WHEN kind = 'mail_log' THEN CASE WHEN starts_with(mevent, 'mailbox_') THEN split_part(mfields, ' -> ', 1)
         ELSE {_field("mfields", "box", ", ")} END END AS mbox,
    CASE WHEN kind = 'mail_log' AND mevent = 'mailbox_rename' THEN nullif(split_part(mfields, ' -> ', 2), '')
         END AS mtarget
  FROM g
), h2 AS (
  SELECT *,
    CASE WHEN starts_with(kv, 'user=<') AND after_rip IS NOT NULL
      THEN left(kv, length(kv) - length(after_rip) - 6) END AS user_part
  FROM h
), h3 AS (
  SELECT *,
    CASE WHEN kind IN {lk} AND starts_with(kv, 'user=<') THEN CASE
        WHEN user_part IS NOT NULL AND kv_method IS NOT NULL AND ends_with(user_part, '>, method=' || kv_method)
          THEN substr(user_part, 7, length(user_part) - length(kv_method) - 16)
        WHEN user_part IS NOT NULL AND ends_with(user_part, '>') THEN substr(user_part, 7, length(user_part) - 7)
        ELSE regexp_extract(kv, '^user=<([^>]*)>', 1) END
      WHEN kind = 'passdb' THEN pd.usr
      WHEN kind = 'passdb24' THEN split_part(args, ',', 1)
      WHEN kind = 'pam_unix' THEN pm.usr
      WHEN is_mail THEN args
      WHEN svc = 'auth' AND contains(args, ',') THEN split_part(args, ',', 1) END AS usr,
    CASE WHEN kind IN {lk} THEN nullif(split_part(split_part(after_rip, ',', 1), ' ', 1), '')
         WHEN kind = 'passdb' THEN nullif(pd.ip, '')
         WHEN svc = 'auth' AND contains(args, ',') THEN nullif(split_part(args, ',', 2), '')
         WHEN kind = 'pam_unix' THEN nullif(pm.rhost, '') END AS rip_raw,
    CASE WHEN contains(after_rip, 'lip=')
      THEN nullif(split_part(split_part(split_part(after_rip, 'lip=', 2), ',', 1), ' ', 1), '') END AS lip_raw,
    CASE WHEN kind IN {lk} THEN kv_method
         WHEN svc = 'auth' AND contains(args, ',sasl:') THEN upper(split_part(args, ',sasl:', 2)) END AS method,
    CASE WHEN contains(after_rip, 'session=<') THEN split_part(split_part(after_rip, 'session=<', 2), '>', 1)
         WHEN kind = 'passdb' AND starts_with(pd.extra, '<') THEN trim(pd.extra, '<>')
         ELSE id_session END AS session,
    {_after("after_rip", "rport=", ",")} AS rport,
    {_after("after_rip", "lport=", ",")} AS lport,
    CASE WHEN kind IN ('login_fail', 'connect')
      THEN nullif(regexp_extract(reason, '(\d+) (?:authentication )?attempts', 1), '') END AS attempts,
    CASE WHEN {_one_of("replace(svc, '-login', '')", _MAIL_SERVICES)}
      THEN replace(svc, '-login', '') END AS protocol,
    CASE WHEN kind = 'passdb24' THEN 'passdb' ELSE kind END AS kind2,
    CASE WHEN kind = 'passdb' THEN pd.db WHEN kind = 'passdb24' THEN split_part(body, ': ', 1) ELSE '' END AS db,
    CASE WHEN starts_with(counters, 'in=') THEN split_part(substr(counters, 4), ' ', 1) END AS c_in,
    {_after("counters", " out=", " ")} AS c_out,
    {_after("counters", "body_count=", " ")} AS c_body,
    {_after("counters", "retr=", ",")} AS c_retr,
    {_after("counters", "top=", ",")} AS c_top,
    CASE WHEN starts_with(counters, 'bytes=') THEN split_part(substr(counters, 7), ' ', 1) END AS c_bytes
  FROM h2
), i AS (
  SELECT * EXCLUDE (kind, kind2), kind2 AS kind, {ip_sql("rip_raw")} AS src_ip, {ip_sql("lip_raw")} AS dst_ip
  FROM h3
)
"""


@cache
def _columns() -> dict[str, str]:
    """SQL expression of each event column over the last stage ``i`` of :func:`_stages`."""
    s = sql_str
    passdb_fail = f"(db <> 'userdb' AND {_any_contains('lower(reason)', _FAILURE_WORDS)})"
    login_code = (
        r"coalesce(nullif(regexp_extract(reason, '\(([a-z_]+)\)$', 1), ''), CASE "
        "WHEN kind = 'tls_fail' THEN 'tls_handshake_failed' "
        "WHEN contains(reason, 'proxy dest auth failed') THEN 'proxy_dest_auth_failed' "
        "WHEN contains(reason, 'auth failed') OR contains(reason, 'authentication attempts') THEN 'auth_failed' "
        "WHEN contains(reason, 'plaintext auth') THEN 'plaintext_auth_disallowed' "
        "WHEN contains(reason, '(tried to use ') THEN 'auth_mech_disallowed' "
        "WHEN contains(reason, 'no auth attempts') THEN 'no_auth_attempts' END)"
    )
    passdb_code = (
        "CASE WHEN contains(lower(reason), 'unknown user') OR contains(lower(reason), 'user not known') "
        "THEN 'unknown_user' WHEN contains(lower(reason), 'permission denied') THEN 'permission_denied' "
        "ELSE 'password_mismatch' END"
    )
    mail_action = f"""CASE mevent
          WHEN 'fetch' THEN {s(Action.MAIL_READ)}
          WHEN 'delete' THEN {s(Action.SOFT_DELETE)}
          WHEN 'expunge' THEN {s(Action.HARD_DELETE)}
          WHEN 'autoexpunge' THEN {s(Action.HARD_DELETE)}
          ELSE mevent END"""
    return {
        "event_uid": line_uid_sql(NAMESPACE),
        "time": "time",
        "event_class": f"""CASE
            WHEN {_one_of("kind", _AUTH_KINDS)} THEN {s(EventClass.AUTH)}
            WHEN kind = 'tls_fail' THEN {s(EventClass.NETWORK)}
            WHEN kind = 'passdb' AND {passdb_fail} THEN {s(EventClass.AUTH)}
            WHEN kind = 'mail_log' AND mevent = 'fetch' THEN {s(EventClass.MAILBOX_ACCESS)}
            WHEN kind = 'mail_log' THEN {s(EventClass.MAILBOX_CHANGE)}
            ELSE {s(EventClass.OTHER)} END""",
        "action": f"""CASE
            WHEN kind IN ('login_ok', 'login_fail', 'pam_unix') THEN {s(Action.LOGIN)}
            WHEN kind = 'passdb' AND {passdb_fail} THEN {s(Action.LOGIN)}
            WHEN kind = 'connect' THEN {s(Action.CONNECT)}
            WHEN kind = 'tls_fail' THEN {s(Action.TLS)}
            WHEN kind = 'logout' THEN {s(Action.SESSION_END)}
            WHEN kind = 'mail_log' THEN {mail_action}
            ELSE 'dovecot' END""",
        "outcome": f"""CASE
            WHEN kind = 'login_ok' THEN {s(Outcome.SUCCESS)}
            WHEN kind IN ('login_fail', 'tls_fail', 'pam_unix') THEN {s(Outcome.FAILURE)}
            WHEN kind = 'passdb' AND {passdb_fail} THEN {s(Outcome.FAILURE)}
            WHEN kind = 'logout' AND contains(reason, 'Logged out') THEN {s(Outcome.SUCCESS)}
            WHEN kind = 'mail_log' THEN {s(Outcome.SUCCESS)}
            ELSE {s(Outcome.UNKNOWN)} END""",
        "operation": "CASE WHEN kind = 'mail_log' THEN mevent END",
        "user": "lower(nullif(usr, ''))",
        "src_ip": "src_ip",
        "src_port": "TRY_CAST(rport AS INTEGER)",
        "dst_ip": "dst_ip",
        "dst_port": "TRY_CAST(lport AS INTEGER)",
        "observer": "observer",
        "protocol": "protocol",
        "session_id": "nullif(session, '')",
        "auth_method": "nullif(method, '')",
        "error_code": f"""CASE
            WHEN kind IN ('login_fail', 'tls_fail', 'connect') THEN {login_code}
            WHEN kind = 'pam_unix' THEN 'authentication_failure'
            WHEN kind = 'passdb' AND {passdb_fail} THEN {passdb_code} END""",
        "status_detail": f"""CASE
            WHEN kind = 'tls_fail' AND contains(after_rip, 'TLS handshaking: ')
              THEN split_part(split_part(after_rip, 'TLS handshaking: ', 2), ', session=<', 1)
            WHEN kind IN ('login_fail', 'tls_fail', 'connect', 'logout') THEN reason
            WHEN kind = 'passdb' THEN regexp_replace(reason, {s(_LOGGED_SECRET_RE)}, '', 'g')
            WHEN kind = 'pam_unix' THEN 'authentication failure' END""",
        "folder": "nullif(mbox, '')",
        "folders": "CASE WHEN kind = 'mail_log' THEN CASE WHEN msrc IS NOT NULL AND mbox IS NOT NULL THEN [msrc, mbox] "
        "WHEN mbox IS NOT NULL THEN [mbox] END END",
        "message_ids": f"CASE WHEN kind = 'mail_log' AND nullif({_field('mfields', 'msgid', ', ')}, '') IS NOT NULL "
        f"THEN [{_field('mfields', 'msgid', ', ')}] END",
        "item_count": r"""CASE
            WHEN kind IN ('login_fail', 'connect') THEN TRY_CAST(attempts AS BIGINT)
            WHEN kind = 'passdb' THEN TRY_CAST(nullif(regexp_extract(reason, '(\d+) Time\(s\)$', 1), '') AS BIGINT)
            WHEN kind = 'logout'
              THEN coalesce(TRY_CAST(c_body AS BIGINT), TRY_CAST(split_part(c_retr, '/', 1) AS BIGINT))
            WHEN kind = 'mail_log' THEN 1 END""",
        "bytes_in": """CASE WHEN kind = 'logout' THEN coalesce(TRY_CAST(c_in AS BIGINT),
            TRY_CAST(split_part(c_bytes, '/', 1) AS BIGINT)) END""",
        "bytes_out": f"""CASE
            WHEN kind = 'logout' THEN coalesce(TRY_CAST(c_out AS BIGINT),
                TRY_CAST(split_part(c_retr, '/', 2) AS BIGINT) + TRY_CAST(split_part(c_top, '/', 2) AS BIGINT),
                TRY_CAST(split_part(c_bytes, '/', 2) AS BIGINT))
            WHEN kind = 'mail_log' THEN TRY_CAST({_field("mfields", "size")} AS BIGINT) END""",
        "sender": """CASE WHEN kind = 'mail_log' THEN lower(nullif(trim(CASE
            WHEN contains(m_from, '<') THEN split_part(split_part(m_from, '<', -1), '>', 1) ELSE m_from END), ''))
            END""".replace("m_from", _field("mfields", "from", ", subject=")),
        "subject": "CASE WHEN kind = 'mail_log' THEN CASE WHEN contains(mfields, ', subject=') "
        "THEN substr(mfields, position(', subject=' IN mfields) + 10) "
        "WHEN starts_with(mfields, 'subject=') THEN substr(mfields, 9) END END",
        "target": "mtarget",
        "source_format": s(SOURCE_ID),
        "source_file": "$source_file",
        "source_line": "source_line",
        "raw": "raw",
    }


@cache
def _param_columns() -> dict[str, str]:
    """``params`` entries (key -> SQL over stage ``i``), folded into a map by :func:`with_params`."""
    lk = _LOGIN_KINDS
    ml = "kind = 'mail_log'"
    return {
        "tls": f"""CASE WHEN kind IN {lk} THEN CASE
            WHEN contains(after_rip, ', TLS handshaking') THEN 'handshaking'
            WHEN contains(after_rip, ', TLS') THEN 'TLS'
            WHEN contains(after_rip, ', secured') THEN 'secured' END END""",
        "mpid": f"CASE WHEN kind IN {lk} THEN {_after('after_rip', 'mpid=', ',')} ELSE id_pid END",
        "rport": "rport",
        "lport": "lport",
        "attempts": "attempts",
        "secs": f"CASE WHEN kind IN {lk} THEN nullif(regexp_extract(reason, '(?:in|waited) (\\d+) secs', 1), '') END",
        "src_ip_raw": "CASE WHEN src_ip IS NULL THEN rip_raw END",
        "dst_ip_raw": "CASE WHEN dst_ip IS NULL THEN lip_raw END",
        "tokens": "CASE WHEN kind = 'logout' THEN string_split(counters, ' ') END",
        "uid": f"CASE WHEN {ml} THEN {_field('mfields', 'uid')} END",
        "flags": f"CASE WHEN {ml} THEN {_after('mfields', 'flags=(', ')')} END",
        "vsize": f"CASE WHEN {ml} THEN {_field('mfields', 'vsize')} END",
        "from": f"CASE WHEN {ml} THEN {_field('mfields', 'from', ', subject=')} END",
        "source_folder": "msrc",
        "ruser": "CASE WHEN kind = 'pam_unix' THEN nullif(regexp_extract(body, '\\sruser=(\\S*)', 1), '') END",
        "tty": "CASE WHEN kind = 'pam_unix' THEN nullif(regexp_extract(body, '\\stty=(\\S*)', 1), '') END",
        "passdb": "nullif(db, '')",
        "extra": "CASE WHEN kind = 'passdb' AND NOT starts_with(pd.extra, '<') THEN nullif(pd.extra, '') END",
        "count": "CASE WHEN kind = 'passdb' THEN nullif(regexp_extract(reason, '(\\d+) Time\\(s\\)$', 1), '') END",
    }


class _Run:
    """Normalizes the rows Dovecot claimed, block by block (no state across blocks)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, ctx: ParseContext) -> None:
        self.con = con
        self.ctx = ctx

    def normalize(self, rows: pa.Table) -> tuple[pa.Table, list[Rejected], int]:
        self.con.register("dv", in_batches(rows))
        try:
            table = self.con.sql(_query(), params={"source_file": self.ctx.source_file}).to_arrow_table()
        finally:
            self.con.unregister("dv")
        return to_events(with_params(table)), [], rows.num_rows

    def finish(self) -> pa.Table:
        return EVENT_SCHEMA.empty_table()


SYSLOG_FAMILY = Family(id=SOURCE_ID, claim_sql=CLAIM_SQL, start=_Run, fast=FastSplit)

_SNIFF = re.compile(
    rb"\b(?:dovecot(?:\[\d+\])?: |(?:imap|pop3|submission|managesieve)-login: |auth-worker\(|"
    rb"(?:imap|pop3|lmtp)\([^)\s]*\)(?:<[^>]*>)*: |pam_unix\(dovecot:)"
)


def sniff(head: bytes, name: str) -> float:
    """A syslog file where Dovecot lines appear among the first lines."""
    lines = sniff_lines(head)
    if not lines or syslog_share(head) < 0.5:
        return 0.0
    hits = sum(1 for ln in lines if _SNIFF.search(ln))
    if hits == 0:
        return 0.0
    share = hits / len(lines)
    return 0.9 if share >= 0.5 else 0.3 + 0.5 * share


def parse(path: Path, ctx: ParseContext) -> Iterator[Chunk]:
    """Every family's lines are normalized, so a mixed mail.log detected as Dovecot loses nothing."""
    yield from parse_syslog(path, ctx, source_id="syslog")


SOURCE = Source(id=SOURCE_ID, title="Dovecot (syslog or Dovecot log file)", sniff=sniff, parse=parse)
