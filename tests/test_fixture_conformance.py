"""Every third-party sample under ../shared/fixtures goes through format detection and its parser.

Each file is either read by the parser whose format it is (every record parsed or rejected
with a reason, the two adding up to what was read) or refused with a message naming the
formats tried.  Where we know what a file is, detection must say so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dwelltime.errors import UnknownFormatError
from dwelltime.sources.base import ParseContext
from dwelltime.sources.reader import iter_line_blocks
from dwelltime.sources.registry import all_sources, detect

EXPECTED = {
    "fail2ban-logs/dovecot": "dovecot",
    "fail2ban-logs/postfix": "postfix",
    "zeek-baseline/smtp.log": "zeek",
    "elastic-integrations/packages/o365/data_stream/audit/_dev/test/pipeline/test-exchange-item-edge-cases.raw.ndjson": (
        "m365-audit"
    ),
    "elastic-integrations/packages/azure/data_stream/signinlogs/_dev/test/pipeline/test-signinlogs-raw.log": (
        "entra-signin"
    ),
    "elastic-integrations/packages/google_workspace/data_stream/login/_dev/test/pipeline/test-login.log": "gws-reports",
    "elastic-integrations/packages/zeek/data_stream/smtp/_dev/test/pipeline/test-smtp.log": "zeek",
    "gws-reports-samples/GWorkspace_ReportsAPI_login_CL.json": "gws-reports",
    "gws-reports-samples/GWorkspace_ReportsAPI_token_CL.json": "gws-reports",
}
NOT_LOGS = {"README.md", "LICENSE", "COPYING"}


def _samples(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*") if p.is_file() and p.name not in NOT_LOGS and not p.name.endswith("expected.json")
    )


def test_every_fixture_is_read_or_refused_with_reasons(shared_fixtures: Path) -> None:
    known = {s.id for s in all_sources()}
    seen_expected = set()
    for path in _samples(shared_fixtures):
        relative = str(path.relative_to(shared_fixtures))
        try:
            source = detect(path)
        except UnknownFormatError as exc:
            assert relative not in EXPECTED, f"{relative} should be read as {EXPECTED[relative]}"
            assert "tried:" in str(exc) and all(k in str(exc) for k in known)
            continue
        if relative in EXPECTED:
            assert source.id == EXPECTED[relative], relative
            seen_expected.add(relative)
        chunks = list(source.parse(path, ParseContext(str(path), year=2005)))
        parsed = sum(c.records_parsed for c in chunks)
        rejected = [r for c in chunks for r in c.rejected]
        assert all(r.reason for r in rejected), relative
        lines = sum(len(b.lines) for b in iter_line_blocks(path))
        if source.id in {"dovecot", "postfix", "syslog", "zeek"}:
            # Line formats: every non-blank line is accounted for (Zeek's '#' headers are not records).
            headers = sum(1 for line in path.read_text(errors="replace").splitlines() if line.startswith("#"))
            assert parsed + len(rejected) in (lines, lines - headers), relative
        assert parsed > 0, f"{relative}: detected as {source.id} but nothing parsed"
    assert seen_expected == set(EXPECTED), set(EXPECTED) - seen_expected


@pytest.mark.parametrize("name", ["dovecot", "postfix"])
def test_fail2ban_comment_lines_are_the_only_rejections(shared_fixtures: Path, name: str) -> None:
    path = shared_fixtures / "fail2ban-logs" / name
    chunks = list(detect(path).parse(path, ParseContext(str(path), year=2005)))
    rejected_lines = {r.line for c in chunks for r in c.rejected}
    text = path.read_text().splitlines()
    assert all(text[n - 1].lstrip().startswith("#") for n in rejected_lines)
