"""The demo's own papers as an exam office receives them (issue 15, "done means"): ``itembank
demo`` assembles them, ``itembank papers export CODE --pdf`` prints each to PDF through
LibreOffice, and every page is read back with poppler (``pdftotext``, ``pdffonts``).

Checked page by page: the sections in the national template's order; no page that holds a
section heading (or a practical task's heading) without what follows it; the time allowed and
the points on the cover, main and backup papers alike (practical: the tasks' times adding up to
it); the paper code on one line; the signatures with the summary; the Simplified Chinese serif
and sans faces embedded. And the assembly reports: the papers side by side with element names,
no IRT section for the practical part, the 组卷人/审核人 lines. Fails (never skips) without
LibreOffice or poppler-utils.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from exports import document_text
from exports.sections import task_minutes
from exports.wording import fmt_points
from itembank import assembly_service as svc
from itembank.db import make_engine, transaction
from itembank.domain import Paper, PaperKind, Part
from itembank.similarity_service import paper_cueing
from tests.exports.test_print import check_cover, check_fonts, check_sections, flat, pages


@dataclass(frozen=True)
class DemoRun:
    out: Path  # itembank-demo-out
    pdf: Path  # papers export --pdf
    papers: dict[str, Paper]  # code -> paper as stored


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    base = tmp_path_factory.mktemp("demo-papers")
    url = f"sqlite:///{base / 'demo.db'}"
    runner = CliRunner()
    here = os.getcwd()
    os.chdir(base)  # the demo writes itembank-demo-out/ into the working directory
    try:
        r = runner.invoke(main, ["--database-url", url, "--lang", "zh_CN", "demo"])
    finally:
        os.chdir(here)
    assert r.exit_code == 0, r.output
    out = base / "itembank-demo-out"
    listing = runner.invoke(main, ["--database-url", url, "papers", "list"])
    codes = re.findall(r"^\s+(6-31-01-03-L5-[TP]-R\d{4}-\w+) ", listing.output, re.MULTILINE)
    assert len(codes) == 6, listing.output  # theory A, B, X1, X2; practical A, X1
    pdf = base / "pdf"
    for code in codes:
        r = runner.invoke(main, ["--database-url", url, "papers", "export", code, "--pdf", "--out", str(pdf)])
        assert r.exit_code == 0, r.output
    engine = make_engine(url=url)
    with transaction(engine) as session:
        papers = {code: svc.get_paper(session, code=code).paper for code in codes}
    engine.dispose()
    yield DemoRun(out=out, pdf=pdf, papers=papers)


def _of(run: DemoRun, part: Part) -> list[Paper]:
    return sorted((p for p in run.papers.values() if p.part is part), key=lambda p: p.code)


def _no_heading_alone(texts: list[str], heading: re.Pattern[str]) -> None:
    """Every page holding a heading also holds text after the last one (its content)."""
    for k, text in enumerate(texts):
        found = list(heading.finditer(text))
        if found:
            after = text[found[-1].end():]
            rest = after.split("\n", 1)[1] if "\n" in after else ""
            assert re.search(r"\S", re.sub(r"第\s*\d+\s*页\s*共\s*\d+\s*页", "", rest)), (
                f"page {k + 1} ends with the heading {found[-1].group(0)!r} alone")


def test_theory_papers_and_keys_print_as_the_template_says(demo_run: DemoRun) -> None:
    papers = _of(demo_run, Part.THEORY)
    assert [p.kind for p in papers] == [PaperKind.FORM, PaperKind.FORM, PaperKind.BACKUP, PaperKind.BACKUP]
    for paper in papers:
        assert paper_cueing(paper.items) == []  # no paper gives its own answers away
        path = demo_run.pdf / f"{paper.code}_paper.pdf"
        texts = pages(path)
        assert len(texts) >= 4
        check_cover(paper, texts)  # code on one line, 考试时间 90 分钟, 满分 100 分, 第X页 共Y页
        assert paper.time_allowed_min == 90 and paper.total_points == 100
        check_sections(paper, texts)  # 一、单项选择题 then 二、判断题, each heading with its first item
        check_fonts(path)
        key = pages(demo_run.pdf / f"{paper.code}_key.pdf")
        whole = flat("".join(key))
        assert whole.index("一、单项选择题") < whole.index("二、判断题")
        signs = [k for k, t in enumerate(key) if "组卷人" in t]
        assert len(signs) == 1 and "审核人" in key[signs[0]]
        check_fonts(demo_run.pdf / f"{paper.code}_key.pdf")


def test_practical_papers_main_and_backup_take_the_same_time(demo_run: DemoRun) -> None:
    papers = _of(demo_run, Part.PRACTICAL)
    assert [p.kind for p in papers] == [PaperKind.FORM, PaperKind.BACKUP]
    assert {p.time_allowed_min for p in papers} == {180}  # the standard blueprint's fixed time
    for paper in papers:
        assert task_minutes(paper) == paper.time_allowed_min  # the tasks' own times add up to it
        assert paper.total_points == 100
        path = demo_run.pdf / f"{paper.code}_tasks.pdf"
        texts = pages(path)
        first = flat(texts[0])
        assert paper.code in texts[0] and f"考核时间：{paper.time_allowed_min}分钟" in first
        whole = flat("".join(texts))
        times = " + ".join(fmt_points(it.content.time_limit_min) for it in paper.items)  # type: ignore[arg-type]
        assert flat(f"各试题考核时间合计 {times} = {paper.time_allowed_min} 分钟") in whole
        for number, it in enumerate(paper.items, start=1):
            assert f"试题{number}（本题{fmt_points(it.points)}分，考核时间{fmt_points(it.content.time_limit_min)}分钟）" \
                in whole
        _no_heading_alone(texts, re.compile(r"试题\s*\d+\s*（本题.*?分钟）"))
        check_fonts(path)
        scoring = pages(demo_run.pdf / f"{paper.code}_scoring.pdf")
        summary = [k for k, t in enumerate(scoring) if "成绩汇总" in flat(t)]
        signs = {k for k, t in enumerate(scoring) if "（签字）" in flat(t)}
        assert len(summary) == 1 and signs == set(summary)  # the signatures and the date with the summary
        for it in paper.items:  # no rule deducts more than its row is worth
            for rp in it.content.rubric:
                for amount in re.findall(r"扣\s*(\d+(?:\.\d+)?)\s*分", rp.criteria):
                    assert float(amount) <= rp.points, (it.code, rp)
        # the rubrics fit the task: a fault-finding task is scored on finding faults, an
        # installation task on installing (the issue: one installation rubric for every task)
        for it in paper.items:
            fault = "故障" in it.content.stem
            assert fault == any("故障" in rp.description for rp in it.content.rubric), it.code


def _report(run: DemoRun, part: str) -> str:
    (path,) = (run.out / part).glob("*_assembly-report.docx")
    return "\n".join(document_text(path.read_bytes()))


def test_the_assembly_reports_compare_the_papers_and_leave_out_what_a_part_lacks(demo_run: DemoRun) -> None:
    theory = _report(demo_run, "theory")
    for words in ("平行试卷对照", "各鉴定点题数", "B-01-02 万用表的使用", "平均难度评分", "平均IRT难度",
                  "θ = 0 处的信息量", "两两试卷的重复题数", "内容雷同或相互提示答案的试题对", "测验信息量", "组卷人",
                  "审核人"):
        assert words in theory, words
    practical = _report(demo_run, "practical")
    for words in ("平行试卷对照", "各鉴定点题数", "P-01-01 双控照明电路安装", "组卷人", "审核人"):
        assert words in practical, words
    # no IRT in the practical part: no curves, no θ table, no IRT difficulty
    for words in ("测验信息量", "θ = 0", "平均IRT难度", "期望得分"):
        assert words not in practical, words
    (docx_path,) = (demo_run.out / "practical").glob("*_assembly-report.docx")
    assert b"word/media/" not in docx_path.read_bytes()  # no chart
    # both practical papers allow the same time, side by side
    assert re.search(r"考试时间（分钟）\n180\n180\n", practical)
    # a row without a target (information at θ, reported for the reader) is neither met nor missed
    rows = theory.split("\n")
    reported = [k for k, line in enumerate(rows) if re.fullmatch(r"θ = -?\d+ 处的测验信息量", line)]
    assert reported
    for k in reported:
        assert rows[k + 1] == "—" and rows[k + 3] == "—", rows[k - 1:k + 4]
