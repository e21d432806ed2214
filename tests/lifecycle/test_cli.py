"""``itembank lifecycle ...`` on a SQLite file."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from docx import Document

from api.cli import main


def test_cli_template_import_rules_and_code_check(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run = CliRunner()
    r = run.invoke(main, ["--database-url", url, "occupations", "add", "6-31-01-03", "电工",
                          "--category", "technical_skill"])
    assert r.exit_code == 0, r.output
    template = tmp_path / "报名.xlsx"
    assert run.invoke(main, ["lifecycle", "template", str(template)]).exit_code == 0
    r = run.invoke(main, ["--database-url", url, "lifecycle", "import", str(template)])
    assert r.exit_code == 0, r.output
    assert "共 1 行：受理 1 人，不予受理 0 人" in r.output and "张三" in r.output
    r = run.invoke(main, ["--database-url", url, "lifecycle", "import", str(template)])
    assert r.exit_code == 1 and "未导入任何数据：第 1 号考生已有" in r.output
    r = run.invoke(main, ["--database-url", url, "lifecycle", "rules", "--level", "4"])
    assert r.exit_code == 0 and "(3) 取得技工学校" in r.output
    assert run.invoke(main, ["lifecycle", "check-code", "Y000132000001265000001"]).exit_code == 0
    bad = run.invoke(main, ["lifecycle", "check-code", "Y000132000001266000001"])
    assert bad.exit_code == 1 and "职业技能等级 1–5“6”" in bad.output
    r = run.invoke(main, ["--database-url", url, "lifecycle", "calendar", "2026-12-14", "--holiday", "--name", "假"])
    assert r.exit_code == 0, r.output
    r = run.invoke(main, ["--database-url", url, "lifecycle", "publication-end", "2026-12-10"])
    assert r.output.strip() == "2026年12月18日"
    r = run.invoke(main, ["--database-url", url, "lifecycle", "verify", "https://x.org/v?c=1"])
    assert r.exit_code == 1 and r.output.startswith("无效：")
    r = run.invoke(main, ["--database-url", url, "lifecycle", "lapsed-cards", "--on", "2027-01-01"])
    assert r.exit_code == 0 and "没有失效的证卡" in r.output
    r = run.invoke(main, ["--database-url", url, "lifecycle", "retention"])
    assert r.exit_code == 0, r.output
    r = run.invoke(main, ["--database-url", url, "lifecycle", "tickets", "--plan", "NOPE", "--out",
                          str(tmp_path / "t.docx")])
    assert r.exit_code == 2 and "错误：没有考试计划 NOPE" in r.output


def test_cli_exports_tickets(tmp_path: Path) -> None:
    from datetime import date

    from itembank.db import make_engine, transaction, upgrade
    from itembank.domain import OccupationCategory, Part
    from itembank.occupations import create_bank, create_occupation
    from lifecycle.eligibility import Declaration
    from lifecycle.registration import register_candidate, submit_application
    from lifecycle.sessions import add_room, assign_seats, create_exam_plan, create_exam_session, issue_admission_tickets

    from .conftest import at, make_id

    url = f"sqlite:///{tmp_path / 't.db'}"
    engine = make_engine(url=url)
    upgrade(engine)
    with transaction(engine) as s:
        create_occupation(s, code="6-31-01-03", name="电工", category=OccupationCategory.TECHNICAL_SKILL)
        create_bank(s, occupation_code="6-31-01-03", level=5)
        create_exam_plan(s, code="P", occupation_code="6-31-01-03", level=5, actor="o")
        c = register_candidate(s, name="张三", id_type="mainland_id", id_number=make_id(1), actor="c")
        submit_application(s, candidate_id=c.id, occupation_code="6-31-01-03", level=5, plan_code="P",
                           declaration=Declaration(years_of_work=2), actor="c")
        create_exam_session(s, plan_code="P", code="S", part=Part.THEORY, starts_at=at(date(2026, 12, 5), 9),
                            ends_at=at(date(2026, 12, 5), 10), place="A座", actor="o")
        add_room(s, session_code="S", code="T01", capacity=5, actor="o")
        issue_admission_tickets(s, plan_code="P", actor="o")
        assign_seats(s, session_code="S", actor="o")
    engine.dispose()
    out = tmp_path / "tickets.docx"
    r = CliRunner().invoke(main, ["--database-url", url, "lifecycle", "tickets", "--plan", "P", "--out", str(out)])
    assert r.exit_code == 0, r.output
    doc = Document(str(out))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "张三" in cells and "2026年12月05日 09:00–10:00" in cells
    assert doc.tables[0].rows[1].cells[1].paragraphs[0].runs[0]._element.rPr.rFonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "宋体"
