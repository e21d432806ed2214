"""``itembank export paper | element-table | readiness`` on a demo SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from exports import text_manifest
from itembank.domain import ItemType

from tests.exports.conftest import body_paragraphs, open_docx


def run(demo, *args: str):  # type: ignore[no-untyped-def]
    from api.cli import main

    return CliRunner().invoke(main, ["--database-url", demo.url, "export", *args])


def test_export_paper_refuses_a_bank_below_its_minimums(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run(demo, "paper", "--occupation", "6-31-01-03", "--level", "5", "--out", str(tmp_path))
    assert result.exit_code == 2 and "未达到最低题量" in result.output and "1200" in result.output
    assert not list(tmp_path.iterdir())


def test_export_paper_first_n_writes_documents_manifest_and_ledger(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from itembank.db import make_engine
    from itembank.orm import LedgerEntryRecord

    result = run(demo, "paper", "--occupation", "6-31-01-03", "--level", "5", "--practice", "--answer-sheet",
                 "--code", "DG5-CLI-A", "--session", "2026-S03", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["DG5-CLI-A_answer-sheet.docx", "DG5-CLI-A_key.docx", "DG5-CLI-A_manifest.json",
                     "DG5-CLI-A_paper.docx"]
    manifest = json.loads((tmp_path / "DG5-CLI-A_manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["documents"]:
        assert entry["text_sha256"] == text_manifest((tmp_path / entry["filename"]).read_bytes())
    assert len(manifest["paper"]["items"]) == 100
    paper = open_docx((tmp_path / "DG5-CLI-A_paper.docx").read_bytes())
    assert any("练习试卷" in p.text for p in paper.paragraphs)
    pool = {it.code: it for it in demo.pool5}
    refs = [r.split(" v")[0] for r in manifest["paper"]["items"]]
    assert [pool[c].item_type for c in refs] == [ItemType.SINGLE_CHOICE] * 80 + [ItemType.TRUE_FALSE] * 20
    assert not any(pool[c].usage.compromised or pool[c].set_code for c in refs)
    engine = make_engine(url=demo.url)
    with engine.connect() as conn:
        actions = conn.execute(select(LedgerEntryRecord.action, LedgerEntryRecord.object_id)).all()
    engine.dispose()
    assert ("paper.exported", "DG5-CLI-A") in [(a, str(o)) for a, o in actions]
    assert "readiness.override" in [a for a, _ in actions]


def test_export_paper_with_item_codes_checks_them(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    singles = [it.code for it in demo.pool5 if it.item_type is ItemType.SINGLE_CHOICE
               and not it.usage.compromised and not it.set_code and not it.enemies][:3]
    tfs = [it.code for it in demo.pool5 if it.item_type is ItemType.TRUE_FALSE
           and not it.usage.compromised and not it.enemies][:2]
    codes = [tfs[0], singles[0], tfs[1], singles[1], singles[2]]
    # five items are not a paper of the level's blueprint (100 points): refused, nothing written
    short = run(demo, "paper", "--occupation", "6-31-01-03", "--level", "5", "--practice", "--items",
                ",".join(codes), "--code", "DG5-PICK", "--what", "paper", "--out", str(tmp_path / "short"))
    assert short.exit_code == 2 and "不符合" in short.output and "5 分" in short.output and "100 分" in short.output
    assert not (tmp_path / "short").exists()
    singles = [it.code for it in demo.pool5 if it.item_type is ItemType.SINGLE_CHOICE
               and not it.usage.compromised and not it.set_code and not it.enemies][:80]
    tfs = [it.code for it in demo.pool5 if it.item_type is ItemType.TRUE_FALSE
           and not it.usage.compromised and not it.enemies][:20]
    codes = [tfs[0], singles[0], tfs[1], *singles[1:], *tfs[2:]]
    result = run(demo, "paper", "--occupation", "6-31-01-03", "--level", "5", "--practice", "--items",
                 ",".join(codes), "--code", "DG5-PICK", "--what", "paper", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    d = open_docx((tmp_path / "DG5-PICK_paper.docx").read_bytes())
    stems = [text for sid, text in body_paragraphs(d) if sid == "IBStem"]
    pool = {it.code: it for it in demo.pool5}
    expected = singles + tfs  # printed grouped by type
    assert [s.split("．", 1)[0] for s in stems] == [str(n) for n in range(1, 101)]
    for s, code in zip(stems, expected):
        assert pool[code].content.stem.strip() in s
    compromised = next(it.code for it in demo.pool5 if it.usage.compromised)
    bad = run(demo, "paper", "--occupation", "6-31-01-03", "--level", "5", "--practice", "--items",
              f"{singles[0]},{compromised},NOPE", "--out", str(tmp_path / "bad"))
    assert bad.exit_code != 0
    assert "无法生成试卷" in bad.output and f"{compromised} 已泄密" in bad.output
    assert "NOPE：题库中没有该编号的已验收试题" in bad.output


def test_export_practical_paper_element_table_and_readiness(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # the first three tasks are not a paper of the blueprint: points and time are named, nothing written
    tasks = [it for it in demo.pool5 if it.item_type is ItemType.PRACTICAL_TASK]
    first = tasks[:3]
    off = run(demo, "paper", "--occupation", "6-31-01-03", "--level", "5", "--part", "practical",
              "--out", str(tmp_path / "off"))
    points, minutes = sum(it.points for it in first), sum(it.content.time_limit_min or 0 for it in first)
    assert (points, minutes) != (100, 180)  # the 90-point paper of the first tasks
    assert off.exit_code == 2 and "180 分钟" in off.output, off.output
    assert not (tmp_path / "off").exists()
    chosen = [tasks[0], tasks[7], tasks[14]]  # 100 points, 180 min: the blueprint's
    assert sum(it.points for it in chosen) == 100 and sum(it.content.time_limit_min or 0 for it in chosen) == 180
    result = run(demo, "paper", "--occupation", "6-31-01-03", "--level", "5", "--part", "practical",
                 "--items", ",".join(it.code for it in chosen), "--code", "DG5-P", "--examiners", "4",
                 "--out", str(tmp_path))
    assert result.exit_code == 0, result.output  # the practical part of the bank meets its minimum
    wrong_time = run(demo, "paper", "--occupation", "6-31-01-03", "--level", "5", "--part", "practical",
                     "--items", ",".join(it.code for it in chosen), "--time", "120", "--out", str(tmp_path / "t"))
    assert wrong_time.exit_code == 2 and "--time 120" in wrong_time.output
    scoring = open_docx((tmp_path / "DG5-P_scoring.docx").read_bytes())
    assert sum("（签字）" in p.text and p.text.startswith("考评员") for p in scoring.paragraphs) == 4
    table = run(demo, "element-table", "--occupation", "6-31-01-03", "--level", "5", "--out", str(tmp_path))
    assert table.exit_code == 0, table.output
    assert (tmp_path / "6-31-01-03_L5_theory_v1_element-table.docx").exists()
    ready = run(demo, "readiness", "--occupation", "6-31-01-03", "--date", "2026-11-28", "--out", str(tmp_path))
    assert ready.exit_code == 0 and "共 2 个题库" in ready.output, ready.output
    report = open_docx((tmp_path / "banks_2026-11-28_readiness.docx").read_bytes())
    assert "统计日期：2026年11月28日" in [p.text for p in report.paragraphs]
    missing = run(demo, "element-table", "--occupation", "6-31-01-03", "--level", "3", "--out", str(tmp_path))
    assert missing.exit_code == 2 and "错误：没有 6-31-01-03 电工 三级/高级工的题库" in missing.output
