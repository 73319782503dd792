"""Regulator drafts: every field the PPC form and Art. 33(3) ask for, facts filled in, the unknowable left marked."""

from __future__ import annotations

from pathlib import Path

from notify_helpers import run

PPC_FIELDS = (
    "発覚日",
    "速報",
    "確報",
    "概要",
    "個人データの項目",
    "本人の数",
    "原因",
    "二次被害又はそのおそれの有無及びその内容",
    "本人への対応の実施状況",
    "公表の実施状況",
    "再発防止のための措置",
    "その他参考となる事項",
)
GDPR_FIELDS = ("(a) Nature", "(b) Data protection officer", "(c) Likely consequences", "(d) Measures taken or proposed")


def test_ppc_draft_has_the_form_fields_and_the_reports_facts(tmp_path: Path) -> None:
    run(tmp_path)
    text = (tmp_path / "out" / "regulators" / "ppc_ja.md").read_text(encoding="utf-8")
    for field in PPC_FIELDS:
        assert field in text, field
    assert "約 9 人" in text  # data_subjects
    assert "7 通" in text  # summary.messages
    assert "| 健康に関する情報（要配慮個人情報） | 1 |" in text
    assert "第三号" in text and "第一号" in text and "第二号" in text and "第四号" not in text
    assert "60 日" in text and "不正アクセス" in text
    assert "T1114.002 Remote Email Collection" in text
    assert "dt.signin.new\\_hosting\\_asn" in text  # the incident's detections
    # What the tool cannot know is left for the analyst, marked.
    for section in ("公表の実施状況", "再発防止のための措置"):
        after = text.split(section, 1)[1].split("##", 1)[0]
        assert "【要記入" in after, section
    assert (tmp_path / "out" / "regulators" / "ppc_ja.html").is_file()


def test_gdpr_draft_has_article_33_3_fields(tmp_path: Path) -> None:
    run(tmp_path, contact=None)
    text = (tmp_path / "out" / "regulators" / "gdpr_art33_en.md").read_text(encoding="utf-8")
    for field in GDPR_FIELDS:
        assert field in text, field
    assert "Approximate number of data subjects concerned: **9**" in text
    assert "records concerned (e-mail messages read or possibly read): **7**" in text
    assert "Special categories of data (Art. 9)" in text
    assert "[TO BE COMPLETED: name and contact details of the DPO" in text
    measures = text.split("(d) Measures taken or proposed", 1)[1]
    assert "Measures taken to address the breach and mitigate its effects: **[TO BE COMPLETED]**" in measures
    assert "Customer Inc. (US)" in text and "Partner GmbH (DE)" in text  # organisations abroad


def test_gdpr_draft_asks_for_reasons_when_the_72_hours_are_gone(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    run(tmp_path, now=datetime(2024, 4, 20, tzinfo=UTC))
    text = (tmp_path / "out" / "regulators" / "gdpr_art33_en.md").read_text(encoding="utf-8")
    assert "The 72-hour deadline has passed" in text
