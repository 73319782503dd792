"""Letters: one per outside party, in its language, facts from the report, subjects only on request."""

from __future__ import annotations

import json
from pathlib import Path

from notify_fixtures import exposure
from notify_helpers import run

from dwelltime.notify.letters import Letter
from dwelltime.notify.run import NotifyResult

HEADER_ONLY = "organisation,domain,country,contact,language,domestic\n"


def _by_domain(result: NotifyResult) -> dict[str, Letter]:
    return {letter.recipient.domain: letter for letter in result.letters}


def test_one_letter_per_outside_party_and_none_for_our_own_domain(tmp_path: Path) -> None:
    result = run(tmp_path)
    letters = _by_domain(result)
    assert set(letters) == {"supplier.co.jp", "customer.com", "partner.de"}
    assert result.skipped_parties == [("example.co.jp", "our own organisation")]
    for letter in result.letters:
        assert (tmp_path / "out" / "letters" / f"{letter.slug}.md").read_text(encoding="utf-8") == letter.markdown
        assert (tmp_path / "out" / "letters" / f"{letter.slug}.html").read_text(encoding="utf-8") == letter.html


def test_language_from_directory_then_report_then_domain(tmp_path: Path) -> None:
    (tmp_path / "with").mkdir()
    letters = _by_domain(run(tmp_path / "with"))
    assert letters["supplier.co.jp"].recipient.language == "ja"
    assert "貴社" in letters["supplier.co.jp"].markdown and '<html lang="ja">' in letters["supplier.co.jp"].html
    assert letters["customer.com"].recipient.language == "en"
    assert letters["partner.de"].recipient.language == "en"  # directory leaves it empty; .de is not .jp
    assert letters["supplier.co.jp"].recipient.organisation == "サプライヤー株式会社"  # the directory's name
    (tmp_path / "without").mkdir()
    bare = _by_domain(run(tmp_path / "without", partners_csv=HEADER_ONLY))
    assert bare["supplier.co.jp"].recipient.language == "ja"  # .jp default
    assert bare["supplier.co.jp"].recipient.organisation == "Supplier KK"  # what scope recorded
    assert bare["customer.com"].recipient.language == "en"  # the report's own language


def test_subjects_are_left_out_unless_asked(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    quiet = _by_domain(run(tmp_path / "a"))
    assert "見積書の送付" not in quiet["supplier.co.jp"].markdown
    assert "健康診断結果の件" not in quiet["supplier.co.jp"].html
    loud = _by_domain(run(tmp_path / "b", include_subjects=True))
    assert "見積書の送付" in loud["supplier.co.jp"].markdown
    assert "2024-04-05: 健康診断結果の件" in loud["supplier.co.jp"].markdown
    assert "Q2 order and card" in loud["customer.com"].markdown


def test_what_happened_what_was_exposed_what_to_do_and_contact(tmp_path: Path) -> None:
    letter = _by_domain(run(tmp_path))["customer.com"]
    text = letter.markdown
    assert "taro.yamada@example.co.jp" in text
    assert "from 2024-04-08 17:02 UTC to 2024-04-09 04:22 UTC" in text
    assert "**2**" in text and "from 2024-03-30 to 2024-04-01" in text
    assert "| Payment card numbers | 1 |" in text
    assert "phishing" in text and "telephone" in text and "change them" in text
    assert "incident@example.co.jp" in text
    assert "possibly read" not in text  # both its messages were read by id


def test_uncertain_and_missing_messages_are_said_so(tmp_path: Path) -> None:
    letters = _by_domain(run(tmp_path))
    assert "閲覧のおそれがあると判断" in letters["supplier.co.jp"].markdown  # message 3 came from a Sync
    assert "no longer in the mailbox copy" in letters["partner.de"].markdown  # message 6 is not in the index
    assert "We found no personal data" in letters["partner.de"].markdown


def test_missing_contact_is_a_marked_placeholder(tmp_path: Path) -> None:
    letters = _by_domain(run(tmp_path, contact=None))
    assert "[TO BE COMPLETED" in letters["customer.com"].markdown
    assert "【要記入" in letters["supplier.co.jp"].markdown


def test_attacker_window_falls_back_to_the_examined_window(tmp_path: Path) -> None:
    doc = exposure()
    doc["first_attacker_activity"] = None
    doc["last_attacker_activity"] = None
    letter = _by_domain(run(tmp_path, doc))["customer.com"]
    assert "within the period we examined, from 2024-04-01 00:00 UTC to 2024-04-10 09:00 UTC" in letter.markdown


def test_a_rerun_removes_letters_of_parties_no_longer_affected(tmp_path: Path) -> None:
    run(tmp_path)
    assert (tmp_path / "out" / "letters" / "partner-de.md").exists()
    doc = exposure()
    doc["parties"] = [p for p in doc["parties"] if p["domain"] != "partner.de"]
    run(tmp_path, doc)
    assert not (tmp_path / "out" / "letters" / "partner-de.md").exists()
    assert (tmp_path / "out" / "letters" / "customer-com.md").exists()


def test_readme_index_and_manifest_list_what_was_written(tmp_path: Path) -> None:
    result = run(tmp_path)
    out = tmp_path / "out"
    readme = (out / "README.md").read_text(encoding="utf-8")
    for letter in result.letters:
        assert f"letters/{letter.slug}.md" in readme
    assert "regulators/ppc\\_ja.md" in readme or "regulators/ppc_ja.md" in readme
    assert (out / "index.html").is_file()
    manifest = json.loads((out / "notify.json").read_text(encoding="utf-8"))
    for name in manifest["files"]:
        assert (out / name).is_file(), name
    assert {"stix-bundle.json", "misp-event.json", "deadlines.json", "regulators/ppc_ja.md"} <= set(manifest["files"])
