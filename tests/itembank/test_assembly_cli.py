from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from api.cli import main
from exports import document_text
from tests.words import english_words


def test_demo_assembles_and_writes_papers_and_report(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    r = CliRunner().invoke(main, ["--database-url", url, "demo"])
    assert r.exit_code == 0, r.output
    assert "第 1 次组卷：最优解" in r.output or "第 1 次组卷：可行解" in r.output
    theory = sorted((tmp_path / "itembank-demo-out" / "theory").iterdir())
    names = [p.name for p in theory]
    assert "1_assembly-report.docx" in names and "1_curves.png" in names
    papers = [p for p in theory if p.name.endswith("_paper.docx")]
    assert [p.name.removesuffix("_paper.docx")[-2:] for p in papers] == ["-A", "-B", "X1", "X2"]
    practical = sorted(p.name for p in (tmp_path / "itembank-demo-out" / "practical").glob("*_tasks.docx"))
    assert [n.removesuffix("_tasks.docx")[-2:] for n in practical] == ["-A", "X1"]  # backups count per part
    text = "\n".join(document_text(papers[0].read_bytes()))
    assert "单项选择题" in text and "判断题" in text
    report = "\n".join(document_text((tmp_path / "itembank-demo-out/theory/1_assembly-report.docx").read_bytes()))
    assert "最优解" in report or "可行解" in report

    code = papers[0].name.removesuffix("_paper.docx")
    re = CliRunner().invoke(main, ["--database-url", url, "papers", "recheck", code])
    assert re.exit_code == 0 and "试卷符合组卷方案" in re.output
    assert english_words(re.output) == [], re.output
    # the report names the elements beside their codes
    assert "B-01-02 万用表的使用" in report
    # the practical papers allow the time their tasks take
    tasks = "".join(document_text((tmp_path / "itembank-demo-out" / "practical" / practical[0]).read_bytes()))
    minutes = [int(m) for m in __import__("re").findall(r"考核时间(\d+)分钟）", tasks)]
    assert minutes and f"考核时间：{sum(minutes)}分钟" in tasks
    if shutil.which("soffice") or shutil.which("libreoffice"):
        out = tmp_path / "pdf"
        pdf = CliRunner().invoke(main, ["--database-url", url, "papers", "export", code, "--pdf", "--out", str(out)])
        assert pdf.exit_code == 0, pdf.output
        assert (out / f"{code}_paper.pdf").read_bytes().startswith(b"%PDF")
    listing = CliRunner().invoke(main, ["--database-url", url, "papers", "list", "--occupation", "6-31-01-03", "--level", "5"])
    assert "共 6 份试卷" in listing.output and "理论知识：4 份试卷" in listing.output
    again = CliRunner().invoke(main, ["--database-url", url, "assemble", "--occupation", "4-04-05-01", "--level", "4"])
    assert again.exit_code == 2 and "未达到最低题量，不得组正式试卷" in again.output

    # a paper that lost items since (a tampered record) fails its re-check, in words
    with sqlite3.connect(tmp_path / "demo.db") as db:
        (paper_id,) = db.execute("SELECT id FROM papers WHERE code = ?", (code,)).fetchone()
        db.execute("DELETE FROM paper_items WHERE paper_id = ? AND position <= 3", (paper_id,))
    bad = CliRunner().invoke(main, ["--database-url", url, "papers", "recheck", code])
    assert bad.exit_code == 1 and "试卷不符合组卷方案：" in bad.output, bad.output
    violations = bad.output.split("试卷不符合组卷方案：")[1]
    assert "单项选择题题数为" in violations and "允许：恰好 80" in violations, violations
    assert english_words(bad.output) == [], bad.output
    english = CliRunner().invoke(main, ["--lang", "en", "--database-url", url, "papers", "recheck", code])
    assert english.exit_code == 1 and "the paper does not meet its blueprint:" in english.output
